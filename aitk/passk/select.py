"""`aitk passk select`: AlphaCode-style selection of n submissions out of k samples per problem.

1. Filter: run every sample on the examples of its prompt's docstring (MBPP: its test lines;
   stdin/stdout problems: the example tests); keep those that match (all runnable samples when
   none match, as AlphaCode falls back to).
2. Cluster: run the survivors on generated inputs (stdin/stdout: the problem's generated tests'
   inputs); samples that return or print the same outputs form a cluster.
3. Submit one sample from each of the n largest clusters.

n@k is the share of problems where a submission passes the real tests (k: every sample of the
problem). Beside it: pass@n (n samples picked at random, unbiased) and pass@k (an oracle picking
among all k).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from aitk.engine.errors import UsageError
from aitk.engine.fileio import atomic_open
from aitk.engine.progress import BATCH, Log, Reporter, TaskAdvanced, TaskFinished, TaskStarted, null_reporter
from aitk.passk import compare
from aitk.passk.calibrate import calibrate
from aitk.passk.config import SelectConfig
from aitk.passk.estimator import pass_at_k
from aitk.passk.examples import Example, generate_inputs, parse_examples, probe_test, same_output, signature
from aitk.passk.jobs import make_job, program_job, run_jobs
from aitk.passk.problems import Problem, iter_samples
from aitk.passk.sandbox import plaindata
from aitk.passk.workers import Layers, detect, start_workers


@dataclass
class Selection:
    output: Path
    layers: Layers
    n: int
    problems: int = 0
    with_examples: int = 0  # problems whose docstring gave examples with expected values
    samples: int = 0
    survivors: int = 0  # samples that matched every example
    n_at_k: float = 0.0
    pass_at_n: float = 0.0  # over problems with at least n samples
    pass_at_all: float = 0.0  # pass@k with k = all samples of the problem
    k_range: tuple[int, int] = (0, 0)
    per_problem: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "output": str(self.output),
            "n": self.n,
            "problems": self.problems,
            "problems_with_examples": self.with_examples,
            "samples": self.samples,
            "survivors": self.survivors,
            "n_at_k": self.n_at_k,
            "pass_at_n": None if math.isnan(self.pass_at_n) else self.pass_at_n,
            "pass_at_k": self.pass_at_all,
            "k_min": self.k_range[0],
            "k_max": self.k_range[1],
            "sandbox": self.layers.to_dict(),
        }


def selected_path(samples: Path) -> Path:
    name = samples.name.removesuffix(".gz").removesuffix(".jsonl")
    return samples.with_name(f"{name}_selected.jsonl")


def select(
    samples: Path, problems: dict[str, Problem], config: SelectConfig, reporter: Reporter = null_reporter
) -> Selection:
    if not samples.is_file():
        raise UsageError(f"{samples}: no such file", hint="give a JSONL file of task_id and completion")
    by_task: dict[str, list[dict]] = defaultdict(list)
    for _, sample in iter_samples(samples, problems):  # selection compares a problem's samples: they stay in memory
        by_task[sample["task_id"]].append(sample)
    if not by_task:
        raise UsageError(
            f"{samples}: no samples in the file", hint="write one JSON object per line with task_id and completion"
        )
    plan = {tid: _plan(problems[tid], config.inputs) for tid in by_task}
    total = sum(len(v) for v in by_task.values())
    layers = detect(config.sandbox)
    workers = start_workers(min(config.workers, total), config.sandbox, layers)
    reporter(Log(layers.describe()))
    for note in layers.missing:
        reporter(Log(f"sandbox: missing {note}", "warning"))
    try:
        calibration = calibrate(
            problems, sorted(by_task), config.limits, config.sandbox.level, workers, config.exact, reporter
        )
    except BaseException:
        for worker in workers:
            worker.close()
        raise
    reporter(Log(calibration.describe()))
    reporter(TaskStarted(BATCH, f"selecting from {samples.name}", float(2 * total)))
    cap = config.sandbox.output_bytes

    def jobs():
        for tid, group in by_task.items():
            problem, limit = problems[tid], calibration.limits[tid]
            for i, sample in enumerate(group):
                if problem.kind == "program":
                    probe = program_job(sample["completion"], plan[tid][1], limit, config.exact, cap, probe=True)
                else:
                    probe = make_job(problem, sample["completion"], limit, probe_test(plan[tid][1], limit / 3))
                yield (tid, i, "probe"), probe
                test = make_job(
                    problem, sample["completion"], limit, expected=calibration.expected.get(tid), exact=config.exact
                )
                yield (tid, i, "test"), test

    outputs: dict[tuple[str, int], list | None] = {}
    passed: dict[tuple[str, int], bool] = {}
    for done, ((tid, i, kind), outcome) in enumerate(run_jobs(workers, jobs(), window=4 * len(workers)), start=1):
        if kind == "probe":
            outputs[(tid, i)] = _decoded(outcome)
        else:
            passed[(tid, i)] = outcome["status"] == "passed"
        reporter(TaskAdvanced(BATCH, float(done)))
    reporter(TaskFinished(BATCH))
    result = Selection(selected_path(samples), layers, config.n)
    _choose(by_task, plan, outputs, passed, config.n, result)
    return result


def _plan(problem: Problem, count: int) -> tuple[list[Example], list]:
    """The examples to filter on and the inputs to cluster on (the examples first)."""
    if problem.kind == "program":  # an example's expected value is its output's signature
        shown = [t for t in problem.tests if t.kind == "example"]
        examples = [Example((t.input,), compare.signature(t.output), True) for t in shown]
        more = [t for t in problem.tests if t.kind == "generated"]
        return examples, (shown + more)[: max(count, len(shown))]
    source = "\n".join(problem.notes) if problem.format == "mbpp" else problem.prompt  # mbpp: its test lines
    examples = parse_examples(source, problem.entry_point)
    return examples, generate_inputs(examples, count, problem.task_id)


def _decoded(outcome: dict) -> list | None:
    if outcome["status"] not in ("passed", "failed") or "outputs" not in outcome:
        return None  # timed out, crashed the probe, ran out of memory...
    if type(outcome["outputs"]) is list and all(type(o) is list and len(o) == 2 for o in outcome["outputs"]):
        if all(type(o[0]) is str and (o[1] is None or type(o[1]) is str) for o in outcome["outputs"]):
            return outcome["outputs"]  # a stdin/stdout probe: [status, output signature] per input
    try:
        return plaindata.decode(outcome["outputs"])
    except (plaindata.NotPlainData, ValueError, TypeError):
        return None


def _choose(by_task, plan, outputs, passed, n: int, result: Selection) -> None:
    scores, random_n, oracle, ks = [], [], [], []
    with atomic_open(result.output) as out:
        for tid, group in by_task.items():
            examples, _ = plan[tid]
            planned = len(plan[tid][1])
            # a probe that stopped part-way (its outputs fewer than the inputs) did not run: it cannot be compared
            runnable = [
                i for i in range(len(group)) if outputs.get((tid, i)) is not None and len(outputs[(tid, i)]) == planned
            ]
            checked = [(j, e) for j, e in enumerate(examples) if e.has_expected]
            survivors = (
                [
                    i
                    for i in runnable
                    if all(
                        outputs[(tid, i)][j][0] == "ok" and same_output(outputs[(tid, i)][j][1], e.expected)
                        for j, e in checked
                    )
                ]
                if checked
                else []
            )  # no examples with expected values: nothing to filter on
            result.with_examples += bool(checked)
            result.survivors += len(survivors)
            clusters: dict[str, list[int]] = defaultdict(list)
            for i in survivors or runnable:
                clusters[signature(outputs[(tid, i)])].append(i)

            def rank_key(members: list[int], tid=tid) -> tuple:  # largest first; behaviour that only raises last
                raises = all(kind != "ok" for kind, _ in outputs[(tid, members[0])])
                return (raises, -len(members), members[0])

            ranked = sorted(clusters.values(), key=rank_key)[:n]
            chosen = [members[0] for members in ranked]
            for rank, (i, members) in enumerate(zip(chosen, ranked), start=1):
                row = {
                    **group[i],
                    "rank": rank,
                    "cluster_size": len(members),
                    "passed": passed[(tid, i)],
                    "filtered": bool(survivors),
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            k, c = len(group), sum(passed[(tid, i)] for i in range(len(group)))
            scores.append(any(passed[(tid, i)] for i in chosen))
            oracle.append(c > 0)
            ks.append(k)
            if k >= n:
                random_n.append(pass_at_k(k, c, n))
            result.per_problem.append(
                {
                    "task_id": tid,
                    "k": k,
                    "correct": c,
                    "survivors": len(survivors),
                    "clusters": len(clusters),
                    "selected_passed": scores[-1],
                }
            )
    result.problems = len(by_task)
    result.samples = len(passed)
    result.n_at_k = sum(scores) / len(scores)
    result.pass_at_all = sum(oracle) / len(oracle)
    result.pass_at_n = sum(random_n) / len(random_n) if random_n else float("nan")
    result.k_range = (min(ks), max(ks))
