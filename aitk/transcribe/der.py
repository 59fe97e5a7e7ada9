"""Diarization error rate (DER), computed exactly on time intervals, as NIST md-eval defines it.

DER = (missed speech + false alarm + speaker confusion) / total reference speech, where
- reference and hypothesis speakers are paired one-to-one to maximise their overlap (Hungarian algorithm),
- no scoring happens within `collar` seconds (default 0.25) either side of a reference turn's start or end,
- each speaker's turns are joined first (a speaker overlapping itself counts once),
- overlapping speech counts per speaker: with 2 reference and 1 hypothesis speaker at once, one is missed.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

COLLAR = 0.25


@dataclass(frozen=True)
class DERResult:
    """Seconds of each error over `total` seconds of scored reference speech; rates are fractions of it."""

    total: float
    missed: float
    false_alarm: float
    confusion: float
    mapping: dict  # hypothesis speaker -> reference speaker it was paired with

    @property
    def der(self) -> float:
        return (self.missed + self.false_alarm + self.confusion) / self.total if self.total > 0 else 0.0

    @property
    def miss_rate(self) -> float:
        return self.missed / self.total if self.total > 0 else 0.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarm / self.total if self.total > 0 else 0.0

    @property
    def confusion_rate(self) -> float:
        return self.confusion / self.total if self.total > 0 else 0.0


def _as_turns(turns: Iterable[Any]) -> list[tuple[float, float, Hashable]]:
    """(start, end, speaker) tuples from tuples or from objects with .start, .end, .speaker; empty ones dropped."""
    out = []
    for t in turns:
        start, end, speaker = (t.start, t.end, t.speaker) if hasattr(t, "start") else t
        if end > start:
            out.append((float(start), float(end), speaker))
    return out


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _activity(turns: list[tuple[float, float, Hashable]]) -> dict[Hashable, list[tuple[float, float]]]:
    by_speaker: dict[Hashable, list[tuple[float, float]]] = {}
    for start, end, speaker in turns:
        by_speaker.setdefault(speaker, []).append((start, end))
    return {s: _union(iv) for s, iv in by_speaker.items()}


def _active_matrix(activity: dict, speakers: Sequence, mids: np.ndarray) -> np.ndarray:
    """(speakers, elementary intervals) bool: who speaks in each elementary interval (tested at its midpoint)."""
    active = np.zeros((len(speakers), len(mids)), dtype=bool)
    for i, s in enumerate(speakers):
        for start, end in activity[s]:
            active[i] |= (mids > start) & (mids < end)
    return active


def diarization_error(reference: Iterable[Any], hypothesis: Iterable[Any], collar: float = COLLAR) -> DERResult:
    """Score `hypothesis` turns against `reference` turns; each is (start, end, speaker) or has those attributes."""
    ref = _as_turns(reference)
    hyp = _as_turns(hypothesis)
    ref_act, hyp_act = _activity(ref), _activity(hyp)
    ref_spk, hyp_spk = list(ref_act), list(hyp_act)

    # Every time where some count can change: turn edges of both sides and the collar edges.
    edges = {t for s, e, _ in ref + hyp for t in (s, e)}
    no_score = _union([(b - collar, b + collar) for s, e, _ in ref for b in (s, e)]) if collar > 0 else []
    edges |= {t for iv in no_score for t in iv}
    points = np.array(sorted(edges), dtype=np.float64)
    if len(points) < 2:
        return DERResult(0.0, 0.0, 0.0, 0.0, {})
    mids = (points[:-1] + points[1:]) / 2  # (n,) midpoints of the elementary intervals
    dur = np.diff(points)  # (n,)
    scored = np.ones(len(mids), dtype=bool)
    for start, end in no_score:
        scored &= ~((mids > start) & (mids < end))
    dur = np.where(scored, dur, 0.0)

    r = _active_matrix(ref_act, ref_spk, mids)  # (R, n)
    h = _active_matrix(hyp_act, hyp_spk, mids)  # (H, n)
    # overlap[i, j]: scored seconds where reference i and hypothesis j both speak.
    overlap = (r[:, None, :] & h[None, :, :]).astype(np.float64) @ dur if len(ref_spk) and len(hyp_spk) else None
    mapping: dict = {}
    correct = np.zeros(len(mids))
    if overlap is not None:
        rows, cols = linear_sum_assignment(overlap, maximize=True)
        for i, j in zip(rows, cols):
            mapping[hyp_spk[j]] = ref_spk[i]
            correct += r[i] & h[j]

    n_ref = r.sum(axis=0) if len(ref_spk) else np.zeros(len(mids))
    n_hyp = h.sum(axis=0) if len(hyp_spk) else np.zeros(len(mids))
    total = float(n_ref @ dur)
    missed = float(np.maximum(n_ref - n_hyp, 0) @ dur)
    false_alarm = float(np.maximum(n_hyp - n_ref, 0) @ dur)
    confusion = float((np.minimum(n_ref, n_hyp) - correct) @ dur)
    return DERResult(total, missed, false_alarm, confusion, mapping)
