"""Convert a CTranslate2 Whisper model (model.bin + config.json) into an openai-whisper checkpoint.

The offline Whisper weights ship only in CTranslate2 format; openai-whisper (the torch backend for
CUDA/MPS) wants its own ``{"dims", "model_state_dict"}`` .pt layout. This module parses model.bin
itself (no ctranslate2 import), unfuses the attention projections and renames the variables.

model.bin layout (little endian; see ctranslate2/specs/model_spec.py ``_serialize``)::

    u32 binary_version | str spec_name | u32 spec_revision          (name/revision: version >= 2)
    u32 n_vars, then per var: str name | u8 rank | u32 dims[rank] | u8 dtype_id | u32 n_bytes | data
    u32 n_aliases, then per alias: str alias | str target                  (aliases: version >= 3)

where ``str`` is a u16 length (counting a trailing NUL) followed by the bytes and the NUL.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from aitk.engine.fileio import atomic_open

if TYPE_CHECKING:
    import whisper.model

# Type ids of CTranslate2's DataType enum; numpy has no bfloat16, so it is read as raw uint16.
_DTYPES = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}
_NUMPY = {
    "float32": np.float32,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "float16": np.float16,
    "bfloat16": np.uint16,
}
_ITEM_SIZE_DTYPES = {4: "float32", 2: "int16", 1: "int8"}  # binary versions < 4 store an item size
_DIM_FIELDS = (
    "n_mels",
    "n_audio_ctx",
    "n_audio_state",
    "n_audio_head",
    "n_audio_layer",
    "n_vocab",
    "n_text_ctx",
    "n_text_state",
    "n_text_head",
    "n_text_layer",
)


def _unpack(f: IO[bytes], fmt: str, path: Path) -> Any:
    size = struct.calcsize(fmt)
    raw = f.read(size)
    if len(raw) != size:
        raise ValueError(f"{path}: truncated CTranslate2 model file")
    return struct.unpack(fmt, raw)[0]


def _string(f: IO[bytes], path: Path) -> str:
    length = _unpack(f, "<H", path)  # includes the trailing NUL
    raw = f.read(length)
    if len(raw) != length:
        raise ValueError(f"{path}: truncated CTranslate2 model file")
    return raw[:-1].decode("utf-8", errors="replace")


def _read_array(f: IO[bytes], shape: tuple[int, ...], dtype: str, n_bytes: int, path: Path) -> np.ndarray:
    array = np.empty(shape, dtype=_NUMPY[dtype])
    if array.nbytes != n_bytes:
        raise ValueError(f"{path}: variable of shape {shape} ({dtype}) declares {n_bytes} bytes")
    # Read straight into the array: no second copy of a (possibly multi-GB) file in memory.
    if f.readinto(memoryview(array.reshape(-1)).cast("B")) != n_bytes:
        raise ValueError(f"{path}: truncated CTranslate2 model file")
    if dtype == "bfloat16":  # bf16 is the top half of a float32: widening is exact
        array = (array.astype(np.uint32) << 16).view(np.float32)
    return array


def read_ct2_model(model_bin: Path) -> tuple[dict[str, np.ndarray], dict]:
    """Parse a CTranslate2 model.bin: returns (variables by name, header info such as spec name/revision).

    Aliases are resolved (the alias maps to the same array, and to the target's ``_scale`` like
    CTranslate2 does). bfloat16 arrays are widened to float32; ``info["dtypes"]`` keeps stored dtypes.
    """
    model_bin = Path(model_bin)
    if not model_bin.is_file():
        raise ValueError(f"{model_bin}: no such CTranslate2 model file")
    variables: dict[str, np.ndarray] = {}
    dtypes: dict[str, str] = {}
    with open(model_bin, "rb") as f:
        version = _unpack(f, "<I", model_bin)
        if not 1 <= version <= 6:
            raise ValueError(f"{model_bin}: unsupported CTranslate2 binary version {version}")
        spec, revision = (_string(f, model_bin), _unpack(f, "<I", model_bin)) if version >= 2 else ("", 1)
        for _ in range(_unpack(f, "<I", model_bin)):
            name = _string(f, model_bin)
            shape = tuple(_unpack(f, "<I", model_bin) for _ in range(_unpack(f, "<B", model_bin)))
            if version >= 4:
                type_id, n_bytes = _unpack(f, "<B", model_bin), _unpack(f, "<I", model_bin)
                dtype = _DTYPES.get(type_id)
            else:
                item_size = _unpack(f, "<B", model_bin)
                dtype, n_bytes = _ITEM_SIZE_DTYPES.get(item_size), _unpack(f, "<I", model_bin) * item_size
            if dtype is None:
                raise ValueError(f"{model_bin}: variable {name} has an unknown dtype")
            variables[name] = _read_array(f, shape, dtype, n_bytes, model_bin)
            dtypes[name] = dtype
        aliases = {}
        if version >= 3:
            for _ in range(_unpack(f, "<I", model_bin)):
                alias, target = _string(f, model_bin), _string(f, model_bin)
                aliases[alias] = target
    for alias, target in aliases.items():
        for suffix in ("", "_scale"):  # a quantized weight's scale is aliased along with it
            if target + suffix in variables:
                variables[alias + suffix] = variables[target + suffix]
                dtypes[alias + suffix] = dtypes[target + suffix]
    if alias_missing := [a for a, t in aliases.items() if t not in variables]:
        raise ValueError(f"{model_bin}: aliases point to missing variables: {alias_missing}")
    info = {"binary_version": version, "spec": spec, "revision": revision, "aliases": aliases, "dtypes": dtypes}
    return variables, info


def _dequantize(variables: dict[str, np.ndarray], path: Path) -> dict[str, np.ndarray]:
    """Turn int8/int16 weights back into float32: CTranslate2 stores ``round(w * scale)``.
    float32, not the model's float16: rounding ``q / scale`` to fp16 would drift from CTranslate2."""
    if any(name.endswith("_zero") for name in variables):
        raise ValueError(f"{path}: AWQ-style quantized weights (with *_zero) are not supported")
    out = dict(variables)
    for name, scale in variables.items():
        if not name.endswith("_scale") or name[: -len("_scale")] not in variables:
            continue
        weight = variables[name[: -len("_scale")]]
        # int8: one scale per output row, shape (out,); int16: a single scalar scale.
        scale = scale.astype(np.float32).reshape((-1,) + (1,) * (weight.ndim - 1) if scale.ndim else ())
        out[name[: -len("_scale")]] = weight.astype(np.float32) / scale
        del out[name]
    return out


def _state_dict(v: dict[str, np.ndarray], n_enc: int, n_dec: int) -> dict[str, np.ndarray]:
    """Map CTranslate2 variable names onto openai-whisper state-dict keys (numpy values)."""
    sd: dict[str, np.ndarray] = {}

    def linear(dst: str, src: str) -> None:
        sd[f"{dst}.weight"] = v[f"{src}/weight"]
        sd[f"{dst}.bias"] = v[f"{src}/bias"]

    def norm(dst: str, src: str) -> None:
        sd[f"{dst}.weight"], sd[f"{dst}.bias"] = v[f"{src}/gamma"], v[f"{src}/beta"]

    def split(dst: str, src: str, parts: tuple[str, ...]) -> None:
        # Fused (k*d, d) weight and (k*d,) bias -> k separate (d, d) / (d,) projections. Whisper's
        # key has no bias (the fused one holds zeros there): q.b_k is constant over keys, so softmax
        # ignores it anyway.
        weights, biases = np.split(v[f"{src}/weight"], len(parts)), np.split(v[f"{src}/bias"], len(parts))
        for part, weight, bias in zip(parts, weights, biases):
            sd[f"{dst}.{part}.weight"] = weight
            if part != "key":
                sd[f"{dst}.{part}.bias"] = bias

    def block(dst: str, src: str, cross: bool) -> None:
        split(f"{dst}.attn", f"{src}/self_attention/linear_0", ("query", "key", "value"))  # (3d, d)
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        if cross:
            linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
            split(f"{dst}.cross_attn", f"{src}/attention/linear_1", ("key", "value"))  # (2d, d)
            linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
            norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")  # (4d, d)
        linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")  # (d, 4d)
        norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")

    linear("encoder.conv1", "encoder/conv1")  # (d, n_mels, 3)
    linear("encoder.conv2", "encoder/conv2")  # (d, d, 3)
    sd["encoder.positional_embedding"] = v["encoder/position_encodings/encodings"]  # (1500, d)
    for i in range(n_enc):
        block(f"encoder.blocks.{i}", f"encoder/layer_{i}", cross=False)
    norm("encoder.ln_post", "encoder/layer_norm")
    sd["decoder.token_embedding.weight"] = v["decoder/embeddings/weight"]  # (n_vocab, d)
    sd["decoder.positional_embedding"] = v["decoder/position_encodings/encodings"]  # (448, d)
    for i in range(n_dec):
        block(f"decoder.blocks.{i}", f"decoder/layer_{i}", cross=True)
    norm("decoder.ln", "decoder/layer_norm")
    return sd


def _check_tied_projection(v: dict[str, np.ndarray], path: Path) -> None:
    """Whisper reuses the token embedding as output projection; refuse a model that does not."""
    proj, bias = v.get("decoder/projection/weight"), v.get("decoder/projection/bias")
    embed = v["decoder/embeddings/weight"]
    if (proj is not None and proj is not embed and not np.array_equal(proj, embed)) or (
        bias is not None and np.any(bias)
    ):
        raise ValueError(f"{path}: decoder output projection is not tied to the token embedding")


def _layer_count(v: dict[str, np.ndarray], prefix: str) -> int:
    n = 0
    while f"{prefix}/layer_{n}/ffn/linear_0/weight" in v:
        n += 1
    return n


def ct2_whisper_to_openai(ct2_dir: Path) -> dict:
    """Return an openai-whisper checkpoint ``{"dims": {...}, "model_state_dict": {name: Tensor}}``
    built from a CTranslate2 Whisper folder. Dims come from tensor shapes (heads from the stored
    ``num_heads`` scalars); tensors keep their stored dtype (fp16 stays fp16)."""
    import torch

    model_bin = Path(ct2_dir) / "model.bin"
    variables, info = read_ct2_model(model_bin)
    if info["spec"] != "WhisperSpec":
        raise ValueError(f"{model_bin}: not a Whisper model (spec {info['spec']!r})")
    v = _dequantize(variables, model_bin)
    _check_tied_projection(v, model_bin)
    n_enc, n_dec = _layer_count(v, "encoder"), _layer_count(v, "decoder")
    try:
        audio_ctx, audio_state = v["encoder/position_encodings/encodings"].shape  # (1500, d)
        text_ctx, text_state = v["decoder/position_encodings/encodings"].shape  # (448, d)
        dims = dict(
            n_mels=v["encoder/conv1/weight"].shape[1],  # (d, n_mels, 3)
            n_audio_ctx=audio_ctx,
            n_audio_state=audio_state,
            n_audio_layer=n_enc,
            # Head counts are not in any shape: read the stored scalars (Whisper's head size is 64).
            n_audio_head=v.get("encoder/num_heads", audio_state // 64),
            n_vocab=v["decoder/embeddings/weight"].shape[0],  # (n_vocab, d)
            n_text_ctx=text_ctx,
            n_text_state=text_state,
            n_text_layer=n_dec,
            n_text_head=v.get("decoder/num_heads", text_state // 64),
        )
        state = _state_dict(v, n_enc, n_dec)
    except KeyError as exc:
        raise ValueError(f"{model_bin}: missing Whisper variable {exc.args[0]}") from None
    dims = {key: int(dims[key]) for key in _DIM_FIELDS}  # ModelDimensions' field order
    # clone: unfused slices would otherwise keep (and save) the whole fused storage.
    tensors = {key: torch.from_numpy(np.ascontiguousarray(a)).clone() for key, a in state.items()}
    # A bfloat16 model was widened on read: narrow it back (exact). Dequantized weights stay float32.
    if info["dtypes"].get("encoder/layer_norm/gamma") == "bfloat16" and v.keys() == variables.keys():
        tensors = {k: t.to(torch.bfloat16) if t.is_floating_point() else t for k, t in tensors.items()}
    return {"dims": dims, "model_state_dict": tensors}


def alignment_heads_from_config(ct2_dir: Path) -> list[tuple[int, int]]:
    """(layer, head) pairs from config.json's ``alignment_heads``; [] when absent."""
    config = Path(ct2_dir) / "config.json"
    if not config.is_file():
        return []
    try:
        heads = json.loads(config.read_text(encoding="utf-8")).get("alignment_heads") or []
        return [(int(layer), int(head)) for layer, head in heads]
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{config}: bad alignment_heads ({exc})") from None


def convert_to_file(ct2_dir: Path, out_pt: Path) -> Path:
    """Write the checkpoint (plus ``"alignment_heads": [[layer, head], ...]``) to out_pt atomically.
    The file stays loadable by ``whisper.load_model`` / the openai-whisper CLI, which ignore extra keys."""
    import torch

    checkpoint = ct2_whisper_to_openai(ct2_dir)
    heads = alignment_heads_from_config(ct2_dir)
    if heads:
        checkpoint["alignment_heads"] = [list(pair) for pair in heads]
    out_pt = Path(out_pt)
    with atomic_open(out_pt, "wb", encoding=None) as f:
        torch.save(checkpoint, f)
    return out_pt


def load_openai_model(checkpoint: Path | dict, device: str = "cpu") -> whisper.model.Whisper:
    """Build an openai-whisper model from our checkpoint (dict or .pt path) or an OpenAI .pt file."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    if not isinstance(checkpoint, dict):
        if not Path(checkpoint).is_file():
            raise ValueError(f"{checkpoint}: no such openai-whisper checkpoint")
        checkpoint = torch.load(Path(checkpoint), map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or not {"dims", "model_state_dict"} <= checkpoint.keys():
        raise ValueError("not an openai-whisper checkpoint: needs 'dims' and 'model_state_dict'")
    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"], strict=True)
    heads = checkpoint.get("alignment_heads")
    if heads:  # else keep Whisper's default: all heads of the last half of the decoder layers
        dims = model.dims
        mask = torch.zeros(dims.n_text_layer, dims.n_text_head, dtype=torch.bool)
        for layer, head in heads:
            if not (0 <= layer < dims.n_text_layer and 0 <= head < dims.n_text_head):
                raise ValueError(f"alignment head ({layer}, {head}) is outside the model's decoder")
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    # Sparse tensors cannot move to MPS: keep the mask on the CPU as a plain attribute, not a buffer.
    model.alignment_heads = model._buffers.pop("alignment_heads")
    return model.to(device)
