"""The benchmark suite runs end to end on tiny sizes: every benchmark, contender and target
reaches the report and the JSON. Nothing here asserts a timing (``python -m benchmarks``
measures; this only proves it runs)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from benchmarks import __main__ as suite
from benchmarks._core import Config, Target

#: Enough to run every path once (two rounds, so the rotation runs too), not to measure.
TINY = Config(rounds=2, requests=3, warmup=1)
#: Stream and import contenders start a process per run: one round, 1 MiB a transfer.
TINY_IN_CHILDREN = Config(rounds=1, requests=1, warmup=0)

CONTENDERS = {
    "sync_http": {
        "floor",
        "unwired_outside",
        "unwired_inside",
        "starlette_inside",
        "starlette_outside",
        "realistic_unwired_inside",
        "realistic_starlette_inside",
        "post_floor",
        "post_unwired_inside",
        "post_starlette_inside",
    },
    "async_http": {
        "floor",
        "unwired_inside",
        "unwired_outside",
        "asgi_transport",
        "post_floor",
        "post_unwired_inside",
        "post_asgi_transport",
    },
    "websocket": {
        "unwired_sync",
        "unwired_async",
        "starlette",
        "app_unwired_sync",
        "app_unwired_async",
        "app_starlette",
    },
    "lifespan": {
        "floor",
        "unwired_with",
        "starlette_with",
        "unwired_closed",
        "starlette_closed",
        "async_floor",
        "asgi_transport",
        "unwired_async",
    },
    "stream": {
        f"{direction}_{client}"
        for direction in ("response", "request")
        for client in ("unwired", "unwired_async", "starlette", "asgi_transport")
    },
    "import": {"bare", "httpx2", "unwired", "unwired_client", "starlette_testclient"},
}

#: PRODUCT.md's targets, as the suite checks them: (benchmark, label, op, bound).
PRODUCT_TARGETS = [
    ("sync_http", "GET: unwired reused (outside with) / floor", "<=", 1.3),
    ("sync_http", "GET: unwired inside with / floor", "<=", 1.3),
    ("sync_http", "GET: Starlette inside with / unwired inside with", ">=", 8.0),
    ("async_http", "GET: unwired inside async with / floor", "<=", 1.15),
    ("async_http", "GET: unwired, no async with / floor", "<=", 1.15),
    ("async_http", "GET: ASGITransport / unwired inside async with", ">", 1.0),
    ("websocket", "Starlette / unwired sync", ">=", 10.0),
    ("websocket", "Starlette / unwired async", ">=", 10.0),
    ("stream", "response: peak RSS growth, unwired sync", "<", 50.0),
    ("stream", "response: peak RSS growth, unwired async", "<", 50.0),
    ("stream", "response: throughput, unwired sync / Starlette", ">=", 2.0),
    ("stream", "request body: peak RSS growth, unwired sync", "<", 50.0),
    ("stream", "request body: peak RSS growth, unwired async", "<", 50.0),
    ("stream", "request body: throughput, unwired sync / Starlette", ">=", 2.0),
    ("import", "python -c 'import unwired' / 'import httpx2'", "<=", 1.5),
]


def test_the_quick_suite_reports_every_contender_and_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny = [
        dataclasses.replace(b, quick=TINY_IN_CHILDREN if b.name in ("stream", "import") else TINY)
        for b in suite.BENCHMARKS
    ]
    path = tmp_path / "bench.json"

    assert suite.main(["--quick", "--json", str(path)], tiny) == 0

    report = capsys.readouterr().out
    document = json.loads(path.read_text(encoding="utf-8"))
    benchmarks = document["benchmarks"]
    assert {name: set(entry["contenders"]) for name, entry in benchmarks.items()} == CONTENDERS
    for name, entry in benchmarks.items():
        assert f"{name}: " in report
        for contender in entry["contenders"].values():
            assert len(contender["rounds_us"]) == entry["config"]["rounds"]
            assert contender["median_us"] > 0
            assert contender["label"] in report
    for key in CONTENDERS["stream"]:
        assert len(benchmarks["stream"]["contenders"][key]["rss_growth_bytes"]) == 1
    checked = [
        (t["benchmark"], t["label"], t["op"], t["bound"]) for t in document["targets"] if t["op"]
    ]
    assert checked == PRODUCT_TARGETS
    for target in document["targets"]:
        assert target["verdict"] in ({"PASS", "FAIL"} if target["op"] else {"info"})
        assert target["label"] in report
    assert "target(s) met" in report


def test_only_runs_the_benchmarks_named(tmp_path: Path) -> None:
    tiny = [dataclasses.replace(b, quick=TINY) for b in suite.BENCHMARKS]
    path = tmp_path / "bench.json"

    suite.main(["--quick", "--only", "websocket", "--json", str(path)], tiny)

    assert list(json.loads(path.read_text(encoding="utf-8"))["benchmarks"]) == ["websocket"]


@pytest.mark.parametrize(
    ("value", "op", "verdict"),
    [
        (1.0, "<=", "PASS"),
        (1.0, "<", "FAIL"),
        (1.0, ">=", "PASS"),
        (1.0, ">", "FAIL"),
        (0.5, ">", "FAIL"),
        (0.5, "<", "PASS"),
        (0.5, "", "info"),
    ],
)
def test_a_target_is_met_when_its_comparison_holds(value: float, op: str, verdict: str) -> None:
    assert Target("t", value, op, 1.0).verdict == verdict
