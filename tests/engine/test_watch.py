from pathlib import Path

from aitk.engine.watch import StableFiles, snapshot

A, B = Path("a.mkv"), Path("b.mkv")


def test_file_is_handed_out_once_after_settling():
    tracker = StableFiles(settle=2.0)
    assert tracker.observe({A: (10, 1)}, now=0.0) == []
    assert tracker.observe({A: (10, 1)}, now=1.0) == []
    assert tracker.observe({A: (10, 1)}, now=2.0) == [A]
    assert tracker.observe({A: (10, 1)}, now=10.0) == []


def test_growing_file_waits_until_it_stops():
    tracker = StableFiles(settle=2.0)
    for t, size in enumerate([10, 20, 30, 40]):
        assert tracker.observe({A: (size, t)}, now=float(t)) == []
    assert tracker.observe({A: (40, 3)}, now=4.0) == []
    assert tracker.observe({A: (40, 3)}, now=5.0) == [A]


def test_empty_file_never_ready_and_changed_file_comes_back():
    tracker = StableFiles(settle=1.0)
    tracker.observe({A: (0, 1), B: (5, 1)}, now=0.0)
    assert tracker.observe({A: (0, 1), B: (5, 1)}, now=5.0) == [B]
    tracker.observe({A: (0, 1), B: (9, 2)}, now=6.0)  # B replaced (a fixed upload)
    assert tracker.observe({A: (0, 1), B: (9, 2)}, now=7.0) == [B]


def test_snapshot_skips_hidden_temp_and_other_files(tmp_path):
    (tmp_path / "talk.MP4").write_bytes(b"x")
    (tmp_path / ".hidden.mp4").write_bytes(b"x")
    (tmp_path / ".aitk-tmp-talk.srt.part").write_bytes(b"x")
    (tmp_path / "talk.srt").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.wav").write_bytes(b"x")
    accept = lambda p: p.suffix.lower() in (".mp4", ".wav")  # noqa: E731
    assert sorted(p.name for p in snapshot(tmp_path, False, accept)) == ["talk.MP4"]
    assert sorted(p.name for p in snapshot(tmp_path, True, accept)) == ["deep.wav", "talk.MP4"]
