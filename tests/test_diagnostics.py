"""Where-is-the-app-stuck reports."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading

import anyio
import httpx2
import pytest

from unwired import AsyncTestClient, TestClient
from unwired._diagnostics import MAX_CHILDREN, waiting_in_receive, where_suspended
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


# Every wait on the app: the message says what was awaited, for how long, and where.


class _StuckApp:
    """Hangs at ``where``; in ``_stuck_here``, which every report must end at."""

    def __init__(self, where: str) -> None:
        self.where = where

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await receive()
            await self._maybe_stuck("startup")
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await self._maybe_stuck("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
        elif kind == "websocket":
            await receive()
            await self._maybe_stuck("accept")
            await send({"type": "websocket.accept"})
            await self._maybe_stuck("message")
        else:
            await self._maybe_stuck("start")
            await send({"type": "http.response.start", "status": 200})
            await send({"type": "http.response.body", "body": b"1", "more_body": True})
            await self._maybe_stuck("chunk")
            await _stuck_here(shielded=True)  # "exit": ignores its disconnect and cancellation

    async def _maybe_stuck(self, where: str) -> None:
        if where == self.where:
            await _stuck_here()


async def _stuck_here(shielded: bool = False) -> None:
    if not shielded:
        await anyio.sleep(3600)
    end = anyio.current_time() + 0.5
    while (left := end - anyio.current_time()) > 0:  # half a second, whatever happens
        try:
            with anyio.CancelScope(shield=True):  # shields from trio's cancellation...
                await anyio.sleep(left)
        except anyio.get_cancelled_exc_class():  # ...and this from asyncio's task.cancel()
            pass


def _provoke(client: TestClient, where: str) -> None:
    if where in ("startup", "shutdown"):
        with client:
            pass
    elif where in ("accept", "message"):
        with client.websocket_connect("/") as websocket:
            websocket.receive_text()
    elif where == "start":
        client.get("/")
    else:
        with client.stream("GET", "/") as response:
            chunks = response.iter_raw()
            next(chunks)
            if where == "chunk":
                next(chunks)


WAITS = {
    "start": "the response to start",
    "chunk": "the next chunk of the response body",
    "exit": "the app to exit after cancellation",
    "accept": "the app to accept the connection",
    "message": "a message from the app",
    "startup": "the app to answer 'lifespan.startup'",
    "shutdown": "the app to answer 'lifespan.shutdown'",
}


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("where", list(WAITS))
def test_every_wait_reports_what_how_long_and_where(
    where: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("unwired._app_task.CANCEL_WAIT", 0.2)
    lifespan = "on" if where in ("startup", "shutdown") else "off"
    client = TestClient(_StuckApp(where), backend=backend, lifespan=lifespan, timeout=0.2)  # type: ignore[arg-type]
    with pytest.raises((httpx2.TimeoutException, TimeoutError)) as info:
        _provoke(client, where)
    message = str(info.value)
    assert f"timed out after 0.2s waiting for {WAITS[where]}" in message
    assert _section(message, "the app is suspended at")[-1] == "_stuck_here"
    if where in ("accept", "message"):  # a WebSocket session's waits: builtin TimeoutError
        assert type(info.value) is TimeoutError
    else:
        assert isinstance(info.value, httpx2.TimeoutException)
    client.close()


# -- an app waiting in receive() for the test ----------------------------------------


async def _reads_past_its_body(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()  # the request body
    await receive()  # waits for the response to end, which it never sends


async def _waits_for_a_message(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    await receive()


async def _sleeps(scope: Scope, receive: Receive, send: Send) -> None:
    await anyio.sleep(3600)


_HTTP_NOTE = (
    "the app is waiting in receive() for the test: once the request body is read, "
    "receive() waits until the response is complete or the test goes away"
)
_WEBSOCKET_NOTE = (
    "the app is waiting in receive() for a message from the test; send it one "
    "(e.g. websocket.send_text(...)) before receiving, or have the app send first"
)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_timeout_says_when_the_app_waits_in_receive_for_the_test(backend: str) -> None:
    client = TestClient(_reads_past_its_body, backend=backend, lifespan="off", timeout=0.1)  # type: ignore[arg-type]
    with pytest.raises(httpx2.ReadTimeout) as info:
        client.get("/")
    lines = str(info.value).splitlines()
    assert lines[-2].endswith(" in _reads_past_its_body")
    assert lines[-1] == _HTTP_NOTE
    client.close()


def test_a_websocket_timeout_says_the_app_waits_for_a_message() -> None:
    with (
        TestClient(_waits_for_a_message).websocket_connect("/") as websocket,
        pytest.raises(TimeoutError) as info,
    ):
        websocket.receive_text(timeout=0.1)
    assert str(info.value).splitlines()[-1] == _WEBSOCKET_NOTE


def test_the_note_finds_receive_behind_framework_frames() -> None:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):  # else it is raised on leaving
            await websocket.receive_text()

    app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
    with (
        TestClient(app).websocket_connect("/ws") as websocket,
        pytest.raises(TimeoutError) as info,
    ):
        websocket.receive_text(timeout=0.1)
    lines = str(info.value).splitlines()
    assert "starlette" in lines[-2]
    assert lines[-1] == _WEBSOCKET_NOTE


def test_a_lifespan_timeout_in_receive_says_startup_is_unanswered() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await receive()  # before answering startup

    with pytest.raises(httpx2.ReadTimeout) as info, TestClient(app, timeout=0.1):
        pass
    assert str(info.value).splitlines()[-1] == (
        "the app is waiting in receive() for the next lifespan message, but the test waits "
        "for its answer to the last one"
    )


def test_no_note_when_the_app_waits_elsewhere() -> None:
    client = TestClient(_sleeps, lifespan="off", timeout=0.1)
    with pytest.raises(httpx2.ReadTimeout) as info:
        client.get("/")
    assert "receive()" not in str(info.value)
    client.close()


def test_waiting_in_receive_needs_a_shown_frame_above_receive() -> None:
    async def main() -> bool:
        task = asyncio.get_running_loop().create_task(asyncio.sleep(10))  # hidden frames only
        await asyncio.sleep(0)
        found = waiting_in_receive(task)
        task.cancel()
        return found

    assert asyncio.run(main()) is False
    assert waiting_in_receive(None) is False
