"""WebSocket echo round trip: unwired's sync and async sessions against Starlette's.

Run from the repository root::

    python -m benchmarks.bench_websocket            # 7 rounds, about 7 s on 2 cores
    python -m benchmarks.bench_websocket --quick    # a few seconds, for smoke tests
    python -m benchmarks.bench_websocket --json bench.json

One round trip is ``send_text`` then ``receive_text`` in a session that stays open
for the whole run. Each contender opens its client (inside ``with``, so lifespan
runs) and one session, is warmed up, then the contenders are timed round-robin
in one process (the starting contender rotates each round), each for a fixed
number of round trips with the garbage collector off; a contender's number is
the median over rounds of its mean time per round trip. Every reply is checked.

- unwired sync: ``unwired.TestClient`` (asyncio backend, the default).
- unwired async: ``unwired.AsyncTestClient`` on one asyncio loop kept for the
  whole run; the round is timed inside the loop, so ``run_until_complete`` is
  paid once per round, not per round trip.
- Starlette: ``starlette.testclient.TestClient``, whose session hands every
  message to the app's thread through a portal.

The target (issue 5) is a ratio measured in the same run: Starlette's time per
round trip over unwired's, at least 10x. As with bench_http, Starlette's thread
hand-offs cost more when the two threads land on different cores; ``--pin-cpu``
keeps the process on one core.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import Callable
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from typing import Any

import starlette.testclient
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

import unwired

from ._cli import Config, Target, Timed, json_document, target_lines
from ._cli import main as cli_main
from .bench_http import environment

MESSAGE = "hello, echo"

# -- the apps --------------------------------------------------------------------


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A raw ASGI 3 app: accepts, echoes text frames; completes lifespan so ``with`` works."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message["text"]})


async def echo_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)


starlette_echo_app = Starlette(routes=[WebSocketRoute("/", echo_endpoint)])

RAW = "raw ASGI echo app"
STARLETTE = "Starlette app (WebSocketRoute echo)"

# -- the contenders --------------------------------------------------------------

#: Times ``n`` round trips; returns the mean microseconds per round trip.
Timer = Callable[[int], float]


def _unexpected(reply: object) -> RuntimeError:
    return RuntimeError(f"unexpected reply: {reply!r:.80}")


def sync_session(client_type: Any, app: Any) -> Callable[[ExitStack], Timer]:
    """A sync client (unwired's or Starlette's) with one open session."""

    def open_session(stack: ExitStack) -> Timer:
        client = stack.enter_context(client_type(app))
        ws = stack.enter_context(client.websocket_connect("/"))

        def timed(n: int) -> float:
            send, receive = ws.send_text, ws.receive_text
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                for _ in range(n):
                    send(MESSAGE)
                    if (reply := receive()) != MESSAGE:
                        raise _unexpected(reply)
                elapsed = time.perf_counter() - start
            finally:
                gc.enable()
            return elapsed / n * 1e6

        return timed

    return open_session


def async_session(app: Any) -> Callable[[ExitStack], Timer]:
    """``unwired.AsyncTestClient`` with one open session, on one asyncio loop."""

    def open_session(stack: ExitStack) -> Timer:
        loop = asyncio.new_event_loop()
        stack.callback(loop.close)
        sessions = AsyncExitStack()

        async def enter() -> Any:
            client = await sessions.enter_async_context(unwired.AsyncTestClient(app))
            return await sessions.enter_async_context(client.websocket_connect("/"))

        ws = loop.run_until_complete(enter())
        stack.callback(lambda: loop.run_until_complete(sessions.aclose()))

        async def round_trips(n: int) -> float:
            send, receive = ws.send_text, ws.receive_text
            start = time.perf_counter()
            for _ in range(n):
                await send(MESSAGE)
                if (reply := await receive()) != MESSAGE:
                    raise _unexpected(reply)
            return time.perf_counter() - start

        def timed(n: int) -> float:
            gc.collect()
            gc.disable()
            try:
                elapsed = loop.run_until_complete(round_trips(n))
            finally:
                gc.enable()
            return elapsed / n * 1e6

        return timed

    return open_session


@dataclass
class Contender(Timed):
    key: str
    label: str
    group: str
    open_session: Callable[[ExitStack], Timer]
    share: float = 1.0  # of the configured round trips per round: Starlette's are slow
    rounds_us: list[float] = field(default_factory=list)

    def round_trips(self, config: Config) -> int:
        return max(1, round(config.requests * self.share))


DEFAULT = Config(rounds=7, requests=10000, warmup=500)
QUICK = Config(rounds=3, requests=500, warmup=50)


def contenders() -> list[Contender]:
    unwired_client, starlette_client = unwired.TestClient, starlette.testclient.TestClient
    return [
        Contender("unwired_sync", "unwired TestClient (sync)", RAW,
                  sync_session(unwired_client, echo_app)),
        Contender("unwired_async", "unwired AsyncTestClient (one asyncio loop)", RAW,
                  async_session(echo_app)),
        Contender("starlette", "Starlette TestClient", RAW,
                  sync_session(starlette_client, echo_app), share=0.1),
        Contender("app_unwired_sync", "unwired TestClient (sync)", STARLETTE,
                  sync_session(unwired_client, starlette_echo_app)),
        Contender("app_unwired_async", "unwired AsyncTestClient (one asyncio loop)", STARLETTE,
                  async_session(starlette_echo_app)),
        Contender("app_starlette", "Starlette TestClient", STARLETTE,
                  sync_session(starlette_client, starlette_echo_app), share=0.1),
    ]  # fmt: skip


# -- timing ----------------------------------------------------------------------


def run(config: Config, progress: Callable[[str], None]) -> list[Contender]:
    todo = contenders()
    with ExitStack() as stack:
        timers: dict[str, Timer] = {}
        for contender in todo:
            timer = contender.open_session(stack)
            timer(min(config.warmup, contender.round_trips(config)))
            timers[contender.key] = timer
        for round_index in range(config.rounds):
            progress(f"round {round_index + 1}/{config.rounds}")
            shift = round_index % len(todo)
            for contender in todo[shift:] + todo[:shift]:
                contender.rounds_us.append(timers[contender.key](contender.round_trips(config)))
    return todo


# -- the report ------------------------------------------------------------------

TARGET = 10.0


def targets(results: dict[str, Contender]) -> list[Target]:
    def ratio(slow: str, fast: str) -> float:
        return results[slow].median / results[fast].median

    return [
        Target("Starlette / unwired sync", ratio("starlette", "unwired_sync"), ">=", TARGET),
        Target("Starlette / unwired async", ratio("starlette", "unwired_async"), ">=", TARGET),
        Target("Starlette app: Starlette / unwired sync",
               ratio("app_starlette", "app_unwired_sync"), "", 0.0),
        Target("Starlette app: Starlette / unwired async",
               ratio("app_starlette", "app_unwired_async"), "", 0.0),
    ]  # fmt: skip


def report(config: Config, results: list[Contender], goals: list[Target]) -> str:
    env = environment()
    lines = [
        "unwired WebSocket benchmark: echo round trip (send_text + receive_text) in one "
        f"open session, median over {config.rounds} rounds of the mean time per round trip",
        f"Python {env['python']}, {env['platform']}, {env['cpus']} CPU(s) available",
        f"unwired {env['unwired']}, httpx2 {env['httpx2']}, starlette {env['starlette']}, "
        f"anyio {env['anyio']}",
        "",
        f"{'':46} {'n/round':>8} {'us/trip':>9} {'spread':>7} {'vs Starlette':>13}",
    ]
    starlette_us = {c.group: c.median for c in results if c.share < 1}
    group = ""
    for contender in results:
        if contender.group != group:
            group = contender.group
            lines.append(group)
        faster = starlette_us[group] / contender.median
        lines.append(
            f"  {contender.label:44} {contender.round_trips(config):8} "
            f"{contender.median:9.1f} {'±' + format(contender.spread, '.0%'):>7} "
            f"{format(faster, '.1f') + 'x faster' if contender.share == 1 else '':>13}".rstrip()
        )
    lines += ["", *target_lines(goals, "targets (issue 5)", label_width=48, precision=1)]
    return "\n".join(lines)


def as_json(config: Config, results: list[Contender], goals: list[Target]) -> dict[str, Any]:
    contenders = {
        c.key: {
            "label": c.label,
            "app": c.group,
            "round_trips_per_round": c.round_trips(config),
            **c.timings_json(),
        }
        for c in results
    }
    return json_document("websocket_echo_round_trip", environment(), config, contenders, goals)


def main(argv: list[str] | None = None) -> int:
    return cli_main(
        argv, "benchmarks.bench_websocket", __doc__, DEFAULT, QUICK, run, targets, report, as_json
    )


if __name__ == "__main__":
    sys.exit(main())
