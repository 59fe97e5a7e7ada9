"""Word times you can cut on: Whisper's word boundaries moved onto the pauses in the sound (pure).

faster-whisper finds word times by cross-attention alignment on a 20 ms grid and then makes words
contiguous: a word's end is the next word's start. So every pause between words is given to the word
before it (ends come out 0.1-0.5 s late), and starts are off by 0.1-0.2 s. Cut there
and the cut lands in the middle of sound or drags a pause along.

The fix follows the sound. Pauses are runs of quiet 5 ms frames at least `min_pause` long. Each
junction between two words, and the outer edge of the first and last word, is placed onto a pause
(the earlier word ends where the pause starts and the later word starts where it ends, so the
silence belongs to neither) or, where words run together with no pause (fluent speech), onto the
quietest frame a little before Whisper's junction. The placements are chosen together by dynamic
programming (`_best_path`): each costs its distance from Whisper's junction corrected by `lead`
(each model has its own bias, calibrated on the recording unless given), and every pause left
inside a word costs too; a greedy nearest pause often took a stop consonant's closure inside the
next word instead of the real gap.
Only pauses within `reach` of Whisper's junction are candidates, so a boundary moves at most
`reach` over sound; it may move further only over the quiet of the pause it lands on, which
trims silence and never cuts speech. Words stay in order, never overlap, and keep at least
`min_word` each. The parameters were tuned on half of a generated set (benchmarks/word_times.py).

`word_time_errors` measures the result against reference times (for the tests and the benchmark).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

import numpy as np

from aitk.transcribe.metrics import normalise_words
from aitk.transcribe.result import Segment, Word

HOP = 0.005  # seconds per loudness frame: fine enough that the frame grid adds < 5 ms of error


@dataclass(frozen=True)
class RefineParams:
    """Tuned on half of the generated voices and sentences (benchmarks/word_times.py)."""

    reach: float = 0.2  # the most a boundary moves over sound to reach a pause (the bound)
    # Whisper's boundaries are off by each model's own bias (tiny.en: ~0.1 s late, base: ~0.15 s early):
    # search around this much before them. None calibrates it on the recording: the shift, in 20 ms
    # steps within `reach`, at which Whisper's junctions fall best onto the pauses (least total cost).
    lead: float | None = None
    no_pause: float = 0.15  # cost of a junction left off the pauses (as if it were this far from one)
    skip: float = 0.5  # cost per second of a pause left inside a word
    min_pause: float = 0.02  # a quiet run this long separates words (shorter ones are inside them)
    valley: float = 0.04  # a junction with no pause moves at most this far, to the quietest frame
    valley_lead: float | None = None  # ... around this much before Whisper's junction; None: `lead` - 0.02
    min_word: float = 0.03  # every word keeps at least this long
    pad: float = 0.0  # widen each word over this much of the pause on each side (never past its middle)
    floor_db: float = 40.0  # sound is within this many dB of the loud frames (95th percentile) ...
    noise_db: float = 10.0  # ... and this many dB over the noise floor (10th percentile), whichever is higher


def frame_levels(audio: np.ndarray, rate: int) -> np.ndarray:
    """(frames,) float64: each HOP frame's power in dBFS."""
    hop = max(1, int(round(rate * HOP)))
    frames = len(audio) // hop
    if frames == 0:
        return np.zeros(0)
    power = (audio[: frames * hop].astype(np.float64).reshape(frames, hop) ** 2).mean(axis=1)
    return 10 * np.log10(power + 1e-12)


def loud_mask(level: np.ndarray, params: RefineParams = RefineParams()) -> np.ndarray:
    """(frames,) bool: which frames hold sound, against a level set by the recording itself (as
    aitk.autocut.edges does): quiet fricatives count, room noise does not."""
    if len(level) == 0:
        return np.zeros(0, dtype=bool)
    threshold = max(np.percentile(level, 95) - params.floor_db, np.percentile(level, 10) + params.noise_db)
    return level > threshold


def quiet_runs(loud: np.ndarray, min_frames: int) -> list[tuple[int, int]]:
    """[(first, end) frame ranges] of quiet runs at least `min_frames` long. Runs touching the start
    or end of the audio count whatever their length: the audio's edge is a pause too."""
    runs: list[tuple[int, int]] = []
    n = len(loud)
    j = 0
    while j < n:
        if loud[j]:
            j += 1
            continue
        k = j
        while k < n and not loud[k]:
            k += 1
        if k - j >= min_frames or j == 0 or k == n:
            runs.append((j, k))
        j = k
    return runs


def _distance(run: tuple[float, float], lo: float, hi: float) -> float:
    """Seconds between the interval [lo, hi] and a run (0 when they overlap)."""
    return max(0.0, run[0] - hi, lo - run[1])


@dataclass(frozen=True)
class _Choice:
    """Where one junction may go: onto a pause [a, b], or to a point a == b (a dip, or Whisper's own)."""

    a: float
    b: float
    cost: float


def _choices(
    i: int,
    lo: float,
    hi: float,
    n_words: int,
    runs: list[tuple[float, float]],
    level: np.ndarray | None,
    params: RefineParams,
) -> list[_Choice]:
    """The places junction i may move to, each with its cost (seconds of distance, roughly)."""
    out = [
        _Choice(r[0], r[1], _distance(r, lo - params.lead, hi - params.lead))
        for r in runs
        if _distance(r, lo, hi) <= params.reach  # the bound on moves over sound
    ]
    stay = _Choice(lo, hi, params.no_pause)
    if 0 < i < n_words and level is not None and hi - lo < params.min_pause:
        # Words run together: the join is where the sound dips most near where Whisper put it.
        # (never further than `reach`, whatever the parameters say)
        first = max(lo - params.reach, lo - params.valley_lead - params.valley)
        last = min(hi + params.reach, hi - params.valley_lead + params.valley)
        a = max(0, int(round(first / HOP)))
        b = min(len(level), int(round(last / HOP)) + 1)
        if b > a:
            t = (a + int(np.argmin(level[a:b]))) * HOP
            stay = _Choice(t, t, params.no_pause)
    out.append(stay)
    return out


def _best_path(
    choices: list[list[_Choice]], runs: list[tuple[float, float]], params: RefineParams
) -> tuple[list[tuple[float, float]], float]:
    """One choice per junction, in time order, with the least total cost: the distance of each junction
    from Whisper's (shifted by `lead`), `no_pause` for a junction left off the pauses, and `skip` per
    second of every pause left inside a word (a long quiet run inside a word is unlikely; a short one
    is a stop consonant's closure, so the charge is capped at 0.3 s of pause)."""
    run_starts = np.array([r[0] for r in runs])
    skip_cost = np.concatenate([[0.0], np.cumsum([params.skip * min(r[1] - r[0], 0.3) for r in runs])])

    def skipped(after: float, before: float) -> float:
        """The charge for the pauses lying wholly between two junctions (inside one word)."""
        first = int(np.searchsorted(run_starts, after, side="left"))
        ends = [j for j in range(first, len(runs)) if runs[j][1] <= before]
        return float(skip_cost[ends[-1] + 1] - skip_cost[first]) if ends else 0.0

    # Viterbi over junctions: best[k] is the least cost of a path whose latest junction took choices[i][k].
    best = [c.cost for c in choices[0]]
    back: list[list[int]] = []
    for i in range(1, len(choices)):
        row, links = [], []
        for c in choices[i]:
            options = [
                (best[k] + c.cost + skipped(p.b, c.a), k)
                for k, p in enumerate(choices[i - 1])
                # The word between keeps some time; staying after staying is always allowed (the
                # final pass puts such words in order), so some path always exists.
                if p.b + params.min_word <= c.a or (k == len(choices[i - 1]) - 1 and c is choices[i][-1])
            ]
            cost, k = min(options, default=(np.inf, len(choices[i - 1]) - 1))
            row.append(cost)
            links.append(k)
        best = row
        back.append(links)
    k = int(np.argmin(best))
    total = float(best[k])
    path = [k]
    for links in reversed(back):
        k = links[k]
        path.append(k)
    path.reverse()
    return [(choices[i][k].a, choices[i][k].b) for i, k in enumerate(path)], total


def _with_lead(params: RefineParams, lead: float) -> RefineParams:
    valley_lead = lead - 0.02 if params.valley_lead is None else params.valley_lead
    return replace(params, lead=float(lead), valley_lead=valley_lead)


def _place(
    junctions: list[tuple[float, float]],
    n_words: int,
    runs: list[tuple[float, float]],
    level: np.ndarray | None,
    params: RefineParams,
) -> tuple[list[tuple[float, float]], float]:
    choices = [_choices(i, lo, hi, n_words, runs, level, params) for i, (lo, hi) in enumerate(junctions)]
    return _best_path(choices, runs, params)


def snap_boundaries(
    words: list[tuple[float, float]],
    loud: np.ndarray,
    params: RefineParams = RefineParams(),
    level: np.ndarray | None = None,
) -> list[tuple[float, float]]:
    """Move (start, end) word times (in order) onto the pauses of a loudness mask of HOP frames.

    `level` (dB per frame) lets a junction without a pause move to its quietest frame; without it
    such junctions stay put. The result is in order, without overlaps, each word at least
    `min_word` long (unless Whisper gave it less), and no boundary moves more than `reach` over sound.
    """
    if not words:
        return []
    duration = len(loud) * HOP
    runs = [(a * HOP, b * HOP) for a, b in quiet_runs(loud, max(1, int(round(params.min_pause / HOP))))]
    starts = [s for s, _ in words]
    ends = [e for _, e in words]

    # Junction i lies between word i-1 and word i; junction 0 before the first word, len(words) after the last.
    # Each is where Whisper put it: an interval [lo, hi] (its gap, usually a single point).
    junctions: list[tuple[float, float]] = [(starts[0], starts[0])]
    junctions += [(min(e, s), max(e, s)) for e, s in zip(ends[:-1], starts[1:])]
    junctions.append((ends[-1], ends[-1]))
    if params.lead is None:
        # Calibrate: the shift at which Whisper's junctions fall best onto the pauses (least total cost).
        leads = np.round(np.arange(-params.reach, params.reach + 1e-9, 0.02), 3)
        paths = [_place(junctions, len(words), runs, level, _with_lead(params, lead)) for lead in leads]
        path = min(paths, key=lambda p: p[1])[0]
    else:
        path = _place(junctions, len(words), runs, level, params)[0]
    for i, (a, b) in enumerate(path):
        if i > 0:
            ends[i - 1] = a
        if i < len(words):
            starts[i] = b

    out: list[tuple[float, float]] = []
    for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
        orig_s, orig_e = words[i]
        if params.pad:
            s = max(s - params.pad, (s + ends[i - 1]) / 2 if i else 0.0)
            e = min(e + params.pad, (e + starts[i + 1]) / 2 if i + 1 < len(words) else duration)
        # A snap that would leave the word (almost) no time is a wrong snap: keep Whisper's edge.
        if e - s < min(params.min_word, orig_e - orig_s):
            s, e = orig_s, orig_e
        prev_end = out[-1][1] if out else 0.0
        s = max(s, prev_end)
        e = max(e, s + min(params.min_word, max(0.0, orig_e - orig_s)))
        out.append((s, e))
    # The last pass may push a word past its successor's start; a backward pass restores order
    # by shrinking, which cannot create overlaps again.
    for i in range(len(out) - 2, -1, -1):
        s, e = out[i]
        e = min(e, out[i + 1][0])
        out[i] = (min(s, e), e)
    return [(round(s, 3), round(e, 3)) for s, e in out]


def refine_word_times(
    segments: list[Segment], audio: np.ndarray, sample_rate: int, params: RefineParams = RefineParams()
) -> list[Segment]:
    """Segments whose words start and end on the sound (see the module doc); a segment's start and
    end follow its first and last word. Segments without words are returned as they are."""
    words = [w for seg in segments for w in (seg.words or [])]
    if not words:
        return segments
    level = frame_levels(audio, sample_rate)
    loud = loud_mask(level, params)
    times = iter(snap_boundaries([(w.start, w.end) for w in words], loud, params, level))
    out: list[Segment] = []
    for seg in segments:
        if not seg.words:
            out.append(seg)
            continue
        new: list[Word] = [replace(w, start=s, end=e) for w, (s, e) in zip(seg.words, times)]
        out.append(replace(seg, start=new[0].start, end=new[-1].end, words=new))
    return out


@dataclass(frozen=True)
class WordTimeErrors:
    """Signed errors (hypothesis - reference, seconds) of the matched words' starts and ends."""

    start: np.ndarray
    end: np.ndarray
    matched: int
    reference: int

    @property
    def share(self) -> float:
        return self.matched / self.reference if self.reference else 0.0

    def summary(self) -> dict[str, float]:
        """Median and 95th percentile of |error| in ms, and the share of reference words matched."""
        out = {"matched": round(self.share, 4)}
        for name, err in (("start", self.start), ("end", self.end)):
            a = np.abs(err) * 1000 if len(err) else np.zeros(1)
            out[f"{name}_median_ms"] = round(float(np.median(a)), 1)
            out[f"{name}_p95_ms"] = round(float(np.percentile(a, 95)), 1)
        return out

    @staticmethod
    def combine(parts: list[WordTimeErrors]) -> WordTimeErrors:
        return WordTimeErrors(
            np.concatenate([p.start for p in parts]) if parts else np.zeros(0),
            np.concatenate([p.end for p in parts]) if parts else np.zeros(0),
            sum(p.matched for p in parts),
            sum(p.reference for p in parts),
        )


def word_time_errors(
    reference: list[tuple[float, float, str]], segments: list[Segment], gate: float = 1.0
) -> WordTimeErrors:
    """Errors of the hypothesis words that match reference words, aligned by normalised text
    (difflib over tokens: only identical tokens in a common order count, so a misheard word is
    left out rather than compared with the wrong one). A match whose middle lies more than `gate`
    seconds from its reference's is another occurrence of the same word (Whisper dropped or made up
    the text between), not a timing error: it counts as unmatched."""
    hyp = [w for seg in segments for w in (seg.words or [])]
    ref_tokens = [" ".join(normalise_words(text)) for _, _, text in reference]
    hyp_tokens = [" ".join(normalise_words(w.word)) for w in hyp]
    matcher = difflib.SequenceMatcher(a=ref_tokens, b=hyp_tokens, autojunk=False)
    starts: list[float] = []
    ends: list[float] = []
    for a, b, n in matcher.get_matching_blocks():
        for k in range(n):
            (rs, re_, _), h = reference[a + k], hyp[b + k]
            if abs((h.start + h.end) / 2 - (rs + re_) / 2) > gate:
                continue
            starts.append(h.start - rs)
            ends.append(h.end - re_)
    return WordTimeErrors(np.array(starts), np.array(ends), len(starts), len(reference))
