"""WebSocket sessions over hand-written ASGI apps: the exact messages exchanged."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from unwired import (
    ASGIProtocolError,
    AsyncTestClient,
    TestClient,
    WebSocketDenialResponse,
    WebSocketDisconnect,
)
from unwired._types import Message, Receive, Scope, Send


class Echo:
    """Accepts, echoes text and bytes, and logs every message it receives."""

    def __init__(self) -> None:
        self.received: list[Message] = []
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            raise RuntimeError("websocket only")
        self.scopes.append(scope)
        while True:
            message = await receive()
            self.received.append(dict(message))
            if message["type"] == "websocket.connect":
                await send(
                    {"type": "websocket.accept", "subprotocol": "v2", "headers": [(b"x", b"y")]}
                )
            elif message["type"] == "websocket.receive":
                await send(
                    {
                        "type": "websocket.send",
                        **{k: v for k, v in message.items() if k in ("text", "bytes")},
                    }
                )
            else:
                return


def test_session_messages_and_scope() -> None:
    app = Echo()
    client = TestClient(app, base_url="https://example.org", lifespan="off")
    with client.websocket_connect(
        "/chat", subprotocols=["v1", "v2"], params={"room": 1, "u": "me"}
    ) as ws:
        assert (ws.accepted_subprotocol, ws.extra_headers) == ("v2", [(b"x", b"y")])
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
        ws.send_bytes(b"\x01\x02")
        assert ws.receive_bytes() == b"\x01\x02"
        ws.send_json({"a": [1, "é"]})
        assert ws.receive_json() == {"a": [1, "é"]}
        ws.send_json({"b": 2}, mode="binary")
        assert ws.receive_json(mode="binary") == {"b": 2}
    assert app.received == [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "hello"},
        {"type": "websocket.receive", "bytes": b"\x01\x02"},
        {"type": "websocket.receive", "text": '{"a":[1,"é"]}'},
        {"type": "websocket.receive", "bytes": b'{"b":2}'},
        {"type": "websocket.disconnect", "code": 1000, "reason": ""},
    ]
    scope = dict(app.scopes[0])
    headers = dict(scope.pop("headers"))
    assert scope == {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "wss",
        "path": "/chat",
        "raw_path": b"/chat",
        "query_string": b"room=1&u=me",
        "root_path": "",
        "client": ("testclient", 50000),
        "server": ("example.org", 443),
        "subprotocols": ["v1", "v2"],
        "state": {},
        "extensions": {"websocket.http.response": {}},
    }
    assert headers[b"sec-websocket-protocol"] == b"v1, v2"
    assert (headers[b"connection"], headers[b"sec-websocket-version"]) == (b"upgrade", b"13")


def test_close_with_code_and_reason_reaches_the_app() -> None:
    app = Echo()
    with TestClient(app).websocket_connect("/") as ws:
        ws.close(4001, "bye")
    assert app.received[-1] == {"type": "websocket.disconnect", "code": 4001, "reason": "bye"}


def closing_app(code: int, reason: str, accept: bool) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        if accept:
            await send({"type": "websocket.accept"})
            await receive()
        await send({"type": "websocket.close", "code": code, "reason": reason})

    return app


def test_app_closing_before_accept_raises_websocket_disconnect() -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        TestClient(closing_app(4003, "forbidden", accept=False)).websocket_connect("/").__enter__()
    assert (info.value.code, info.value.reason) == (4003, "forbidden")


def test_app_closing_mid_session_raises_on_receive() -> None:
    with TestClient(closing_app(1001, "going away", accept=True)).websocket_connect("/") as ws:
        ws.send_text("trigger")
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert (info.value.code, info.value.reason) == (1001, "going away")


def test_denial_response_is_an_http_response() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send(
            {"type": "websocket.http.response.start", "status": 403, "headers": [(b"x-why", b"no")]}
        )
        await send({"type": "websocket.http.response.body", "body": b"go ", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"away"})

    with pytest.raises(WebSocketDenialResponse) as info:
        TestClient(app).websocket_connect("/").__enter__()
    denial = info.value
    assert (denial.status_code, denial.headers["x-why"], denial.content) == (403, "no", b"go away")
    assert isinstance(denial, WebSocketDisconnect)


def test_receive_timeout_leaves_the_session_usable() -> None:
    app = Echo()
    with TestClient(app, timeout=5).websocket_connect("/") as ws:
        with pytest.raises(TimeoutError) as info:
            ws.receive_text(timeout=0.05)
        assert "timed out after 0.05s waiting for a message from the app" in str(info.value)
        assert "in __call__" in str(info.value)
        ws.send_text("still here")
        assert ws.receive_text() == "still here"


def test_receiving_the_wrong_kind_says_what_arrived() -> None:
    with TestClient(Echo()).websocket_connect("/") as ws:
        ws.send_bytes(b"raw")
        with pytest.raises(
            TypeError,
            match=r"receive_text\(\) got a binary message \(b'raw'\); use receive_bytes\(\)",
        ):
            ws.receive_text()
        ws.send_text("words")
        with pytest.raises(TypeError, match=r"receive_bytes\(\) got a text message \('words'\)"):
            ws.receive_bytes()


class Boom(Exception):
    pass


def test_an_app_exception_surfaces_at_the_next_call() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        raise Boom("after accept")

    with TestClient(app).websocket_connect("/") as ws:
        ws.send_text("go")
        with pytest.raises(Boom, match="after accept"):
            ws.receive_text()


def test_an_app_exception_is_reraised_when_leaving_the_block() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        raise Boom(f"got {message['type']}")

    with (
        pytest.raises(Boom, match=r"got websocket\.disconnect"),
        TestClient(app).websocket_connect("/"),
    ):
        pass


def test_an_exception_before_accept_is_raised_by_connect() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise Boom("before accept")

    with pytest.raises(Boom, match="before accept"):
        TestClient(app).websocket_connect("/").__enter__()


def test_protocol_violation_is_reported() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.send", "text": "too early"})

    with pytest.raises(
        ASGIProtocolError, match=r"app sent 'websocket\.send' before the app accepted"
    ):
        TestClient(app).websocket_connect("/").__enter__()


def test_an_app_that_ignores_the_close_is_cancelled_on_exit() -> None:
    log: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            log.append("cancelled")
            raise

    with TestClient(app).websocket_connect("/"):
        pass
    assert log == ["cancelled"]


def test_an_app_returning_without_accepting() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    with pytest.raises(WebSocketDisconnect) as info:
        TestClient(app).websocket_connect("/").__enter__()
    assert (info.value.code, info.value.reason) == (1006, "the app returned without accepting")


def test_two_sessions_at_once() -> None:
    room: list[asyncio.Queue[str]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        inbox: asyncio.Queue[str] = asyncio.Queue()
        room.append(inbox)

        async def forward() -> None:
            while True:
                await send({"type": "websocket.send", "text": await inbox.get()})

        task = asyncio.ensure_future(forward())
        try:
            while (message := await receive())["type"] == "websocket.receive":
                for member in room:
                    member.put_nowait(message["text"])
        finally:
            task.cancel()
            room.remove(inbox)

    client = TestClient(app)
    with client.websocket_connect("/") as alice, client.websocket_connect("/") as bob:
        alice.send_text("hi bob")
        assert bob.receive_text() == "hi bob"
        assert alice.receive_text() == "hi bob"
        bob.send_text("hi alice")
        assert alice.receive_text() == "hi alice"


def test_catchable_as_starlettes_exceptions() -> None:
    import starlette.testclient
    import starlette.websockets

    assert issubclass(WebSocketDisconnect, starlette.websockets.WebSocketDisconnect)
    assert issubclass(WebSocketDenialResponse, starlette.testclient.WebSocketDenialResponse)
    assert str(WebSocketDisconnect(4000, "why")) == "the WebSocket was closed with code 4000: why"


@pytest.mark.anyio
async def test_async_session() -> None:
    app = Echo()
    async with (
        AsyncTestClient(app) as client,
        client.websocket_connect("/", subprotocols=["v2"]) as ws,
    ):
        assert ws.accepted_subprotocol == "v2"
        await ws.send_text("a")
        assert await ws.receive_text() == "a"
        await ws.send_bytes(b"b")
        assert await ws.receive_bytes() == b"b"
        await ws.send_json([1])
        assert await ws.receive_json() == [1]
        with pytest.raises(TimeoutError):
            await ws.receive(timeout=0.01)
        await ws.send({"type": "websocket.receive", "text": "raw"})
        assert await ws.receive() == {"type": "websocket.send", "text": "raw"}
        await ws.close(1001)
    assert app.received[-1] == {"type": "websocket.disconnect", "code": 1001, "reason": None}
