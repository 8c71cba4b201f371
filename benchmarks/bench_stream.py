"""Streamed bodies: throughput and memory of a large response and a large request body.

Run from the repository root (``python -m benchmarks`` runs it with the others)::

    python -m benchmarks.bench_stream                   # 256 MiB, 5 rounds, about 15 s
    python -m benchmarks.bench_stream --requests 1024   # 1 GiB, as PRODUCT.md says
    python -m benchmarks.bench_stream --quick           # 64 MiB, 2 rounds

Two transfers, each through ``client.stream(...)`` so that no client is asked to
hold a body: a response the app sends in 64 KiB chunks (``GET``; the test reads it
with ``iter_raw``), and a request body the client sends from a generator of 64 KiB
chunks (``POST``; the app reads it to the end). Every chunk is a new bytes object,
as a file read would give, so whoever keeps the chunks pays for them in memory.

Each transfer runs in a fresh interpreter, so its memory is its own: the child
builds the client (inside ``with``, lifespan run), does a 1 MiB transfer to warm
up, restarts the count of its peak resident memory from the current one (Linux:
``/proc/self/clear_refs``; elsewhere the peak so far is the baseline), times the
big transfer, and reports the growth of the peak (``ru_maxrss``). The children
run round-robin, the starting one rotating each round; throughput is the median
over rounds, memory growth the largest; in the JSON, a contender's time is
microseconds per MiB. The "of transfer" column says what each client does with
a body: about 0 % streams it, 100 % or more holds it whole (with Starlette 1.10,
its TestClient reads a request body in full before the app sees it, and httpx2's
ASGITransport keeps the whole response until the app returns; the column shows
what the installed versions do).

Targets (PRODUCT.md): unwired's peak memory grows by less than 50 MB and its
throughput is at least twice that of Starlette's TestClient.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx2
import starlette.testclient

import unwired

from . import _cli
from ._apps import achunks, bytes_app, chunks
from ._core import Benchmark, Config, Contender, Target, Timer
from .bench_async import asgi_transport_client

MIB = 1 << 20
MB = 1_000_000
WARMUP_BYTES = MIB
RSS_LIMIT_MB = 50.0

# -- the transfers, run in a child process --------------------------------------


def peak_rss() -> int:
    """The process's peak resident memory so far, in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, else KiB


def restart_peak() -> None:
    """On Linux, make the peak resident memory the current one, so that a peak reached
    earlier (while importing, say) cannot hide growth below it; elsewhere, nothing."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


@contextmanager
def metered(figures: dict[str, float]) -> Iterator[None]:
    """Put the seconds the block took and the growth of the peak memory in ``figures``."""
    restart_peak()
    before = peak_rss()
    start = time.perf_counter()
    yield
    figures["seconds"] = time.perf_counter() - start
    figures["rss_growth"] = peak_rss() - before


def _check(got: int, size: int) -> None:
    if got != size:
        raise RuntimeError(f"transferred {got} bytes instead of {size}")


def sync_transfer(client: httpx2.Client, upload: bool, size: int) -> None:
    if upload:
        with client.stream("POST", "/", content=chunks(size)) as response:
            _check(int(response.read()), size)
    else:
        with client.stream("GET", f"/?{size}") as response:
            _check(sum(len(chunk) for chunk in response.iter_raw()), size)


async def async_transfer(client: httpx2.AsyncClient, upload: bool, size: int) -> None:
    if upload:
        async with client.stream("POST", "/", content=achunks(size)) as response:
            _check(int(await response.aread()), size)
    else:
        async with client.stream("GET", f"/?{size}") as response:
            _check(sum([len(chunk) async for chunk in response.aiter_raw()]), size)


def sync_child(make: Callable[[], httpx2.Client], upload: bool, size: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with make() as client:
        sync_transfer(client, upload, WARMUP_BYTES)
        with metered(figures):
            sync_transfer(client, upload, size)
    return figures


def async_child(
    make: Callable[[], httpx2.AsyncClient], upload: bool, size: int
) -> dict[str, float]:
    async def main() -> dict[str, float]:
        figures: dict[str, float] = {}
        async with make() as client:
            await async_transfer(client, upload, WARMUP_BYTES)
            with metered(figures):
                await async_transfer(client, upload, size)
        return figures

    return asyncio.run(main())


RESPONSE = "streamed response (GET; the app sends 64 KiB chunks)"
REQUEST = "streamed request body (POST; the client sends 64 KiB chunks)"

Work = Callable[[Any, bool, int], dict[str, float]]  # (client factory, upload?, bytes)

#: (key, label, the child's work, the client it builds), for each direction
CLIENTS: list[tuple[str, str, Work, Callable[[], Any]]] = [
    ("unwired", "unwired TestClient", sync_child, partial(unwired.TestClient, bytes_app)),
    ("unwired_async", "unwired AsyncTestClient", async_child,
     partial(unwired.AsyncTestClient, bytes_app)),
    ("starlette", "Starlette TestClient", sync_child,
     partial(starlette.testclient.TestClient, bytes_app)),
    ("asgi_transport", "httpx2 AsyncClient + ASGITransport", async_child,
     partial(asgi_transport_client, bytes_app)),
]  # fmt: skip

#: key: (label, group, the child's work given the size in bytes)
TRANSFERS: dict[str, tuple[str, str, Callable[[int], dict[str, float]]]] = {
    f"{direction}_{name}": (label, group, partial(work, make, direction == "request"))
    for direction, group in (("response", RESPONSE), ("request", REQUEST))
    for name, label, work, make in CLIENTS
}


def child(key: str, mib: int) -> None:
    """A child's whole job: one transfer of ``mib`` MiB; its figures go to stdout as JSON."""
    print(json.dumps(TRANSFERS[key][2](mib * MIB)))


# -- the parent: round-robin over children --------------------------------------

ROOT = Path(__file__).resolve().parent.parent  # where ``benchmarks`` can be imported from
CHILD = (
    "import sys; from benchmarks.bench_stream import child; child(sys.argv[1], int(sys.argv[2]))"
)

DEFAULT = Config(rounds=5, requests=256, warmup=0)  # requests: MiB a transfer
QUICK = Config(rounds=2, requests=64, warmup=0)


def in_a_child(key: str, extra: dict[str, list[float]]) -> Callable[[ExitStack], Timer]:
    """The timer of one transfer: ``n`` MiB in a new child; returns microseconds per MiB,
    and adds the child's throughput and growth of peak memory to the lists in ``extra``."""

    def timer(mib: int) -> float:
        command = [sys.executable, "-c", CHILD, key, str(mib)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"the {key} transfer failed:\n{done.stderr}")
        figures = json.loads(done.stdout)
        seconds = float(figures["seconds"])
        extra["rss_growth_bytes"].append(figures["rss_growth"])
        extra["mb_per_s"].append(mib * MIB / MB / seconds)
        return seconds / mib * 1e6

    return lambda stack: timer


def contenders() -> list[Contender]:
    todo = []
    for key, (label, group, _) in TRANSFERS.items():
        extra: dict[str, list[float]] = {"rss_growth_bytes": [], "mb_per_s": []}
        todo.append(Contender(key, label, group, in_a_child(key, extra), extra=extra))
    return todo


def throughput(contender: Contender) -> float:
    """Median MB/s (1 MiB over the median microseconds per MiB)."""
    return MIB / contender.median


def growth_mb(contender: Contender) -> float:
    """The largest growth of peak memory over the rounds, in MB."""
    growths: list[float] = contender.extra["rss_growth_bytes"]
    return max(growths) / MB


def table(config: Config, results: Sequence[Contender]) -> list[str]:
    lines = [
        f"  {'':44} {'MiB/round':>9} {'MB/s':>7} {'spread':>7} {'RSS growth':>11} "
        f"{'of transfer':>12} {'x Starlette':>12}"
    ]
    starlette_us = {c.group: c.median for c in results if c.key.endswith("_starlette")}
    group = ""
    for c in results:
        if c.group != group:
            group = c.group
            lines.append(f"  {group}")
        held = growth_mb(c) * MB / (config.requests * MIB)
        lines.append(
            f"    {c.label:42} {config.requests:9} {throughput(c):7.0f} "
            f"{'±' + format(c.spread, '.0%'):>7} {growth_mb(c):8.1f} MB {held:12.0%} "
            f"{starlette_us[group] / c.median:11.2f}x"
        )
    return lines


def targets(results: Mapping[str, Contender]) -> list[Target]:
    def faster(key: str, than: str) -> float:
        return results[than].median / results[key].median

    goals = []
    for direction, what in (("response", "response"), ("request", "request body")):
        sync, async_ = f"{direction}_unwired", f"{direction}_unwired_async"
        goals += [
            Target(f"{what}: peak RSS growth, unwired sync", growth_mb(results[sync]),
                   "<", RSS_LIMIT_MB, " MB"),
            Target(f"{what}: peak RSS growth, unwired async", growth_mb(results[async_]),
                   "<", RSS_LIMIT_MB, " MB"),
            Target(f"{what}: throughput, unwired sync / Starlette",
                   faster(sync, f"{direction}_starlette"), ">=", 2.0),
            Target(f"{what}: throughput, unwired async / Starlette",
                   faster(async_, f"{direction}_starlette"), ""),
            Target(f"{what}: throughput, unwired async / ASGITransport",
                   faster(async_, f"{direction}_asgi_transport"), ""),
        ]  # fmt: skip
    return goals


BENCHMARK = Benchmark(
    "stream",
    "streamed bodies through client.stream(), one fresh process a transfer",
    DEFAULT,
    QUICK,
    contenders,
    targets,
    table=table,
)


def main(argv: list[str] | None = None) -> int:
    return _cli.main(argv, "benchmarks.bench_stream", __doc__, [BENCHMARK])


if __name__ == "__main__":
    sys.exit(main())
