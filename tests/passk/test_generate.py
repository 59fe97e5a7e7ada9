"""`aitk passk generate`: stop sequences, an OpenAI-compatible server, resume, the offline model."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from aitk.engine.errors import ModelError
from aitk.passk.config import GenerateConfig
from aitk.passk.generate import generate, truncate
from aitk.passk.problems import load_problems
from tests.conftest import run_aitk
from tests.passk.conftest import ADD, read_jsonl, write_jsonl

SUB = {
    **ADD,
    "task_id": "toy/sub",
    "prompt": 'def sub(a, b):\n    """Return a - b."""\n',
    "entry_point": "sub",
    "test": "def check(candidate):\n    assert candidate(3, 1) == 2\n",
}


def test_truncate_at_the_first_codex_stop_sequence():
    body = "    return a + b\n"
    assert truncate(body) == body
    assert truncate(body + "\ndef other():\n    pass\n") == body
    assert truncate(body + "\n# tests\nprint(add(1, 2))\n") == body
    assert truncate(body + "\nif __name__ == '__main__':\n    main()\n") == body
    assert (
        truncate("    if a:\n        return b\n    return a\n") == "    if a:\n        return b\n    return a\n"
    )  # indented if is fine


class FakeCompletions(BaseHTTPRequestHandler):
    """A minimal OpenAI-compatible /v1/completions endpoint answering from the prompt."""

    requests: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeCompletions.requests.append({**body, "auth": self.headers.get("Authorization")})
        op = "+" if "def add" in body["prompt"] else "-"
        text = f"    return a {op} b\n\ndef helper():\n    pass\n"
        if "standard input" in body["prompt"]:  # a whole program, then the model rambles on
            text = 'def main():\n    print(1)\n\nif __name__ == "__main__":\n    main()\n"""\nNext problem\n'
        elif "assert remove_occ" in body["prompt"]:  # MBPP: the program, then tests of its own
            text = "def remove_occ(s, ch):\n    return s\n\nassert remove_occ('a', 'b') == 'a'\n"
        payload = json.dumps({"choices": [{"index": i, "text": text} for i in range(body["n"])]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeCompletions)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    FakeCompletions.requests = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_openai_compatible_server_with_resume(tmp_path, server, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-test")
    problems = load_problems(str(write_jsonl(tmp_path / "p.jsonl", [ADD, SUB])))
    out = tmp_path / "samples.jsonl"
    config = GenerateConfig(
        model="served", base_url=server, api_key_env="MY_KEY", n=3, temperature=0.5, top_p=0.9, max_new_tokens=32
    )
    assert (
        generate(problems, out, GenerateConfig(**{**config.__dict__, "limit": 1})) == 3
    )  # "interrupted" after one problem
    assert generate(problems, out, config) == 3  # resumes: only toy/sub is asked for
    rows = read_jsonl(out)
    assert [r["task_id"] for r in rows] == ["toy/add"] * 3 + ["toy/sub"] * 3
    assert {r["completion"] for r in rows} == {"    return a + b\n", "    return a - b\n"}
    first = FakeCompletions.requests[0]
    assert (first["model"], first["n"], first["temperature"], first["top_p"], first["max_tokens"]) == (
        "served",
        3,
        0.5,
        0.9,
        32,
    )
    assert first["auth"] == "Bearer sk-test" and len(FakeCompletions.requests) == 2
    assert generate(problems, out, config) == 0  # complete: nothing to do


def test_unreachable_server_is_one_clear_error(tmp_path):
    problems = write_jsonl(tmp_path / "p.jsonl", [ADD])
    result = run_aitk(
        "passk", "generate", "-o", str(tmp_path / "s.jsonl"), "-p", str(problems), "--base-url", "http://127.0.0.1:9/v1"
    )
    assert result.returncode == 1 and "is the server running" in result.stderr
    with pytest.raises(ModelError):
        generate(load_problems(str(problems)), tmp_path / "s.jsonl", GenerateConfig(base_url="http://127.0.0.1:9/v1"))


@pytest.mark.slow
def test_offline_qwen_coder_writes_a_passing_sample(tmp_path, shared_lm):  # the model docqa's reader loads too, once
    """The default model from its pip packages, greedy, on one HumanEval problem, scored in the sandbox."""
    pytest.importorskip("transformers")
    from aitk.engine.models import source_installed
    from aitk.passk.catalogue import QWEN_CODER
    from aitk.passk.config import EvaluateConfig
    from aitk.passk.run import evaluate

    if not source_installed(QWEN_CODER):
        pytest.skip(f"model packages not installed: pip install {' '.join(QWEN_CODER.packages)}")
    problems = load_problems("humaneval")
    one = {"HumanEval/53": problems["HumanEval/53"]}  # add(x, y)
    out = tmp_path / "qwen.jsonl"
    generate(one, out, GenerateConfig(n=1, temperature=0.0, max_new_tokens=24, device="cpu"))
    rows = read_jsonl(out)
    assert len(rows) == 1 and "return" in rows[0]["completion"]
    summary = evaluate(out, one, EvaluateConfig(ks=(1,)))
    assert summary.pass_at_k[0].value == 1.0, rows[0]["completion"]


def test_whole_program_formats_are_prompted_with_the_statement(tmp_path, server):
    from tests.passk.test_formats import MBPP

    demo = load_problems("stdio-demo")
    problems = {
        "demo/sum-pairs": demo["demo/sum-pairs"],
        **load_problems(str(write_jsonl(tmp_path / "m.jsonl", MBPP[:1]))),
    }
    out = tmp_path / "samples.jsonl"
    assert generate(problems, out, GenerateConfig(model="served", base_url=server, n=1)) == 2
    program, mbpp = read_jsonl(out)
    assert program["completion"] == 'def main():\n    print(1)\n\nif __name__ == "__main__":\n    main()'
    assert mbpp["completion"] == "def remove_occ(s, ch):\n    return s\n"
    stdio, function = FakeCompletions.requests
    assert stdio["prompt"].startswith('"""\nSum of pairs') and "standard input" in stdio["prompt"]
    assert stdio["stop"] == ['\n"""', "\n```", "\n'''"]
    assert "remove the first and last occurrence" in function["prompt"]
    assert 'assert remove_occ("PHP","P") == "H"' in function["prompt"] and "\nassert" in function["stop"]
