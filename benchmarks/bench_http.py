"""Sync HTTP: unwired's ``TestClient`` against the floor and against Starlette's.

Run from the repository root (``python -m benchmarks`` runs it with the others)::

    python -m benchmarks.bench_http            # 7 rounds, about 40 s on 2 cores
    python -m benchmarks.bench_http --quick    # a few seconds, for smoke tests
    python -m benchmarks.bench_http --json bench.json

Three groups of contenders: ``GET /`` to a trivial raw ASGI app (unwired reused
outside ``with`` and inside it), ``GET`` to a small Starlette app, and ``POST``
of a 64 KiB body that the app reads to the end. The floor is
``httpx2.Client(transport=httpx2.MockTransport(handler))``: the cost of httpx2
itself, with no app and no event loop. Every contender is checked once and warmed
up, then all are timed round-robin in one process (the starting contender rotates
each round), each for a fixed number of requests with the garbage collector off;
a contender's number is the median over rounds of its mean time per request. The
targets are ratios measured in the same run, so they hold on a slow machine as
well as on a fast one (PRODUCT.md, "Targets").

Starlette's TestClient hands each request to another thread, which costs much
more when the two threads run on different cores: its numbers, and so the
Starlette/unwired ratio, can move by 2x with the scheduler. ``--pin-cpu 0`` keeps
the process on one core, which is repeatable and the most favourable to Starlette.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx2
import starlette.testclient

import unwired

from . import _cli
from ._apps import (
    REALISTIC_BODY,
    REALISTIC_PATH,
    bytes_app,
    floor_handler,
    length_handler,
    realistic_app,
    trivial_app,
)
from ._core import Benchmark, Config, Contender, RatioGoal, Timer, ratio_targets, repeat

BASE_URL = "http://testserver"
POST_BODY = bytes(range(256)) * 256  # 64 KiB


def text(response: httpx2.Response) -> str:
    return response.text


@dataclass(frozen=True)
class Exchange:
    """The request every contender of a group sends, and the answer it must get."""

    method: str
    path: str
    content: bytes | None
    expected: object  # what ``answer`` gives for a right response
    answer: Callable[[httpx2.Response], object] = text

    def send_on(self, client: httpx2.Client | httpx2.AsyncClient) -> Callable[[], Any]:
        """The request, ready to send again and again on ``client``."""
        return partial(client.request, self.method, self.path, content=self.content)

    def check(self, response: httpx2.Response) -> None:
        if response.status_code != 200 or self.answer(response) != self.expected:
            raise RuntimeError(f"unexpected answer: {response.status_code} {response.text!r:.80}")


GET = Exchange("GET", "/", None, "hi")
GET_REALISTIC = Exchange("GET", REALISTIC_PATH, None, REALISTIC_BODY, httpx2.Response.json)
POST = Exchange("POST", "/", POST_BODY, str(len(POST_BODY)))

TRIVIAL = "GET, trivial ASGI app (200 'hi')"
REALISTIC = "GET, Starlette app (Route + JSONResponse)"
UPLOAD = "POST 64 KiB, the app reads it all"

DEFAULT = Config(rounds=7, requests=3000, warmup=200)
QUICK = Config(rounds=3, requests=200, warmup=30)


def client_setup(
    make: Callable[[], httpx2.Client], inside_with: bool, exchange: Exchange
) -> Callable[[ExitStack], Timer]:
    """A sync client (entered, or closed at the end) sending ``exchange`` again and again."""

    def setup(stack: ExitStack) -> Timer:
        client = make()
        if inside_with:
            stack.enter_context(client)
        else:
            stack.callback(client.close)
        send = exchange.send_on(client)
        exchange.check(send())
        return repeat(send)

    return setup


def mock_client(handler: Callable[[httpx2.Request], httpx2.Response]) -> httpx2.Client:
    return httpx2.Client(transport=httpx2.MockTransport(handler), base_url=BASE_URL)


def contenders() -> list[Contender]:
    unwired_client, starlette_client = unwired.TestClient, starlette.testclient.TestClient
    return [
        Contender("floor", "httpx2 Client + MockTransport (floor)", TRIVIAL,
                  client_setup(partial(mock_client, floor_handler), True, GET)),
        Contender("unwired_outside", "unwired TestClient, reused, outside with", TRIVIAL,
                  client_setup(partial(unwired_client, trivial_app), False, GET)),
        Contender("unwired_inside", "unwired TestClient, inside with", TRIVIAL,
                  client_setup(partial(unwired_client, trivial_app), True, GET)),
        Contender("starlette_inside", "Starlette TestClient, inside with", TRIVIAL,
                  client_setup(partial(starlette_client, trivial_app), True, GET), share=0.25),
        Contender("starlette_outside", "Starlette TestClient, outside with", TRIVIAL,
                  client_setup(partial(starlette_client, trivial_app), False, GET), share=0.075),
        Contender("realistic_unwired_inside", "unwired TestClient, inside with", REALISTIC,
                  client_setup(partial(unwired_client, realistic_app), True, GET_REALISTIC)),
        Contender("realistic_starlette_inside", "Starlette TestClient, inside with", REALISTIC,
                  client_setup(partial(starlette_client, realistic_app), True, GET_REALISTIC),
                  share=0.25),
        Contender("post_floor", "httpx2 Client + MockTransport (floor)", UPLOAD,
                  client_setup(partial(mock_client, length_handler), True, POST)),
        Contender("post_unwired_inside", "unwired TestClient, inside with", UPLOAD,
                  client_setup(partial(unwired_client, bytes_app), True, POST)),
        Contender("post_starlette_inside", "Starlette TestClient, inside with", UPLOAD,
                  client_setup(partial(starlette_client, bytes_app), True, POST), share=0.25),
    ]  # fmt: skip


TARGETS: list[RatioGoal] = [
    ("GET: unwired reused (outside with) / floor", "unwired_outside", "floor", "<=", 1.3),
    ("GET: unwired inside with / floor", "unwired_inside", "floor", "<=", 1.3),
    ("GET: Starlette inside with / unwired inside with", "starlette_inside", "unwired_inside",
     ">=", 8.0),
    ("GET: Starlette outside with / unwired reused", "starlette_outside", "unwired_outside",
     "", 0),
    ("GET, Starlette app: Starlette / unwired, inside with", "realistic_starlette_inside",
     "realistic_unwired_inside", "", 0),
    ("POST 64 KiB: unwired inside with / floor", "post_unwired_inside", "post_floor", "", 0),
    ("POST 64 KiB: Starlette / unwired, inside with", "post_starlette_inside",
     "post_unwired_inside", "", 0),
]  # fmt: skip


BENCHMARK = Benchmark(
    "sync_http",
    "sync GET and POST (TestClient), mean time per request",
    DEFAULT,
    QUICK,
    contenders,
    ratio_targets(TARGETS),
    references={TRIVIAL: "floor", REALISTIC: "realistic_unwired_inside", UPLOAD: "post_floor"},
)


def main(argv: list[str] | None = None) -> int:
    return _cli.main(argv, "benchmarks.bench_http", __doc__, [BENCHMARK])


if __name__ == "__main__":
    sys.exit(main())
