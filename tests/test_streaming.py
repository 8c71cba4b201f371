"""Response streaming: delivery as sent, back-pressure, early close, timeouts."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx2
import pytest

from unwired import TestClient
from unwired._types import Receive, Scope, Send


def test_stream_returns_at_response_start_while_the_app_is_still_working() -> None:
    release = asyncio.Event()
    log: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": [(b"a", b"1")]})
        log.append("started")
        await release.wait()
        await send({"type": "http.response.body", "body": b"late"})
        log.append("done")

    with TestClient(app, lifespan="off") as client:
        with client.stream("GET", "/") as response:
            assert (response.status_code, response.headers["a"], log) == (201, "1", ["started"])
            client.run(lambda: _set(release))
            assert response.read() == b"late"
        assert log == ["started", "done"]


async def _set(event: asyncio.Event) -> None:
    event.set()


def test_chunks_arrive_as_the_app_sends_them() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for index in range(3):
            await send({"type": "http.response.body", "body": b"%d" % index, "more_body": True})
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b""})

    with TestClient(app, lifespan="off") as client, client.stream("GET", "/") as response:
        assert list(response.iter_raw()) == [b"0", b"1", b"2"]


def test_send_waits_while_the_test_is_not_reading() -> None:
    chunk = b"x" * (64 * 1024)
    sent: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for index in range(64):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            sent.append(index)
        await send({"type": "http.response.body", "body": b""})

    with TestClient(app, lifespan="off") as client, client.stream("GET", "/") as response:
        client.run(asyncio.sleep, 0.01)  # let the app run as far as it can
        assert sent == []  # its first send() waits until the test takes the chunk
        chunks = response.iter_raw()
        assert next(chunks) == chunk
        client.run(asyncio.sleep, 0.01)
        assert sent == [0]  # one chunk further, and no more
        total = len(chunk) + sum(len(part) for part in chunks)
    assert total == 64 * len(chunk)
    assert len(sent) == 64


def test_chunks_are_delivered_one_by_one_as_sent() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one", b"", b"two"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b"end"})

    with TestClient(app, lifespan="off") as client, client.stream("GET", "/") as response:
        assert list(response.iter_raw()) == [b"one", b"two", b"end"]


def test_an_endless_stream_of_empty_chunks_still_times_out() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while True:
            await send({"type": "http.response.body", "body": b"x", "more_body": True})

    client = TestClient(app, timeout=0.2, lifespan="off")
    with client.stream("HEAD", "/") as response, pytest.raises(httpx2.ReadTimeout):
        response.read()


def test_closing_an_infinite_stream_early_disconnects_the_app() -> None:
    log: list[str] = []

    async def sse(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        number = 0
        try:
            while True:
                number += 1
                event = b"data: %d\n\n" % number
                await send({"type": "http.response.body", "body": event, "more_body": True})
                await asyncio.sleep(0.001)
        except OSError as exc:
            log.append(type(exc).__name__)
            raise
        finally:
            log.append("finally")

    with TestClient(sse, lifespan="off") as client:
        with client.stream("GET", "/events") as response:
            lines = response.iter_lines()
            events: list[str] = []
            for line in lines:
                if line.startswith("data:"):
                    events.append(line)
                if len(events) == 3:
                    break
        assert events == ["data: 1", "data: 2", "data: 3"]
        assert log == ["ClientDisconnected", "finally"]


def test_app_listening_for_disconnect_gets_http_disconnect() -> None:
    received: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # the (empty) request body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        received.append(dict(await receive()))  # blocks until the test goes away

    with TestClient(app, lifespan="off") as client, client.stream("GET", "/") as response:
        assert next(response.iter_raw()) == b"first"
    assert received == [{"type": "http.disconnect"}]


def test_an_app_ignoring_the_disconnect_is_cancelled_after_a_grace_period() -> None:
    log: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            log.append("cancelled")
            raise

    with TestClient(app, lifespan="off") as client:
        with client.stream("GET", "/"):
            pass
        assert log == ["cancelled"]


def test_an_app_that_never_answers_times_out_with_where_it_is_stuck() -> None:
    log: list[str] = []

    async def stuck_app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            log.append("finally")

    with TestClient(stuck_app, timeout=0.2, lifespan="off") as client:
        with pytest.raises(httpx2.ReadTimeout) as info:
            client.get("/slow")
        message = str(info.value)
        assert "GET /slow: timed out after 0.2s waiting for the response to start" in message
        assert f"{__file__}:" in message
        assert "in stuck_app" in message
        assert log == ["finally"]


def test_per_request_timeout_is_honoured_without_warning() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(3600)

    with TestClient(app, lifespan="off") as client, pytest.raises(httpx2.ReadTimeout):
        client.get("/", timeout=0.05)


def test_a_stalled_body_times_out_and_the_client_stays_usable() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if scope["path"] == "/ok":
            await send({"type": "http.response.body", "body": b"fine"})
            return
        await send({"type": "http.response.body", "body": b"one", "more_body": True})
        await asyncio.sleep(3600)

    with TestClient(app, timeout=0.1, lifespan="off") as client:
        with client.stream("GET", "/stall") as response, pytest.raises(httpx2.ReadTimeout) as info:
            response.read()
        assert "waiting for the next chunk of the response body" in str(info.value)
        assert client.get("/ok").content == b"fine"


def test_background_work_after_the_response_finishes_before_get_returns() -> None:
    log: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        await asyncio.sleep(0.01)
        log.append("background done")

    with TestClient(app, lifespan="off") as client:
        assert client.get("/").content == b"ok"
        assert log == ["background done"]


def test_trailers_are_collected() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "trailers": True})
        await send({"type": "http.response.body", "body": b"data"})
        await send({"type": "http.response.trailers", "headers": [(b"x-sum", b"1")]})

    with TestClient(app, lifespan="off") as client:
        response = client.get("/")
    assert response.content == b"data"
    assert response.extensions["http.response.trailers"] == [(b"x-sum", b"1")]


def test_pathsend_and_zerocopysend_stream_the_file(tmp_path: Any) -> None:
    path = tmp_path / "data.bin"
    payload = os.urandom(700_000)
    path.write_bytes(payload)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if scope["path"] == "/path":
            await send({"type": "http.response.pathsend", "path": str(path)})
            return
        with open(path, "rb") as file:
            await send(
                {"type": "http.response.zerocopysend", "file": file, "offset": 10, "count": 100}
            )

    with TestClient(app, lifespan="off") as client:
        assert client.get("/path").content == payload
        assert client.get("/zerocopy").content == payload[10:110]


def test_debug_early_hints_and_pushes_are_recorded() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        info = {"template": "page.html", "context": {"x": 1}}
        await send({"type": "http.response.debug", "info": info})
        await send({"type": "http.response.early_hint", "links": [b"</s.css>; rel=preload"]})
        await send({"type": "http.response.push", "path": "/s.css", "headers": []})
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b""})

    with TestClient(app, lifespan="off") as client:
        response = client.get("/")
    assert (response.template, response.context) == ("page.html", {"x": 1})  # type: ignore[attr-defined]
    assert response.extensions["http.response.early_hints"] == [[b"</s.css>; rel=preload"]]
    assert [push.path for push in response.extensions["http.response.push"]] == ["/s.css"]


def test_zerocopysend_without_offset_reads_from_the_current_position(tmp_path: Any) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"0123456789")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        with open(path, "rb") as file:
            file.seek(4)
            await send({"type": "http.response.zerocopysend", "file": file})

    with TestClient(app, lifespan="off") as client:
        assert client.get("/").content == b"456789"


def test_promised_trailers_that_never_come_leave_the_body_whole() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "trailers": True})
        await send({"type": "http.response.body", "body": b"hello"})
        await send(
            {"type": "http.response.trailers", "headers": [(b"x", b"1")], "more_trailers": True}
        )

    with TestClient(app, lifespan="off") as client:
        response = client.get("/")
    assert response.content == b"hello"
    assert response.extensions["http.response.trailers"] == [(b"x", b"1")]


def test_the_app_moves_on_to_its_next_chunk_while_the_test_reads_one() -> None:
    started: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for index in range(3):
            started.append(index)
            await send({"type": "http.response.body", "body": b"%d" % index, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    with TestClient(app, lifespan="off") as client, client.stream("GET", "/") as response:
        chunks = response.iter_raw()
        assert next(chunks) == b"0"
        assert started == [0, 1]  # the second chunk is on its way, not the third
        assert list(chunks) == [b"1", b"2"]


async def _endless(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    while True:
        await send({"type": "http.response.body", "body": b"data: tick\n\n", "more_body": True})
        await asyncio.sleep(0.01)


ENDLESS_MESSAGE = (
    "GET /events: timed out after 0.3s waiting for the end of the response body; a request "
    "that is not streamed must get its whole body within the timeout: read a response that "
    "does not end with client.stream()"
)


def test_a_request_that_is_not_streamed_gets_its_whole_body_within_the_timeout() -> None:
    client = TestClient(_endless, lifespan="off", timeout=0.3)
    with pytest.raises(httpx2.ReadTimeout) as info:
        client.get("/events")  # an SSE endpoint read whole would never return
    assert str(info.value).startswith(ENDLESS_MESSAGE)
    with client.stream("GET", "/events") as response:  # each chunk has the timeout
        chunks = response.iter_raw()
        assert [next(chunks) for _ in range(40)] == [b"data: tick\n\n"] * 40  # 0.4 s
    client.close()


def test_closing_a_response_after_its_client_closed_is_quiet() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        await asyncio.sleep(3600)

    client = TestClient(app, lifespan="off")
    response = client.send(client.build_request("GET", "/"), stream=True)
    client.close()  # cancels what the app left running
    response.close()  # that cancellation is the client's doing, not the app's failure
    assert response.is_closed
