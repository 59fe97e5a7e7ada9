"""Offline speaker diarization (who spoke when) and speaker labels for transcript segments and words.

Pipeline (`diarize`):
1. speech regions from the Silero VAD that faster-whisper bundles (no download),
2. 1.5 s windows every 0.75 s inside each region, embedded by the GE2E speaker encoder (speaker_encoder.py),
3. agglomerative clustering (average linkage, cosine distance) in two stages: windows into small pure
   sub-clusters, then sub-cluster centroids closer than a tuned distance are one speaker; `speakers` /
   `min_speakers` / `max_speakers` bound the count; two k-means passes settle windows near a change,
4. a frame-level labelling (each 10 ms speech frame takes the speaker whose centroid the windows around it are
   closest to), short flips smoothed away, and frames joined into turns.

`assign_speakers` then labels each transcript word by its largest overlap with the turns and splits a segment
wherever the speaker changes, so no segment spans two speakers. Speakers are numbered by first appearance;
`speaker_label` names them SPEAKER_1, SPEAKER_2, ... or with the names given to `rename` (--speaker-names A,B).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from aitk.transcribe.result import Segment, Word
from aitk.transcribe.speaker_encoder import HOP, SAMPLE_RATE, embed_mels, load_encoder, mel_spectrogram, normalise_level

FRAME = HOP / SAMPLE_RATE  # 10 ms: one mel frame
WINDOW = 150  # frames (1.5 s) per embedding window
STEP = 75  # frames (0.75 s) between windows
MIN_WINDOW = 40  # frames: a speech region shorter than 0.4 s gets no embedding of its own
# Clustering (see `cluster`): windows closer than SUBCLUSTER (cosine distance, average linkage) form pure
# sub-clusters; sub-cluster centroids closer than THRESHOLD are one speaker. Tuned with benchmarks/diarize.py
# --sweep on seeds 0-19, reported on other seeds.
SUBCLUSTER = 0.20
THRESHOLD = 0.19
# Average linkage keeps all n * (n - 1) / 2 distances: above this many windows (50 min of speech, 64 MB of
# distances) the dendrogram is built on an even subsample and every window is then placed by k-means.
MAX_LINKAGE = 4000
MIN_CLUSTER = 0.04  # a sub-cluster under 4 % of the windows (and under 3 windows) is noise, not a speaker
MIN_RUN = 0.5  # seconds: a shorter run next to another speaker (within MERGE_GAP) is a flip
MERGE_GAP = 1.0  # seconds: one speaker's turns closer than this are one turn (pauses inside a turn)


@dataclass(frozen=True)
class Turn:
    """One speaker talking from `start` to `end` (seconds); speakers are 0, 1, ... by first appearance."""

    start: float
    end: float
    speaker: int

    @property
    def label(self) -> str:
        return speaker_label(self.speaker)


def speaker_label(speaker: int, names: Sequence[str] = ()) -> str:
    """The display name of speaker index `speaker`: names[speaker] if given, else SPEAKER_<speaker + 1>."""
    return names[speaker] if 0 <= speaker < len(names) and names[speaker] else f"SPEAKER_{speaker + 1}"


def rename(names: Sequence[str] | str) -> Callable[[int], str]:
    """A labeller for --speaker-names "Ann,Bob": speaker 0 -> Ann, 1 -> Bob, later ones keep SPEAKER_<n>."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",")]
    fixed = tuple(names)
    return lambda speaker: speaker_label(speaker, fixed)


def speech_regions(audio: np.ndarray) -> list[tuple[int, int]]:
    """[(first frame, end frame)] of speech, by faster-whisper's bundled Silero VAD, in 10 ms frames."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    # Short silences split regions (speaker changes often come with a short pause); little padding, so a
    # region does not swallow the start of the next speaker.
    options = VadOptions(threshold=0.5, min_speech_duration_ms=200, min_silence_duration_ms=150, speech_pad_ms=30)
    chunks = get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)
    return [(c["start"] // HOP, max(c["start"] // HOP + 1, c["end"] // HOP)) for c in chunks]


def _windows(regions: list[tuple[int, int]], n_frames: int) -> list[tuple[int, int]]:
    """[(start frame, end frame)] embedding windows: WINDOW long every STEP, the last one flush with the end."""
    out = []
    for a, b in regions:
        b = min(b, n_frames)
        if b - a < MIN_WINDOW:
            continue
        if b - a <= WINDOW:
            out.append((a, b))
            continue
        starts = list(range(a, b - WINDOW + 1, STEP))
        if starts[-1] + WINDOW < b:
            starts.append(b - WINDOW)
        out.extend((s, s + WINDOW) for s in starts)
    return out


def _embed(mel: np.ndarray, windows: list[tuple[int, int]], device: str) -> np.ndarray:
    """(n windows, 256) unit embeddings; full windows batched, shorter ones grouped by length."""
    model = load_encoder(device)
    out = np.zeros((len(windows), 256), dtype=np.float32)
    by_length: dict[int, list[int]] = {}
    for i, (a, b) in enumerate(windows):
        by_length.setdefault(b - a, []).append(i)
    for idx in by_length.values():
        batch = np.stack([mel[windows[i][0] : windows[i][1]] for i in idx])  # (len(idx), frames, 40)
        out[idx] = embed_mels(model, batch, device)
    return out


def _centroids(x: np.ndarray, labels: np.ndarray, clusters: Iterable[int] | np.ndarray) -> np.ndarray:
    """(len(clusters), 256) unit mean embedding of each cluster's rows of x."""
    c = np.stack([x[labels == k].mean(axis=0) for k in clusters])
    return c / np.linalg.norm(c, axis=1, keepdims=True).clip(1e-8)


def cluster(
    x: np.ndarray,
    speakers: int | None = None,
    min_speakers: int = 1,
    max_speakers: int = 8,
    threshold: float = THRESHOLD,
) -> np.ndarray:
    """Speaker index per embedding row of x (n, 256), 0 .. k-1, k estimated within the bounds unless given.

    Two stages, because single windows are noisy (two windows of one voice can be as far apart as two similar
    voices): the window dendrogram cut at SUBCLUSTER (0.20) gives small pure clusters; their centroids, averaged
    over many windows, are what `threshold` compares. Tuned on seeds 0-19: every count right for a centroid
    threshold of 0.18-0.20 and 19 of 20 for 0.14-0.26, where one window threshold got 20 of 20 only at 0.30.
    """
    n = len(x)
    if n <= 1:
        return np.zeros(n, dtype=int)
    lo, hi = (speakers, speakers) if speakers else (max(1, min_speakers), max(max_speakers, min_speakers, 1))
    hi = min(hi, n)
    x = x.astype(np.float64)
    if n > MAX_LINKAGE:
        pick = np.linspace(0, n - 1, MAX_LINKAGE).round().astype(int)  # spread over the whole recording
        sample = cluster(x[pick], speakers, min_speakers, max_speakers, threshold)
        return _kmeans(x, _centroids(x[pick], sample, np.unique(sample)))
    tree = linkage(x, method="average", metric="cosine")  # (n - 1, 4) merges
    min_size = max(3, int(np.ceil(MIN_CLUSTER * n)))
    sub = fcluster(tree, t=SUBCLUSTER, criterion="distance") - 1  # (n,) pure sub-cluster per window
    big = [c for c in np.unique(sub) if np.sum(sub == c) >= min_size]
    sub_tree = None
    if len(big) >= 2:
        # Average linkage over the sub-cluster centroids (big, 256), cut at the threshold.
        sub_tree = linkage(_centroids(x, sub, big), method="average", metric="cosine")
        k = len(set(fcluster(sub_tree, t=threshold, criterion="distance")))
    else:
        k = 1
    k = int(np.clip(k, lo, hi))
    if k == 1:
        return np.zeros(n, dtype=int)
    if sub_tree is not None and len(big) >= k:
        groups = fcluster(sub_tree, t=k, criterion="maxclust") - 1  # (len(big),) speaker per sub-cluster
        seeds = np.full(n, -1)
        for c, g in zip(big, groups):
            seeds[sub == c] = g
        centroids = _centroids(x, seeds, np.unique(groups))  # (k, 256); windows of small sub-clusters left out
    else:
        # Fewer pure sub-clusters than the speakers asked for: cut the window tree finer until k are big
        # enough, and seed with the k biggest.
        labels, finer = sub, k
        while finer < n:
            labels = fcluster(tree, t=finer, criterion="maxclust") - 1
            if int(np.sum(np.bincount(labels) >= min_size)) >= k or finer >= k + 10:
                break
            finer += 1
        centroids = _centroids(x, labels, np.argsort(-np.bincount(labels))[:k])  # (k, 256)
    return _kmeans(x, centroids)


def _kmeans(x: np.ndarray, centroids: np.ndarray, passes: int = 2) -> np.ndarray:
    """Labels 0..k-1 after `passes` k-means steps from centroids (k, 256): each window (outliers too) joins the
    voice it is closest to, which also settles windows near a speaker change."""
    for _ in range(passes):
        assign = np.argmax(x @ centroids.T, axis=1)
        centroids = _centroids(x, assign, np.unique(assign))
    # Renumber 0..k-1 without gaps (a centroid may have lost all its windows).
    return np.unique(np.argmax(x @ centroids.T, axis=1), return_inverse=True)[1].reshape(-1)


def _frame_labels(
    n_frames: int, regions: list[tuple[int, int]], windows: list[tuple[int, int]], x: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """(n_frames,) speaker per 10 ms frame, -1 outside speech.

    Each window votes its similarity to every speaker centroid over the frames it covers; a frame takes the
    speaker with the highest mean vote, which places a change between two windows' centres, not on the hop grid.
    """
    k = int(labels.max()) + 1
    centroids = _centroids(x, labels, range(k))  # (k, 256)
    sims = x @ centroids.T  # (windows, k)
    votes = np.zeros((n_frames, k), dtype=np.float32)
    weight = np.zeros(n_frames, dtype=np.float32)
    for (a, b), s in zip(windows, sims):
        # A triangular weight: a window says most about the frames at its centre.
        ramp = 1.0 - np.abs(np.linspace(-1, 1, b - a, dtype=np.float32)) * 0.9
        votes[a:b] += ramp[:, None] * s[None, :]
        weight[a:b] += ramp
    out = np.full(n_frames, -1, dtype=int)
    centres = np.array([(a + b) / 2 for a, b in windows]) if windows else np.zeros(0)
    for a, b in regions:
        b = min(b, n_frames)
        if a >= b:
            continue
        seen = weight[a:b] > 0
        if seen.all():
            out[a:b] = np.argmax(votes[a:b], axis=1)
        elif len(centres):
            # Frames of regions too short for a window: the label of the nearest window in time.
            nearest = labels[np.argmin(np.abs(centres - (a + b) / 2))]
            region = np.where(seen, np.argmax(votes[a:b], axis=1), nearest)
            out[a:b] = region
    return out


def _runs(frames: np.ndarray) -> list[list[int]]:
    """[[label, start frame, end frame]] runs of equal labels (including -1 for non-speech)."""
    runs: list[list[int]] = []
    for i, lab in enumerate(frames.tolist()):
        if runs and runs[-1][0] == lab:
            runs[-1][2] = i + 1
        else:
            runs.append([lab, i, i + 1])
    return runs


def _smooth(frames: np.ndarray) -> list[Turn]:
    """Turns from frame labels: one speaker's close runs joined, then short flips absorbed by a neighbour."""
    gap = int(MERGE_GAP / FRAME)
    min_run = int(MIN_RUN / FRAME)
    speech = _join([r for r in _runs(frames) if r[0] >= 0], gap)
    while True:
        # A run shorter than MIN_RUN next to another speaker (within MERGE_GAP) is a flip: the shortest goes first.
        # A short run with silence around it is a real short turn ("Yes.") and stays.
        flips = []
        for i, (_, a, b) in enumerate(speech):
            if b - a >= min_run:
                continue
            near = [(a - speech[i - 1][2], -(speech[i - 1][2] - speech[i - 1][1]), i - 1)] if i > 0 else []
            if i + 1 < len(speech):
                near.append((speech[i + 1][1] - b, -(speech[i + 1][2] - speech[i + 1][1]), i + 1))
            near = [n for n in near if n[0] <= gap]
            if near:
                flips.append((b - a, i, min(near)[2]))
        if not flips:
            break
        _, i, j = min(flips)
        speech[i][0] = speech[j][0]
        speech = _join(speech, gap)
    return [Turn(round(a * FRAME, 3), round(b * FRAME, 3), lab) for lab, a, b in speech]


def _join(runs: list[list[int]], max_gap: int) -> list[list[int]]:
    """Consecutive runs of one speaker separated by at most `max_gap` frames become one run."""
    out: list[list[int]] = []
    for lab, a, b in runs:
        if out and out[-1][0] == lab and a - out[-1][2] <= max_gap:
            out[-1][2] = b
        else:
            out.append([lab, a, b])
    return out


def _by_first_appearance(turns: list[Turn]) -> list[Turn]:
    order: dict[int, int] = {}
    for t in turns:
        order.setdefault(t.speaker, len(order))
    return [replace(t, speaker=order[t.speaker]) for t in turns]


@dataclass
class SpeechEmbeddings:
    """What the encoder saw: speech regions and windows in 10 ms frames, and one embedding per window."""

    n_frames: int
    regions: list[tuple[int, int]]
    windows: list[tuple[int, int]]
    x: np.ndarray  # (windows, 256) unit embeddings


def embed_speech(audio: np.ndarray, device: str = "cpu") -> SpeechEmbeddings:
    """Speech detection and window embeddings: the costly half of `diarize`, kept apart for tuning."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    regions = speech_regions(audio)
    n_frames = len(audio) // HOP + 1  # = len(mel_spectrogram(audio)), centred frames
    if not regions:
        return SpeechEmbeddings(n_frames, [], [], np.zeros((0, 256), dtype=np.float32))
    speech = np.zeros(len(audio), dtype=bool)
    for a, b in regions:
        speech[a * HOP : b * HOP] = True
    # Level from the speech only, so long silences do not make the speech louder than the encoder expects.
    mel = mel_spectrogram(normalise_level(audio, speech))  # (n_frames, 40)
    windows = _windows(regions, len(mel))
    return SpeechEmbeddings(n_frames, regions, windows, _embed(mel, windows, device))


def label_turns(
    emb: SpeechEmbeddings,
    *,
    speakers: int | None = None,
    min_speakers: int = 1,
    max_speakers: int = 8,
    threshold: float = THRESHOLD,
) -> list[Turn]:
    """Turns from the embeddings: clustering, frame labels, smoothing, speakers renumbered by first appearance."""
    if not emb.regions:
        return []
    if not emb.windows:
        # Only very short speech: one speaker for all of it.
        return _smooth_single(emb.regions)
    labels = cluster(emb.x, speakers, min_speakers, max_speakers, threshold)
    frames = _frame_labels(emb.n_frames, emb.regions, emb.windows, emb.x, labels)
    return _by_first_appearance(_smooth(frames))


def diarize(
    audio: np.ndarray,
    *,
    speakers: int | None = None,
    min_speakers: int = 1,
    max_speakers: int = 8,
    device: str = "cpu",
) -> list[Turn]:
    """Who speaks when in `audio` (float32 mono 16 kHz): turns in time order, speakers 0.. by first appearance.

    `speakers` fixes the count; otherwise it is estimated within [min_speakers, max_speakers].
    """
    if speakers is not None and speakers < 1:
        raise ValueError("speakers must be at least 1")
    if min_speakers > max_speakers:
        raise ValueError("min_speakers is greater than max_speakers")
    emb = embed_speech(audio, device)
    return label_turns(emb, speakers=speakers, min_speakers=min_speakers, max_speakers=max_speakers)


def _smooth_single(regions: list[tuple[int, int]]) -> list[Turn]:
    runs = [[0, a, b] for a, b in regions]
    return [Turn(round(a * FRAME, 3), round(b * FRAME, 3), 0) for _, a, b in _join(runs, int(MERGE_GAP / FRAME))]


@dataclass
class Labelled:
    """`assign_speakers`' result, parallel lists: segments[i] is spoken by speakers[i] (None: no turn near it)."""

    segments: list[Segment]
    speakers: list[int | None]  # 0, 1, ... by first appearance in the transcript
    word_speakers: list[list[int | None]]  # per segment, per word (empty when the segment has no words)
    mapping: dict[int, int]  # turn speaker -> transcript speaker (a turn without words gets no number)

    @property
    def count(self) -> int:
        return len(self.mapping)

    def labels(self, names: Sequence[str] = ()) -> list[str]:
        """Display names of the transcript's speakers in order (Transcript.speakers), e.g. SPEAKER_1, SPEAKER_2."""
        return [speaker_label(i, names) for i in range(self.count)]


def _speaker_at(start: float, end: float, turns: Sequence[Turn]) -> int | None:
    """The speaker overlapping [start, end] most; for no overlap, the nearest turn's; None without turns."""
    if not turns:
        return None
    overlap: dict[int, float] = {}
    for t in turns:
        o = min(end, t.end) - max(start, t.start)
        if o > 0:
            overlap[t.speaker] = overlap.get(t.speaker, 0.0) + o
    if overlap:
        return max(overlap, key=lambda s: overlap[s])
    mid = (start + end) / 2
    return min(turns, key=lambda t: max(t.start - mid, mid - t.end)).speaker


def assign_speakers(segments: Sequence[Segment], turns: Sequence[Turn]) -> Labelled:
    """Label words by their largest overlap with `turns`; split segments where the speaker changes.

    A segment with words becomes one segment per run of same-speaker words (text joined from the words, other
    fields copied, ids renumbered 0..); a segment without words keeps its span and gets its overall speaker.
    """
    turns = sorted(turns, key=lambda t: t.start)
    out: list[Segment] = []
    speakers: list[int | None] = []
    word_speakers: list[list[int | None]] = []
    for seg in segments:
        if not seg.words:
            out.append(replace(seg, id=len(out)))
            speakers.append(_speaker_at(seg.start, seg.end, turns))
            word_speakers.append([])
            continue
        labels = [_speaker_at(w.start, w.end, turns) for w in seg.words]
        # Runs of consecutive words with one speaker: [(speaker, first word, end word)].
        runs: list[list] = []
        for i, lab in enumerate(labels):
            if runs and runs[-1][0] == lab:
                runs[-1][2] = i + 1
            else:
                runs.append([lab, i, i + 1])
        for lab, a, b in runs:
            words: list[Word] = seg.words[a:b]
            text = "".join(w.word for w in words)
            # A single-run segment keeps its own span and text; split parts take their words' span.
            if len(runs) == 1:
                part = replace(seg, id=len(out), words=list(words))
            else:
                part = replace(seg, id=len(out), start=words[0].start, end=words[-1].end, text=text, words=list(words))
            out.append(part)
            speakers.append(lab)
            word_speakers.append([lab] * len(words))
    # Renumber by first appearance in the transcript: a turn that got no words (a cough, an untranscribed "mm")
    # must not leave a gap such as SPEAKER_1, SPEAKER_3.
    mapping: dict[int, int] = {}
    for lab in speakers:
        if lab is not None:
            mapping.setdefault(lab, len(mapping))
    return Labelled(
        out,
        [None if lab is None else mapping[lab] for lab in speakers],
        [[None if lab is None else mapping[lab] for lab in ws] for ws in word_speakers],
        mapping,
    )
