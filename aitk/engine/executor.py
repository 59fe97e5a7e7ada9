"""Where batch work runs: in this process (`local`) or on a Ray cluster (`ray`).

A batch command describes its work as a *worker factory* (a picklable callable that loads the
model once and returns a function of one input) and a stream of inputs. `map_ordered` yields one
`(input, value)` pair per input, in input order, whichever executor ran it; the command writes the
results itself, the same way for both executors. Inputs and results cross process boundaries on
Ray, so both must pickle.

On Ray, `workers` actors each call the factory once (one model load per actor, sized by
`cpus_per_worker` / `gpus_per_worker`). A worker that dies (killed, out of memory, a crashed
native library) is replaced by a new actor and the inputs it held are retried, at most `retries`
times each; an input that still cannot finish becomes `on_lost(input, message)`, a failure
reported like any other. An exception raised by the worker function itself (a bad model, not a bad
input) stops the batch and is raised here, as it would be locally.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aitk.engine.errors import DependencyError, UsageError

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class ExecutorConfig:
    """How a batch command spreads its inputs (`--executor`, `--ray-address`, `--workers`, ...)."""

    kind: str = "local"  # "local": this process; "ray": Ray actors
    address: str | None = None  # Ray: None starts a private local Ray; "auto" joins a running one; "ray://host:10001"
    workers: int = 2  # Ray actors, each loading the model once
    cpus_per_worker: float = 1.0  # Ray resources reserved for each actor
    gpus_per_worker: float = 0.0
    retries: int = 2  # times one input is retried after its worker died
    in_flight: int = 2  # inputs queued on each actor, so it never waits for the driver

    def __post_init__(self) -> None:
        if self.kind not in EXECUTORS:
            raise UsageError(f"unknown --executor {self.kind!r}", hint="use local or ray")
        if self.workers < 1 or self.retries < 0 or self.in_flight < 1:
            raise UsageError("--workers must be at least 1 and --retries at least 0")
        if self.cpus_per_worker < 0 or self.gpus_per_worker < 0:
            raise UsageError("--cpus-per-worker and --gpus-per-worker cannot be negative")
        if self.kind == "local" and self.address:
            raise UsageError("--ray-address needs --executor ray")


def map_ordered(
    factory: Callable[[], Callable[[Any], Any]],
    inputs: Iterable[Any],
    config: ExecutorConfig,
    on_lost: Callable[[Any, str], Any],
) -> Iterator[tuple[Any, Any]]:
    """Yield (input, factory()(input)) for each input, in input order."""
    if config.kind == "local":
        fn = None
        for item in inputs:
            fn = fn or factory()  # load on the first input: an empty batch loads nothing
            yield item, fn(item)
        return
    yield from _ray_map(factory, inputs, config, on_lost)


def map_planned(
    factory: Callable[[], Callable[[Any], Any]],
    plans: list[tuple[Any, Any]],
    needs_work: Callable[[Any], bool],
    config: ExecutorConfig,
    on_lost: Callable[[Any, str], Any],
) -> Iterator[tuple[Any, Any, Any]]:
    """For (input, plan) pairs decided beforehand (skips, clashes, cache hits), run only the inputs
    whose plan `needs_work` and yield (input, plan, result or None) for every pair, in order."""
    results = map_ordered(factory, (item for item, plan in plans if needs_work(plan)), config, on_lost)
    for item, plan in plans:
        yield item, plan, next(results)[1] if needs_work(plan) else None


def connect_ray(address: str | None, num_cpus: int | None = None):
    """Join the Ray cluster at `address` ("auto", "ray://...") or start a private local one."""
    try:
        import ray
    except ImportError:
        raise DependencyError(
            "--executor ray needs the ray package", hint="pip install 'ray>=2.9' (scripts/setup.sh installs it)"
        ) from None
    if ray.is_initialized():
        return ray
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a private local Ray needs no token; clusters set their own
    kwargs: dict = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address:
        kwargs["address"] = address
    elif num_cpus:
        kwargs["num_cpus"] = num_cpus
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = address or "a local Ray"
        raise UsageError(
            f"cannot connect to Ray at {where}: {str(exc).splitlines()[0]}",
            hint="start the head node with 'ray start --head', or leave out --ray-address",
        ) from None
    return ray


class _Actor:
    """One Ray worker: builds the worker function once, then serves inputs."""

    def __init__(self, factory):
        self.fn = factory()

    def run(self, item):
        return self.fn(item)


def _ray_map(factory, inputs, config: ExecutorConfig, on_lost) -> Iterator[tuple[Any, Any]]:
    ray = connect_ray(config.address)
    from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError, RayTaskError, WorkerCrashedError

    lost_errors = (RayActorError, ActorDiedError, ActorUnavailableError, WorkerCrashedError)
    remote = ray.remote(_Actor).options(
        num_cpus=config.cpus_per_worker, num_gpus=config.gpus_per_worker, max_restarts=0
    )
    factory_ref = ray.put(factory)
    keys = iter(range(1 << 62))
    actors = {next(keys): remote.remote(factory_ref) for _ in range(config.workers)}
    load = dict.fromkeys(actors, 0)
    alone: set[int] = set()  # actors running a retried input, with nothing queued behind it
    source = enumerate(inputs)
    retry: deque = deque()  # (index, item, attempts) whose worker died
    in_flight: dict = {}  # ObjectRef -> (actor key, index, item, attempts)
    ready: dict[int, tuple[Any, Any]] = {}
    emitted = 0
    exhausted = False

    def send() -> None:
        # A retried input runs alone on an idle actor: if it is the one that kills its worker, it
        # takes no innocent input down with it, and an innocent one gets a clean second chance.
        nonlocal exhausted
        for key, actor in list(actors.items()):
            while key not in alone and load[key] < config.in_flight:
                if retry:
                    if load[key]:
                        break
                    index, item, attempts = retry.popleft()
                    alone.add(key)
                elif not exhausted:
                    try:
                        index, item = next(source)
                    except StopIteration:
                        exhausted = True
                        return
                    attempts = 0
                else:
                    return
                in_flight[actor.run.remote(item)] = (key, index, item, attempts)
                load[key] += 1

    def replace(key: int) -> None:
        dead = actors.pop(key, None)
        if dead is not None:
            ray.kill(dead, no_restart=True)
            fresh = next(keys)
            actors[fresh] = remote.remote(factory_ref)
            load[fresh] = 0

    try:
        send()
        while in_flight:
            (ref,), _ = ray.wait(list(in_flight), num_returns=1)
            key, index, item, attempts = in_flight.pop(ref)
            try:
                ready[index] = (item, ray.get(ref))
            except RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                raise (cause if isinstance(cause, BaseException) else exc) from None
            except lost_errors as exc:
                replace(key)
                if attempts < config.retries:
                    retry.append((index, item, attempts + 1))
                else:
                    reason = str(exc).strip().splitlines()[0][:160]
                    ready[index] = (item, on_lost(item, f"its worker died {attempts + 1} times ({reason})"))
            if key in load:
                load[key] -= 1
                alone.discard(key)
            while emitted in ready:
                yield ready.pop(emitted)
                emitted += 1
            send()
    finally:
        for actor in actors.values():
            ray.kill(actor, no_restart=True)
