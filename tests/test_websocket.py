"""WebSocket sessions over hand-written ASGI apps: the exact messages exchanged."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from unwired import (
    ASGIProtocolError,
    AsyncTestClient,
    ClientDisconnected,
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


# -- the test's own mistakes are the test's, not the app's --------------------------


@pytest.mark.parametrize(
    ("message", "error", "text"),
    [
        pytest.param(
            "hello",
            TypeError,
            "send() takes an ASGI message dict, not str 'hello'; use send_text() to send text",
            id="str",
        ),
        pytest.param(
            b"hello",
            TypeError,
            "send() takes an ASGI message dict, not bytes b'hello'; use send_bytes() to send bytes",
            id="bytes",
        ),
        pytest.param(
            [1, 2],
            TypeError,
            "send() takes an ASGI message dict, not list [1, 2]; use send_json() to send it as "
            "JSON, or send({'type': 'websocket.receive', 'text': ...})",
            id="list",
        ),
        pytest.param(
            {"text": "hi"},
            ValueError,
            "send() got a message without a 'type': {'text': 'hi'}; use send_text(), "
            "send_bytes() or send_json(), or send({'type': 'websocket.receive', 'text': ...})",
            id="no-type",
        ),
        pytest.param(
            {"type": "websocket.send", "text": "hi"},
            ValueError,
            "send() got a 'websocket.send' message, which is what the app sends; the test "
            "sends 'websocket.receive' (what the app's receive() gets) or "
            "'websocket.disconnect'",
            id="app-side-type",
        ),
        pytest.param(
            {"type": "websocket.receive"},
            ValueError,
            "send() got a 'websocket.receive' message with neither 'text' nor 'bytes'; "
            "set exactly one of them",
            id="no-payload",
        ),
        pytest.param(
            {"type": "websocket.receive", "text": "a", "bytes": b"a"},
            ValueError,
            "send() got a 'websocket.receive' message with both 'text' and 'bytes'; "
            "set exactly one of them",
            id="both-payloads",
        ),
        pytest.param(
            {"type": "websocket.receive", "text": b"hi"},
            TypeError,
            "send() got a 'websocket.receive' message whose 'text' is bytes b'hi'; it must be "
            "a str (use send_bytes() for binary data)",
            id="bytes-as-text",
        ),
        pytest.param(
            {"type": "websocket.receive", "bytes": "hi"},
            TypeError,
            "send() got a 'websocket.receive' message whose 'bytes' is str 'hi'; it must be "
            "bytes (use send_text() for text)",
            id="text-as-bytes",
        ),
        pytest.param(
            {"type": "websocket.disconnect", "code": "1000"},
            TypeError,
            "send() got a 'websocket.disconnect' message whose 'code' is str '1000'; "
            "it must be an int, e.g. 1000",
            id="disconnect-code",
        ),
    ],
)
def test_a_message_the_test_sends_is_checked_before_the_app_sees_it(
    message: Any, error: type[Exception], text: str
) -> None:
    app = Echo()
    with TestClient(app).websocket_connect("/") as ws:
        with pytest.raises(error) as info:
            ws.send(message)
        assert str(info.value) == text
        ws.send_text("still usable")
        assert ws.receive_text() == "still usable"
    assert [m["type"] for m in app.received] == [
        "websocket.connect",
        "websocket.receive",
        "websocket.disconnect",
    ]


def test_a_message_of_a_type_the_app_does_not_expect_reaches_it() -> None:
    # for tests of how the app handles it, as with Starlette's client
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()

    app = Starlette(routes=[WebSocketRoute("/", endpoint)])
    session = TestClient(app).websocket_connect("/")
    with pytest.raises(RuntimeError, match=r"websocket\.connect"), session as ws:  # Starlette's
        ws.send({"type": "websocket.connect"})


def test_send_text_and_send_bytes_take_their_own_kind() -> None:
    app = Echo()
    with TestClient(app).websocket_connect("/") as ws:
        with pytest.raises(TypeError) as info:
            ws.send_text(b"hello")  # type: ignore[arg-type]
        assert str(info.value) == (
            "send_text() takes a str, not bytes b'hello'; use send_bytes() for binary data"
        )
        with pytest.raises(TypeError) as info:
            ws.send_bytes("hello")  # type: ignore[arg-type]
        assert (
            str(info.value) == "send_bytes() takes bytes, not str 'hello'; use send_text() for text"
        )
        with pytest.raises(TypeError, match=r"^close\(\) takes an int code, not str '1000'"):
            ws.close("1000")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"^close\(\) takes a str reason, not bytes b'bye'$"):
            ws.close(1000, b"bye")  # type: ignore[arg-type]
        ws.send_bytes(bytearray(b"ba"))
        ws.send_bytes(memoryview(b"mv"))
        assert (ws.receive_bytes(), ws.receive_bytes()) == (b"ba", b"mv")
    assert app.received[1:3] == [
        {"type": "websocket.receive", "bytes": b"ba"},
        {"type": "websocket.receive", "bytes": b"mv"},
    ]


@pytest.mark.anyio
async def test_async_session_checks_what_the_test_sends() -> None:
    async with AsyncTestClient(Echo()) as client, client.websocket_connect("/") as ws:
        with pytest.raises(TypeError, match=r"^send\(\) takes an ASGI message dict, not str"):
            await ws.send("hello")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"^send_text\(\) takes a str, not bytes"):
            await ws.send_text(b"hello")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"^send_bytes\(\) takes bytes, not str"):
            await ws.send_bytes("hello")  # type: ignore[arg-type]
        await ws.send_text("ok")
        assert await ws.receive_text() == "ok"


def test_a_session_used_without_with_fails_at_once() -> None:
    session = TestClient(Echo(), timeout=30).websocket_connect("/ws")
    for call in (session.receive_text, lambda: session.send_text("hi"), session.close):
        with pytest.raises(RuntimeError) as info:
            call()
        assert str(info.value) == (
            "the WebSocket session is not open; use it in a 'with' block: "
            "with client.websocket_connect('/ws') as websocket:"
        )


def test_a_session_used_after_its_block_says_so() -> None:
    with TestClient(Echo()).websocket_connect("/ws") as ws:
        pass
    with pytest.raises(RuntimeError) as info:
        ws.send_text("late")
    assert str(info.value) == (
        "the WebSocket session is closed: its 'with' block has ended; "
        "open a new one with client.websocket_connect('/ws')"
    )


@pytest.mark.anyio
async def test_an_async_session_used_without_async_with_fails_at_once() -> None:
    async with AsyncTestClient(Echo()) as client:
        session = client.websocket_connect("/ws")
        with pytest.raises(RuntimeError) as info:
            await session.receive_text()
    assert str(info.value) == (
        "the WebSocket session is not open; use it in an 'async with' block: "
        "async with client.websocket_connect('/ws') as websocket:"
    )


def test_the_wrong_with_statement_names_the_right_one() -> None:
    session = TestClient(Echo()).websocket_connect("/ws")
    with pytest.raises(TypeError) as info:
        asyncio.run(_enter_async(session))
    assert str(info.value) == (
        "a TestClient's WebSocket session is used with 'with', not 'async with': "
        "with client.websocket_connect(...) as websocket: (in async tests, use "
        "unwired.AsyncTestClient)"
    )


async def _enter_async(session: Any) -> None:
    async with session:
        pass


@pytest.mark.anyio
async def test_the_wrong_with_statement_names_the_right_one_async() -> None:
    session = AsyncTestClient(Echo()).websocket_connect("/ws")
    with pytest.raises(TypeError) as info, session:
        pass
    assert str(info.value) == (
        "an AsyncTestClient's WebSocket session is used with 'async with', not 'with': "
        "async with client.websocket_connect(...) as websocket:, then await its methods "
        "(in sync tests, use unwired.TestClient)"
    )


# -- how a close reads ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason", "text"),
    [
        (
            1000,
            "",
            "the app refused the WebSocket before accepting it (code 1000; "
            "a router does this when no route matches '/ws')",
        ),
        (
            4003,
            "forbidden",
            "the app refused the WebSocket before accepting it (code 4003: forbidden)",
        ),
        (4003, "", "the app refused the WebSocket before accepting it (code 4003)"),
    ],
)
def test_a_refusal_says_the_app_refused_before_accepting(code: int, reason: str, text: str) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        TestClient(closing_app(code, reason, accept=False)).websocket_connect("/ws").__enter__()
    assert (info.value.code, info.value.reason, str(info.value)) == (code, reason, text)


def test_a_close_after_accepting_says_the_app_closed_it() -> None:
    with TestClient(closing_app(1001, "going away", accept=True)).websocket_connect("/") as ws:
        ws.send_text("trigger")
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert str(info.value) == "the app closed the WebSocket (code 1001: going away)"


def test_an_app_returning_without_accepting_says_so() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    with pytest.raises(WebSocketDisconnect) as info:
        TestClient(app).websocket_connect("/").__enter__()
    assert str(info.value) == "the app returned without accepting the WebSocket (code 1006)"


def test_receive_json_of_the_wrong_kind_names_the_right_mode() -> None:
    with TestClient(Echo()).websocket_connect("/") as ws:
        ws.send_text('{"id": 1}')
        with pytest.raises(TypeError) as info:
            ws.receive_json(mode="binary")
        assert str(info.value) == (
            "receive_json(mode='binary') got a text message ('{\"id\": 1}'); "
            "use receive_json() (mode='text'), or receive() for either kind"
        )
        ws.send_bytes(b'{"id": 1}')
        with pytest.raises(TypeError) as info:
            ws.receive_json()
        assert str(info.value) == (
            "receive_json(mode='text') got a binary message (b'{\"id\": 1}'); "
            "use receive_json(mode='binary'), or receive() for either kind"
        )


def test_denial_status_must_be_an_http_status() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", "status": 42, "headers": []})

    with pytest.raises(ASGIProtocolError) as info:
        TestClient(app).websocket_connect("/").__enter__()
    assert str(info.value) == (
        "app sent 'websocket.http.response.start' with status 42; "
        "it must be an HTTP status code from 100 to 599"
    )


def test_a_bad_receive_timeout_is_refused() -> None:
    with TestClient(Echo()).websocket_connect("/") as ws:
        with pytest.raises(TypeError, match=r"^timeout must be a number .*, not str '1'$"):
            ws.receive_text(timeout="1")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"^timeout must be a number .*, not -1$"):
            ws.receive(timeout=-1)
        ws.send_text("still usable")
        assert ws.receive_text() == "still usable"


@pytest.mark.parametrize("after", ["nothing", "a denial start"])
def test_an_app_that_swallows_its_protocol_error_before_accepting_is_ended(after: str) -> None:
    log: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        if after == "a denial start":
            await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        with contextlib.suppress(ASGIProtocolError):  # swallowed: the app goes on and waits
            await send({"type": "websocket.send", "text": "too early"})
        try:
            await receive()
        finally:
            log.append("ended")

    with TestClient(app, lifespan="off", timeout=30) as client:
        with pytest.raises(ASGIProtocolError, match=r"websocket\.send"):
            client.websocket_connect("/ws").__enter__()
        assert log == ["ended"]  # not left waiting on the client's loop


def test_only_failures_set_off_by_a_send_after_close_are_forgiven() -> None:
    from unwired._app_task import came_from_a_send_after_close

    sent = ClientDisconnected("the test closed the WebSocket")
    try:
        try:
            raise sent
        except OSError:
            raise RuntimeError("a framework's translation") from None
    except RuntimeError as exc:
        translated = exc  # raised while handling it: its __context__
    assert came_from_a_send_after_close(sent)
    assert came_from_a_send_after_close(translated)
    assert came_from_a_send_after_close(ExceptionGroup("both", [sent, translated]))
    assert not came_from_a_send_after_close(ExceptionGroup("mixed", [sent, ValueError()]))
    assert not came_from_a_send_after_close(ValueError("the app's own"))
    assert not came_from_a_send_after_close(None)
