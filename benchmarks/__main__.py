"""The benchmark suite: every benchmark, one report, one table of targets, one JSON.

Run from the repository root (``scripts/bench`` installs first, then does this)::

    python -m benchmarks                      # 2 to 4 minutes on 2 cores
    python -m benchmarks --quick              # under 30 s, for smoke tests
    python -m benchmarks --json bench.json    # also write every number
    python -m benchmarks --only stream --requests 1024   # 1 GiB streams

Benchmarks, in order (each is also a script: ``python -m benchmarks.bench_http``):

- sync_http (bench_http): sync GET, trivial app, reused client outside and inside
  ``with``; GET to a Starlette app; POST of 64 KiB. Peers: httpx2 ``Client`` on a
  ``MockTransport`` (the floor), Starlette's TestClient.
- async_http (bench_async): async GET and POST 64 KiB. Peers: httpx2 ``AsyncClient``
  on a ``MockTransport`` (the floor) and on an ``ASGITransport``.
- websocket (bench_websocket): echo round trip, sync and async. Peer: Starlette's
  TestClient.
- lifespan (bench_lifespan): client construction, lifespan startup and shutdown.
- stream (bench_stream): 256 MiB streamed response and request body, throughput and
  peak memory growth, each transfer in a fresh process. Peers: Starlette's
  TestClient, ASGITransport.
- import (bench_import): ``python -c "import unwired"`` against ``import httpx2``.

Within a benchmark every contender runs in the same rounds, round-robin, in one
process (streams and imports: one child process per run, round-robin too); a
number is the median over rounds, and every target (PRODUCT.md, "Targets") is a
ratio of numbers from the same run. The leak soak is separate:
``python -m benchmarks.soak``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import (
    _cli,
    bench_async,
    bench_http,
    bench_import,
    bench_lifespan,
    bench_stream,
    bench_websocket,
)
from ._core import Benchmark

BENCHMARKS = (
    bench_http.BENCHMARK,
    bench_async.BENCHMARK,
    bench_websocket.BENCHMARK,
    bench_lifespan.BENCHMARK,
    bench_stream.BENCHMARK,
    bench_import.BENCHMARK,
)


def main(argv: Sequence[str] | None = None, benchmarks: Sequence[Benchmark] = BENCHMARKS) -> int:
    return _cli.main(argv, "benchmarks", __doc__, benchmarks)


if __name__ == "__main__":
    sys.exit(main())
