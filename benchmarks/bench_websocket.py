"""WebSocket echo round trip: unwired's sync and async sessions against Starlette's.

Run from the repository root (``python -m benchmarks`` runs it with the others)::

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
  whole run; a round's round trips run in one pass of the loop, so
  ``run_until_complete`` is paid once per round, not per round trip.
- Starlette: ``starlette.testclient.TestClient``, whose session hands every
  message to the app's thread through a portal.

The target (PRODUCT.md, "Targets") is a ratio measured in the same run: Starlette's time per
round trip over unwired's, at least 10x. As with bench_http, Starlette's thread
hand-offs cost more when the two threads land on different cores; ``--pin-cpu``
keeps the process on one core.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from typing import Any

import starlette.testclient

import unwired

from . import _cli
from ._apps import echo_app, starlette_echo_app
from ._core import (
    Benchmark,
    Config,
    Contender,
    RatioGoal,
    Timer,
    enter_on,
    ratio_targets,
    repeat,
    repeat_on,
)

MESSAGE = "hello, echo"
RAW = "raw ASGI echo app"
STARLETTE = "Starlette app (WebSocketRoute echo)"


def _check(reply: object) -> None:
    if reply != MESSAGE:
        raise RuntimeError(f"unexpected reply: {reply!r:.80}")


def sync_session(client_type: Any, app: Any) -> Callable[[ExitStack], Timer]:
    """A sync client (unwired's or Starlette's), inside ``with``, with one open session."""

    def setup(stack: ExitStack) -> Timer:
        client = stack.enter_context(client_type(app))
        ws = stack.enter_context(client.websocket_connect("/"))
        send, receive = ws.send_text, ws.receive_text

        def round_trip() -> None:
            send(MESSAGE)
            _check(receive())

        return repeat(round_trip)

    return setup


def async_session(loop: asyncio.AbstractEventLoop, app: Any) -> Callable[[ExitStack], Timer]:
    """``unwired.AsyncTestClient``, inside ``async with``, with one open session on ``loop``."""

    def setup(stack: ExitStack) -> Timer:
        client = enter_on(loop, stack, partial(unwired.AsyncTestClient, app))
        ws = enter_on(loop, stack, partial(client.websocket_connect, "/"))
        send, receive = ws.send_text, ws.receive_text

        async def round_trip() -> None:
            await send(MESSAGE)
            _check(await receive())

        return repeat_on(loop, round_trip)

    return setup


DEFAULT = Config(rounds=7, requests=10000, warmup=500)
QUICK = Config(rounds=3, requests=500, warmup=50)


def contenders(loop: asyncio.AbstractEventLoop) -> list[Contender]:
    unwired_client, starlette_client = unwired.TestClient, starlette.testclient.TestClient
    return [
        Contender("unwired_sync", "unwired TestClient (sync)", RAW,
                  sync_session(unwired_client, echo_app)),
        Contender("unwired_async", "unwired AsyncTestClient (one asyncio loop)", RAW,
                  async_session(loop, echo_app)),
        Contender("starlette", "Starlette TestClient", RAW,
                  sync_session(starlette_client, echo_app), share=0.1),
        Contender("app_unwired_sync", "unwired TestClient (sync)", STARLETTE,
                  sync_session(unwired_client, starlette_echo_app)),
        Contender("app_unwired_async", "unwired AsyncTestClient (one asyncio loop)", STARLETTE,
                  async_session(loop, starlette_echo_app)),
        Contender("app_starlette", "Starlette TestClient", STARLETTE,
                  sync_session(starlette_client, starlette_echo_app), share=0.1),
    ]  # fmt: skip


TARGETS: list[RatioGoal] = [
    ("Starlette / unwired sync", "starlette", "unwired_sync", ">=", 10.0),
    ("Starlette / unwired async", "starlette", "unwired_async", ">=", 10.0),
    ("Starlette app: Starlette / unwired sync", "app_starlette", "app_unwired_sync", "", 0),
    ("Starlette app: Starlette / unwired async", "app_starlette", "app_unwired_async", "", 0),
]  # fmt: skip


BENCHMARK = Benchmark(
    "websocket",
    "WebSocket echo round trip (send_text + receive_text) in one open session",
    DEFAULT,
    QUICK,
    contenders,
    ratio_targets(TARGETS),
    references={RAW: "unwired_sync", STARLETTE: "app_unwired_sync"},
    uses_loop=True,
)


def main(argv: list[str] | None = None) -> int:
    return _cli.main(argv, "benchmarks.bench_websocket", __doc__, [BENCHMARK])


if __name__ == "__main__":
    sys.exit(main())
