from aitk.engine.inputs import expand_inputs


def test_folders_globs_files_and_missing(tmp_path):
    for name in ["b.WAV", "a.mp3", "notes.txt", ".hidden.wav"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "c.Mkv").write_bytes(b"x")

    files, problems = expand_inputs([str(tmp_path)])
    assert [p.name for p in files] == ["a.mp3", "b.WAV"] and not problems

    files, _ = expand_inputs([str(tmp_path)], recursive=True)
    assert sorted(p.name for p in files) == ["a.mp3", "b.WAV", "c.Mkv"]

    files, _ = expand_inputs([str(tmp_path / "*.WAV"), str(tmp_path / "**" / "*.Mkv")])
    assert [p.name for p in files] == ["b.WAV", "c.Mkv"]

    files, problems = expand_inputs(
        [str(tmp_path / "notes.txt"), str(tmp_path / "a.mp3"), str(tmp_path / "a.mp3"), "nope.wav"]
    )
    assert [p.name for p in files] == ["notes.txt", "a.mp3"]  # explicit files kept, duplicates dropped
    assert len(problems) == 1 and "nope.wav" in problems[0].message and "no such file" in problems[0].message


def test_glob_matching_is_case_insensitive_on_extension(tmp_path):
    (tmp_path / "x.WAV").write_bytes(b"x")
    (tmp_path / "y.wav").write_bytes(b"x")
    files, problems = expand_inputs([str(tmp_path / "*")])
    assert sorted(p.name for p in files) == ["x.WAV", "y.wav"] and not problems
