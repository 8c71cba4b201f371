"""What the benchmark scripts share: the run's configuration, the targets, the targets'
part of the report and of the JSON, and the command line around a script's own
``run``, ``targets``, ``report`` and ``as_json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar


@dataclass
class Config:
    rounds: int
    requests: int  # per contender and round; Starlette's contenders do a share of it
    warmup: int


@dataclass
class Target:
    label: str
    value: float
    op: str  # "<=", ">=", or "" for information only
    bound: float

    @property
    def verdict(self) -> str:
        if self.op == "<=":
            return "PASS" if self.value <= self.bound else "FAIL"
        if self.op == ">=":
            return "PASS" if self.value >= self.bound else "FAIL"
        return "info"


def target_lines(
    goals: list[Target], title: str, label_width: int = 55, precision: int = 2
) -> list[str]:
    """The report's targets: a heading, a line a target, then whether all were met."""
    lines = [f"{title:{label_width + 2}} {'measured':>9} {'target':>8}"]
    for goal in goals:
        bound = f"{goal.op} {goal.bound:g}x" if goal.op else ""
        lines.append(
            f"  {goal.label:{label_width}} {goal.value:8.{precision}f}x {bound:>8}  {goal.verdict}"
        )
    missed = sum(goal.verdict == "FAIL" for goal in goals)
    return [*lines, "", "all targets met" if not missed else f"{missed} target(s) missed"]


class Timed:
    """A contender's timings: its dataclass declares ``key`` and ``rounds_us``, the mean
    microseconds per operation in each round."""

    key: str
    rounds_us: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.rounds_us)

    @property
    def spread(self) -> float:
        """Half the range over rounds, as a fraction of the median."""
        return (max(self.rounds_us) - min(self.rounds_us)) / 2 / self.median

    def timings_json(self) -> dict[str, Any]:
        """The last keys of the contender's entry in the JSON."""
        return {"median_us": self.median, "spread": self.spread, "rounds_us": self.rounds_us}


def json_document(
    benchmark: str,
    environment: dict[str, str],
    config: Config,
    contenders: dict[str, dict[str, Any]],
    goals: list[Target],
) -> dict[str, Any]:
    """What ``--json`` writes; ``contenders`` maps each contender's key to its entry."""
    return {
        "benchmark": benchmark,
        "environment": environment,
        "config": vars(config),
        "contenders": contenders,
        "targets": targets_json(goals),
    }


def targets_json(goals: list[Target]) -> list[dict[str, Any]]:
    """The JSON's ``targets``; ``op`` and ``bound`` are null for information only."""
    return [
        {
            "label": g.label,
            "value": g.value,
            "op": g.op or None,
            "bound": g.bound if g.op else None,
            "verdict": g.verdict,
        }
        for g in goals
    ]


C = TypeVar("C", bound=Timed)  # a script's contender, timed by its run


def main(
    argv: Sequence[str] | None,
    module: str,
    doc: str | None,
    default: Config,
    quick: Config,
    run: Callable[..., list[C]],
    targets: Callable[[dict[str, C]], list[Target]],
    report: Callable[..., str],
    as_json: Callable[..., dict[str, Any]],
    /,
    *,
    pin_cpu: bool = True,
    flags: Mapping[str, str] | None = None,
) -> int:
    """A benchmark script's command line: parse it, run, print the report, write the JSON.

    ``module`` is the script's name for ``python -m``, ``doc`` its help (its docstring),
    ``default`` and ``quick`` its configurations. ``run(config, progress)`` times the
    contenders; ``targets`` takes them by key; ``report(config, results, goals)`` and
    ``as_json(config, results, goals)`` format them.
    ``flags`` are the script's own on/off options (``{"--uvloop": help}``): each one's
    value goes to ``run``, ``report`` and ``as_json`` as a keyword argument (``uvloop=``).
    Returns the exit code: 1 with ``--strict`` when a target is missed, else 0.
    """
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a short run (a few seconds)")
    parser.add_argument("--rounds", type=int, help="number of rounds (default 7, quick 3)")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers to PATH")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    if pin_cpu:
        parser.add_argument(
            "--pin-cpu",
            type=int,
            metavar="N",
            help="run on CPU N only (Linux); Starlette's thread hand-offs are cheaper on one core",
        )
    dests = [
        parser.add_argument(flag, action="store_true", help=text).dest
        for flag, text in (flags or {}).items()
    ]
    args = parser.parse_args(argv)
    extra = {dest: getattr(args, dest) for dest in dests}
    if pin_cpu and args.pin_cpu is not None:
        if not hasattr(os, "sched_setaffinity"):
            parser.error("--pin-cpu needs os.sched_setaffinity (Linux)")
        os.sched_setaffinity(0, {args.pin_cpu})
    config = quick if args.quick else default
    if args.rounds is not None:
        if args.rounds < 1:
            parser.error("--rounds must be at least 1")
        config = dataclasses.replace(config, rounds=args.rounds)

    interactive = sys.stderr.isatty()

    def progress(text: str) -> None:
        if interactive:
            print(f"\r{text}...", end="", file=sys.stderr, flush=True)

    results = run(config, progress, **extra)
    if interactive:
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    goals = targets({c.key: c for c in results})
    print(report(config, results, goals, **extra))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(as_json(config, results, goals, **extra), file, indent=2)
            file.write("\n")
    missed = any(goal.verdict == "FAIL" for goal in goals)
    return 1 if args.strict and missed else 0
