"""Async HTTP: unwired's ``AsyncTestClient`` against the floor and httpx2's ``ASGITransport``.

Run from the repository root (``python -m benchmarks`` runs it with the others)::

    python -m benchmarks.bench_async            # 7 rounds, about 15 s on 2 cores
    python -m benchmarks.bench_async --quick    # a few seconds, for smoke tests
    python -m benchmarks.bench_async --json bench.json

Every contender sends ``GET /`` to the same trivial raw ASGI app, or ``POST`` of a
64 KiB body to an app that reads it to the end (the apps and requests of
``bench_http``); the floor is a mock transport giving the same answers:

- floor: ``httpx2.AsyncClient(transport=httpx2.MockTransport(handler))`` with an
  async handler: the cost of httpx2's async client itself, with no app.
- unwired: ``unwired.AsyncTestClient(app)``, inside ``async with`` (lifespan
  started) and without it.
- ASGITransport: ``httpx2.AsyncClient(transport=httpx2.ASGITransport(app))``,
  what async suites assemble by hand today.

All of them run on one asyncio loop (``--uvloop`` for uvloop) in one process:
every contender is checked once and warmed up, then they are timed round-robin
(the starting contender rotates each round), each for a fixed number of
requests in one pass of the loop with the garbage collector off; a contender's
number is the median over rounds of its mean time per request. The targets
(PRODUCT.md, "Targets") are ratios measured in the same run: unwired at most
1.15x the floor, and faster than ASGITransport.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial

import httpx2
from starlette.types import ASGIApp

import unwired

from . import _cli
from ._apps import bytes_app, floor_handler, length_handler, trivial_app
from ._core import (
    Benchmark,
    Contender,
    RatioGoal,
    Timer,
    enter_on,
    ratio_targets,
    repeat_on,
)
from .bench_http import BASE_URL, DEFAULT, GET, POST, QUICK, TRIVIAL, UPLOAD, Exchange


def async_client_setup(
    loop: asyncio.AbstractEventLoop,
    make: Callable[[], httpx2.AsyncClient],
    inside_with: bool,
    exchange: Exchange,
) -> Callable[[ExitStack], Timer]:
    """An async client on ``loop`` (entered, or closed at the end) sending ``exchange``."""

    def setup(stack: ExitStack) -> Timer:
        client = make()
        if inside_with:
            enter_on(loop, stack, lambda: client)
        else:
            stack.callback(lambda: loop.run_until_complete(client.aclose()))
        send = exchange.send_on(client)
        exchange.check(loop.run_until_complete(send()))
        return repeat_on(loop, send)

    return setup


def mock_client(handler: Callable[[httpx2.Request], httpx2.Response]) -> httpx2.AsyncClient:
    async def answer(request: httpx2.Request) -> httpx2.Response:
        return handler(request)

    return httpx2.AsyncClient(transport=httpx2.MockTransport(answer), base_url=BASE_URL)


def asgi_transport_client(app: ASGIApp) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE_URL)


def contenders(loop: asyncio.AbstractEventLoop) -> list[Contender]:
    on = partial(async_client_setup, loop)
    return [
        Contender("floor", "httpx2 AsyncClient + MockTransport (floor)", TRIVIAL,
                  on(partial(mock_client, floor_handler), True, GET)),
        Contender("unwired_inside", "unwired AsyncTestClient, inside async with", TRIVIAL,
                  on(partial(unwired.AsyncTestClient, trivial_app), True, GET)),
        Contender("unwired_outside", "unwired AsyncTestClient, no async with", TRIVIAL,
                  on(partial(unwired.AsyncTestClient, trivial_app), False, GET)),
        Contender("asgi_transport", "httpx2 AsyncClient + ASGITransport", TRIVIAL,
                  on(partial(asgi_transport_client, trivial_app), True, GET)),
        Contender("post_floor", "httpx2 AsyncClient + MockTransport (floor)", UPLOAD,
                  on(partial(mock_client, length_handler), True, POST)),
        Contender("post_unwired_inside", "unwired AsyncTestClient, inside async with", UPLOAD,
                  on(partial(unwired.AsyncTestClient, bytes_app), True, POST)),
        Contender("post_asgi_transport", "httpx2 AsyncClient + ASGITransport", UPLOAD,
                  on(partial(asgi_transport_client, bytes_app), True, POST)),
    ]  # fmt: skip


TARGETS: list[RatioGoal] = [
    ("GET: unwired inside async with / floor", "unwired_inside", "floor", "<=", 1.15),
    ("GET: unwired, no async with / floor", "unwired_outside", "floor", "<=", 1.15),
    ("GET: ASGITransport / unwired inside async with", "asgi_transport", "unwired_inside",
     ">", 1.0),
    ("POST 64 KiB: unwired inside async with / floor", "post_unwired_inside", "post_floor",
     "", 0),
    ("POST 64 KiB: ASGITransport / unwired inside async with", "post_asgi_transport",
     "post_unwired_inside", "", 0),
]  # fmt: skip


BENCHMARK = Benchmark(
    "async_http",
    "async GET and POST (AsyncTestClient), mean time per request",
    DEFAULT,
    QUICK,
    contenders,
    ratio_targets(TARGETS),
    references={TRIVIAL: "floor", UPLOAD: "post_floor"},
    uses_loop=True,
)


def main(argv: list[str] | None = None) -> int:
    return _cli.main(argv, "benchmarks.bench_async", __doc__, [BENCHMARK])


if __name__ == "__main__":
    sys.exit(main())
