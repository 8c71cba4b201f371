"""Import time: ``python -c "import unwired"`` against ``python -c "import httpx2"``.

Run from the repository root (``python -m benchmarks`` runs it with the others)::

    python -m benchmarks.bench_import            # 7 rounds of 5 runs each, about 15 s
    python -m benchmarks.bench_import --quick

One operation is a whole fresh interpreter importing one module and exiting, timed
from the parent (start to exit), as a user's shell or test runner sees it. The
interpreters run round-robin, the starting one rotating each round; a number is
the median over rounds of the mean time per run. Byte-code caches may be written
(``PYTHONDONTWRITEBYTECODE`` is dropped) and a warm-up run writes them, so what is
timed is the steady state, not a first compile. ``python -c pass`` is the
interpreter alone: less that, the ratio of the imports themselves is given too.
``from unwired import TestClient`` is what a test module does; if ``unwired``
defers loading its clients, only this one pays for them.

Target (PRODUCT.md): ``import unwired`` at most 1.5x ``import httpx2``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from contextlib import ExitStack

from . import _cli
from ._core import Benchmark, Config, Contender, Target, Timer, repeat

GROUP = "python -c CODE, a fresh interpreter each run"

DEFAULT = Config(rounds=7, requests=5, warmup=1)
QUICK = Config(rounds=3, requests=2, warmup=1)


def interpreter(code: str) -> Callable[[ExitStack], Timer]:
    """``python -c code``, run again and again; it must succeed."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    command = [sys.executable, "-c", code]

    def once() -> None:
        subprocess.run(command, env=env, check=True, stdin=subprocess.DEVNULL)

    return lambda stack: repeat(once)


def contenders() -> list[Contender]:
    return [
        Contender(key, f"python -c {code!r}", GROUP, interpreter(code))
        for key, code in (
            ("bare", "pass"),
            ("httpx2", "import httpx2"),
            ("unwired", "import unwired"),
            ("unwired_client", "from unwired import TestClient"),
            ("starlette_testclient", "import starlette.testclient"),
        )
    ]


def targets(results: Mapping[str, Contender]) -> list[Target]:
    bare, httpx2, unwired, client = (
        results[key].median for key in ("bare", "httpx2", "unwired", "unwired_client")
    )
    return [
        Target("python -c 'import unwired' / 'import httpx2'", unwired / httpx2, "<=", 1.5),
        Target("the imports alone (less python -c pass): unwired / httpx2",
               (unwired - bare) / (httpx2 - bare), ""),
        Target("'from unwired import TestClient' / 'import httpx2'", client / httpx2, ""),
    ]  # fmt: skip


BENCHMARK = Benchmark(
    "import",
    "import time in a fresh interpreter, mean time per run",
    DEFAULT,
    QUICK,
    contenders,
    targets,
    references={GROUP: "httpx2"},
)


def main(argv: list[str] | None = None) -> int:
    return _cli.main(argv, "benchmarks.bench_import", __doc__, [BENCHMARK])


if __name__ == "__main__":
    sys.exit(main())
