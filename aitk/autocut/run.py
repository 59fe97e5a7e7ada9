"""autocut operations: transcribe to an editing file, cut, convert between formats, merge.

Each function does one job on files and returns what it wrote; nothing here prints. Files a user
may have edited (X.srt, X.md and the _cut outputs) are never overwritten without `force`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from glob import escape as glob_escape
from pathlib import Path

from aitk.autocut.config import CutConfig
from aitk.autocut.cues import NO_SPEECH, Cue, EditFileError, Span, compose_srt, parse_srt
from aitk.autocut.cutter import cut_media, cut_output_path, keyframe_times, snap_to_keyframes
from aitk.autocut.edges import snap_to_sound
from aitk.autocut.markdown import parse_md, render_md
from aitk.autocut.plan import by_speaker, retimed, sound_of, take_struck_words
from aitk.autocut.silence import intersect, subtract
from aitk.autocut.spans import snap_to_frames, spans_for, total
from aitk.autocut.words import CueWords, TimedWord, dump_words, load_words, marked_line, split_speaker, words_path
from aitk.engine.errors import MediaError, OutputError, UsageError
from aitk.engine.fileio import atomic_write_text, check_writable
from aitk.engine.media import SAMPLE_RATE, decode_audio, probe
from aitk.engine.progress import Log, Reporter, TaskAdvanced, TaskFinished, TaskStarted, null_reporter
from aitk.transcribe.writers import srt_timestamp

MIN_GAP = 1.0  # seconds of silence that get their own "< No Speech >" line


@dataclass
class CutResult:
    media: Path
    outputs: list[Path]
    kept_seconds: float
    source_seconds: float
    spans: int
    ranges: list[Span] = field(default_factory=list)  # the kept spans of the source, in order
    video: str = ""  # how the video was cut: smart cut (share copied), or why it was re-encoded whole


def read_edit_file(path: Path, kind: str) -> str:
    """The text of an srt, md or compact file; EditFileError naming it when it is not UTF-8 text."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise EditFileError(
            f"not a valid {kind} file: binary, or not UTF-8 text",
            path=path,
            hint=f"give the {path.suffix or kind} file aitk wrote, or save it as UTF-8",
        ) from exc
    except OSError as exc:
        raise EditFileError(f"cannot read it: {exc.strerror}", path=path, hint="check the path") from exc


def read_srt(path: Path) -> list[Cue]:
    return parse_srt(read_edit_file(path, "SRT"), str(path))


def editing_paths(media: Path) -> list[Path]:
    """X.srt and X.md beside the media: what `transcribe` writes and the user edits."""
    return [media.with_suffix(".srt"), media.with_suffix(".md")]


def is_transcribed(media: Path) -> bool:
    """Both editing files exist: `transcribe` skips the media (without force), watch leaves it alone."""
    return all(p.exists() for p in editing_paths(media))


def refuse_overwrite(paths: list[Path], force: bool) -> None:
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise OutputError(f"{names} already exist{'s' if len(existing) == 1 else ''}", hint="use --force to overwrite")


def cues_with_gaps(segments: list[tuple[float, float, str]], duration: float) -> list[Cue]:
    """Speech segments as cues, with a "< No Speech >" cue for every silence longer than MIN_GAP."""
    cues: list[Cue] = []
    cursor = 0.0
    for start, end, text in segments:
        if start - cursor > MIN_GAP:
            cues.append(Cue(len(cues) + 1, round(cursor, 3), round(start, 3), NO_SPEECH))
        cues.append(Cue(len(cues) + 1, start, end, text.strip()))
        cursor = max(cursor, end)
    if duration - cursor > MIN_GAP:
        cues.append(Cue(len(cues) + 1, round(cursor, 3), round(duration, 3), NO_SPEECH))
    return cues


def write_editing_files(
    media: Path,
    cues: list[Cue],
    force: bool,
    suggest: bool = False,
    words: dict[int, CueWords] | None = None,
) -> list[Path]:
    """X.srt and X.md beside the media, and X.words.json when `words` (cue index -> its words) is
    given. With `suggest`, filler words and restarts inside a kept line are struck (word level),
    and whole filler lines, abandoned sentences and long silences are left unticked."""
    srt_path, md_path = editing_paths(media)
    refuse_overwrite([srt_path, md_path], force)
    ticked: set[int] = set()
    notes: dict[int, str] = {}
    shown = cues
    if suggest:
        from aitk.autocut.suggest import suggest_drops, suggest_strikes

        notes = suggest_drops([replace(c, text=split_speaker(c.text)[1]) for c in cues])
        ticked = {c.index for c in cues if c.is_speech and c.index not in notes}
        shown = []
        for cue in cues:
            own = (words or {}).get(cue.index)
            strikes = suggest_strikes([w.text for w in own.words]) if own and cue.index in ticked else set()
            if strikes and own is not None:
                speaker = split_speaker(cue.text)[0]
                line = marked_line(own.words, strikes)
                cue = replace(cue, text=line if speaker is None else f"[{speaker}] {line}")
            shown.append(cue)
    if words is not None:
        atomic_write_text(words_path(srt_path), dump_words(media.name, words))
    atomic_write_text(srt_path, compose_srt(cues))
    atomic_write_text(md_path, render_md(media.name, srt_path.name, shown, ticked, notes))
    return [srt_path, md_path] + ([words_path(srt_path)] if words is not None else [])


def transcribe_for_editing(
    media: Path, transcriber, force: bool = False, suggest: bool = False, reporter: Reporter = null_reporter
) -> list[Path]:
    """Transcribe `media` into X.srt, X.md and X.words.json (the word times). Without force an
    existing srt or md is an OutputError: callers skip media whose srt and md both exist
    (`is_transcribed`) before calling this."""
    srt_path, md_path = editing_paths(media)
    if not force and srt_path.exists() != md_path.exists():  # one without the other: never guess
        there, missing = (srt_path, md_path) if srt_path.exists() else (md_path, srt_path)
        fix = (
            f"make the md from it with 'aitk autocut to-md {srt_path} {media}'" if there == srt_path else "move it away"
        )
        raise OutputError(
            f"{there} exists but {missing.name} does not",
            hint=f"{fix}, or use --force to transcribe again, overwriting it",
        )
    refuse_overwrite([srt_path, md_path], force)
    audio = decode_audio(media)
    duration = len(audio) / SAMPLE_RATE
    reporter(TaskStarted(str(media), f"transcribe {media.name}", total=duration))
    transcript = transcriber.transcribe_audio(audio, lambda t: reporter(TaskAdvanced(str(media), min(t, duration))))
    segments = [s for s in transcript.segments if s.text.strip()]
    # Whisper's word times often start a sentence late: widen each to its sound so cuts keep it whole.
    said = [(s.start, s.end, s.text if s.speaker is None else f"[{s.speaker}] {s.text.strip()}") for s in segments]
    cues = cues_with_gaps(snap_to_sound(said, audio, SAMPLE_RATE), transcript.duration)
    speech = [c for c in cues if c.text != NO_SPEECH]  # one per segment, in order
    words = {
        cue.index: CueWords(
            cue.start,
            cue.end,
            tuple(TimedWord(w.start, w.end, w.word.strip()) for w in (seg.words or ()) if w.word.strip()),
            seg.speaker,
        )
        for cue, seg in zip(speech, segments)
    }
    return write_editing_files(media, cues, force=True, suggest=suggest, words=words)


def kept_cues(cues: list[Cue], md_text: str | None, md_name: str, srt_name: str) -> list[Cue]:
    """The cues to keep: ticked in the md (with the md's corrected text), or all cues of the srt."""
    return [cue for cue, _ in kept_lines(cues, md_text, md_name, srt_name)]


def kept_lines(cues: list[Cue], md_text: str | None, md_name: str, srt_name: str) -> list[tuple[Cue, int]]:
    """(cue, md line number) to keep: ticked in the md (with the md's text, ~~strikes~~ and all),
    or every cue of the srt (line 0)."""
    if md_text is None:
        return [(cue, 0) for cue in cues]
    doc = parse_md(md_text, md_name)
    by_index = {c.index: c for c in cues}
    kept = []
    for line in doc.kept:
        cue = by_index.get(line.index)
        if cue is None:
            raise UsageError(
                f"{md_name} line {line.line_no}: cue {line.index} is not in {srt_name}", hint="fix or remove that line"
            )
        text = line.text if line.text and cue.is_speech else cue.text
        kept.append((Cue(cue.index, cue.start, cue.end, text), line.line_no))
    if not kept:
        raise UsageError(f"nothing is ticked in {md_name}", hint="tick the sentences to keep: '- [x]'")
    return kept


def _note_unused_md(media: Path, srt_path: Path, reporter: Reporter) -> None:
    """Cutting by the srt while X.md beside the media has ticks: most likely the user meant the md."""
    beside = media.with_suffix(".md")
    try:
        ticked = beside.exists() and bool(parse_md(beside.read_text(encoding="utf-8"), str(beside)).kept)
    except (OSError, UnicodeDecodeError, UsageError):
        return
    if ticked:
        reporter(
            Log(
                f"{beside} has ticked sentences but was not given: cutting by the cues left in {srt_path.name} "
                f"(to cut by the ticks: aitk autocut cut {media} {beside})",
                "warning",
            )
        )


def cut(
    media: Path,
    srt_path: Path | None = None,
    md_path: Path | None = None,
    config: CutConfig = CutConfig(),
    reporter: Reporter = null_reporter,
) -> CutResult:
    """Cut `media` to the kept cues (less struck words, other speakers and pauses as `config` asks);
    write X_cut.<ext>, X_cut.srt, X_cut.md, X_cut.words.json (when there are word times) and exports.
    With `config.silence` and neither an md nor an srt, the cut is the whole recording less its pauses."""
    info = probe(media)
    if not info.has_audio and not info.has_video:
        raise MediaError("has no audio or video stream", path=media)
    srt_path = srt_path or media.with_suffix(".srt")
    silence_only = config.silence is not None and md_path is None and not srt_path.exists()
    kept: list[tuple[Cue, int]] = []
    words: dict[int, CueWords] | None = None
    if silence_only:
        spans = [Span(0.0, info.duration)]
    else:
        if not srt_path.exists():
            raise UsageError(
                f"{srt_path}: no such subtitle file",
                hint=f"run 'aitk autocut transcribe {media}' first, or cut pauses only with --cut-silence",
            )
        cues = read_srt(srt_path)
        if not cues:
            raise EditFileError(
                "has no cues", path=srt_path, hint=f"restore it, or run 'aitk autocut transcribe {media} --force'"
            )
        md_text = read_edit_file(md_path, "Markdown") if md_path else None
        if md_path is None:
            _note_unused_md(media, srt_path, reporter)
        kept = kept_lines(cues, md_text, str(md_path), str(srt_path))
        beyond = next((c for c, _ in kept if c.start >= info.duration), None)
        if beyond is not None:
            raise EditFileError(
                f"cue {beyond.index} starts at {beyond.start:.1f} s, after the end of {media.name} "
                f"({info.duration:.1f} s)",
                path=srt_path,
                hint="is it the srt of another recording? fix or delete that cue",
            )
        words = load_words(words_path(srt_path))
        kept = by_speaker(kept, {c.index: c for c in cues}, words, config, srt_path, media)
        spans = spans_for([c for c, _ in kept], info.duration, config.padding, config.merge_gap)
    fps = info.fps if info.has_video else 0.0
    kept, holes, removed = take_struck_words(kept, words, fps, config, media, md_path, srt_path)
    spans = subtract(spans, holes)
    if config.silence is not None:
        spans = intersect(spans, sound_of(media, config.silence))
    spans = [s for s in snap_to_frames(spans, fps) if s.duration >= 0.01]
    if not spans:
        raise UsageError("nothing left to keep", hint="tick more sentences, strike fewer words, or lower --cut-silence")
    if config.encode.fast and info.has_video:
        spans = snap_to_keyframes(spans, keyframe_times(media))  # the cut and its subtitles agree
    out_media = cut_output_path(media, info)
    out_srt, out_md = out_media.with_suffix(".srt"), out_media.with_suffix(".md")
    out_words = words_path(out_srt)
    exports = [out_media.with_suffix("." + kind) for kind in config.export]
    subtitled = not silence_only
    planned = [out_media, *([out_srt, out_md] if subtitled else []), *exports]
    refuse_overwrite(planned + ([out_words] if subtitled and words is not None else []), config.force)
    check_writable(out_media.parent)  # before ffmpeg, whose message would name only its temp file

    task = str(media)
    reporter(TaskStarted(task, f"cut {media.name}", total=total(spans)))
    notes: list[str] = []

    def note(message: str) -> None:
        notes.append(message)
        reporter(Log(message))

    progress = lambda t: reporter(TaskAdvanced(task, t))  # noqa: E731
    cut_media(media, out_media, spans, info, config.encode, progress, fade=config.fade, on_note=note)
    outputs = [out_media]
    if subtitled:
        new_cues, new_words = retimed([c for c, _ in kept if c.is_speech], words, removed, spans)
        atomic_write_text(out_srt, compose_srt(new_cues))
        atomic_write_text(out_md, render_md(out_media.name, out_srt.name, new_cues, {c.index for c in new_cues}))
        outputs += [out_srt, out_md]
        if words is not None:
            outputs.append(atomic_write_text(out_words, dump_words(out_media.name, new_words)))
    for kind, path in zip(config.export, exports):
        atomic_write_text(path, export_text(kind, spans, media, info, out_media.stem))
    reporter(TaskFinished(task))
    return CutResult(media, outputs + exports, total(spans), info.duration, len(spans), spans, "; ".join(notes))


def export_text(kind: str, spans, media: Path, info, title: str) -> str:
    from aitk.autocut.export import export_edl, export_fcpxml

    fps = info.fps if info.fps > 0 else 25.0  # audio-only: editors still want a timebase
    if kind == "edl":
        return export_edl(spans, media.name, fps, title, has_video=info.has_video, has_audio=info.has_audio)
    if kind == "fcpxml":
        return export_fcpxml(
            spans,
            media.resolve(),
            fps,
            info.duration,
            info.width or 1920,
            info.height or 1080,
            title,
            has_video=info.has_video,
            has_audio=info.has_audio,
            sample_rate=info.sample_rate or 48000,
        )
    if kind == "otio":
        from aitk.autocut.export import export_otio

        return export_otio(
            spans, media.resolve(), fps, info.duration, title, has_video=info.has_video, has_audio=info.has_audio
        )
    raise UsageError(f"unknown --export {kind}", hint="use edl, fcpxml or otio")


def _media_beside(srt_path: Path) -> Path:
    """The recording the srt belongs to: a media file of the same name beside it (X.mp4 if none)."""
    from aitk.engine.media import is_media_path

    found = sorted(
        p for p in srt_path.parent.glob(glob_escape(srt_path.stem) + ".*") if p != srt_path and is_media_path(p)
    )
    return found[0] if found else srt_path.with_suffix(".mp4")


def srt_to_md(srt_path: Path, media: Path | None, force: bool = False) -> Path:
    cues = read_srt(srt_path)
    if not cues:
        raise EditFileError("has no cues", path=srt_path, hint="give the srt of the recording")
    md_path = srt_path.with_suffix(".md")
    refuse_overwrite([md_path], force)
    media_name = media.name if media else _media_beside(srt_path).name
    return atomic_write_text(md_path, render_md(media_name, srt_path.name, cues))


def md_to_srt(md_path: Path, srt_path: Path | None = None, out: Path | None = None, force: bool = False) -> Path:
    """Subtitles with the md's corrected text, written to `out` (default X_edited.srt)."""
    text = edited_srt(md_path, srt_path)
    out = out or md_path.with_name(md_path.stem + "_edited.srt")
    refuse_overwrite([out], force)
    return atomic_write_text(out, text)


def edited_srt(md_path: Path, srt_path: Path | None = None) -> str:
    """The srt text with the md's corrected text: every speech line of the md, ticked or not."""
    srt_path = srt_path or md_path.with_suffix(".srt")
    if not srt_path.exists():
        raise UsageError(f"{srt_path}: no such subtitle file", hint="give the srt the md was made from")
    cues = {c.index: c for c in read_srt(srt_path)}
    doc = parse_md(read_edit_file(md_path, "Markdown"), str(md_path))
    edited = []
    for line in doc.lines:
        cue = cues.get(line.index)
        if cue is None:
            raise UsageError(
                f"{md_path} line {line.line_no}: cue {line.index} is not in {srt_path}", hint="fix or remove that line"
            )
        if cue.is_speech:  # struck words are still in the sound: only their marks go
            edited.append(Cue(cue.index, cue.start, cue.end, line.text.replace("~~", "") or cue.text))
    return compose_srt(edited, reindex=True)


def compact_lines(cues: list[Cue]) -> str:
    return "".join(f"{c.index}\t{srt_timestamp(c.start)} --> {srt_timestamp(c.end)}\t{c.text}\n" for c in cues)


def parse_compact(text: str, name: str) -> list[Cue]:
    import srt

    cues = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            index, times, words = line.split("\t", 2)
            start, end = (srt.srt_timestamp_to_timedelta(t.strip()).total_seconds() for t in times.split("-->"))
            cues.append(Cue(int(index), start, end, words.strip()))
        except (ValueError, srt.TimestampParseError) as exc:
            raise UsageError(
                f"{name} line {number}: not 'INDEX<TAB>START --> END<TAB>TEXT'", hint="fix that line"
            ) from exc
    return cues


def compact(path: Path, force: bool = False) -> Path:
    """X.srt -> X.compact.txt (one line per cue), and X.compact.txt -> X.srt back."""
    compact_file = path.name.endswith(".compact.txt")
    text = read_edit_file(path, "compact subtitle" if compact_file else "SRT")
    if compact_file:
        out = path.with_name(path.name[: -len(".compact.txt")] + ".srt")
        refuse_overwrite([out], force)
        return atomic_write_text(out, compose_srt(parse_compact(text, str(path))))
    out = path.with_name(path.stem + ".compact.txt")
    refuse_overwrite([out], force)
    return atomic_write_text(out, compact_lines(parse_srt(text, str(path))))


def merge(medias: list[Path], out: Path, config: CutConfig = CutConfig()) -> list[Path]:
    """Join recordings end to end (re-encoded to the first one's size and rate), with their subtitles."""
    from aitk.autocut.cutter import merge_media

    if len(medias) < 2:
        raise UsageError(
            "merge needs at least two recordings",
            hint="give them in order, e.g. aitk autocut merge a.mp4 b.mp4 -o joined.mp4",
        )
    if str(out) == "-" or not out.suffix:
        raise UsageError(
            f"-o {out}: the joined recording needs a file name with an extension",
            hint="e.g. -o joined.mp4, or joined.m4a for sound only",
        )
    infos = [probe(m) for m in medias]
    subtitles = [
        read_srt(m.with_suffix(".srt")) if m.with_suffix(".srt").exists() else [] for m in medias
    ]  # bad ones fail before encoding
    out_srt = out.with_suffix(".srt")
    refuse_overwrite([out, out_srt], config.force)
    check_writable(out.parent)
    merge_media(medias, infos, out, config.encode)
    cues: list[Cue] = []
    offset = 0.0
    for own, info in zip(subtitles, infos):
        for c in own:
            if c.is_speech:
                cues.append(Cue(len(cues) + 1, round(c.start + offset, 3), round(c.end + offset, 3), c.text))
        offset += info.duration
    atomic_write_text(out_srt, compose_srt(cues))
    return [out, out_srt]
