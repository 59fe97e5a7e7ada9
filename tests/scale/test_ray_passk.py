"""`aitk passk evaluate --executor ray`: the same results as locally, and the sandbox holds on every Ray worker."""

from __future__ import annotations

import json
import socket

import pytest

from aitk.engine.executor import ExecutorConfig
from aitk.passk.config import EvaluateConfig, SandboxConfig, TimeLimits
from aitk.passk.problems import load_problems
from aitk.passk.run import evaluate
from tests.conftest import run_aitk, run_aitk_subprocess
from tests.passk.conftest import ADD, read_jsonl, run_sandboxed, write_jsonl
from tests.passk.test_sandbox import hostile_samples

pytestmark = pytest.mark.slow

CASES = (
    "honest",
    "infinite_loop",
    "memory_bomb",
    "files_outside",
    "read_secret",
    "connect_localhost",
    "kills_parent",
    "forged_verdicts",
    "honest_after_all_that",
)


def without_times(path):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in read_jsonl(path)]


def test_ray_results_equal_local_and_the_sandbox_holds(ray_local, tmp_path):
    base = tmp_path / "host"
    base.mkdir()
    (base / "secret.txt").write_text("TOP-SECRET")
    (base / "victim.txt").write_text("keep me")
    base.chmod(0o777)  # the host would let anyone write here: only the sandbox may stop it
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    cases = hostile_samples(base, listener.getsockname()[1])
    rows = [{"task_id": ADD["task_id"], "completion": cases[name][0], "name": name} for name in CASES]
    rows.append({"task_id": ADD["task_id"], "completion": "    return a * b\n", "name": "wrong"})
    problems = load_problems(str(write_jsonl(tmp_path / "problems.jsonl", [ADD])))
    config = EvaluateConfig(
        ks=(1,),
        workers=2,
        sandbox=SandboxConfig(level="strict", memory_mb=256, require=True),
        limits=TimeLimits(fixed=1.5),
    )
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    local_dir.mkdir()
    ray_dir.mkdir()
    local = run_sandboxed("strict", lambda: evaluate(write_jsonl(local_dir / "s.jsonl", rows), problems, config))
    ray = evaluate(
        write_jsonl(ray_dir / "s.jsonl", rows), problems, config, executor=ExecutorConfig(kind="ray", workers=2)
    )
    assert without_times(ray.results) == without_times(local.results)
    statuses = {r["name"]: r["result_status"] for r in read_jsonl(ray.results)}
    assert statuses["wrong"] == "failed" and statuses["honest"] == "passed"
    for name in CASES:
        expected = cases[name][1]
        assert statuses[name] in (expected if isinstance(expected, set) else {expected}), name
    assert ray.pass_at_k[0].value == local.pass_at_k[0].value
    try:
        leaked = listener.accept()[0].recv(16)
    except OSError:
        leaked = b""
    listener.close()
    assert leaked == b"" and (base / "victim.txt").read_text() == "keep me" and not (base / "created.txt").exists()


def test_require_sandbox_fails_closed_on_ray_workers(ray_local, tmp_path, monkeypatch):
    """A Ray worker whose node lacks bubblewrap stops the run (strict + --require-sandbox)."""
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": ADD["task_id"], "completion": "    return a + b\n"}])
    problems = write_jsonl(tmp_path / "p.jsonl", [ADD])
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run_aitk_subprocess(  # a real process: --executor ray
        "passk",
        "evaluate",
        str(samples),
        "-p",
        str(problems),
        "-k",
        "1",
        "--require-sandbox",
        "--executor",
        "ray",
        "--workers",
        "1",
        env={"PATH": str(empty)},  # no bwrap for the Ray worker (the CLI itself runs from its absolute path)
    )
    assert result.returncode != 0 and "namespaces" in result.stderr, result.stderr
    assert not (tmp_path / "s_results.jsonl").exists()


def test_cli_json_summary_matches_local(tmp_path):
    rows = [
        {"task_id": ADD["task_id"], "completion": c}
        for c in ("    return a + b\n", "    return a - b\n", "    return b + a\n")
    ]
    problems = write_jsonl(tmp_path / "p.jsonl", [ADD])
    out = {}
    for name, extra in (("local", []), ("ray", ["--executor", "ray", "--workers", "2"])):
        (tmp_path / name).mkdir()
        samples = write_jsonl(tmp_path / name / "s.jsonl", rows)
        run = run_aitk_subprocess if extra else run_aitk  # --executor ray in a real process
        result = run(
            "passk",
            "evaluate",
            str(samples),
            "-p",
            str(problems),
            "-k",
            "1,2",
            "--sandbox",
            "standard",
            "--json",
            "-q",
            *extra,
        )
        assert result.returncode == 0, result.stderr
        out[name] = json.loads(result.stdout)["result"]  # the record's payload: the summary
    for key in ("samples", "problems", "pass_at_k", "statuses"):
        assert out["ray"][key] == out["local"][key], key
    # the summary's sandbox is what the Ray workers had (probed there), not an unprobed guess by the driver
    ray_box, local_box = out["ray"]["sandbox"], out["local"]["sandbox"]
    assert ray_box["seccomp"] and ray_box["rlimits"] and ray_box["sample_uid"] not in (None, 0)
    assert {k: v for k, v in ray_box.items() if k != "sample_uid"} == {
        k: v for k, v in local_box.items() if k != "sample_uid"
    }
    assert "sandbox_variants" not in out["ray"]  # both workers on this machine: one set of layers
