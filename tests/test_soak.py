"""A short soak (the full one is ``python -m benchmarks.soak``): nothing leaks."""

from __future__ import annotations

import logging

import pytest
from benchmarks import soak


@pytest.fixture(autouse=True)
def _quiet_httpx2(caplog: pytest.LogCaptureFixture) -> None:
    # httpx2 logs each request at INFO; if another test turned that on (Litestar sets
    # its level), pytest keeps every record for the report, which the soak would count.
    caplog.set_level(logging.WARNING, logger="httpx2")


@pytest.mark.parametrize(
    "scenario",
    [
        lambda: soak.one_sync_client(1_000, 100),
        lambda: soak.one_sync_client(300, 30, "trio"),
        lambda: soak.one_async_client(1_000, 100),
        lambda: soak.short_lived_clients(200),
    ],
    ids=["sync-asyncio", "sync-trio", "async-asyncio", "short-lived"],
)
def test_soak_leaves_no_threads_descriptors_tasks_or_warnings(scenario: object) -> None:
    result = scenario()  # type: ignore[operator]
    result.check(rss_slack_mib=8.0)
    assert result.problems == [], soak.report([result])
    assert result.before.threads == result.after.threads
    if result.before.tasks is not None:
        assert result.after.tasks == result.before.tasks


def test_the_soak_flags_what_leaks() -> None:
    before = soak.Snapshot(threads=2, fds=10, rss_mib=30.0, tasks=0, objects=1000)
    after = soak.Snapshot(threads=3, fds=12, rss_mib=50.0, tasks=1, objects=9000)
    result = soak.Result("leaky", "work", 1.0, before, after)
    result.check(rss_slack_mib=8.0)
    assert result.problems == [
        "1 more threads",
        "2 more fds",
        "1 more tasks",
        "8000 more objects",
        "RSS grew 20.0 MiB",
    ]
    assert "LEAK: 1 more threads" in soak.report([result])
