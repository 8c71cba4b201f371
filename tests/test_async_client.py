"""AsyncTestClient on the caller's own loop: asyncio, uvloop and trio."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.lowlevel
import httpx2
import pytest
import sniffio

from tests.apps import Recorder, text_app
from tests.test_lifespan import LifespanApp
from unwired import ASGIProtocolError, AsyncTestClient, LifespanFailed
from unwired._types import Receive, Scope, Send

pytestmark = pytest.mark.anyio


def current_loop() -> object:
    """The identity of the running loop, whichever library runs it."""
    if sniffio.current_async_library() == "trio":
        import trio

        return trio.lowlevel.current_trio_token()
    return asyncio.get_running_loop()


def test_is_an_httpx2_async_client_and_not_collected() -> None:
    assert issubclass(AsyncTestClient, httpx2.AsyncClient)
    assert AsyncTestClient.__test__ is False


async def test_the_app_runs_on_the_tests_loop_without_threads() -> None:
    seen: list[object] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(current_loop())
        await text_app(b"same loop")(scope, receive, send)

    threads = threading.active_count()
    async with AsyncTestClient(app, lifespan="off") as client:
        responses = [await client.get("/") for _ in range(3)]
    assert [r.content for r in responses] == [b"same loop"] * 3
    assert seen == [current_loop()] * 3
    assert threading.active_count() == threads


async def test_request_body_and_scope() -> None:
    app = Recorder()

    async def body() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    async with AsyncTestClient(app, lifespan="off") as client:
        assert (await client.post("/x?y=1", content=body())).content == b"ab"
    assert app.received == [
        {"type": "http.request", "body": b"a", "more_body": True},
        {"type": "http.request", "body": b"b", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": False},
        {"type": "http.disconnect"},
    ]
    scope = app.scopes[0]
    assert (scope["path"], scope["query_string"], scope["server"]) == (
        "/x",
        b"y=1",
        ("testserver", 80),
    )


async def test_file_uploads_are_read_off_the_loop(tmp_path: Any) -> None:
    app = Recorder()
    path = tmp_path / "upload.txt"
    path.write_bytes(b"file contents")
    async with AsyncTestClient(app, lifespan="off") as client:
        with path.open("rb") as file:
            response = await client.post("/", files={"f": ("upload.txt", file)})
    assert b"file contents" in response.content
    assert b'filename="upload.txt"' in response.content


async def test_streaming_an_infinite_response_then_closing() -> None:
    log: list[str] = []

    async def sse(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        number = 0
        try:
            while True:
                number += 1
                await send(
                    {"type": "http.response.body", "body": b"%d\n" % number, "more_body": True}
                )
                await anyio.lowlevel.checkpoint()
        except OSError:
            log.append("disconnected")

    # aiter_raw: httpx2's aiter_lines/aiter_text nest async generators it does
    # not close, which trio reports when a test stops reading early.
    async with (
        AsyncTestClient(sse, lifespan="off") as client,
        client.stream("GET", "/") as response,
        contextlib.aclosing(response.aiter_raw()) as chunks,
    ):
        assert [await anext(chunks) for _ in range(3)] == [b"1\n", b"2\n", b"3\n"]
    assert log == ["disconnected"]


async def test_hanging_app_times_out_with_its_stack_and_client_stays_usable() -> None:
    async def hang(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/ok":
            await text_app()(scope, receive, send)
            return
        await anyio.sleep_forever()

    async with AsyncTestClient(hang, timeout=0.1, lifespan="off") as client:
        with pytest.raises(httpx2.ReadTimeout) as info:
            await client.get("/hang")
        assert "waiting for the response to start" in str(info.value)
        assert (await client.get("/ok")).content == b"hi"


async def test_cancelling_the_test_cancels_the_apps_request() -> None:
    log: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/ok":
            await text_app()(scope, receive, send)
            return
        try:
            await anyio.sleep_forever()
        finally:
            log.append("app ended")

    async with AsyncTestClient(app, lifespan="off") as client:
        with anyio.move_on_after(0.05) as scope:
            await client.get("/slow")
        assert scope.cancelled_caught
        await anyio.sleep(0.01)
        assert log == ["app ended"]
        assert (await client.get("/ok")).content == b"hi"


async def test_lifespan_state_and_shutdown() -> None:
    app = LifespanApp()
    client = AsyncTestClient(app)
    async with client:
        assert (await client.get("/")).content == b"[('db', 'connected')]"
        assert app.log == ["lifespan.startup"]
    assert app.log == ["lifespan.startup", "lifespan.shutdown"]


async def test_lifespan_failure_is_raised() -> None:
    with pytest.raises(LifespanFailed, match="startup went wrong"):
        async with AsyncTestClient(LifespanApp(startup="failed")):
            pass


async def test_protocol_errors_and_app_exceptions() -> None:
    async def bad(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.body", "body": b"x"})

    async def boom(scope: Scope, receive: Receive, send: Send) -> None:
        raise KeyError("boom")

    async with AsyncTestClient(bad, lifespan="off") as client:
        with pytest.raises(ASGIProtocolError, match=r"before 'http\.response\.start'"):
            await client.get("/")
    async with AsyncTestClient(boom, lifespan="off") as client:
        with pytest.raises(KeyError, match="boom"):
            await client.get("/")
    client = AsyncTestClient(boom, lifespan="off", raise_server_exceptions=False)
    assert (await client.get("/")).status_code == 500


def test_without_a_running_loop_the_error_names_the_sync_client() -> None:
    client = AsyncTestClient(text_app(), lifespan="off")
    with pytest.raises(RuntimeError, match=r"in sync code use unwired\.TestClient"):
        client._backend()


def test_using_the_client_from_another_loop_than_its_lifespan_is_an_error() -> None:
    client = AsyncTestClient(LifespanApp())
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(client.__aenter__())

        async def elsewhere() -> None:
            await client.get("/")

        with pytest.raises(RuntimeError, match="runs on another event loop"):
            asyncio.run(elsewhere())
        loop.run_until_complete(client.__aexit__())
    finally:
        loop.close()


async def test_aclose_ends_what_the_test_left_open() -> None:
    """Like TestClient.close(): a stream, a session and the lifespan left open are ended."""
    log: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if scope["type"] == "lifespan":
                await receive()
                await send({"type": "lifespan.startup.complete"})
                await receive()
            elif scope["type"] == "websocket":
                await receive()
                await send({"type": "websocket.accept"})
                await receive()
            else:
                await send({"type": "http.response.start", "status": 200})
                while True:
                    await send({"type": "http.response.body", "body": b"x", "more_body": True})
        finally:
            log.append(f"{scope['type']} ended")

    client = AsyncTestClient(app)
    await client.__aenter__()
    response = await client.send(client.build_request("GET", "/"), stream=True)
    session = await client.websocket_connect("/ws").__aenter__()
    assert (response.status_code, log) == (200, [])
    await client.aclose()
    assert sorted(log) == ["http ended", "lifespan ended", "websocket ended"]
    assert session is not None
    with pytest.raises(RuntimeError, match="closed"):
        await client.get("/")


async def test_a_request_that_is_not_streamed_gets_its_whole_body_within_the_timeout() -> None:
    from tests.test_streaming import ENDLESS_MESSAGE

    async def endless(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while True:
            await send({"type": "http.response.body", "body": b"tick", "more_body": True})
            await anyio.sleep(0.01)

    async with AsyncTestClient(endless, lifespan="off", timeout=0.3) as client:
        with pytest.raises(httpx2.ReadTimeout) as info:
            await client.get("/events")
        assert str(info.value).startswith(ENDLESS_MESSAGE)


def test_a_bad_timeout_is_refused_by_the_constructor() -> None:
    with pytest.raises(TypeError) as info:
        AsyncTestClient(text_app(), timeout="abc")  # type: ignore[arg-type]
    assert str(info.value) == (
        "timeout must be a number of seconds > 0, an httpx2.Timeout, or None (no limit), "
        "not str 'abc'"
    )
    with pytest.raises(ValueError, match=r"^timeout must be a number .*, not -1$"):
        AsyncTestClient(text_app(), timeout=-1)


async def test_a_bad_per_request_timeout_is_refused() -> None:
    async with AsyncTestClient(text_app(), lifespan="off") as client:
        with pytest.raises(ValueError, match=r"^timeout must be a number .*, not 0: "):
            await client.get("/", timeout=0)


async def test_entering_twice_names_async_with() -> None:
    client = AsyncTestClient(text_app(), lifespan="off")
    async with client:
        with pytest.raises(RuntimeError) as info:
            await client.__aenter__()
    assert str(info.value) == (
        "this client is already inside an 'async with client:' block; use the client of the "
        "outer block (to run a second copy of the app, create a second client)"
    )


def test_with_on_the_async_client_names_the_right_statement() -> None:
    client = AsyncTestClient(text_app())
    with pytest.raises(TypeError) as info, client:  # type: ignore[attr-defined]
        pass
    assert str(info.value) == (
        "AsyncTestClient is used with 'async with client:', not 'with'; in sync tests, use "
        "unwired.TestClient"
    )
