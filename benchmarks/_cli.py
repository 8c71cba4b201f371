"""The command line of the suite (``python -m benchmarks``) and of each benchmark script
(``python -m benchmarks.bench_http``): the same options, the same report, the same JSON;
a script is the suite with one benchmark.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._core import Benchmark, Config, Contender, Target, environment, target_lines


@dataclass
class Outcome:
    """What running one benchmark gave."""

    benchmark: Benchmark
    config: Config
    uvloop: bool | None  # None: the benchmark runs no event loop
    results: list[Contender]
    goals: list[Target]

    def section(self) -> str:
        b = self.benchmark
        rounds = f"{self.config.rounds} round{'s' * (self.config.rounds != 1)}"
        loop = {None: "", False: ", async on asyncio", True: ", async on uvloop"}[self.uvloop]
        return "\n".join(
            [
                f"{b.name}: {b.title}, {rounds}{loop}",
                *b.lines(self.config, self.results),
            ]
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.benchmark.title,
            "config": vars(self.config),
            "uvloop": self.uvloop,
            "contenders": {c.key: c.as_json(self.config) for c in self.results},
            "targets": [goal.as_json() for goal in self.goals],
        }


def heading() -> str:
    env = environment()
    machine = {"python", "platform", "cpus"}
    packages = ", ".join(f"{name} {value}" for name, value in env.items() if name not in machine)
    return "\n".join(
        [
            "unwired benchmarks: each benchmark's contenders are timed in the same rounds,",
            "round-robin; a number is the median over rounds of the mean per operation.",
            f"Python {env['python']}, {env['platform']}, {env['cpus']} CPU(s); {packages}",
        ]
    )


def json_document(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """What ``--json`` writes: the environment, each benchmark's entry, every target."""
    return {
        "environment": environment(),
        "benchmarks": {o.benchmark.name: o.as_json() for o in outcomes},
        "targets": [
            {"benchmark": o.benchmark.name, **goal.as_json()} for o in outcomes for goal in o.goals
        ],
    }


def parser_for(
    prog: str, doc: str | None, benchmarks: Sequence[Benchmark]
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {prog}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a short run, for smoke tests")
    parser.add_argument("--rounds", type=int, help="rounds of every benchmark run")
    parser.add_argument(
        "--requests",
        type=int,
        metavar="N",
        help="operations per contender and round of every benchmark run (MiB for stream)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the numbers to PATH")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--pin-cpu",
        type=int,
        metavar="N",
        help="run on CPU N only (Linux); Starlette's thread hand-offs are cheaper on one core",
    )
    if len(benchmarks) > 1:
        parser.add_argument(
            "--only", action="append", choices=[b.name for b in benchmarks], help="run only these"
        )
    if any(b.uses_loop for b in benchmarks):
        parser.add_argument(
            "--uvloop", action="store_true", help="run the async contenders on uvloop"
        )
    return parser


def main(
    argv: Sequence[str] | None, prog: str, doc: str | None, benchmarks: Sequence[Benchmark]
) -> int:
    """Parse the command line, run the benchmarks it selects (each printed when done), print
    every target, write the JSON. Returns 1 with ``--strict`` when a target is missed, else 0."""
    parser = parser_for(prog, doc, benchmarks)
    args = parser.parse_args(argv)
    if args.pin_cpu is not None:
        if not hasattr(os, "sched_setaffinity"):
            parser.error("--pin-cpu needs os.sched_setaffinity (Linux)")
        os.sched_setaffinity(0, {args.pin_cpu})
    for option in ("rounds", "requests"):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            parser.error(f"--{option} must be at least 1")
    only = getattr(args, "only", None)
    print(heading(), flush=True)
    outcomes = []
    for benchmark in benchmarks:
        if not only or benchmark.name in only:
            outcomes.append(run(benchmark, args))
            print(f"\n{outcomes[-1].section()}", flush=True)
    goals = [(o.benchmark.name, goal) for o in outcomes for goal in o.goals]
    print("", *target_lines(goals), sep="\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(json_document(outcomes), file, indent=2)
            file.write("\n")
    missed = any(goal.verdict == "FAIL" for _, goal in goals)
    return 1 if args.strict and missed else 0


def run(benchmark: Benchmark, args: argparse.Namespace) -> Outcome:
    """Run one benchmark as the command line says: quick or not, rounds, requests, loop."""
    config = benchmark.quick if args.quick else benchmark.default
    for option in ("rounds", "requests"):
        if getattr(args, option) is not None:
            config = dataclasses.replace(config, **{option: getattr(args, option)})
    uvloop = getattr(args, "uvloop", False) if benchmark.uses_loop else None
    progress = progress_for(benchmark.name)
    results = benchmark.run(config, progress, uvloop=bool(uvloop))
    progress("")
    return Outcome(
        benchmark, config, uvloop, results, benchmark.targets({c.key: c for c in results})
    )


def progress_for(name: str) -> Callable[[str], None]:
    """Where a benchmark says how far it got: the terminal's last line, if stderr is one."""
    interactive = sys.stderr.isatty()

    def progress(text: str) -> None:
        """Say ``text``; an empty one clears the line."""
        if interactive:
            line = f"{name}: {text}..." if text else ""
            print(f"\r\033[K{line}", end="", file=sys.stderr, flush=True)

    return progress
