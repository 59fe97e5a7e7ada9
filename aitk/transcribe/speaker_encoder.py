"""A GE2E speaker encoder (Resemblyzer's pretrained weights) in plain torch + numpy.

The weights come from the pip package `resemblyzer` (Apache-2.0), file `resemblyzer/pretrained.pt`.
Only that file is read: resemblyzer's own code imports librosa and webrtcvad, which aitk does not ship,
so the network (3-layer LSTM 40 -> 256, Linear 256 -> 256, ReLU, L2 norm) and its input features
(librosa's default power mel spectrogram: 16 kHz, 25 ms Hann window, 10 ms hop, 40 Slaney mel bands)
are re-implemented here and checked against the package (cosine > 0.99, see tests/transcribe/test_diarize.py).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from aitk.engine.models import CATALOGUE, materialise, sha256_file
from aitk.transcribe.catalogue import GE2E as GE2E_SPEC
from aitk.transcribe.catalogue import register_models

SAMPLE_RATE = 16_000
N_FFT = 400  # 25 ms at 16 kHz
HOP = 160  # 10 ms at 16 kHz
N_MELS = 40
HIDDEN = 256
EMBEDDING = 256
LAYERS = 3

# Where the weights come from (package, file, sha256, size, licence): transcribe's catalogue entry.
WEIGHTS_FILE = GE2E_SPEC.weights_name

# resemblyzer.audio.normalize_volume's target: the encoder was trained on speech at about this level, and its
# input is a power (not log) spectrogram, so the level matters.
TARGET_DBFS = -30.0


class EncoderWeightsError(RuntimeError):
    """The speaker encoder's weights are missing or are not the expected file."""


def weights_path(install: bool = False) -> Path:
    """pretrained.pt, materialised once into the model cache from the `resemblyzer` package (sha256
    checked there; the package's code is never imported). `install`: pip-install it when missing."""
    register_models(CATALOGUE)
    return materialise(GE2E_SPEC, install) / WEIGHTS_FILE


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp = 200.0 / 3
    mel = hz / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(hz >= min_log_hz, min_log_mel + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep, mel)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


@functools.cache
def mel_filterbank(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, 1 + n_fft // 2) triangular filters, Slaney-normalised (equal area), as librosa.filters.mel."""
    fft_freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_points = mel_to_hz(np.linspace(hz_to_mel(np.array(0.0)), hz_to_mel(np.array(sr / 2)), n_mels + 2))
    fdiff = np.diff(mel_points)
    ramps = mel_points[:, None] - fft_freqs[None, :]  # (n_mels + 2, n_bins)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_points[2 : n_mels + 2] - mel_points[:n_mels]))[:, None]
    return weights.astype(np.float32)


def mel_spectrogram(audio: np.ndarray) -> np.ndarray:
    """(frames, 40) float32 power mel spectrogram of 16 kHz mono audio, frame i centred on sample i * 160.

    Same as librosa.feature.melspectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=40) (librosa >= 0.10:
    centred frames, zero padding, periodic Hann window, power 2).
    """
    audio = np.asarray(audio, dtype=np.float32)
    padded = np.pad(audio, (N_FFT // 2, N_FFT // 2))
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    if n_frames <= 0:
        return np.zeros((0, N_MELS), dtype=np.float32)
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann, as scipy.signal.get_window
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(n_frames, N_FFT), strides=(padded.strides[0] * HOP, padded.strides[0])
    )
    # rfft in chunks: (frames, 400) -> (frames, 201) complex; power -> (frames, 201) -> mel (frames, 40)
    fb = mel_filterbank().T  # (201, 40)
    out = np.empty((n_frames, N_MELS), dtype=np.float32)
    for i in range(0, n_frames, 4096):
        spec = np.fft.rfft(frames[i : i + 4096] * window, axis=1)
        out[i : i + 4096] = (spec.real**2 + spec.imag**2).astype(np.float32) @ fb
    return out


def normalise_level(audio: np.ndarray, speech: np.ndarray | None = None) -> np.ndarray:
    """Scale so the speech (or the whole audio) sits at -30 dBFS RMS, as resemblyzer does before embedding."""
    ref = audio if speech is None or not speech.any() else audio[speech]
    rms = float(np.sqrt(np.mean(np.square(ref, dtype=np.float64)))) if len(ref) else 0.0
    if rms <= 1e-8:
        return audio
    # resemblyzer measures the level of int16 samples against int16 full scale: the same as float RMS in dBFS.
    gain = 10 ** ((TARGET_DBFS - 20 * np.log10(rms)) / 20)
    return (audio * gain).astype(np.float32)


class GE2E(nn.Module):
    """Resemblyzer's VoiceEncoder network: mel frames (batch, frames, 40) -> unit embeddings (batch, 256)."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(N_MELS, HIDDEN, LAYERS, batch_first=True)
        self.linear = nn.Linear(HIDDEN, EMBEDDING)
        self.relu = nn.ReLU()

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        # The last layer's final hidden state summarises the window: hidden is (layers, batch, 256).
        _, (hidden, _) = self.lstm(mels)
        raw = self.relu(self.linear(hidden[-1]))  # (batch, 256), >= 0
        # clamp: an all-zero ReLU output (silence) would divide by zero.
        return raw / torch.linalg.norm(raw, dim=1, keepdim=True).clamp_min(1e-8)


@functools.cache
def load_encoder(device: str = "cpu", verify: bool = True) -> GE2E:
    """The pretrained encoder in eval mode (cached per device); the file's sha256 is checked first."""
    path = weights_path()
    if verify:
        digest = sha256_file(path)
        if digest != GE2E_SPEC.sha256:
            raise EncoderWeightsError(f"{path}: sha256 {digest}, expected {GE2E_SPEC.sha256}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v for k, v in checkpoint["model_state"].items() if not k.startswith("similarity_")}
    model = GE2E()
    # strict: every LSTM/Linear tensor must be there (only GE2E's training-only similarity scale is dropped).
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run torch's CPU ops on `n` threads inside the block, then restore the setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def embed_mels(model: GE2E, mels: np.ndarray, device: str = "cpu", batch: int = 256) -> np.ndarray:
    """(n, frames, 40) equal-length mel windows -> (n, 256) float32 unit embeddings.

    On CPU the LSTM runs on one thread: its 150 sequential steps are small matrix products, and with several
    OpenMP threads on a busy CPU each step waits on the slowest thread (measured: 83 windows took 5.7 s on 2
    threads of 2 shared cores, 1.0 s on one).
    """
    if len(mels) == 0:
        return np.zeros((0, EMBEDDING), dtype=np.float32)
    out = []
    threads = torch_threads(1) if str(device).startswith("cpu") else contextlib.nullcontext()
    with threads, torch.inference_mode():
        for i in range(0, len(mels), batch):
            x = torch.from_numpy(np.ascontiguousarray(mels[i : i + batch], dtype=np.float32)).to(device)
            out.append(model(x).cpu().numpy())
    return np.concatenate(out)


def embed_utterance(audio: np.ndarray, device: str = "cpu") -> np.ndarray:
    """(256,) embedding of a whole utterance, as resemblyzer's embed_utterance (1.6 s partials, rate 1.3/s).

    The audio is expected at -30 dBFS already (see normalise_level); used to check equivalence with the package.
    """
    partial = 160  # frames: resemblyzer's partials_n_frames
    step = int(round(SAMPLE_RATE / 1.3 / HOP))
    n_frames = int(np.ceil((len(audio) + 1) / HOP))
    starts = list(range(0, max(1, n_frames - partial + step + 1), step))
    # Drop the last partial when it covers under 75 % real audio (resemblyzer's min_coverage).
    if len(starts) > 1 and (len(audio) - starts[-1] * HOP) / (partial * HOP) < 0.75:
        starts = starts[:-1]
    need = (starts[-1] + partial) * HOP
    audio = np.pad(audio, (0, max(0, need - len(audio))))
    mel = mel_spectrogram(audio)
    windows = np.stack([mel[s : s + partial] for s in starts])  # (partials, 160, 40)
    embeds = embed_mels(load_encoder(device), windows, device)
    mean = embeds.mean(axis=0)
    return mean / np.linalg.norm(mean)
