"""The DETR that `aitk detect train` trains: a small from-scratch preset or a user's checkpoint.

Two transformers families: DetrForObjectDetection (softmax over classes + no-object) and
ConditionalDetrForObjectDetection (sigmoid scores, boxes relative to learned reference points;
it converges several times faster). Training uses the network only; the loss is ours
(aitk.detect.criterion). transformers fills `auxiliary_outputs` only when it computes its own loss,
so `detr_outputs` applies the model's heads to every decoder layer itself (one forward pass).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from aitk.engine.errors import ModelError, UsageError


@dataclass(frozen=True)
class DetrPreset:
    """A from-scratch DETR small enough to learn on 2 CPU cores in minutes."""

    d_model: int
    layers: int  # encoder layers = decoder layers
    ffn: int
    heads: int
    queries: int
    backbone_widths: tuple[int, int, int]  # ResNet stages 1-3 (stride 4, 8, 16); stage 3 feeds the encoder
    image_size: int  # images are resized to this square
    family: str = "detr"  # a key of FAMILIES


PRESETS = {
    # 128 px -> an 8x8 feature map (64 tokens); few queries because synth images hold at most a few objects.
    # Conditional DETR by default: plain DETR of the same size learned no classes in 1,500 CPU steps
    # on synth data (AP50 < 0.01) where Conditional DETR reached AP50 0.29 (docs/detect.md, Training).
    "tiny": DetrPreset(
        d_model=128,
        layers=2,
        ffn=256,
        heads=4,
        queries=16,
        backbone_widths=(32, 64, 128),
        image_size=128,
        family="conditional_detr",
    ),
    "tiny-detr": DetrPreset(
        d_model=128, layers=2, ffn=256, heads=4, queries=16, backbone_widths=(32, 64, 128), image_size=128
    ),
    "small": DetrPreset(
        d_model=192,
        layers=3,
        ffn=512,
        heads=8,
        queries=32,
        backbone_widths=(48, 96, 192),
        image_size=256,
        family="conditional_detr",
    ),
}
# model_type -> (config class, model class, image processor class), all from transformers
FAMILIES = {
    "detr": ("DetrConfig", "DetrForObjectDetection", "DetrImageProcessorPil"),
    "conditional_detr": (
        "ConditionalDetrConfig",
        "ConditionalDetrForObjectDetection",
        "ConditionalDetrImageProcessorPil",
    ),
}


def family_classes(model_type: str) -> tuple:
    import transformers

    if model_type not in FAMILIES:
        raise ModelError(
            f"model type '{model_type}' cannot be trained here", hint=f"use a {' or '.join(FAMILIES)} checkpoint"
        )
    return tuple(getattr(transformers, name) for name in FAMILIES[model_type])


def uses_sigmoid(model) -> bool:
    """True where classes are scored by sigmoids with no no-object column (Conditional DETR)."""
    return model.config.model_type == "conditional_detr"


def build_preset(name: str, id2label: dict[int, str]):
    """A randomly initialised DETR-family detector with every backbone weight trainable."""
    from transformers import ResNetConfig

    if name not in PRESETS:
        raise UsageError(
            f"unknown --model preset '{name}'", hint=f"use {', '.join(PRESETS)}, a Hugging Face id or a model folder"
        )
    p = PRESETS[name]
    config_class, model_class, _ = family_classes(p.family)
    backbone = ResNetConfig(
        embedding_size=p.backbone_widths[0],
        hidden_sizes=list(p.backbone_widths),
        depths=[1, 1, 1],
        layer_type="basic",
        out_features=["stage3"],
    )
    config = config_class(
        backbone_config=backbone,
        use_timm_backbone=False,
        use_pretrained_backbone=False,
        d_model=p.d_model,
        encoder_layers=p.layers,
        decoder_layers=p.layers,
        encoder_ffn_dim=p.ffn,
        decoder_ffn_dim=p.ffn,
        encoder_attention_heads=p.heads,
        decoder_attention_heads=p.heads,
        num_queries=p.queries,
        dropout=0.0,
        auxiliary_loss=True,
        num_labels=len(id2label),
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    return thaw_backbone(model_class(config))


def thaw_backbone(model):
    """Make a from-scratch backbone trainable: DETR freezes the stem, the first stage and every batch
    norm because it expects ImageNet weights; with random weights they must all learn (real batch
    norm also lets the convolutions train several times faster). `frozen_copy` undoes the norm part."""

    def swap(module: torch.nn.Module) -> None:
        for name, child in module.named_children():
            if type(child).__name__.endswith("FrozenBatchNorm2d"):
                norm = torch.nn.BatchNorm2d(child.weight.numel()).to(child.weight.device)
                with torch.no_grad():
                    for key in ("weight", "bias", "running_mean", "running_var"):
                        getattr(norm, key).copy_(getattr(child, key))
                module._modules[name] = norm
            else:
                swap(child)

    swap(model.model.backbone)
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    return model


def frozen_copy(model):
    """A copy whose batch norms are DETR's frozen ones again, so plain DetrForObjectDetection loads it."""
    import copy
    import sys

    frozen = copy.deepcopy(model).eval()
    with torch.no_grad():
        sys.modules[type(model).__module__].replace_batch_norm(frozen.model.backbone)  # each family has its own
    return frozen


def load_pretrained(source: str, id2label: dict[int, str]):
    """A user's DETR or Conditional DETR (Hugging Face id or folder), its classifier resized to our
    classes if they differ."""
    from transformers import AutoConfig

    try:
        model_type = AutoConfig.from_pretrained(source).model_type
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"cannot load '{source}': {str(exc).splitlines()[0]}",
            hint="pass a DETR folder with config.json, or a Hugging Face id when online",
        ) from None
    _, model_class, _ = family_classes(model_type)
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # a replaced classifier is intended; its load report would fill the screen
    try:
        model = model_class.from_pretrained(
            source,
            num_labels=len(id2label),
            id2label=id2label,
            label2id={v: k for k, v in id2label.items()},
            ignore_mismatched_sizes=True,
            auxiliary_loss=True,
        )
    except (OSError, ValueError) as exc:
        hint = (
            "pass a local folder with config.json and weights"
            if not Path(source).exists()
            else "it must hold a DETR saved with save_pretrained"
        )
        raise ModelError(f"cannot load DETR '{source}': {str(exc).splitlines()[0]}", hint=hint) from None
    finally:
        hf_logging.set_verbosity(verbosity)
    return model


def detr_outputs(model, pixel_values: Tensor, pixel_mask: Tensor) -> tuple[Tensor, Tensor, list[tuple[Tensor, Tensor]]]:
    """One forward pass -> final logits (B, Q, C+1), or (B, Q, C) for sigmoid models, boxes (B, Q, 4)
    cxcywh in [0, 1], and the (logits, boxes) of each earlier decoder layer (DETR's auxiliary outputs)."""
    out = model.model(pixel_values=pixel_values, pixel_mask=pixel_mask)
    if uses_sigmoid(model):  # boxes are offsets from each query's reference point (before the sigmoid)
        import sys

        inverse_sigmoid = sys.modules[type(model).__module__].inverse_sigmoid
        reference = inverse_sigmoid(out.reference_points).transpose(0, 1)  # (Q, B, 2) -> (B, Q, 2)

        def head(hidden: Tensor) -> tuple[Tensor, Tensor]:
            raw = model.bbox_predictor(hidden)
            raw = torch.cat([raw[..., :2] + reference, raw[..., 2:]], dim=-1)
            return model.class_labels_classifier(hidden), raw.sigmoid()
    else:

        def head(hidden: Tensor) -> tuple[Tensor, Tensor]:
            return model.class_labels_classifier(hidden), model.bbox_predictor(hidden).sigmoid()

    logits, boxes = head(out.last_hidden_state)
    hidden = out.intermediate_hidden_states
    aux = (
        [head(hidden[i]) for i in range(len(hidden) - 1)] if hidden is not None else []
    )  # the last layer is the final output
    return logits, boxes, aux


def image_processor(model, size: int):
    """The processor saved beside the model: resize to size x size, ImageNet normalisation (what training does)."""
    _, _, processor_class = family_classes(model.config.model_type)
    return processor_class(size={"height": size, "width": size}, do_pad=False)
