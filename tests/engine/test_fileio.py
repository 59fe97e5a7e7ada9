import os

import pytest

from aitk.engine.errors import OutputError
from aitk.engine.fileio import TEMP_PREFIX, atomic_open, atomic_write_text


def test_atomic_write_creates_and_replaces(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failure_keeps_old_content_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("precious")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as handle:
            handle.write("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "precious"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder_is_output_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    with pytest.raises(OutputError) as err:
        atomic_write_text(locked / "x.txt", "x")
    assert "--output-dir" in err.value.message


def test_unwritable_folder_under_a_file_is_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError):
        atomic_write_text(blocker / "x.txt", "x")


def test_check_writable_names_the_folder_before_any_work(tmp_path):
    from aitk.engine.errors import OutputError
    from aitk.engine.fileio import check_writable

    check_writable(tmp_path)
    assert list(tmp_path.iterdir()) == []  # its probe leaves nothing behind
    with pytest.raises(OutputError) as err:
        check_writable("/proc")  # not writable even for root
    assert err.value.message.startswith("cannot write to /proc: ") and "make the folder writable" in err.value.message


def test_atomic_path_swaps_a_folder_in_whole_and_keeps_the_suffix(tmp_path):
    from aitk.engine.fileio import atomic_path

    target = tmp_path / "model"
    for version in ("one", "two"):
        with atomic_path(target) as tmp:
            assert tmp.parent == tmp_path and tmp.name.startswith(TEMP_PREFIX) and not tmp.exists()
            tmp.mkdir()
            (tmp / "weights.txt").write_text(version)
    assert (target / "weights.txt").read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # the old folder is gone too
    with atomic_path(tmp_path / "clip.mp4") as tmp:
        assert tmp.suffix == ".mp4"  # ffmpeg picks the format from it
        tmp.write_bytes(b"x")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.mkdir()
        raise RuntimeError("killed")
    assert (target / "weights.txt").read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "model"]


def test_resumable_staging_keeps_a_fixed_partial_and_moves_a_finished_file_back(tmp_path):
    from aitk.engine.fileio import Staged

    target = tmp_path / "samples.jsonl"
    staged = Staged(target, resumable=True)
    assert staged.path == tmp_path / ".samples.jsonl.partial"
    assert not staged.resume()  # nothing yet
    staged.path.write_text("a\n")
    staged.commit()
    assert target.read_text() == "a\n" and not staged.path.exists()
    assert staged.resume()  # the finished file becomes the partial, to be extended
    assert staged.path.read_text() == "a\n" and not target.exists()
