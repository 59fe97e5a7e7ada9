"""Bad editing files and flags: one-line errors naming the file (or flag) and the fix, the right
exit code, nothing written, and a watch that carries on. Real files made with ffmpeg; no model runs."""

import json
import threading

import pytest
import srt

from aitk.autocut.cues import Cue, EditFileError, parse_srt
from aitk.autocut.markdown import render_md
from aitk.autocut.watch import watch_folder
from tests.conftest import make_video, run_aitk, run_aitk_subprocess

CUES = [Cue(1, 0.0, 1.0, "One."), Cue(2, 1.0, 2.0, "Two.")]
SRT = "1\n00:00:00,000 --> 00:00:01,000\nOne.\n\n2\n00:00:01,000 --> 00:00:02,000\nTwo.\n"
BINARY = bytes(range(256)) * 4  # not UTF-8 (0x80 cannot start a character)


@pytest.fixture
def talk(tmp_path):
    """talk.mp4 (2 s, 25 fps, no sound) with a good talk.srt and talk.md beside it."""
    make_video(tmp_path / "talk.mp4", seconds=2.0)
    (tmp_path / "talk.srt").write_text(SRT)
    (tmp_path / "talk.md").write_text(render_md("talk.mp4", "talk.srt", CUES))
    return tmp_path


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "content, needle",
    [
        (b"this is not a subtitle file\n", "talk.srt: not a valid SRT file at line 1 ("),
        (BINARY, "talk.srt: not a valid SRT file: binary, or not UTF-8 text ("),
    ],
)
def test_bad_srt_is_one_line_naming_the_file_for_every_command(talk, content, needle):
    (talk / "talk.srt").write_bytes(content)
    md_before = (talk / "talk.md").read_text()
    commands = [
        ["autocut", "cut", str(talk / "talk.mp4")],
        ["autocut", "compact", str(talk / "talk.srt")],
        ["autocut", "to-md", str(talk / "talk.srt"), "--force"],
        ["autocut", "md-to-srt", str(talk / "talk.md")],
    ]
    for args in commands:
        result = run_aitk(*args)
        assert result.returncode == 1, (args, result.stderr)
        assert needle in one_error_line(result), args
    assert sorted(p.name for p in talk.iterdir()) == ["talk.md", "talk.mp4", "talk.srt"]  # nothing written
    assert (talk / "talk.md").read_text() == md_before


@pytest.mark.parametrize(
    "content, needle",
    [
        (
            "1\n00:00:01,500 --> 00:00:00,500\nBackwards.\n",
            "talk.srt: cue 1 ends before it starts (00:00:01,500 --> 00:00:00,500) (",
        ),
        (
            "1\n00:00:50,000 --> 00:01:10,000\nBeyond.\n",
            "talk.srt: cue 1 starts at 50.0 s, after the end of talk.mp4 (2.0 s) (",
        ),
        ("", "talk.srt: has no cues ("),
    ],
)
def test_impossible_cues_are_named_before_cutting(talk, content, needle):
    (talk / "talk.srt").write_text(content)
    (talk / "talk.md").unlink()
    result = run_aitk("autocut", "cut", str(talk / "talk.mp4"))
    assert result.returncode == 1 and needle in one_error_line(result)
    assert sorted(p.name for p in talk.iterdir()) == ["talk.mp4", "talk.srt"]
    if content:
        assert run_aitk("autocut", "to-md", str(talk / "talk.srt")).returncode == (1 if "Backwards" in content else 0)


def test_cutting_by_the_srt_says_so_when_the_md_beside_it_has_ticks(talk):
    md = talk / "talk.md"
    md.write_text(md.read_text().replace("- [ ] [2,", "- [x] [2,"))
    result = run_aitk("autocut", "cut", str(talk / "talk.mp4"))
    assert result.returncode == 0, result.stderr
    assert f"warning: {md} has ticked sentences but was not given" in result.stderr
    quiet = run_aitk("autocut", "cut", str(talk / "talk.mp4"), str(md), "--force")
    assert quiet.returncode == 0 and "warning" not in quiet.stderr


def test_binary_md_and_json_failure_record(talk):
    (talk / "talk.md").write_bytes(BINARY)
    result = run_aitk_subprocess(
        "autocut", "cut", str(talk / "talk.mp4"), str(talk / "talk.md"), "--json"
    )  # one real process
    assert result.returncode == 1
    assert "talk.md: not a valid Markdown file" in one_error_line(result)
    row = json.loads(result.stdout)  # scripts get a record for the failed input too, shaped like transcribe's
    assert row == {
        "version": 1,
        "input": str(talk / "talk.mp4"),
        "status": "failed",
        "outputs": [],
        "error": row["error"],
        "seconds": None,
        "result": None,
    }
    assert "talk.md: not a valid Markdown file" in row["error"]


def test_md_typos_are_read_as_meant_or_reported_by_line(talk):
    md = talk / "talk.md"
    text = md.read_text()
    # A typo that still says clearly what is meant is read that way: both sentences are kept.
    md.write_text(text.replace("- [ ] [1,00:00]", "- [ x ][1, 00:00]").replace("- [ ] [2,00:01]", "- [x] [2]"))
    kept = run_aitk("autocut", "cut", str(talk / "talk.mp4"), str(md), "-q", "--json")
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["result"]["spans"] == 1
    assert [s.content for s in srt.parse((talk / "talk_cut.srt").read_text())] == ["One.", "Two."]
    # One that does not is an error naming the line, and nothing is written.
    for path in talk.glob("talk_cut*"):
        path.unlink()
    md.write_text(text.replace("- [ ] [2,00:01]", "- [x] [2 00:01]"))
    result = run_aitk("autocut", "cut", str(talk / "talk.mp4"), str(md))
    assert result.returncode == 2
    line = one_error_line(result)
    assert f"{md} line 9: cannot read '- [x] [2 00:01] Two.'" in line and "[INDEX,START]" in line
    assert not list(talk.glob("talk_cut*"))


@pytest.mark.parametrize(
    "flag, value, hint",
    [
        ("--preset", "bogus", "ultrafast"),
        ("--bitrate", "lots", "6M"),
        ("--bitrate", "6m", "6M"),  # ffmpeg reads a lower-case m as milli
    ],
)
def test_encoder_flags_are_checked_before_any_work(talk, flag, value, hint):
    result = run_aitk("autocut", "cut", str(talk / "talk.mp4"), "--json", flag, value)
    assert result.returncode == 2 and result.stdout == ""
    line = one_error_line(result)
    assert f"{flag} {value}" in line and hint in line and "ffmpeg" not in line


def test_md_to_srt_to_stdout_and_merge_needs_a_file(talk):
    md = talk / "talk.md"
    md.write_text(md.read_text().replace("[2,00:01] Two.", "[2,00:01] Two, corrected."))
    result = run_aitk("autocut", "md-to-srt", str(md), "-o", "-", cwd=talk)
    assert result.returncode == 0, result.stderr
    assert [s.content for s in srt.parse(result.stdout)] == ["One.", "Two, corrected."]
    assert not (talk / "-").exists() and not (talk / "talk_edited.srt").exists()

    make_video(talk / "other.mp4", seconds=1.0)
    for out in ("-", "joined"):
        merged = run_aitk("autocut", "merge", str(talk / "talk.mp4"), str(talk / "other.mp4"), "-o", out, cwd=talk)
        assert merged.returncode == 2
        line = one_error_line(merged)
        assert f"-o {out}:" in line and "joined.mp4" in line and "cut" not in line
    assert sorted(p.name for p in talk.iterdir()) == ["other.mp4", "talk.md", "talk.mp4", "talk.srt"]


def test_transcribe_skips_media_that_has_both_files_and_keeps_edits(talk):
    md = talk / "talk.md"
    md.write_text(md.read_text().replace("- [ ] [1,", "- [x] [1,"))  # an edit that must survive
    before = md.read_text(), (talk / "talk.srt").read_text()
    result = run_aitk("autocut", "transcribe", str(talk / "talk.mp4"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"skipped {talk / 'talk.mp4'}") and "--force" in result.stdout
    assert (md.read_text(), (talk / "talk.srt").read_text()) == before
    row = json.loads(run_aitk("autocut", "transcribe", str(talk / "talk.mp4"), "--json").stdout)
    assert row["status"] == "skipped" and row["outputs"] == [str(talk / "talk.srt"), str(md)]

    # An srt without its md (or the reverse) is not skipped and not overwritten: it names the fix.
    md.unlink()
    result = run_aitk("autocut", "transcribe", str(talk / "talk.mp4"))
    assert (
        result.returncode == 1 and "talk.srt exists but talk.md does not" in result.stderr and "to-md" in result.stderr
    )
    assert (talk / "talk.srt").read_text() == before[1] and not md.exists()


def test_srt_error_gives_the_line_and_is_a_failed_input():
    broken_arrow = SRT.replace("00:00:01,000 --> 00:00:02,000", "00:00:01,000 -> 00:00:02,000")
    with pytest.raises(EditFileError, match=r"x\.srt: not a valid SRT file at line 5 \(") as info:
        parse_srt(broken_arrow, "x.srt")  # line 5 starts the cue that has it
    assert info.value.exit_code == 1
    with pytest.raises(EditFileError, match="at line 3"):
        parse_srt("\n\ngarbage\n", "x.srt")  # blank lines before it are counted


def watch_events(folder, seconds=0.6) -> list[dict]:
    """Every event of a watch over `folder` (no model: its recordings are transcribed already)."""
    stop = threading.Event()
    threading.Timer(seconds, stop.set).start()
    return list(watch_folder(folder, transcriber=None, settle=0.0, interval=0.05, stop=stop))


def test_watch_reports_unreadable_files_once_and_goes_on(talk):
    (talk / "talk.md").write_bytes(BINARY)
    events = watch_events(talk)  # about ten rounds
    assert [e.status for e in events] == ["failed"], events
    assert "talk.md: not a valid Markdown file" in events[0].error

    # A done md over a broken srt: reported once, naming the srt; the listing leaves its words out.
    (talk / "talk.md").write_text(render_md("talk.mp4", "talk.srt", CUES, ticked={1}, done=True))
    (talk / "talk.srt").write_bytes(BINARY)
    (talk / "autocut.md").unlink()  # written afresh: without the srt's first words
    events = watch_events(talk)
    assert [e.status for e in events] == ["failed"], events
    assert "talk.srt: not a valid SRT file" in events[0].error
    assert "- [ ] [talk.mp4](talk.md) \n" in (talk / "autocut.md").read_text()

    (talk / "autocut.md").write_bytes(BINARY)  # the listing itself
    events = watch_events(talk)
    assert [e.status for e in events] == ["failed"] and "autocut.md: not a valid Markdown file" in events[0].error
    assert (talk / "autocut.md").read_bytes() == BINARY  # reported, never rewritten


def test_to_md_without_media_finds_the_recording_beside_the_srt(talk):
    (talk / "talk.md").unlink()
    (talk / "talk.mp4").rename(talk / "talk [1].mkv")
    (talk / "talk.srt").rename(talk / "talk [1].srt")
    assert run_aitk("autocut", "to-md", str(talk / "talk [1].srt")).returncode == 0
    assert 'src="talk%20%5B1%5D.mkv" type="video/x-matroska"' in (talk / "talk [1].md").read_text()


def test_file_commands_print_a_record_with_json(talk):
    """to-md, compact and md-to-srt write one file; with --json that is a record (failures too)."""
    made = json.loads(run_aitk("autocut", "to-md", str(talk / "talk.srt"), "--force", "--json").stdout)
    assert (
        made["status"] == "ok"
        and made["input"] == str(talk / "talk.srt")
        and made["outputs"] == [str(talk / "talk.md")]
    )
    compact = json.loads(run_aitk("autocut", "compact", str(talk / "talk.srt"), "--json").stdout)
    assert compact["outputs"] == [str(talk / "talk.compact.txt")] and compact["version"] == 1
    (talk / "talk.srt").write_bytes(BINARY)
    refused = run_aitk("autocut", "compact", str(talk / "talk.srt"), "--force", "--json")
    row = json.loads(refused.stdout)
    assert refused.returncode == 1 and row["status"] == "failed" and "talk.srt: not a valid SRT file" in row["error"]
