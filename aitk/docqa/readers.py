"""Readers: turn a question and retrieved chunks into candidate answers with a confidence in [0, 1].

- `LMReader`: an instruct causal LM (default: the catalogue's Qwen2.5-Coder-0.5B-Instruct) told to
  copy the answer from the context or reply NO ANSWER; greedy; confidence from the generated
  tokens' probabilities. Its answers are free text until `ground` finds them in the document.
- `ExtractiveReader`: a transformers question-answering checkpoint; best span per chunk.
- `LayoutReader`: a LayoutLM document-question-answering checkpoint fed the page's own words and
  boxes (no OCR engine of its own); best span per chunk.
Extractive readers point at document words, so their answers are grounded by construction.
`load_reader` picks the kind from the checkpoint's config (architectures, model_type).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from aitk.docqa.chunks import Chunk, words_in_span
from aitk.docqa.document import Document
from aitk.engine.errors import ModelError
from aitk.engine.progress import Reporter, null_reporter

NO_ANSWER = "NO ANSWER"
MAX_SPAN_TOKENS = 30
SYSTEM = (
    "You answer questions about documents. Reply with the answer copied exactly from the context: the shortest "
    "span of words that answers the question, nothing else. If the context does not state the answer, reply "
    f"{NO_ANSWER}: "
    "do not guess, and do not answer with something the question did not ask for."
)


@dataclass
class Candidate:
    text: str
    confidence: float  # the reader's own, in [0, 1]
    chunk: int | None = None  # index into the chunks the reader was given; None: any of them
    words: tuple[int, int] | None = None  # page word range, for extractive readers


class LMReader:
    kind = "generative"

    def __init__(self, name: str, device, max_new_tokens: int = 24, reporter: Reporter = null_reporter):
        from aitk.engine.lm import load_causal_lm

        self.tokenizer, self.model = load_causal_lm(
            name, device, reporter, hint="use the default reader, a local folder or a Hugging Face id"
        )
        self.device, self.max_new_tokens = device, max_new_tokens
        self._no_token = self.tokenizer(NO_ANSWER, add_special_tokens=False)["input_ids"][0]

    def prompt(self, question: str, chunks: list[Chunk]) -> str:
        context = "\n\n".join(c.text for c in chunks)
        user = f"Context:\n{context}\n\nQuestion: {question}\nAnswer (exact words from the context, or {NO_ANSWER}):"
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return f"{SYSTEM}\n\n{user} "

    def read(self, question: str, chunks: list[Chunk], docs: list[Document]) -> list[Candidate]:
        text, confidence = self.generate(self.prompt(question, chunks))
        if not text or text.upper().rstrip(".").strip() == NO_ANSWER or NO_ANSWER in text.upper():
            return []
        return [Candidate(text, confidence)]

    def generate(self, prompt: str) -> tuple[str, float]:
        """Greedy answer and its confidence: exp(mean log-prob) of its tokens (the end token included)
        times 1 - p(first token of NO ANSWER) at the first step, so an answer given while the model
        nearly abstained scores low."""
        import torch

        inputs = self.tokenizer(prompt, return_tensors="pt").to(self.device.torch)
        inputs.pop("token_type_ids", None)  # BERT-style tokenizers add them; causal LMs take none
        with torch.inference_mode():
            out = self.model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                output_scores=True,
                return_dict_in_generate=True,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
                temperature=None,
                top_p=None,
                top_k=None,
            )
        new = out.sequences[0, inputs["input_ids"].shape[1] :]  # (new tokens,)
        logprobs = [torch.log_softmax(step[0].float(), -1)[tok].item() for step, tok in zip(out.scores, new)]
        text = self.tokenizer.decode(new, skip_special_tokens=True).strip().strip('"').strip()
        if not logprobs:
            return text, 0.0
        p_no = torch.softmax(out.scores[0][0].float(), -1)[self._no_token].item()
        return text, math.exp(sum(logprobs) / len(logprobs)) * (1.0 - p_no)


class ExtractiveReader:
    kind = "extractive"

    def __init__(self, name: str, device, max_length: int = 384):
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(name)
        self.model = AutoModelForQuestionAnswering.from_pretrained(name).to(device.torch).eval()
        self.device, self.max_length = device, max_length

    def read(self, question: str, chunks: list[Chunk], docs: list[Document]) -> list[Candidate]:
        out = []
        for i, chunk in enumerate(chunks):
            enc = self.tokenizer(
                question,
                chunk.text,
                truncation="only_second",
                max_length=self.max_length,
                stride=64,
                return_overflowing_tokens=True,
                return_offsets_mapping=True,
                padding=True,
                return_tensors="pt",
            )
            offsets = enc.pop("offset_mapping")
            enc.pop("overflow_to_sample_mapping", None)
            starts, ends = _logits(self.model, enc.to(self.device.torch))
            best = None
            for f in range(starts.shape[0]):
                context = [s == 1 for s in enc.sequence_ids(f)]
                span = best_span(starts[f], ends[f], context)
                if span and (best is None or span[2] > best[2]):
                    best = (f, *span)
            if best is None:
                continue
            f, s, e, p = best
            words = words_in_span(chunk, int(offsets[f][s][0]), int(offsets[f][e][1]))
            if words:
                out.append(Candidate(_page_text(docs[chunk.document], chunk.page, words), p, i, words))
        return out


class LayoutReader:
    """LayoutLM (v1) question answering over the chunk's words with their boxes scaled to 0-1000."""

    kind = "extractive"

    def __init__(self, name: str, device, max_length: int = 512):
        from transformers import AutoModelForDocumentQuestionAnswering, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(name)
        self.model = AutoModelForDocumentQuestionAnswering.from_pretrained(name).to(device.torch).eval()
        self.device, self.max_length = device, max_length

    def read(self, question: str, chunks: list[Chunk], docs: list[Document]) -> list[Candidate]:
        import torch

        out = []
        for i, chunk in enumerate(chunks):
            page = _page(docs[chunk.document], chunk.page)
            words = page.words[chunk.start : chunk.end]
            enc = self.tokenizer(
                question.split(),
                [w.text for w in words],
                is_split_into_words=True,
                truncation="only_second",
                max_length=self.max_length,
                return_tensors="pt",
            )
            seq, ids = enc.sequence_ids(0), enc.word_ids(0)
            boxes = [
                _scaled(words[w].box, page.width, page.height)
                if s == 1
                else ([1000] * 4 if t == self.tokenizer.sep_token_id else [0] * 4)
                for s, w, t in zip(seq, ids, enc["input_ids"][0].tolist())
            ]
            enc["bbox"] = torch.tensor([boxes])  # (1, T, 4) in 0-1000 page coordinates
            starts, ends = _logits(self.model, enc.to(self.device.torch))
            span = best_span(starts[0], ends[0], [s == 1 for s in seq])
            if span:
                s, e, p = span
                rng = (chunk.start + ids[s], chunk.start + ids[e] + 1)
                out.append(Candidate(_page_text(docs[chunk.document], chunk.page, rng), p, i, rng))
        return out


def _logits(model, enc):
    import torch

    with torch.inference_mode():
        result = model(
            **{k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids", "bbox")}
        )
    return result.start_logits.float().softmax(-1).cpu(), result.end_logits.float().softmax(-1).cpu()  # (F, T) each


def best_span(
    start_probs, end_probs, context: list[bool], max_tokens: int = MAX_SPAN_TOKENS
) -> tuple[int, int, float] | None:
    """(start, end, p_start * p_end) of the most likely span inside the context tokens. Probabilities are over
    all tokens, [CLS] included, so a model that prefers "no answer" gives every span a low score."""
    idx = [i for i, c in enumerate(context) if c]
    if not idx:
        return None
    best = None
    top_starts = sorted(idx, key=lambda i: -float(start_probs[i]))[:20]
    top_ends = sorted(idx, key=lambda i: -float(end_probs[i]))[:20]
    for s in top_starts:
        for e in top_ends:
            if s <= e < s + max_tokens:
                p = float(start_probs[s]) * float(end_probs[e])
                if best is None or p > best[2]:
                    best = (s, e, p)
    return best


def _page(doc: Document, number: int):
    return next(p for p in doc.pages if p.number == number)


def _page_text(doc: Document, page: int, words: tuple[int, int]) -> str:
    return " ".join(w.text for w in _page(doc, page).words[words[0] : words[1]])


def _scaled(box, width: float, height: float) -> list[int]:
    if width <= 0 or height <= 0:
        return [0, 0, 0, 0]
    return [max(0, min(1000, round(1000 * v / d))) for v, d in zip(box, (width, height, width, height))]


def reader_kind(name: str) -> str:
    """ "lm", "extractive" or "layout" from the checkpoint's config; catalogue LMs are "lm"."""
    from aitk.engine.models import CATALOGUE

    if CATALOGUE.find(name) is not None:
        return "lm"
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(name)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"cannot load reader '{name}': {str(exc).splitlines()[0]}",
            hint="use the default reader, a local folder or a Hugging Face id",
        ) from None
    archs = " ".join(config.architectures or [])
    model_type = getattr(config, "model_type", "")
    if model_type in ("layoutlmv2", "layoutlmv3", "layoutxlm", "donut-swin", "vision-encoder-decoder"):
        raise ModelError(
            f"reader '{name}' ({model_type}) needs page images, which docqa does not feed yet",
            hint="use a LayoutLM (v1), an extractive QA or a causal LM checkpoint",
        )
    if "QuestionAnswering" in archs:
        return "layout" if model_type == "layoutlm" else "extractive"
    return "lm"


def load_reader(name: str, device, max_new_tokens: int = 24, reporter: Reporter = null_reporter):
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    kind = reader_kind(name)
    try:
        if kind == "layout":
            return LayoutReader(name, device)
        if kind == "extractive":
            return ExtractiveReader(name, device)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"cannot load reader '{name}': {str(exc).splitlines()[0]}", hint="check the checkpoint folder or id"
        ) from None
    return LMReader(name, device, max_new_tokens, reporter)
