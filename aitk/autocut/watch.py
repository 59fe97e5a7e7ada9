"""`aitk autocut watch DIR`: the whole editing loop on a folder a recorder writes to.

- A new recording is transcribed (X.srt, X.md) once it has stopped growing.
- When X.md's "done editing" box is ticked, X is cut; again only if X.md changes afterwards.
- `autocut.md` lists every recording; ticking entries and its done box merges them, in the
  listed order (the _cut version where there is one), into autocut_merged.*, once per change.
State lives in `.autocut-state.json`, so a restart redoes nothing. aitk re-writes its own
outputs only while they are as it left them: an output edited by hand is never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from aitk.autocut.config import CutConfig
from aitk.autocut.cues import EditFileError
from aitk.autocut.markdown import DONE_TEXT, is_done, link_target
from aitk.autocut.run import cut, is_transcribed, merge, read_edit_file, read_srt, transcribe_for_editing
from aitk.engine.errors import AitkError
from aitk.engine.fileio import atomic_write_text
from aitk.engine.media import AUDIO_EXTENSIONS, is_media_path
from aitk.engine.progress import Reporter, null_reporter
from aitk.engine.record import Record
from aitk.engine.watch import StableFiles, signature, snapshot

STATE = ".autocut-state.json"
LISTING = "autocut.md"
MERGED = "autocut_merged"
_ENTRY = re.compile(r"^\s*[-*] \[([ xX])\] \[([^\]]+)\]")


def is_recording(path: Path) -> bool:
    """Media that a person recorded: not aitk's own cuts or merges."""
    return is_media_path(path) and not path.stem.endswith("_cut") and path.stem != MERGED


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class WatchState:
    """What was done, kept in DIR/.autocut-state.json (written atomically after each change)."""

    def __init__(self, folder: Path):
        self.path = folder / STATE
        try:
            self.data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.data = {}
        self.data.setdefault("cut", {})  # recording -> digest of the md it was cut from
        self.data.setdefault("merge", None)  # digest of the autocut.md last merged
        self.data.setdefault("written", {})  # output -> [size, mtime_ns] when aitk wrote it

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, indent=1, sort_keys=True))

    def remember(self, outputs: list[Path]) -> None:
        for p in outputs:
            self.data["written"][str(p)] = signature(p)

    def edited_by_hand(self, outputs: list[Path]) -> list[Path]:
        """Existing outputs that aitk did not write, or that changed since it did."""
        return [p for p in outputs if p.exists() and self.data["written"].get(str(p)) != signature(p)]


def listing_text(folder: Path, recordings: list[Path], current: str | None) -> str | None:
    """autocut.md with an entry for every recording; existing lines are kept exactly as they are.
    Returns None when nothing needs to change."""
    listed = set()
    if current is not None:
        listed = {m.group(2) for m in map(_ENTRY.match, current.splitlines()) if m}
    new = [r for r in recordings if r.relative_to(folder).as_posix() not in listed]
    if current is not None and not new:
        return None
    text = (
        current
        if current is not None
        else (
            f"- [ ] {DONE_TEXT}\n\nTick the recordings to merge into {MERGED}.mp4, in the order listed (move lines to\n"
            "reorder them; where a recording has been cut, its _cut version is used).\n\n"
        )
    )
    if not text.endswith("\n"):
        text += "\n"
    for r in new:
        name = r.relative_to(folder).as_posix()
        text += f"- [ ] [{name}]({link_target(Path(name).with_suffix('.md').as_posix())}) {_first_words(r)}\n"
    return text


def _first_words(recording: Path, count: int = 8) -> str:
    try:
        cues = read_srt(recording.with_suffix(".srt"))
    except EditFileError:
        return ""
    words = " ".join(c.text for c in cues if c.is_speech).split()
    return " ".join(words[:count]) + (" …" if len(words) > count else "")


def _event(step: str, path: Path, outputs=(), error: str | None = None) -> Record:
    """The watch's record for one step (aitk.engine.record): status ok or failed, the step
    (transcribed, cut, merged) under result."""
    if error:
        return Record(path, "failed", error=error)
    return Record(path, "ok", list(outputs), result={"step": step})


def watch_folder(
    folder: Path,
    transcriber,
    config: CutConfig = CutConfig(),
    recursive: bool = False,
    settle: float = 3.0,
    interval: float = 1.0,
    suggest: bool = False,
    stop: threading.Event | None = None,
    reporter: Reporter = null_reporter,
) -> Iterator[Record]:
    stop = stop or threading.Event()
    state = WatchState(folder)
    tracker = StableFiles(settle)
    while not stop.is_set():
        found = snapshot(folder, recursive, is_recording)
        for media in tracker.observe(found, time.monotonic()):
            if is_transcribed(media):
                continue  # transcribed before (maybe by an earlier run)
            try:
                yield _event("transcribed", media, transcribe_for_editing(media, transcriber, False, suggest, reporter))
            except AitkError as exc:
                yield _event("failed", media, error=exc.message)
        recordings = sorted(m for m in found if is_transcribed(m))
        for media in recordings:
            yield from _cut_when_done(media, state, config, reporter)
        yield from _merge_when_done(folder, recordings, state, config)
        state.save()
        stop.wait(interval)


def _cut_when_done(media: Path, state: WatchState, config: CutConfig, reporter: Reporter) -> Iterator[Record]:
    md = media.with_suffix(".md")
    try:
        text: str | None = md.read_text(encoding="utf-8")
    except OSError:
        return  # half-saved or gone: look again next round
    except UnicodeDecodeError:
        text = None  # not text: cut() below reports it, once per version of the file
    version = _digest(text) if text is not None else f"not text {signature(md)}"
    if (text is not None and not is_done(text)) or state.data["cut"].get(str(media)) == version:
        return
    state.data["cut"][str(media)] = version  # once per md version, success or not
    try:
        from aitk.autocut.cutter import cut_output_path
        from aitk.engine.media import probe

        out = cut_output_path(media, probe(media))
        planned = [out, out.with_suffix(".srt"), out.with_suffix(".md")]
        edited = state.edited_by_hand(planned)
        if edited:
            raise AitkError(f"{edited[0]} was changed by hand since aitk wrote it", hint="move it away to re-cut")
        result = cut(media, media.with_suffix(".srt"), md, config, reporter)
        state.remember(result.outputs)
        yield _event("cut", media, result.outputs)
    except AitkError as exc:
        yield _event("failed", media, error=exc.message)


def _merge_when_done(folder: Path, recordings: list[Path], state: WatchState, config: CutConfig) -> Iterator[Record]:
    listing = folder / LISTING
    try:
        current = read_edit_file(listing, "Markdown") if listing.exists() else None
    except EditFileError as exc:
        version = f"unreadable {signature(listing)}"
        if state.data["merge"] != version:  # reported once per version of the file
            state.data["merge"] = version
            yield _event("failed", listing, error=exc.message)
        return
    updated = listing_text(folder, recordings, current)
    if updated is not None:  # only appends entries: the user's ticks and order stay as they are
        atomic_write_text(listing, updated)
        current = updated
    if current is None:
        return
    ticked = [folder / m.group(2) for m in map(_ENTRY.match, current.splitlines()) if m and m.group(1) in "xX"]
    # The merge depends on the ticked recordings and their order only: a new recording appended
    # unticked, or a note, does not merge again.
    plan = _digest("\n".join(p.name for p in ticked))
    if not is_done(current) or state.data["merge"] == plan:
        return
    state.data["merge"] = plan
    try:
        if len(ticked) < 2:
            raise AitkError(f"{listing}: tick at least two recordings to merge")
        sources = []
        for rec in ticked:
            cuts = [p for p in rec.parent.glob(rec.stem + "_cut.*") if is_media_path(p)]
            sources.append(cuts[0] if cuts else rec)
        video = any(s.suffix.lower() not in AUDIO_EXTENSIONS for s in sources)
        out = folder / f"{MERGED}{'.mp4' if video else '.m4a'}"
        edited = state.edited_by_hand([out, out.with_suffix(".srt")])
        if edited:
            raise AitkError(f"{edited[0]} was changed by hand since aitk wrote it", hint="move it away to merge again")
        outputs = merge(sources, out, config)
        state.remember(outputs)
        yield _event("merged", listing, outputs)
    except AitkError as exc:
        yield _event("failed", listing, error=exc.message)
