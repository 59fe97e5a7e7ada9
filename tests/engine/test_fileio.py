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
