"""The two processes of one sample: the candidate (untrusted program) and the test (the problem's check).

They share nothing but two pipes carrying plain data. The test calls `candidate(*args)`; a proxy
sends the arguments to the candidate process, which calls the sample's function and sends back the
return value (or the exception's type name). Only the test process holds the verdict pipe.
"""

from __future__ import annotations

import builtins
import os

from . import plaindata

CANDIDATE_REQUEST, CANDIDATE_REPLY = 3, 4  # candidate's fds: requests in, replies out
TEST_REQUEST, TEST_REPLY, TEST_VERDICT = 3, 4, 5  # test's fds: requests out, replies in, verdict out
TEXT_LIMIT = 200
OUTPUTS = "__aitk_outputs__"  # a test may fill this list; it travels back with the verdict


def _describe(exc: BaseException, kind: str = "raise") -> dict:
    try:
        name = str(type(exc).__name__)[:TEXT_LIMIT]
    except BaseException:  # noqa: BLE001 - a hostile exception class
        name = "Exception"
    try:
        text = str(exc)[:TEXT_LIMIT]
    except BaseException:  # noqa: BLE001
        text = ""
    return {"exc": name, "msg": text, "kind": kind}


def candidate_main(program: str, entry_point: str) -> None:
    """Run the sample's program, then answer calls until the test hangs up. Never returns."""
    namespace: dict = {}
    try:
        exec(compile(program, "<sample>", "exec"), namespace)  # noqa: S102 - we are inside the sandbox
        function = namespace[entry_point]
        if not callable(function):
            raise TypeError(f"{entry_point} is not a function")
    except BaseException as exc:  # noqa: BLE001 - includes SystemExit from sys.exit() in the sample
        _reply({"ready": False, **_describe(exc, "load")})
        os._exit(0)
    _reply({"ready": True})
    while True:
        try:
            message = plaindata.recv(CANDIDATE_REQUEST)
            if message is None:
                os._exit(0)
            args, kwargs = plaindata.decode(message["args"]), plaindata.decode(message["kwargs"])
        except BaseException:  # noqa: BLE001
            os._exit(0)
        try:
            value = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            _reply(_describe(exc))
            continue
        try:
            _reply({"ok": plaindata.encode(value)})
        except BaseException as exc:  # noqa: BLE001 - not plain data, or too big
            _reply(_describe(exc, "return"))


def _reply(message: dict) -> None:
    try:
        plaindata.send(CANDIDATE_REPLY, message)
    except plaindata.NotPlainData as exc:
        plaindata.send(CANDIDATE_REPLY, _describe(exc, "return"))


class CandidateFailed(Exception):
    """The candidate crashed, exited, sent garbage or returned something that is not plain data."""


def test_main(prompt: str, test: str, entry_point: str) -> None:
    """Run the problem's check against the candidate through the proxy; send the verdict. Never returns."""
    try:
        verdict = _check(prompt, test, entry_point)
    except BaseException as exc:  # noqa: BLE001
        verdict = {"passed": False, "reason": "harness error: " + _describe(exc)["exc"]}
    plaindata.send(TEST_VERDICT, verdict)
    os._exit(0)


def _check(prompt: str, test: str, entry_point: str) -> dict:
    ready = _receive()
    if not ready.get("ready"):
        return _failure(ready)
    namespace: dict = {}
    for source in (prompt, prompt + "\n    ...\n", ""):  # the prompt's helpers (e.g. HumanEval/32's poly)
        try:
            exec(compile(source, "<prompt>", "exec"), namespace)  # noqa: S102 - trusted problem text
            break
        except SyntaxError:
            namespace.clear()
    state = {"last": None, "raised": None}
    proxy = _proxy(entry_point, state)
    namespace[entry_point] = proxy
    exec(compile(test, "<test>", "exec"), namespace)  # noqa: S102 - trusted problem text
    check = namespace.get("check")
    if not callable(check):
        return {"passed": False, "reason": "harness error: the problem's test defines no check(candidate)"}
    try:
        check(proxy)
        verdict = {"passed": True, "reason": ""}
    except CandidateFailed as exc:
        verdict = {"passed": False, "reason": str(exc)}
    except BaseException as exc:  # noqa: BLE001
        if state["last"] is not None and (exc is state.get("raised") or state["last"].get("exc") == type(exc).__name__):
            verdict = _failure(state["last"])  # the candidate's own exception, by its own name
        else:
            info = _describe(exc)
            verdict = {"passed": False, "reason": info["exc"] + (f": {info['msg']}" if info["msg"] else "")}
    if OUTPUTS in namespace:  # a behaviour probe (aitk passk select) records what the candidate returned
        verdict["outputs"] = plaindata.encode(namespace[OUTPUTS])
    return verdict


def _proxy(entry_point: str, state: dict):
    def candidate(*args, **kwargs):
        try:
            request = {"args": plaindata.encode(list(args)), "kwargs": plaindata.encode(kwargs)}
        except plaindata.NotPlainData as exc:
            raise CandidateFailed(
                f"harness error: the test passed an argument that is not plain data ({exc})"
            ) from None
        plaindata.send(TEST_REQUEST, request)
        reply = _receive()
        if "ok" in reply:
            try:
                return plaindata.decode(reply["ok"])
            except (plaindata.NotPlainData, ValueError, TypeError) as exc:
                raise CandidateFailed(f"candidate sent malformed data ({exc})") from None
        state["last"] = reply
        if reply.get("kind") == "return":
            raise CandidateFailed(_reason(reply))
        state["raised"] = _exception_type(reply.get("exc"))(reply.get("msg", ""))
        raise state["raised"]

    candidate.__name__ = candidate.__qualname__ = entry_point
    return candidate


def _receive() -> dict:
    try:
        reply = plaindata.recv(TEST_REPLY)
    except (plaindata.NotPlainData, ValueError) as exc:
        raise CandidateFailed(f"candidate sent malformed data ({exc})") from None
    if reply is None:
        raise CandidateFailed("candidate exited")
    return reply


def _exception_type(name) -> type:
    """The built-in exception of that name, so a test's `except ValueError` still works.

    SystemExit from a sample's sys.exit() stays SystemExit (a test's `except Exception` must not
    swallow it, as in-process); a sample's own exception classes become RuntimeError here, and the
    verdict still names them.
    """
    found = getattr(builtins, name, None) if type(name) is str else None
    if isinstance(found, type) and issubclass(found, BaseException):
        return found
    return RuntimeError


def _failure(reply: dict) -> dict:
    return {"passed": False, "reason": _reason(reply), "oom": reply.get("exc") == "MemoryError"}


def _reason(reply: dict) -> str:
    name, text = str(reply.get("exc", "?"))[:TEXT_LIMIT], str(reply.get("msg", ""))[:TEXT_LIMIT]
    where = {"load": "sample failed to load", "return": "sample returned a value that is not plain data"}.get(
        reply.get("kind")
    )
    head = f"{where}: {name}" if where else f"candidate raised {name}"
    return f"{head}: {text}" if text else head


# --- stdin/stdout programs ------------------------------------------------------------------------
EXIT_MEMORY = 75  # the program ran out of memory (MemoryError): reported as "out of memory"


def program_main(program: str) -> None:
    """Run a whole program as __main__ on fds 0/1/2 (stdin: the test's input). Never returns.

    Only the exit status and the output mean anything, and the host judges the output: nothing the
    program could copy (the expected output) is in this process.
    """
    import sys

    exit_now = os._exit  # held before the program runs: it may replace os._exit
    streams = [
        open(fd, mode, encoding="utf-8", errors="replace", closefd=False) for fd, mode in ((0, "r"), (1, "w"), (2, "w"))
    ]
    sys.stdin, sys.stdout, sys.stderr = streams
    sys.argv = ["program"]
    code = 0
    try:
        exec(compile(program, "<program>", "exec"), {"__name__": "__main__", "__builtins__": builtins})  # noqa: S102
    except SystemExit as exc:
        if exc.code is None or type(exc.code) is int:
            code = exc.code or 0
        else:
            _say(streams[2], str(exc.code))
            code = 1
    except MemoryError:
        code = EXIT_MEMORY
    except BaseException as exc:  # noqa: BLE001 - a runtime error, named on stderr for the reason
        info = _describe(exc)
        _say(streams[2], info["exc"] + (f": {info['msg']}" if info["msg"] else ""))
        code = 1
    for stream in (sys.stdout, streams[1], streams[2]):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - closed or replaced by the program
            pass
    exit_now(code & 0xFF)


def _say(stream, text: str) -> None:
    try:
        stream.write("\n" + text[:TEXT_LIMIT] + "\n")
    except BaseException:  # noqa: BLE001
        pass
