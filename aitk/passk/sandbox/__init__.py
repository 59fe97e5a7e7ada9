"""Code that runs inside the sandbox: standard library only, imported there as `passk_sandbox`.

zygote.py is the per-worker supervisor; harness.py the candidate and test processes; layers.py,
seccomp.py and landlock.py the per-sample restrictions; plaindata.py the only format that crosses
between the candidate and the test.
"""
