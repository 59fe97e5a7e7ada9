"""Options shared by the batch commands that can run on Ray (`--executor`, `--ray-address`, ...)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

PANEL = "Scaling out (docs/scaling.md)"
Executor = Annotated[str, typer.Option("--executor", help="local: this machine's process; ray: Ray actors, each loading the model once.", rich_help_panel=PANEL)]
RayAddress = Annotated[Optional[str], typer.Option("--ray-address", help="Ray cluster to join: auto (the running one) or ray://HOST:10001. Default: a private local Ray.", rich_help_panel=PANEL)]
RayWorkers = Annotated[int, typer.Option("--workers", min=1, help="With --executor ray: actors, each loading the model once (a local run uses this process).", rich_help_panel=PANEL)]
CpusPerWorker = Annotated[float, typer.Option("--cpus-per-worker", min=0.0, help="Ray CPUs reserved for each actor.", rich_help_panel=PANEL)]
GpusPerWorker = Annotated[float, typer.Option("--gpus-per-worker", min=0.0, help="Ray GPUs for each actor (fractions share a GPU).", rich_help_panel=PANEL)]
Retries = Annotated[int, typer.Option("--retries", min=0, help="Ray: times an input is retried after its worker died.", rich_help_panel=PANEL)]


def executor_config(executor: str, address: str | None, workers: int, cpus: float, gpus: float, retries: int):
    from aitk.engine.executor import ExecutorConfig

    return ExecutorConfig(kind=executor, address=address, workers=workers, cpus_per_worker=cpus, gpus_per_worker=gpus, retries=retries)
