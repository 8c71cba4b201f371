"""Soak: many requests and sessions leave nothing behind.

Run from the repository root::

    python -m benchmarks.soak            # 10,000 requests + 1,000 sessions a client; 1,000 clients
    python -m benchmarks.soak --quick    # a tenth of that
    python -m benchmarks.soak --json soak.json

Scenarios, each on a Starlette app with lifespan, a JSON route, a streamed
response and a WebSocket echo:

- one sync client (asyncio, then trio) and one async client: the requests (one
  in fifty a stream closed after its first chunk) and the WebSocket sessions
  (three messages each) all go through that one client;
- short-lived sync clients: a quarter used inside ``with``, a quarter closed,
  a quarter used as a context manager without requests, and a quarter dropped
  without ``close()`` for the garbage collector.

Each scenario is warmed up, then threads, file descriptors, tasks pending on
the client's loop, and resident memory are taken before and after. A leak is
any extra thread, descriptor or task, more than ``OBJECT_SLACK`` new objects
tracked by the garbage collector, RSS growth beyond ``--rss-slack`` MiB,
or any warning or unraisable exception (warnings are errors during the run).
Exit status 1 when a scenario leaks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import sys
import threading
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

import unwired


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    yield {"greeting": "hello"}


async def _hello(request: Request) -> JSONResponse:
    # lifespan state when the client runs it (inside ``with``), a default otherwise
    return JSONResponse({"greeting": getattr(request.state, "greeting", "hello")})


class _Chunks:
    """A hundred chunks. Not an async generator: on trio, Starlette's StreamingResponse
    leaves one unfinished when the client goes away, and trio warns when it is collected
    (with Starlette's own TestClient too), which would hide warnings of our own."""

    def __init__(self) -> None:
        self.left = iter(range(100))

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        for number in self.left:
            return b"chunk %d\n" % number
        raise StopAsyncIteration


async def _stream(request: Request) -> StreamingResponse:
    return StreamingResponse(_Chunks())


async def _echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)


def make_app() -> Starlette:
    return Starlette(
        routes=[Route("/", _hello), Route("/stream", _stream), WebSocketRoute("/ws", _echo)],
        lifespan=_lifespan,
    )


@dataclass
class Snapshot:
    threads: int
    fds: int | None  # None where /proc is missing
    rss_mib: float | None
    tasks: int | None  # pending on the client's loop, its own bookkeeping excepted
    objects: int  # tracked by the garbage collector


def _fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def _rss_mib() -> float | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def pending_tasks(loop: asyncio.AbstractEventLoop | None) -> int | None:
    if loop is None:
        return None
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    return sum(not t.get_name().startswith("unwired:") for t in tasks)


def snapshot(loop: asyncio.AbstractEventLoop | None = None) -> Snapshot:
    gc.collect()
    return Snapshot(
        threading.active_count(), _fds(), _rss_mib(), pending_tasks(loop), len(gc.get_objects())
    )


#: Growth in garbage-collected objects taken as noise (caches filling up).
OBJECT_SLACK = 500


@dataclass
class Result:
    scenario: str
    work: str
    seconds: float
    before: Snapshot
    after: Snapshot
    problems: list[str] = field(default_factory=list)

    def check(self, rss_slack_mib: float) -> None:
        for name in ("threads", "fds", "tasks"):
            was, now = getattr(self.before, name), getattr(self.after, name)
            if was is not None and now is not None and now > was:
                self.problems.append(f"{now - was} more {name}")
        objects = self.after.objects - self.before.objects
        if objects > OBJECT_SLACK:
            self.problems.append(f"{objects} more objects")
        rss = self.rss_growth
        if rss is not None and rss > rss_slack_mib:
            self.problems.append(f"RSS grew {rss:.1f} MiB")

    @property
    def rss_growth(self) -> float | None:
        if self.before.rss_mib is None or self.after.rss_mib is None:
            return None
        return self.after.rss_mib - self.before.rss_mib


@contextlib.contextmanager
def _strict() -> Iterator[list[str]]:
    """Warnings are errors, and unraisable exceptions (e.g. in ``__del__``) are recorded."""
    caught: list[str] = []
    previous = sys.unraisablehook

    def record(unraisable: Any) -> None:
        caught.append(f"unraisable {unraisable.exc_type.__name__}: {unraisable.exc_value}")

    sys.unraisablehook = record
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            yield caught
    finally:
        sys.unraisablehook = previous


def _sync_work(client: unwired.TestClient, requests: int, sessions: int) -> None:
    for number in range(requests):
        if number % 50 == 49:
            with client.stream("GET", "/stream") as response:
                next(response.iter_raw())  # then close early: the app sees a disconnect
        else:
            assert client.get("/").json() == {"greeting": "hello"}
    for _ in range(sessions):
        with client.websocket_connect("/ws") as websocket:
            for text in ("a", "b", "c"):
                websocket.send_text(text)
                assert websocket.receive_text() == text


async def _async_work(client: unwired.AsyncTestClient, requests: int, sessions: int) -> None:
    for number in range(requests):
        if number % 50 == 49:
            async with (
                client.stream("GET", "/stream") as response,
                contextlib.aclosing(response.aiter_raw()) as chunks,
            ):
                await anext(chunks)
        else:
            assert (await client.get("/")).json() == {"greeting": "hello"}
    for _ in range(sessions):
        async with client.websocket_connect("/ws") as websocket:
            for text in ("a", "b", "c"):
                await websocket.send_text(text)
                assert await websocket.receive_text() == text


def _client_loop(client: unwired.TestClient) -> asyncio.AbstractEventLoop | None:
    return getattr(client._driver, "_loop", None)


def one_sync_client(requests: int, sessions: int, backend: str = "asyncio") -> Result:
    app = make_app()
    with _strict() as caught, unwired.TestClient(app, backend=backend) as client:  # type: ignore[arg-type]
        _sync_work(client, max(requests // 20, 1), max(sessions // 20, 1))  # warm-up
        before = snapshot(_client_loop(client))
        start = time.perf_counter()
        _sync_work(client, requests, sessions)
        seconds = time.perf_counter() - start
        after = snapshot(_client_loop(client))
    work = f"{requests} requests, {sessions} sessions"
    return Result(f"one TestClient ({backend})", work, seconds, before, after, caught)


def one_async_client(requests: int, sessions: int) -> Result:
    async def main() -> Result:
        loop = asyncio.get_running_loop()
        with _strict() as caught:
            async with unwired.AsyncTestClient(make_app()) as client:
                await _async_work(client, max(requests // 20, 1), max(sessions // 20, 1))
                before = snapshot(loop)
                start = time.perf_counter()
                await _async_work(client, requests, sessions)
                seconds = time.perf_counter() - start
                after = snapshot(loop)
        work = f"{requests} requests, {sessions} sessions"
        return Result("one AsyncTestClient (asyncio)", work, seconds, before, after, caught)

    return asyncio.run(main())


def _short_lived(app: Starlette, number: int) -> None:
    kind = number % 4
    if kind == 0:
        with unwired.TestClient(app) as client:
            client.get("/")
    elif kind == 1:
        client = unwired.TestClient(app)
        client.get("/")
        client.close()
    elif kind == 2:
        with unwired.TestClient(app):
            pass
    else:
        unwired.TestClient(app).get("/")  # never closed: the garbage collector frees it


def short_lived_clients(clients: int) -> Result:
    app = make_app()
    with _strict() as caught:
        for number in range(max(clients // 20, 4)):
            _short_lived(app, number)
        before = snapshot()
        start = time.perf_counter()
        for number in range(clients):
            _short_lived(app, number)
        gc.collect()
        with unwired.TestClient(app):  # a new client closes those the collector freed
            pass
        seconds = time.perf_counter() - start
        after = snapshot()
    return Result("short-lived TestClients", f"{clients} clients", seconds, before, after, caught)


SCENARIOS: dict[str, Callable[[int, int, int], Result]] = {
    "sync-asyncio": lambda r, s, c: one_sync_client(r, s),
    "sync-trio": lambda r, s, c: one_sync_client(r, s, "trio"),
    "async-asyncio": lambda r, s, c: one_async_client(r, s),
    "short-lived": lambda r, s, c: short_lived_clients(c),
}


def _cell(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def report(results: list[Result]) -> str:
    header = (
        f"{'scenario':32} {'work':30} {'s':>6}  threads   fds       tasks  {'objects':13}  RSS MiB"
    )
    lines = [header]
    for r in results:
        b, a = r.before, r.after
        rss = "n/a" if r.rss_growth is None else f"{b.rss_mib:.1f}->{a.rss_mib:.1f}"
        lines.append(
            f"{r.scenario:32} {r.work:30} {r.seconds:6.1f}  "
            f"{b.threads:>2}->{a.threads:<3}  {_cell(b.fds)}->{_cell(a.fds):5} "
            f"{_cell(b.tasks)}->{_cell(a.tasks):3}  {b.objects}->{a.objects:<6}  {rss}  "
            + ("LEAK: " + "; ".join(r.problems) if r.problems else "ok")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the work")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH")
    parser.add_argument(
        "--rss-slack", type=float, default=8.0, metavar="MIB", help="allowed RSS growth"
    )
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append", help="scenario")
    args = parser.parse_args(argv)
    requests, sessions, clients = (1_000, 100, 100) if args.quick else (10_000, 1_000, 1_000)
    results = []
    for name in args.only or SCENARIOS:
        result = SCENARIOS[name](requests, sessions, clients)
        result.check(args.rss_slack)
        results.append(result)
    print(report(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump([asdict(r) for r in results], file, indent=2)
            file.write("\n")
    return 1 if any(r.problems for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
