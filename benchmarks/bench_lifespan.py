"""Client construction, lifespan startup and shutdown: what every test pays before its
first request.

Run from the repository root (``python -m benchmarks`` runs it with the others)::

    python -m benchmarks.bench_lifespan            # 7 rounds, about 10 s on 2 cores
    python -m benchmarks.bench_lifespan --quick    # a few seconds, for smoke tests

One operation is one client's whole life with no request: ``with client: pass``
(construction, lifespan startup, lifespan shutdown, close), or construction and
``close()`` alone. The app is the trivial raw ASGI app of ``bench_http``, which
completes both lifespan phases at once, so the numbers are the clients' own cost.
The floor is an httpx2 client on a ``MockTransport`` (no app, no lifespan);
httpx2's ``ASGITransport`` runs no lifespan either. The contenders are timed
round-robin in one process, as in ``bench_http``. There is no target in
PRODUCT.md for this; the ratios are for information.
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
from ._apps import floor_handler, trivial_app
from ._core import (
    Benchmark,
    Config,
    Contender,
    RatioGoal,
    Timer,
    ratio_targets,
    repeat,
    repeat_on,
)
from .bench_async import asgi_transport_client
from .bench_async import mock_client as async_mock_client
from .bench_http import mock_client

SYNC = "sync clients"
ASYNC = "async clients, on one asyncio loop"

DEFAULT = Config(rounds=7, requests=300, warmup=20)
QUICK = Config(rounds=3, requests=40, warmup=5)


def whole_life(make: Callable[[], Any]) -> Callable[[ExitStack], Timer]:
    """``with make(): pass``, again and again."""

    def once() -> None:
        with make():
            pass

    return lambda stack: repeat(once)


def closed(make: Callable[[], Any]) -> Callable[[ExitStack], Timer]:
    """``make().close()``, again and again."""
    return lambda stack: repeat(lambda: make().close())


def whole_life_on(
    loop: asyncio.AbstractEventLoop, make: Callable[[], Any]
) -> Callable[[ExitStack], Timer]:
    """``async with make(): pass`` on ``loop``, again and again."""

    async def once() -> None:
        async with make():
            pass

    return lambda stack: repeat_on(loop, once)


def contenders(loop: asyncio.AbstractEventLoop) -> list[Contender]:
    unwired_client = partial(unwired.TestClient, trivial_app)
    starlette_client = partial(starlette.testclient.TestClient, trivial_app)
    return [
        Contender("floor", "httpx2 Client + MockTransport (floor): with", SYNC,
                  whole_life(partial(mock_client, floor_handler))),
        Contender("unwired_with", "unwired TestClient: with (lifespan)", SYNC,
                  whole_life(unwired_client)),
        Contender("starlette_with", "Starlette TestClient: with (lifespan)", SYNC,
                  whole_life(starlette_client), share=0.2),
        Contender("unwired_closed", "unwired TestClient: construct, close()", SYNC,
                  closed(unwired_client)),
        Contender("starlette_closed", "Starlette TestClient: construct, close()", SYNC,
                  closed(starlette_client)),
        Contender("async_floor", "httpx2 AsyncClient + MockTransport (floor)", ASYNC,
                  whole_life_on(loop, partial(async_mock_client, floor_handler))),
        Contender("asgi_transport", "httpx2 AsyncClient + ASGITransport (no lifespan)", ASYNC,
                  whole_life_on(loop, partial(asgi_transport_client, trivial_app))),
        Contender("unwired_async", "unwired AsyncTestClient: async with (lifespan)", ASYNC,
                  whole_life_on(loop, partial(unwired.AsyncTestClient, trivial_app))),
    ]  # fmt: skip


TARGETS: list[RatioGoal] = [
    ("with client: Starlette / unwired", "starlette_with", "unwired_with", "", 0),
    ("construct + close: Starlette / unwired", "starlette_closed", "unwired_closed", "", 0),
    ("async with client: unwired / ASGITransport (no lifespan)", "unwired_async",
     "asgi_transport", "", 0),
]  # fmt: skip


BENCHMARK = Benchmark(
    "lifespan",
    "client construction + lifespan startup/shutdown, mean time per client",
    DEFAULT,
    QUICK,
    contenders,
    ratio_targets(TARGETS),
    references={SYNC: "floor", ASYNC: "async_floor"},
    uses_loop=True,
)


def main(argv: list[str] | None = None) -> int:
    return _cli.main(argv, "benchmarks.bench_lifespan", __doc__, [BENCHMARK])


if __name__ == "__main__":
    sys.exit(main())
