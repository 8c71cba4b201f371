"""Async HTTP GET: unwired's ``AsyncTestClient`` against the floor and httpx2's ``ASGITransport``.

Run from the repository root::

    python -m benchmarks.bench_async            # 7 rounds, about 10 s on 2 cores
    python -m benchmarks.bench_async --quick    # a few seconds, for smoke tests
    python -m benchmarks.bench_async --json bench.json

Every contender sends ``GET /`` to the same trivial raw ASGI app
(``bench_http.trivial_app``), or, for the floor, to a mock transport giving the
same answer:

- floor: ``httpx2.AsyncClient(transport=httpx2.MockTransport(handler))`` with an
  async handler: the cost of httpx2's async client itself, with no app.
- unwired: ``unwired.AsyncTestClient(trivial_app)``, inside ``async with`` (lifespan
  started) and without it.
- ASGITransport: ``httpx2.AsyncClient(transport=httpx2.ASGITransport(trivial_app))``,
  what async suites assemble by hand today.

All of them run on one asyncio loop (``--uvloop`` for uvloop) in one process:
every contender is warmed up and checked once, then they are timed round-robin
(the starting contender rotates each round), each for a fixed number of
requests with the garbage collector off; a contender's number is the median
over rounds of its mean time per request. The targets (PRODUCT.md, "Targets")
are ratios measured in the same run: unwired at most 1.15x the floor, and
faster than ASGITransport.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import httpx2

import unwired

from ._cli import Config, Target, Timed, json_document, target_lines
from ._cli import main as cli_main
from .bench_http import DEFAULT, QUICK, check_trivial, environment, floor_handler, trivial_app

BASE_URL = "http://testserver"

# -- the contenders --------------------------------------------------------------


async def async_floor_handler(request: httpx2.Request) -> httpx2.Response:
    """``bench_http.floor_handler`` as a coroutine, as an async app's answer would be."""
    return floor_handler(request)


def floor_client() -> httpx2.AsyncClient:
    transport = httpx2.MockTransport(async_floor_handler)
    return httpx2.AsyncClient(transport=transport, base_url=BASE_URL)


def unwired_client() -> httpx2.AsyncClient:
    return unwired.AsyncTestClient(trivial_app)


def asgi_transport_client() -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=trivial_app)
    return httpx2.AsyncClient(transport=transport, base_url=BASE_URL)


@dataclass
class Contender(Timed):
    key: str
    label: str
    make: Callable[[], httpx2.AsyncClient]
    inside_with: bool  # enter ``async with`` (for unwired: run the lifespan)
    rounds_us: list[float] = field(default_factory=list)


def contenders() -> list[Contender]:
    return [
        Contender("floor", "httpx2 AsyncClient + MockTransport (floor)", floor_client, True),
        Contender("unwired_inside", "unwired AsyncTestClient, inside async with",
                  unwired_client, True),
        Contender("unwired_outside", "unwired AsyncTestClient, no async with",
                  unwired_client, False),
        Contender("asgi_transport", "httpx2 AsyncClient + ASGITransport",
                  asgi_transport_client, True),
    ]  # fmt: skip


# -- timing ----------------------------------------------------------------------


async def per_request_us(client: httpx2.AsyncClient, n: int) -> float:
    """Mean wall-clock microseconds per ``await client.get("/")`` over ``n`` requests."""
    get = client.get
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(n):
            await get("/")
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed / n * 1e6


async def run_on_loop(config: Config, progress: Callable[[str], None]) -> list[Contender]:
    todo = contenders()
    async with AsyncExitStack() as stack:
        clients: dict[str, httpx2.AsyncClient] = {}
        for contender in todo:
            client = contender.make()
            if contender.inside_with:
                await stack.enter_async_context(client)
            else:
                stack.push_async_callback(client.aclose)
            clients[contender.key] = client
            for _ in range(config.warmup):
                check_trivial(await client.get("/"))
        for round_index in range(config.rounds):
            progress(f"round {round_index + 1}/{config.rounds}")
            shift = round_index % len(todo)
            for contender in todo[shift:] + todo[:shift]:
                us = await per_request_us(clients[contender.key], config.requests)
                contender.rounds_us.append(us)
    return todo


def run(config: Config, progress: Callable[[str], None], uvloop: bool) -> list[Contender]:
    """``run_on_loop`` on a new asyncio loop, or on uvloop's."""
    if uvloop:
        import uvloop as uvloop_module

        return uvloop_module.run(run_on_loop(config, progress))
    return asyncio.run(run_on_loop(config, progress))


# -- the report ------------------------------------------------------------------


def targets(results: dict[str, Contender]) -> list[Target]:
    def med(key: str) -> float:
        return results[key].median

    return [
        Target("unwired inside async with / floor", med("unwired_inside") / med("floor"),
               "<=", 1.15),
        Target("unwired, no async with / floor", med("unwired_outside") / med("floor"),
               "<=", 1.15),
        Target("ASGITransport / unwired inside async with",
               med("asgi_transport") / med("unwired_inside"), ">=", 1.0),
    ]  # fmt: skip


def loop_name(uvloop: bool) -> str:
    return f"uvloop {version('uvloop')}" if uvloop else "asyncio"


def report(config: Config, results: list[Contender], goals: list[Target], uvloop: bool) -> str:
    env = environment()
    lines = [
        f"unwired HTTP benchmark: async GET on {loop_name(uvloop)}, median over "
        f"{config.rounds} rounds of the mean time per request",
        f"Python {env['python']}, {env['platform']}, {env['cpus']} CPU(s) available",
        f"unwired {env['unwired']}, httpx2 {env['httpx2']}, anyio {env['anyio']}",
        "",
        f"{'trivial ASGI app (200 hi)':46} {'n/round':>8} {'us/request':>10} {'spread':>7} "
        f"{'x floor':>8}",
    ]
    floor = results[0].median
    for contender in results:
        lines.append(
            f"  {contender.label:44} {config.requests:8} {contender.median:10.1f} "
            f"{'±' + format(contender.spread, '.0%'):>7} {contender.median / floor:7.2f}x"
        )
    lines += ["", *target_lines(goals, "targets (PRODUCT.md)")]
    return "\n".join(lines)


def as_json(
    config: Config, results: list[Contender], goals: list[Target], uvloop: bool
) -> dict[str, Any]:
    contenders = {
        c.key: {
            "label": c.label,
            "inside_with": c.inside_with,
            "requests_per_round": config.requests,
            **c.timings_json(),
        }
        for c in results
    }
    return json_document(
        "http_async_get", {**environment(), "loop": loop_name(uvloop)}, config, contenders, goals
    )


def main(argv: list[str] | None = None) -> int:
    return cli_main(
        argv,
        "benchmarks.bench_async",
        __doc__,
        DEFAULT,
        QUICK,
        run,
        targets,
        report,
        as_json,
        pin_cpu=False,
        flags={"--uvloop": "run on uvloop instead of asyncio"},
    )


if __name__ == "__main__":
    sys.exit(main())
