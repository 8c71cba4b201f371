"""Sync HTTP GET: unwired's ``TestClient`` against the floor and against Starlette's.

Run from the repository root::

    python -m benchmarks.bench_http            # 7 rounds, about 30 s on 2 cores
    python -m benchmarks.bench_http --quick    # a few seconds, for smoke tests
    python -m benchmarks.bench_http --json bench.json

The floor is ``httpx2.Client(transport=httpx2.MockTransport(handler))``: the cost
of httpx2 itself, with no app and no event loop. Every contender is warmed up and
checked once, then the contenders are timed round-robin in one process (the
starting contender rotates each round), each for a fixed number of requests with
the garbage collector off; a contender's number is the median over rounds of its
mean time per request. The targets are ratios measured in the same run, so they
hold on a slow machine as well as on a fast one (PRODUCT.md, "Targets").

Starlette's TestClient hands each request to another thread, which costs much
more when the two threads run on different cores: its numbers, and so the
Starlette/unwired ratio, can move by 2x with the scheduler. ``--pin-cpu 0`` keeps
the process on one core, which is repeatable and the most favourable to Starlette.
"""

from __future__ import annotations

import gc
import os
import platform
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import httpx2
import starlette.testclient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

import unwired

from ._cli import Config, Target, Timed, json_document, target_lines
from ._cli import main as cli_main

# -- the apps --------------------------------------------------------------------

TRIVIAL_HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"2")]


async def trivial_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A raw ASGI 3 app: 200 "hi" to every request; completes lifespan so ``with`` works."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": TRIVIAL_HEADERS})
    await send({"type": "http.response.body", "body": b"hi"})


def floor_handler(request: httpx2.Request) -> httpx2.Response:
    """The mock transport's answer: the same status, headers and body as ``trivial_app``."""
    return httpx2.Response(200, headers=TRIVIAL_HEADERS, content=b"hi")


async def get_item(request: Request) -> JSONResponse:
    item_id = request.path_params["item_id"]
    verbose = request.query_params.get("verbose") == "1"
    item = {"id": item_id, "name": f"item {item_id}", "price": 9.5, "tags": ["a", "b"]}
    if verbose:
        item["user_agent"] = request.headers["user-agent"]
    return JSONResponse(item)


realistic_app = Starlette(routes=[Route("/items/{item_id:int}", get_item)])
REALISTIC_PATH = "/items/42?verbose=1"
REALISTIC_BODY = {
    "id": 42,
    "name": "item 42",
    "price": 9.5,
    "tags": ["a", "b"],
    "user_agent": "testclient",
}

# -- the contenders --------------------------------------------------------------


def check_trivial(response: httpx2.Response) -> None:
    if response.status_code != 200 or response.text != "hi":
        raise RuntimeError(f"unexpected answer: {response.status_code} {response.text!r}")


def check_realistic(response: httpx2.Response) -> None:
    if response.status_code != 200 or response.json() != REALISTIC_BODY:
        raise RuntimeError(f"unexpected answer: {response.status_code} {response.text!r}")


DEFAULT = Config(rounds=7, requests=3000, warmup=200)
QUICK = Config(rounds=3, requests=200, warmup=30)


@dataclass
class Contender(Timed):
    key: str
    label: str
    group: str
    make: Callable[[], httpx2.Client]
    inside_with: bool
    path: str
    check: Callable[[httpx2.Response], None]
    share: float = 1.0  # of the configured requests per round: Starlette's are slow
    rounds_us: list[float] = field(default_factory=list)

    def requests(self, config: Config) -> int:
        return max(1, round(config.requests * self.share))


def floor_client() -> httpx2.Client:
    transport = httpx2.MockTransport(floor_handler)
    return httpx2.Client(transport=transport, base_url="http://testserver")


TRIVIAL = "trivial ASGI app (200 'hi')"
REALISTIC = "Starlette app (Route + JSONResponse)"


def contenders() -> list[Contender]:
    unwired_client, starlette_client = unwired.TestClient, starlette.testclient.TestClient
    return [
        Contender(
            "floor", "httpx2 Client + MockTransport (floor)", TRIVIAL, floor_client, False, "/",
            check_trivial,
        ),
        Contender(
            "unwired_outside", "unwired TestClient, reused, outside with", TRIVIAL,
            lambda: unwired_client(trivial_app), False, "/", check_trivial,
        ),
        Contender(
            "unwired_inside", "unwired TestClient, inside with", TRIVIAL,
            lambda: unwired_client(trivial_app), True, "/", check_trivial,
        ),
        Contender(
            "starlette_inside", "Starlette TestClient, inside with", TRIVIAL,
            lambda: starlette_client(trivial_app), True, "/", check_trivial, share=0.25,
        ),
        Contender(
            "starlette_outside", "Starlette TestClient, outside with", TRIVIAL,
            lambda: starlette_client(trivial_app), False, "/", check_trivial, share=0.075,
        ),
        Contender(
            "realistic_unwired_inside", "unwired TestClient, inside with", REALISTIC,
            lambda: unwired_client(realistic_app), True, REALISTIC_PATH, check_realistic,
        ),
        Contender(
            "realistic_starlette_inside", "Starlette TestClient, inside with", REALISTIC,
            lambda: starlette_client(realistic_app), True, REALISTIC_PATH, check_realistic,
            share=0.25,
        ),
    ]  # fmt: skip


# -- timing ----------------------------------------------------------------------


def per_request_us(client: httpx2.Client, path: str, n: int) -> float:
    """Mean wall-clock microseconds per ``client.get(path)`` over ``n`` requests."""
    get = client.get
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(n):
            get(path)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed / n * 1e6


def run(config: Config, progress: Callable[[str], None]) -> list[Contender]:
    todo = contenders()
    with ExitStack() as stack:
        clients: dict[str, httpx2.Client] = {}
        for contender in todo:
            client = contender.make()
            if contender.inside_with:
                stack.enter_context(client)
            else:
                stack.callback(client.close)
            clients[contender.key] = client
            for _ in range(min(config.warmup, contender.requests(config))):
                contender.check(client.get(contender.path))
        for round_index in range(config.rounds):
            progress(f"round {round_index + 1}/{config.rounds}")
            shift = round_index % len(todo)
            for contender in todo[shift:] + todo[:shift]:
                n = contender.requests(config)
                us = per_request_us(clients[contender.key], contender.path, n)
                contender.rounds_us.append(us)
    return todo


# -- the report ------------------------------------------------------------------


def targets(results: dict[str, Contender]) -> list[Target]:
    def med(key: str) -> float:
        return results[key].median

    return [
        Target("unwired reused (outside with) / floor", med("unwired_outside") / med("floor"),
               "<=", 1.3),
        Target("unwired inside with / floor", med("unwired_inside") / med("floor"), "<=", 1.3),
        Target("Starlette inside with / unwired inside with",
               med("starlette_inside") / med("unwired_inside"), ">=", 8.0),
        Target("Starlette outside with / unwired reused",
               med("starlette_outside") / med("unwired_outside"), "", 0.0),
        Target("Starlette app: Starlette / unwired, inside with",
               med("realistic_starlette_inside") / med("realistic_unwired_inside"), "", 0.0),
    ]  # fmt: skip


def environment() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": str(
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        ),
        "unwired": unwired.__version__,
        **{name: version(name) for name in ("httpx2", "starlette", "anyio")},
    }


def report(config: Config, results: list[Contender], goals: list[Target]) -> str:
    env = environment()
    lines = [
        f"unwired HTTP benchmark: sync GET, median over {config.rounds} rounds of the mean "
        "time per request",
        f"Python {env['python']}, {env['platform']}, {env['cpus']} CPU(s) available",
        f"unwired {env['unwired']}, httpx2 {env['httpx2']}, starlette {env['starlette']}, "
        f"anyio {env['anyio']}",
        "",
        f"{'':46} {'n/round':>8} {'us/request':>10} {'spread':>7} {'x floor':>8}",
    ]
    floor = results[0].median
    group = ""
    for contender in results:
        if contender.group != group:
            group = contender.group
            lines.append(group)
        relative = f"{contender.median / floor:7.2f}x" if group == TRIVIAL else ""
        lines.append(
            f"  {contender.label:44} {contender.requests(config):8} {contender.median:10.1f} "
            f"{'±' + format(contender.spread, '.0%'):>7} {relative:>8}".rstrip()
        )
    lines += ["", *target_lines(goals, "targets (PRODUCT.md)")]
    return "\n".join(lines)


def as_json(config: Config, results: list[Contender], goals: list[Target]) -> dict[str, Any]:
    contenders = {
        c.key: {
            "label": c.label,
            "app": c.group,
            "inside_with": c.inside_with,
            "requests_per_round": c.requests(config),
            **c.timings_json(),
        }
        for c in results
    }
    return json_document("http_sync_get", environment(), config, contenders, goals)


def main(argv: list[str] | None = None) -> int:
    return cli_main(
        argv, "benchmarks.bench_http", __doc__, DEFAULT, QUICK, run, targets, report, as_json
    )


if __name__ == "__main__":
    sys.exit(main())
