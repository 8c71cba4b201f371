"""What every benchmark is made of: contenders timed in round-robin rounds, targets, a
table and a JSON entry; ``Benchmark`` puts them together for the command line (``_cli``).

Rule: a ratio is only ever taken between contenders timed in the same rounds of the
same run (the starting contender rotates each round; a contender's number is the median
over rounds of its mean time per operation), so it holds on a slow or busy machine as
well as on a fast one. No number here is compared with one from another run.
"""

from __future__ import annotations

import asyncio
import gc
import operator
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, ExitStack
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

import unwired

T = TypeVar("T")

Timer = Callable[[int], float]
"""Does ``n`` operations of one contender; returns the mean microseconds per operation."""


@dataclass(frozen=True)
class Config:
    rounds: int
    requests: int  # operations per contender and round; slow contenders do a share of it
    warmup: int  # operations per contender before the first round


@dataclass
class Contender:
    key: str
    label: str
    group: str  # contenders of a group are compared; the group's reference is 1.00x
    setup: Callable[[ExitStack], Timer]  # opens what it needs (closed by the stack), checks it
    share: float = 1.0  # of the configured operations per round: slow contenders do fewer
    rounds_us: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # figures besides time, for the JSON

    def count(self, config: Config) -> int:
        return max(1, round(config.requests * self.share))

    @property
    def median(self) -> float:
        return statistics.median(self.rounds_us)

    @property
    def spread(self) -> float:
        """Half the range over rounds, as a fraction of the median."""
        return (max(self.rounds_us) - min(self.rounds_us)) / 2 / self.median

    def as_json(self, config: Config) -> dict[str, Any]:
        return {
            "label": self.label,
            "group": self.group,
            "per_round": self.count(config),
            "median_us": self.median,
            "spread": self.spread,
            "rounds_us": self.rounds_us,
            **self.extra,
        }


_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass
class Target:
    label: str
    value: float
    op: str  # "<", "<=", ">", ">=", or "" for information only
    bound: float = 0.0
    unit: str = "x"  # or " MB"

    @property
    def verdict(self) -> str:
        if not self.op:
            return "info"
        return "PASS" if _COMPARE[self.op](self.value, self.bound) else "FAIL"

    def as_json(self) -> dict[str, Any]:
        """``op`` and ``bound`` are null for information only."""
        return {
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "op": self.op or None,
            "bound": self.bound if self.op else None,
            "verdict": self.verdict,
        }


RatioGoal = tuple[str, str, str, str, float]
"""(label, key, over, op, bound): the median of contender ``key`` over that of ``over``
must compare to ``bound`` as ``op`` says; ``op`` "" for information only."""


def ratio_targets(goals: Sequence[RatioGoal]) -> Callable[[Mapping[str, Contender]], list[Target]]:
    """The ``targets`` of a benchmark whose targets are all ratios of medians."""

    def targets(results: Mapping[str, Contender]) -> list[Target]:
        return [
            Target(label, results[key].median / results[over].median, op, bound)
            for label, key, over, op, bound in goals
        ]

    return targets


# -- timing ----------------------------------------------------------------------


def mean_us(batch: Callable[[int], object], n: int) -> float:
    """Mean wall-clock microseconds per operation of ``batch(n)``, which does ``n`` of them,
    with the garbage collector off (and collected just before)."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        batch(n)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed / n * 1e6


def repeat(operation: Callable[[], object]) -> Timer:
    """The timer of a sync operation: ``n`` calls in a row."""

    def batch(n: int) -> None:
        for _ in range(n):
            operation()

    return partial(mean_us, batch)


def repeat_on(loop: asyncio.AbstractEventLoop, operation: Callable[[], Awaitable[object]]) -> Timer:
    """The timer of an async operation: ``n`` awaits in a row, in one pass of ``loop``."""

    async def batch(n: int) -> None:
        for _ in range(n):
            await operation()

    return partial(mean_us, lambda n: loop.run_until_complete(batch(n)))


def enter_on(
    loop: asyncio.AbstractEventLoop,
    stack: ExitStack,
    make: Callable[[], AbstractAsyncContextManager[T]],
) -> T:
    """Make an async context manager and enter it on ``loop`` (``make`` runs on the loop
    too, for APIs that look for it), and exit it there when ``stack`` closes."""

    async def enter() -> tuple[AbstractAsyncContextManager[T], T]:
        context = make()
        return context, await context.__aenter__()

    context, value = loop.run_until_complete(enter())
    stack.push(lambda *exc: loop.run_until_complete(context.__aexit__(*exc)))
    return value


def new_loop(uvloop: bool) -> asyncio.AbstractEventLoop:
    """An asyncio loop for the async contenders, or uvloop's."""
    if uvloop:
        import uvloop as uvloop_module

        return uvloop_module.new_event_loop()
    return asyncio.new_event_loop()


def round_robin(
    config: Config, todo: Sequence[Contender], progress: Callable[[str], None]
) -> list[Contender]:
    """Set every contender up and warm it up, then time them round after round, the
    starting one rotating; returns them with their ``rounds_us``."""
    with ExitStack() as stack:
        timers = []
        for contender in todo:
            timer = contender.setup(stack)
            if config.warmup:
                timer(min(config.warmup, contender.count(config)))
            timers.append((contender, timer))
        for round_index in range(config.rounds):
            progress(f"round {round_index + 1}/{config.rounds}")
            shift = round_index % len(timers)
            for contender, timer in timers[shift:] + timers[:shift]:
                contender.rounds_us.append(timer(contender.count(config)))
    return list(todo)


# -- reporting -------------------------------------------------------------------


def format_us(us: float) -> str:
    return f"{us / 1000:.1f} ms" if us >= 10_000 else f"{us:.1f} us"


def timing_table(
    config: Config, results: Sequence[Contender], references: Mapping[str, str]
) -> list[str]:
    """A line a contender, under its group: operations per round, median time, spread over
    rounds, and the ratio of its median to that of its group's reference."""
    by_key = {c.key: c for c in results}
    lines = [f"  {'':52} {'n/round':>8} {'median':>10} {'spread':>7} {'ratio':>8}"]
    group = ""
    for contender in results:
        if contender.group != group:
            group = contender.group
            lines.append(f"  {group} (ratio to: {by_key[references[group]].label})")
        ratio = contender.median / by_key[references[group]].median
        lines.append(
            f"    {contender.label:50} {contender.count(config):8} "
            f"{format_us(contender.median):>10} {'±' + format(contender.spread, '.0%'):>7} "
            f"{ratio:7.2f}x"
        )
    return lines


def target_lines(goals: Sequence[tuple[str, Target]]) -> list[str]:
    """The targets of every benchmark run, under their benchmark, then whether all were met."""
    lines = [f"{'targets (PRODUCT.md)':68} {'measured':>9} {'target':>11}"]
    heading = ""
    for name, goal in goals:
        if name != heading:
            heading = name
            lines.append(f"  {name}")
        bound = f"{goal.op} {goal.bound:g}{goal.unit}" if goal.op else ""
        lines.append(
            f"    {goal.label:64} {goal.value:8.2f}{goal.unit:<3} {bound:>9}  {goal.verdict}"
        )
    missed = sum(goal.verdict == "FAIL" for _, goal in goals)
    met = sum(goal.verdict == "PASS" for _, goal in goals)
    return [*lines, "", f"{met} target(s) met, {missed} missed"]


def environment() -> dict[str, str]:
    """Where the numbers come from: the interpreter, the machine and the packages."""
    packages = {}
    for name in ("httpx2", "starlette", "anyio", "uvloop", "trio"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            continue
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": str(cpus),
        "unwired": unwired.__version__,
        **packages,
    }


@dataclass(frozen=True)
class Benchmark:
    """One area of the suite: its contenders, its targets and its table.

    ``contenders()`` makes the contenders; with ``uses_loop``, ``contenders(loop)``,
    and the async ones all run on that loop: a new one each run, asyncio's or, with
    ``--uvloop``, uvloop's. ``table`` defaults to ``timing_table`` with ``references``
    (group -> the key of the contender the group's ratios are to).
    """

    name: str  # the benchmark's key in the JSON and its heading in the report
    title: str  # what is timed
    default: Config
    quick: Config
    contenders: Callable[..., Sequence[Contender]]
    targets: Callable[[Mapping[str, Contender]], list[Target]]
    references: Mapping[str, str] = field(default_factory=dict)
    table: Callable[[Config, Sequence[Contender]], list[str]] | None = None
    uses_loop: bool = False

    def run(
        self, config: Config, progress: Callable[[str], None], uvloop: bool = False
    ) -> list[Contender]:
        """Make the contenders and time them (``round_robin``)."""
        if not self.uses_loop:
            return round_robin(config, self.contenders(), progress)
        loop = new_loop(uvloop)
        try:
            return round_robin(config, self.contenders(loop), progress)
        finally:
            loop.close()

    def lines(self, config: Config, results: Sequence[Contender]) -> list[str]:
        if self.table is not None:
            return self.table(config, results)
        return timing_table(config, results, self.references)
