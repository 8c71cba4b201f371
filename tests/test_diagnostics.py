"""Where-is-the-app-stuck reports."""

from __future__ import annotations

import asyncio
import os
import threading

import anyio
import httpx2
import pytest

from unwired import AsyncTestClient, TestClient
from unwired._diagnostics import MAX_CHILDREN, where_suspended
from unwired._types import Receive, Scope, Send


async def _inner(event: asyncio.Event) -> None:
    await event.wait()


async def _outer(event: asyncio.Event) -> None:
    await _inner(event)


def test_stack_lists_app_frames_innermost_last_and_hides_asyncio() -> None:
    async def main() -> str:
        event = asyncio.Event()
        task = asyncio.get_running_loop().create_task(_outer(event))
        await asyncio.sleep(0)
        report = where_suspended(task)
        event.set()
        await task
        return report

    report = asyncio.run(main())
    lines = report.splitlines()
    assert lines[1] == "the app is suspended at (innermost last):"
    assert [line.rsplit(" in ", 1)[1] for line in lines[2:]] == ["_outer", "_inner"]
    assert all(__file__ in line for line in lines[2:])
    assert "asyncio" not in report


def test_nothing_to_show_gives_an_empty_report() -> None:
    assert where_suspended(None) == ""

    async def main() -> str:
        task = asyncio.get_running_loop().create_task(asyncio.sleep(10))  # hidden frames only
        await asyncio.sleep(0)
        report = where_suspended(task)
        task.cancel()
        return report

    assert asyncio.run(main()) == ""


# Through the clients: an app whose request waits on its own child tasks.

_finished: list[str] = []


async def _poll_database(event: anyio.Event) -> None:
    try:
        await event.wait()  # never set: the hang the report must point at
    finally:
        _finished.append("poll")


async def _heartbeat() -> None:
    try:
        await anyio.sleep_forever()
    finally:
        _finished.append("heartbeat")


async def _grouped_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/ok":
        await send({"type": "http.response.start", "status": 204})
        await send({"type": "http.response.body"})
        return
    async with anyio.create_task_group() as group:
        group.start_soon(_poll_database, anyio.Event(), name="poll-database")
        group.start_soon(_heartbeat, name="heartbeat")


def _section(report: str, title: str) -> list[str]:
    """The function names listed under ``title``, innermost last."""
    lines = report.split(f"\n{title} (innermost last):\n", 1)[1].split("\n\n", 1)[0]
    names = []
    for line in lines.splitlines():
        if not line.startswith("  "):
            break
        names.append(line.rsplit(" in ", 1)[1])
    return names


def _assert_grouped_report(report: str) -> None:
    assert "GET /hang: timed out after 0.2s waiting for the response to start" in report
    assert _section(report, "the app is suspended at") == ["_grouped_app"]
    assert _section(report, "its child task 'heartbeat' is suspended at") == ["_heartbeat"]
    assert _section(report, "its child task 'poll-database' is suspended at") == ["_poll_database"]
    # children are listed by name, after the app's own stack
    assert report.index("'heartbeat'") < report.index("'poll-database'")
    assert f"{os.sep}anyio{os.sep}" not in report
    assert f"{os.sep}asyncio{os.sep}" not in report


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_timeout_report_shows_the_child_tasks_of_the_apps_task_group(backend: str) -> None:
    _finished.clear()
    client = TestClient(_grouped_app, backend=backend, timeout=0.2)  # type: ignore[arg-type]
    with client:
        with pytest.raises(httpx2.ReadTimeout) as info:
            client.get("/hang")
        _assert_grouped_report(str(info.value))
        assert sorted(_finished) == ["heartbeat", "poll"]  # cancelled, finally blocks ran
        assert client.get("/ok").status_code == 204  # and the client goes on


@pytest.mark.anyio
async def test_async_client_timeout_report_shows_child_tasks() -> None:
    _finished.clear()
    async with AsyncTestClient(_grouped_app, timeout=0.2) as client:
        with pytest.raises(httpx2.ReadTimeout) as info:
            await client.get("/hang")
        _assert_grouped_report(str(info.value))
        assert sorted(_finished) == ["heartbeat", "poll"]
        assert (await client.get("/ok")).status_code == 204


async def _stdlib_grouped_app(scope: Scope, receive: Receive, send: Send) -> None:
    async with asyncio.TaskGroup() as group:
        group.create_task(_heartbeat(), name="heartbeat")
        group.create_task(_heartbeat(), name="heartbeat-2")


def _timeout_report(app: object, backend: str = "asyncio") -> str:
    client = TestClient(app, lifespan="off", backend=backend, timeout=0.2)  # type: ignore[arg-type]
    with client, pytest.raises(httpx2.ReadTimeout) as info:
        client.get("/")
    return str(info.value)


def test_timeout_report_finds_children_of_asyncio_task_groups() -> None:
    report = _timeout_report(_stdlib_grouped_app)
    assert _section(report, "the app is suspended at") == ["_stdlib_grouped_app"]
    assert _section(report, "its child task 'heartbeat' is suspended at") == ["_heartbeat"]
    assert _section(report, "its child task 'heartbeat-2' is suspended at") == ["_heartbeat"]


async def _nested_app(scope: Scope, receive: Receive, send: Send) -> None:
    async def spawner() -> None:
        async with anyio.create_task_group() as inner:
            inner.start_soon(_heartbeat, name="grandchild")

    async with anyio.create_task_group() as group:
        group.start_soon(spawner, name="child")


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_timeout_report_reaches_grandchildren(backend: str) -> None:
    report = _timeout_report(_nested_app, backend)
    assert _section(report, "its child task 'child' is suspended at") == ["spawner"]
    assert _section(report, "its child task 'grandchild' is suspended at") == ["_heartbeat"]


async def _crowded_app(scope: Scope, receive: Receive, send: Send) -> None:
    async with anyio.create_task_group() as group:
        for number in range(MAX_CHILDREN + 3):
            group.start_soon(_heartbeat, name=f"worker-{number:02}")


def test_timeout_report_counts_the_children_it_does_not_show() -> None:
    report = _timeout_report(_crowded_app)
    assert report.count("its child task") == MAX_CHILDREN
    assert "'worker-00'" in report
    assert f"'worker-{MAX_CHILDREN:02}'" not in report
    assert report.endswith("\n(and 3 more child tasks)")


def test_timeout_report_shows_the_worker_thread_of_a_sync_endpoint() -> None:
    from fastapi import FastAPI

    app = FastAPI()
    release = threading.Event()

    @app.get("/")
    def blocking_endpoint() -> dict[str, str]:
        release.wait(10)  # a sync endpoint stuck on a lock, a socket, a slow query...
        return {}

    try:
        report = _timeout_report(app)
    finally:
        release.set()
    assert _section(report, "the app is suspended at")[-1] == "run_in_threadpool"
    thread_stack = _section(report, "its worker thread 'AnyIO worker thread' is suspended at")
    assert thread_stack[-1] == "blocking_endpoint"
    assert "threading.py" not in report
