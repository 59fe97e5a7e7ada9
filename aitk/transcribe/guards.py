"""Guards against Whisper's two classic failures, applied after decoding (pure functions).

1. Text on silence: punctuation alone, a segment whose window Whisper itself thought was probably silence and that it
   decoded with low confidence, one of the stock phrases Whisper invents on silence ("Thank you for watching",
   "Subscribe", an opening "Welcome to ...") where the scores or the timing do not support it, and (given the
   speech regions Silero VAD found) any segment or word that lies wholly outside speech.
2. Repetition loops: the same segment over and over, or a phrase repeated many times inside one.
The decoders' own guards (compression-ratio fallback, no-speech threshold) run first; these catch
what slips through.
"""

from __future__ import annotations

import re
from dataclasses import replace

from aitk.transcribe.result import Segment

# Phrases Whisper is known to produce on silence or music (from its training subtitles).
SILENCE_PHRASES = frozenset(
    {
        "thank you",
        "thank you.",
        "thank you very much",
        "thank you so much",
        "thanks for watching",
        "thanks for watching!",
        "thank you for watching",
        "please subscribe",
        "subscribe to my channel",
        "you",
        "bye",
        "bye.",
        "so",
        "okay",
        "[music]",
        "(music)",
        "[silence]",
        "[blank_audio]",
        "...",
        "♪",
    }
)


# Sentences Whisper invents from its training subtitles (matched on normalised text): channel sign-offs
# anywhere, and openings ("Welcome to ...", "Hello everyone") at the start of a transcript.
STOCK_SENTENCE = re.compile(
    r"(thanks?( you)?( so| very)? much for (watching|listening|your attention)|thanks? for (watching|listening)"
    r"|(please )?(like (and|&) )?subscribe\b.*|don't forget to (like|subscribe)\b.*|see you (next time|in the next\b.*)"
    r"|(subtitles|captions|transcription|translated) by\b.*|.*\bamara ?org\b.*|bye( bye)?|goodbye)"
)
STOCK_OPENING = re.compile(r"((hello|hi|hey)( everyone| everybody| guys| there)?( and)? )?(welcome|hello|hi)\b.*")
SPEECH_TOLERANCE = 0.5  # seconds: Whisper's times may miss a region's edge by this much and still count as inside


def normalise(text: str) -> str:
    return re.sub(r"[^\w\s']", "", text.lower()).strip()


def is_silence_hallucination(seg: Segment, no_speech_threshold: float, logprob_threshold: float) -> bool:
    if seg.no_speech_prob > no_speech_threshold and seg.avg_logprob < logprob_threshold:
        return True
    stock = seg.text.strip().lower() in SILENCE_PHRASES or normalise(seg.text) in SILENCE_PHRASES
    return stock and (seg.no_speech_prob > no_speech_threshold / 2 or seg.avg_logprob < logprob_threshold)


def is_stock(sentence: str, opening: bool = False) -> bool:
    text = normalise(sentence)
    if not text:
        return False
    return text in SILENCE_PHRASES or bool(STOCK_SENTENCE.fullmatch(text) or opening and STOCK_OPENING.fullmatch(text))


def doubtful(seg: Segment, no_speech_threshold: float, logprob_threshold: float) -> bool:
    """Whisper's own scores leave room for silence: half its no-speech threshold, or below its log-prob one."""
    return seg.no_speech_prob > no_speech_threshold / 2 or seg.avg_logprob < logprob_threshold


def in_speech(start: float, end: float, speech: list[tuple[float, float]], tolerance: float = SPEECH_TOLERANCE) -> bool:
    return any(start < b + tolerance and end > a - tolerance for a, b in speech)


def sentences(text: str) -> list[str]:
    """' Hi there. How are you?' -> [' Hi there.', ' How are you?'] (spaces kept, so they join back)."""
    return [p for p in re.split(r"(?<=[.!?])(?=\s)", text) if p.strip()]


def trim_stock_edges(
    seg: Segment,
    first: bool,
    speech: list[tuple[float, float]] | None,
    no_speech_threshold: float,
    logprob_threshold: float,
) -> Segment | None:
    """Drop stock sentences at a segment's edges that the audio does not support: the scores are doubtful,
    or the segment reaches out of speech on that side (it starts before its speech begins, or ends after
    it stops). At the start of a transcript, openings such as 'Welcome to ...' count as stock too.
    None when nothing is left."""
    parts = sentences(seg.text)
    unsure = doubtful(seg, no_speech_threshold, logprob_threshold)
    inside = [r for r in speech or [] if seg.start < r[1] + SPEECH_TOLERANCE and seg.end > r[0] - SPEECH_TOLERANCE]
    early = bool(inside) and seg.start < inside[0][0] - SPEECH_TOLERANCE
    late = bool(inside) and seg.end > inside[-1][1] + SPEECH_TOLERANCE
    words = list(seg.words) if seg.words else None
    changed = False
    while parts and is_stock(parts[0], opening=first) and (unsure or early or len(parts) == 1 and late):
        words = _drop_words(words, parts[0], front=True)
        parts, changed = parts[1:], True
    while parts and is_stock(parts[-1]) and (unsure or late):
        words = _drop_words(words, parts[-1], front=False)
        parts, changed = parts[:-1], True
    if not changed:
        return seg
    if not parts:
        return None
    start, end = (words[0].start, words[-1].end) if words else (seg.start, seg.end)
    return replace(seg, text="".join(parts), words=words, start=start, end=end)


def _drop_words(words, sentence: str, front: bool):
    if not words:
        return words
    n = len(sentence.split())
    return words[n:] if front else words[: max(len(words) - n, 0)]


def drop_outside_speech(seg: Segment, speech: list[tuple[float, float]]) -> Segment | None:
    """Keep only what overlaps speech: a segment wholly outside every region goes, and so do its words
    that are (when it has word times). None when nothing is left."""
    if not in_speech(seg.start, seg.end, speech):
        return None
    if not seg.words:
        return seg
    words = [w for w in seg.words if in_speech(w.start, w.end, speech)]
    if len(words) == len(seg.words):
        return seg
    if not words:
        return None
    text = "".join(w.word for w in words)
    return replace(seg, text=text if seg.text.startswith(" ") else text.lstrip(), words=words, start=words[0].start)


def fit_to_speech(seg: Segment, speech: list[tuple[float, float]], pad: float = 0.3) -> Segment:
    """Pull a segment's start and end in to the speech it overlaps (plus `pad`): Whisper often stretches a
    last segment to the end of its window, so a subtitle would stay up through the silence after it."""
    inside = [r for r in speech if seg.start < r[1] + SPEECH_TOLERANCE and seg.end > r[0] - SPEECH_TOLERANCE]
    if not inside:
        return seg
    start = max(seg.start, inside[0][0] - pad)
    end = max(min(seg.end, inside[-1][1] + pad), start)
    return seg if (start, end) == (seg.start, seg.end) else replace(seg, start=round(start, 3), end=round(end, 3))


def collapse_phrase_loops(text: str, min_repeats: int = 4, max_ngram: int = 8) -> str:
    """'go on go on go on go on' -> 'go on': a run of >= min_repeats copies of an n-gram keeps one."""
    words = text.split()
    keys = [normalise(w) for w in words]
    out: list[str] = []
    i = 0
    while i < len(words):
        step = 0
        for n in range(1, max_ngram + 1):
            gram = keys[i : i + n]
            if len(gram) < n:
                break
            count = 1
            while keys[i + count * n : i + (count + 1) * n] == gram:
                count += 1
            # Single words need a longer run: "no no no no" is real speech.
            if any(gram) and count >= (min_repeats + 2 if n == 1 else min_repeats):
                out.extend(words[i : i + n])
                step = count * n
                break
        if step == 0:
            out.append(words[i])
            step = 1
        i += step
    return " ".join(out)


def clean_segments(
    segments: list[Segment],
    no_speech_threshold: float = 0.6,
    logprob_threshold: float = -1.0,
    max_repeats: int = 2,
    speech: list[tuple[float, float]] | None = None,
) -> list[Segment]:
    """Drop silence hallucinations (and, given VAD's speech regions, text outside speech and stock sentences
    at the edges of speech), cap runs of identical segments at max_repeats, collapse phrase loops."""
    kept: list[Segment] = []
    run = 0
    for original in segments:
        if not normalise(original.text) or is_silence_hallucination(original, no_speech_threshold, logprob_threshold):
            continue
        trimmed: Segment | None = drop_outside_speech(original, speech) if speech is not None else original
        if trimmed is not None:
            trimmed = trim_stock_edges(trimmed, not kept, speech, no_speech_threshold, logprob_threshold)
        if trimmed is None or not normalise(trimmed.text):
            continue
        seg = trimmed
        if speech is not None:
            seg = fit_to_speech(seg, speech)
        same = bool(kept) and normalise(kept[-1].text) == normalise(seg.text)
        run = run + 1 if same else 1
        if run > max_repeats:
            kept[-1] = replace(kept[-1], end=max(kept[-1].end, seg.end))  # absorb the loop's time
            continue
        text = collapse_phrase_loops(seg.text)
        kept.append(replace(seg, text=(" " + text) if seg.text.startswith(" ") else text))
    return [replace(seg, id=i) for i, seg in enumerate(kept)]


def clamp_times(segments: list[Segment], duration: float) -> list[Segment]:
    """Whisper rounds the last timestamp up to its 30 s window grid; keep every time inside the media."""

    def clamp(t: float) -> float:
        return round(min(max(t, 0.0), duration), 3)

    out = []
    for seg in segments:
        words = None if seg.words is None else [replace(w, start=clamp(w.start), end=clamp(w.end)) for w in seg.words]
        out.append(replace(seg, start=clamp(seg.start), end=clamp(seg.end), words=words))
    return out
