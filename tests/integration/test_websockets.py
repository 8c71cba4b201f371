"""WebSocket sessions with real Starlette and FastAPI apps, sync and async.

Sync tests use ``unwired.TestClient`` (those taking ``backend`` run on asyncio,
uvloop and trio); async tests use ``unwired.AsyncTestClient`` on the test's own
loop (asyncio, uvloop and trio, from tests/conftest.py). Each test asserts both
sides: what the test received, and what the app saw (the ASGI messages it
received, close codes and reasons, headers, cookies, query parameters).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import anyio
import anyio.lowlevel
import httpx2
import pytest
import starlette.testclient
import starlette.websockets
from fastapi import Cookie, Depends, FastAPI, Header, HTTPException, Query, WebSocketException
from starlette.applications import Starlette
from starlette.endpoints import WebSocketEndpoint
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

import unwired
from unwired import AsyncTestClient, TestClient, WebSocketDenialResponse, WebSocketDisconnect

StarletteDisconnect = starlette.websockets.WebSocketDisconnect

BACKENDS = [
    pytest.param({"backend": "asyncio"}, id="asyncio"),
    pytest.param({"backend": "asyncio", "backend_options": {"use_uvloop": True}}, id="uvloop"),
    pytest.param({"backend": "trio"}, id="trio"),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keyword arguments selecting the sync client's event loop implementation."""
    return dict(request.param)


async def until(condition: Callable[[], bool]) -> None:
    """Let the app's tasks run until ``condition()`` holds (at most 5 s)."""
    with anyio.fail_after(5):
        while not condition():  # noqa: ASYNC110 - polls what the app records
            await anyio.sleep(0.001)


# -- a Starlette app ------------------------------------------------------------------


class RecordMessages:
    """Middleware: every message the app receives, and the type of every one it sends.

    Kept in ``app.state.received`` and ``app.state.sent`` of the Starlette app.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state

        async def logged_receive() -> Message:
            message = await receive()
            state.received.append(dict(message))
            return message

        async def logged_send(message: Message) -> None:
            state.sent.append(message["type"])
            await send(message)

        await self.app(scope, logged_receive, logged_send)


def events(websocket: WebSocket) -> list[Any]:
    """The app's own log of what happened (``app.state.events``)."""
    log: list[Any] = websocket.app.state.events
    return log


SUPPORTED_SUBPROTOCOLS = ("chat.v2", "chat.v1")  # in order of preference


class Echo(WebSocketEndpoint):
    encoding = "text"

    async def on_connect(self, websocket: WebSocket) -> None:
        offered = websocket.scope["subprotocols"]
        chosen = next((p for p in SUPPORTED_SUBPROTOCOLS if p in offered), None)
        await websocket.accept(subprotocol=chosen, headers=[(b"x-session-id", b"42")])
        events(websocket).append(
            ("offered", offered, websocket.headers.get("sec-websocket-protocol"))
        )

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_text(f"echo: {data}")

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        events(websocket).append(("disconnected", close_code))


class JSONEcho(WebSocketEndpoint):
    encoding = "json"  # decodes text and binary frames alike

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_json({"got": data})


async def json_binary(websocket: WebSocket) -> None:
    await websocket.accept()
    with contextlib.suppress(StarletteDisconnect):
        while True:
            data = await websocket.receive_json(mode="binary")
            await websocket.send_json({"got": data}, mode="binary")


async def raw_echo(websocket: WebSocket) -> None:
    """Echoes text as text and bytes as bytes, exactly as received."""
    await websocket.accept()
    while (message := await websocket.receive())["type"] == "websocket.receive":
        if message.get("text") is not None:
            await websocket.send_text(message["text"])
        else:
            await websocket.send_bytes(message["bytes"])


async def mixed_frames(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_bytes(b"\x89PNG\r\n")
    await websocket.send_text("caption")
    await websocket.send_text("done")
    with contextlib.suppress(StarletteDisconnect):
        await websocket.receive_text()


class Room:
    """Everyone connected to ``/room/{name}``; what one says reaches all."""

    def __init__(self) -> None:
        self.members: dict[str, WebSocket] = {}

    async def broadcast(self, text: str) -> None:
        for member in list(self.members.values()):
            await member.send_text(text)


async def chat(websocket: WebSocket) -> None:
    name = websocket.path_params["name"]
    room: Room = websocket.app.state.room
    await websocket.accept()
    room.members[name] = websocket
    await room.broadcast(f"{name} joined")
    try:
        while True:
            text = await websocket.receive_text()
            await room.broadcast(f"{name}: {text}")
    except StarletteDisconnect as exc:
        del room.members[name]
        events(websocket).append((name, "left", exc.code))
        await room.broadcast(f"{name} left")


async def idle(websocket: WebSocket) -> None:
    """Says hello, then closes the connection while the test waits for more."""
    await websocket.accept()
    await websocket.send_text("hello")
    await anyio.sleep(0.01)
    await websocket.close(code=4002, reason="idle for too long")
    events(websocket).append("closed by the app")


async def ping_pong(websocket: WebSocket) -> None:
    """Answers "ping" with "pong" and ignores anything else."""
    await websocket.accept()
    with contextlib.suppress(StarletteDisconnect):
        while True:
            if await websocket.receive_text() == "ping":
                await websocket.send_text("pong")


async def never_accepts(websocket: WebSocket) -> None:
    try:
        await anyio.sleep_forever()
    finally:
        events(websocket).append("cancelled before accepting")


async def ticker(websocket: WebSocket) -> None:
    """Sends "tick" until the test goes away."""
    await websocket.accept()
    try:
        while True:
            await websocket.send_text("tick")
            await anyio.lowlevel.checkpoint()
    except StarletteDisconnect as exc:
        events(websocket).append(("ticker stopped", exc.code))


class TicketError(Exception):
    pass


async def fail_before_accept(websocket: WebSocket) -> None:
    raise TicketError(f"no ticket for {websocket.url.path}")


async def fail_after_accept(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("ready")
    while True:
        text = await websocket.receive_text()
        if text == "boom":
            events(websocket).append("raising")
            raise ValueError(f"cannot handle {text!r}")
        await websocket.send_text(f"ok: {text}")


async def fail_while_leaving(websocket: WebSocket) -> None:
    """A failure in the app's own disconnect handling (implicitly chained to it)."""
    await websocket.accept()
    try:
        while True:
            await websocket.receive_text()
    except StarletteDisconnect:
        events(websocket).append("saving the transcript")
        raise OSError("could not save the transcript") from None


async def fail_while_handling_disconnect(websocket: WebSocket) -> None:
    """The same, written the common way: raising inside ``except WebSocketDisconnect``."""
    await websocket.accept()
    try:
        while True:
            await websocket.receive_text()
    except StarletteDisconnect:
        events(websocket).append("saving the transcript")
        raise OSError("could not save the transcript")  # noqa: B904 - the point of the test


async def lets_disconnect_escape(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hi")
    await websocket.receive_text()  # the test leaving raises WebSocketDisconnect here


async def members_only(websocket: WebSocket) -> None:
    response = PlainTextResponse(
        "members only", status_code=403, headers={"x-reason": "not a member"}
    )
    await websocket.send_denial_response(response)


async def come_back_later(websocket: WebSocket) -> None:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"come ", b"back ", b"later"):
            yield part

    response = StreamingResponse(
        parts(), status_code=503, media_type="text/plain", headers={"retry-after": "30"}
    )
    await websocket.send_denial_response(response)


async def login_first(websocket: WebSocket) -> None:
    raise StarletteHTTPException(401, "login first", headers={"www-authenticate": "Basic"})


async def handshake(websocket: WebSocket) -> None:
    """Reports the handshake as the app saw it."""
    await websocket.accept(headers=[(b"x-session-id", b"42"), (b"set-cookie", b"seen=1")])
    names = ("user-agent", "connection", "sec-websocket-version", "x-trace", "host")
    assert websocket.client is not None
    await websocket.send_json(
        {
            "url": str(websocket.url),
            "scheme": websocket.scope["scheme"],
            "server": list(websocket.scope["server"]),
            "client": [websocket.client.host, websocket.client.port],
            "root_path": websocket.scope["root_path"],
            "query": dict(websocket.query_params),
            "headers": {name: websocket.headers.get(name) for name in names},
            "authorization": websocket.headers.get("authorization"),
            "cookies": websocket.cookies,
        }
    )
    with contextlib.suppress(StarletteDisconnect):
        await websocket.receive_text()


async def greet(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(websocket.state.greeting)
    await websocket.close()


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    yield {"greeting": "welcome"}


def starlette_app() -> Starlette:
    app = Starlette(
        routes=[
            WebSocketRoute("/echo", Echo),
            WebSocketRoute("/json", JSONEcho),
            WebSocketRoute("/json/binary", json_binary),
            WebSocketRoute("/raw", raw_echo),
            WebSocketRoute("/mixed", mixed_frames),
            WebSocketRoute("/room/{name}", chat),
            WebSocketRoute("/idle", idle),
            WebSocketRoute("/ping", ping_pong),
            WebSocketRoute("/never", never_accepts),
            WebSocketRoute("/ticker", ticker),
            WebSocketRoute("/fail/before", fail_before_accept),
            WebSocketRoute("/fail/after", fail_after_accept),
            WebSocketRoute("/fail/leaving", fail_while_leaving),
            WebSocketRoute("/fail/handling", fail_while_handling_disconnect),
            WebSocketRoute("/escape", lets_disconnect_escape),
            WebSocketRoute("/deny", members_only),
            WebSocketRoute("/deny/streaming", come_back_later),
            WebSocketRoute("/deny/http-exception", login_first),
            WebSocketRoute("/handshake", handshake),
            WebSocketRoute("/greet", greet),
        ],
        middleware=[Middleware(RecordMessages)],
        lifespan=lifespan,
    )
    app.state.received = []
    app.state.sent = []
    app.state.events = []
    app.state.room = Room()
    return app


def connect(client: TestClient, url: str, **kwargs: Any) -> None:
    """Open a session and leave it at once (for connections expected to fail)."""
    with client.websocket_connect(url, **kwargs):
        pass


async def aconnect(client: AsyncTestClient, url: str, **kwargs: Any) -> None:
    async with client.websocket_connect(url, **kwargs):
        pass


def say_boom_and_leave(client: TestClient) -> None:
    with client.websocket_connect("/fail/after") as ws:
        assert ws.receive_text() == "ready"
        ws.send_text("boom")


async def asay_boom_and_leave(client: AsyncTestClient) -> None:
    async with client.websocket_connect("/fail/after") as ws:
        assert await ws.receive_text() == "ready"
        await ws.send_text("boom")


def say_hello_and_leave(client: TestClient, path: str, close_first: bool) -> None:
    with client.websocket_connect(path) as ws:
        ws.send_text("hello")
        if close_first:
            ws.close()


CONNECT = {"type": "websocket.connect"}
CLOSED_BY_TEST = {"type": "websocket.disconnect", "code": 1000, "reason": ""}


# -- a FastAPI app --------------------------------------------------------------------

TOKENS = {"t0k3n": "bob"}
ITEMS = {1: "apple", 2: "pear"}


async def open_db(websocket: WebSocket) -> AsyncIterator[dict[int, str]]:
    log = websocket.app.state.events
    log.append("db opened")
    try:
        yield ITEMS
    finally:
        log.append("db closed")


def current_user(authorization: Annotated[str | None, Header()] = None) -> str:
    if authorization is None:
        raise WebSocketException(code=1008, reason="not authenticated")
    scheme, _, credentials = authorization.partition(" ")
    if scheme == "Basic":
        user, _, password = base64.b64decode(credentials).decode().partition(":")
        if password == "s3cret":
            return user
    if scheme == "Bearer" and credentials in TOKENS:
        return TOKENS[credentials]
    raise WebSocketException(code=1008, reason=f"bad {scheme} credentials")


def admin(authorization: Annotated[str | None, Header()] = None) -> str:
    if authorization != "Bearer admin":
        raise HTTPException(401, "admins only", headers={"www-authenticate": "Bearer"})
    return "admin"


def fastapi_app() -> FastAPI:
    app = FastAPI()
    app.state.events = []

    @app.websocket("/items/{item_id}")
    async def item_feed(
        websocket: WebSocket,
        item_id: int,
        user: Annotated[str, Depends(current_user)],
        db: Annotated[dict[int, str], Depends(open_db)],
        q: str | None = None,
        session: Annotated[str | None, Cookie()] = None,
        theme: Annotated[str | None, Cookie()] = None,
    ) -> None:
        await websocket.accept()
        await websocket.send_json(
            {
                "item_id": item_id,
                "item": db.get(item_id),
                "user": user,
                "q": q,
                "session": session,
                "theme": theme,
            }
        )
        async for text in websocket.iter_text():
            await websocket.send_json({"user": user, "said": text})
        app.state.events.append("feed ended")

    @app.websocket("/admin")
    async def admin_feed(websocket: WebSocket, who: Annotated[str, Depends(admin)]) -> None:
        await websocket.accept()
        await websocket.send_text(f"hello {who}")
        await websocket.close()

    @app.websocket("/search")
    async def search(websocket: WebSocket, term: Annotated[str, Query()]) -> None:
        await websocket.accept()
        await websocket.send_text(term)
        await websocket.close()

    return app


# == sync: unwired.TestClient ========================================================

# -- WebSocketEndpoint, subprotocols, closing from the test --------------------------


def test_endpoint_echo_with_negotiated_subprotocol(backend: dict[str, Any]) -> None:
    app = starlette_app()
    client = TestClient(app, **backend)
    with client.websocket_connect("/echo", subprotocols=["chat.v1", "chat.v2"]) as ws:
        assert ws.accepted_subprotocol == "chat.v2"
        assert ws.extra_headers == [(b"x-session-id", b"42")]
        ws.send_text("hi")
        assert ws.receive_text() == "echo: hi"
        ws.send_text("again")
        assert ws.receive_text() == "echo: again"
    assert app.state.events == [
        ("offered", ["chat.v1", "chat.v2"], "chat.v1, chat.v2"),
        ("disconnected", 1000),
    ]
    assert app.state.received == [
        CONNECT,
        {"type": "websocket.receive", "text": "hi"},
        {"type": "websocket.receive", "text": "again"},
        CLOSED_BY_TEST,
    ]
    assert app.state.sent == ["websocket.accept", "websocket.send", "websocket.send"]


def test_no_subprotocol_offered_none_accepted() -> None:
    app = starlette_app()
    with TestClient(app).websocket_connect("/echo") as ws:
        assert ws.accepted_subprotocol is None
        ws.send_text("x")
        assert ws.receive_text() == "echo: x"
    assert app.state.events[0] == ("offered", [], None)


def test_subprotocol_the_app_does_not_support() -> None:
    app = starlette_app()
    with TestClient(app).websocket_connect("/echo", subprotocols=["chat.v9"]) as ws:
        assert ws.accepted_subprotocol is None
    assert app.state.events[0] == ("offered", ["chat.v9"], "chat.v9")


def test_close_with_code_and_reason_reaches_the_app(backend: dict[str, Any]) -> None:
    app = starlette_app()
    with TestClient(app, **backend).websocket_connect("/echo") as ws:
        ws.send_text("bye")
        assert ws.receive_text() == "echo: bye"
        ws.close(4000, "test finished")
    # the endpoint saw the code, the app's receive() saw code and reason, and
    # leaving the block did not send a second disconnect
    assert app.state.events[-1] == ("disconnected", 4000)
    assert app.state.received == [
        CONNECT,
        {"type": "websocket.receive", "text": "bye"},
        {"type": "websocket.disconnect", "code": 4000, "reason": "test finished"},
    ]


def test_close_default_code() -> None:
    app = starlette_app()
    with TestClient(app).websocket_connect("/echo") as ws:
        ws.close()
    assert app.state.events[-1] == ("disconnected", 1000)
    assert app.state.received[-1] == {"type": "websocket.disconnect", "code": 1000, "reason": None}


# -- the app closing ------------------------------------------------------------------


def test_app_closes_while_the_test_waits(backend: dict[str, Any]) -> None:
    app = starlette_app()
    with TestClient(app, **backend).websocket_connect("/idle") as ws:
        assert ws.receive_text() == "hello"
        # caught as Starlette's class, as existing suites do
        with pytest.raises(StarletteDisconnect) as info:
            ws.receive_text()
    assert isinstance(info.value, WebSocketDisconnect)  # unwired's own class
    assert (info.value.code, info.value.reason) == (4002, "idle for too long")
    assert str(info.value) == "the app closed the WebSocket (code 4002: idle for too long)"
    assert app.state.events == ["closed by the app"]
    assert app.state.sent == ["websocket.accept", "websocket.send", "websocket.close"]


def test_app_close_as_a_raw_message() -> None:
    app = starlette_app()
    with TestClient(app).websocket_connect("/idle") as ws:
        assert ws.receive() == {"type": "websocket.send", "text": "hello"}
        assert ws.receive() == {
            "type": "websocket.close",
            "code": 4002,
            "reason": "idle for too long",
        }
    # the app ended by itself: the test's leaving sent it nothing
    assert app.state.received == [CONNECT]


def test_receive_json_after_the_app_closed_raises_disconnect() -> None:
    app = starlette_app()
    with TestClient(app).websocket_connect("/idle") as ws:
        assert ws.receive_text() == "hello"
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
    assert info.value.code == 4002


def test_leaving_while_the_app_is_still_sending() -> None:
    app = starlette_app()
    with TestClient(app).websocket_connect("/ticker") as ws:
        assert [ws.receive_text() for _ in range(3)] == ["tick", "tick", "tick"]
    # the app's next send failed as the spec says; that is the app ending, not failing
    assert app.state.events == [("ticker stopped", 1006)]
    assert app.state.received == [CONNECT]


# -- a broadcast room: two sessions at once on one client ---------------------------


def test_broadcast_room(backend: dict[str, Any]) -> None:
    app = starlette_app()
    client = TestClient(app, **backend)
    with client.websocket_connect("/room/alice") as alice:
        assert alice.receive_text() == "alice joined"
        with client.websocket_connect("/room/bob") as bob:
            assert bob.receive_text() == "bob joined"
            assert alice.receive_text() == "bob joined"
            alice.send_text("hi bob")
            assert bob.receive_text() == "alice: hi bob"
            assert alice.receive_text() == "alice: hi bob"
            bob.send_text("hi alice")
            assert alice.receive_text() == "bob: hi alice"
            assert bob.receive_text() == "bob: hi alice"
        assert alice.receive_text() == "bob left"
        assert list(app.state.room.members) == ["alice"]
    assert app.state.room.members == {}
    assert app.state.events == [("bob", "left", 1000), ("alice", "left", 1000)]


def test_broadcast_room_inside_lifespan() -> None:
    app = starlette_app()
    with (
        TestClient(app) as client,
        client.websocket_connect("/room/alice") as alice,
        client.websocket_connect("/room/bob") as bob,
    ):
        assert alice.receive_text() == "alice joined"
        assert alice.receive_text() == "bob joined"
        assert bob.receive_text() == "bob joined"
        bob.send_text("anyone?")
        assert alice.receive_text() == "bob: anyone?"


# -- JSON, text and binary -------------------------------------------------------------


def test_json_text_mode_with_endpoint() -> None:
    app = starlette_app()
    with TestClient(app).websocket_connect("/json") as ws:
        ws.send_json({"n": 1, "tags": ["a", "é"]})
        assert ws.receive_json() == {"got": {"n": 1, "tags": ["a", "é"]}}
        # Starlette's json endpoint decodes binary frames too; its answer is text
        ws.send_json([1, 2], mode="binary")
        assert ws.receive_json(mode="text") == {"got": [1, 2]}
    assert app.state.received[1] == {
        "type": "websocket.receive",
        "text": '{"n":1,"tags":["a","é"]}',
    }
    assert app.state.received[2] == {"type": "websocket.receive", "bytes": b"[1,2]"}


def test_json_binary_mode() -> None:
    app = starlette_app()
    with TestClient(app).websocket_connect("/json/binary") as ws:
        ws.send_json({"café": "☕"}, mode="binary")
        assert ws.receive_json(mode="binary") == {"got": {"café": "☕"}}
        ws.send_json(None, mode="binary")
        with pytest.raises(TypeError) as info:
            ws.receive_json()  # text mode, but a binary frame arrives
    assert str(info.value) == (
        "receive_json(mode='text') got a binary message (b'{\"got\":null}'); "
        "use receive_json(mode='binary'), or receive() for either kind"
    )
    assert app.state.received[1] == {
        "type": "websocket.receive",
        "bytes": '{"café":"☕"}'.encode(),
    }


def test_send_json_is_compact_utf8_like_starlettes() -> None:
    with TestClient(starlette_app()).websocket_connect("/raw") as ws:
        ws.send_json({"b": 1, "a": "é"})
        assert ws.receive_text() == '{"b":1,"a":"é"}'
        ws.send_json({"b": 1, "a": "é"}, mode="binary")
        assert ws.receive_bytes() == '{"b":1,"a":"é"}'.encode()


def test_raw_messages_and_bytes() -> None:
    app = starlette_app()
    with TestClient(app).websocket_connect("/raw") as ws:
        ws.send({"type": "websocket.receive", "text": "raw text"})
        assert ws.receive() == {"type": "websocket.send", "text": "raw text"}
        ws.send_bytes(b"\x00\xff")
        assert ws.receive_bytes() == b"\x00\xff"
        ws.send_bytes(b"")
        assert ws.receive() == {"type": "websocket.send", "bytes": b""}
    assert app.state.received[1:] == [
        {"type": "websocket.receive", "text": "raw text"},
        {"type": "websocket.receive", "bytes": b"\x00\xff"},
        {"type": "websocket.receive", "bytes": b""},
        CLOSED_BY_TEST,
    ]


def test_receiving_the_wrong_kind_of_frame_says_what_arrived() -> None:
    # Starlette's TestClient raises KeyError('text') here
    with TestClient(starlette_app()).websocket_connect("/mixed") as ws:
        with pytest.raises(TypeError) as as_text:
            ws.receive_text()
        with pytest.raises(TypeError) as as_bytes:
            ws.receive_bytes()
        # each message was consumed; the session goes on
        assert ws.receive_text() == "done"
    assert str(as_text.value) == (
        "receive_text() got a binary message (b'\\x89PNG\\r\\n'); "
        "use receive_bytes(), or receive() for either kind"
    )
    assert str(as_bytes.value) == (
        "receive_bytes() got a text message ('caption'); "
        "use receive_text(), or receive() for either kind"
    )


# -- timeouts --------------------------------------------------------------------------


def test_receive_timeout_leaves_the_session_usable(backend: dict[str, Any]) -> None:
    app = starlette_app()
    with TestClient(app, **backend).websocket_connect("/ping") as ws:
        ws.send_text("hello?")  # ignored by the app: nothing comes back
        start = time.perf_counter()
        with pytest.raises(TimeoutError) as info:
            ws.receive_text(timeout=0.05)
        elapsed = time.perf_counter() - start
        ws.send_text("ping")
        assert ws.receive_text() == "pong"
        with pytest.raises(TimeoutError):
            ws.receive(timeout=0.01)
        ws.send_text("ping")
        assert ws.receive_text(timeout=5) == "pong"
    assert 0.04 <= elapsed < 2
    message = str(info.value)
    assert message.startswith(
        "websocket /ping: timed out after 0.05s waiting for a message from the app."
    )
    assert "in ping_pong" in message  # where the app is suspended
    assert app.state.received[-1] == CLOSED_BY_TEST


def test_client_timeout_is_the_default_receive_timeout() -> None:
    app = starlette_app()
    with TestClient(app, timeout=0.05).websocket_connect("/ping") as ws:
        with pytest.raises(TimeoutError, match=r"timed out after 0\.05s"):
            ws.receive_text()
        ws.send_text("ping")
        assert ws.receive_text() == "pong"


def test_connect_timeout_argument() -> None:
    app = starlette_app()
    with TestClient(app).websocket_connect("/ping", timeout=0.05) as ws:
        with pytest.raises(TimeoutError, match=r"timed out after 0\.05s"):
            ws.receive_json()
        with pytest.raises(TimeoutError, match=r"timed out after 0\.02s"):
            ws.receive_bytes(timeout=0.02)


def test_an_app_that_never_accepts_times_out_and_is_cancelled() -> None:
    app = starlette_app()
    client = TestClient(app)
    with pytest.raises(TimeoutError) as info:
        connect(client, "/never", timeout=0.05)
    message = str(info.value)
    assert message.startswith("websocket /never: timed out after 0.05s waiting for the app")
    assert "accept the connection" in message
    assert "in never_accepts" in message
    client.close()
    assert app.state.events == ["cancelled before accepting"]


@pytest.mark.parametrize(
    "backend",
    # on trio the loop's own thread may or may not get there first: not deterministic
    [{"backend": "asyncio"}, {"backend": "asyncio", "backend_options": {"use_uvloop": True}}],
    ids=["asyncio", "uvloop"],
)
def test_a_never_accepting_app_has_ended_when_the_timeout_is_raised(
    backend: dict[str, Any],
) -> None:
    app = starlette_app()
    with pytest.raises(TimeoutError, match="the app task was cancelled"):
        connect(TestClient(app, **backend), "/never", timeout=0.05)
    assert app.state.events == ["cancelled before accepting"]


# -- app exceptions ---------------------------------------------------------------------


def test_exception_before_accept_is_raised_by_connect(backend: dict[str, Any]) -> None:
    client = TestClient(starlette_app(), **backend)
    with pytest.raises(TicketError, match=r"^no ticket for /fail/before$") as info:
        connect(client, "/fail/before")
    assert type(info.value) is TicketError
    assert "fail_before_accept" in [entry.name for entry in info.traceback]


def test_exception_after_accept_surfaces_at_the_next_receive(backend: dict[str, Any]) -> None:
    app = starlette_app()
    with TestClient(app, **backend).websocket_connect("/fail/after") as ws:
        assert ws.receive_text() == "ready"
        ws.send_text("fine")
        assert ws.receive_text() == "ok: fine"
        ws.send_text("boom")
        with pytest.raises(ValueError, match=r"^cannot handle 'boom'$") as info:
            ws.receive_text()
    # reported once: leaving the block does not raise it again
    assert type(info.value) is ValueError
    assert "fail_after_accept" in [entry.name for entry in info.traceback]
    assert app.state.events == ["raising"]


def test_exception_after_accept_surfaces_at_the_next_send() -> None:
    app = starlette_app()
    client = TestClient(app)
    with client.websocket_connect("/fail/after") as ws:
        assert ws.receive_text() == "ready"
        ws.send_text("boom")
        client.run(until, lambda: app.state.events == ["raising"])
        with pytest.raises(ValueError, match=r"^cannot handle 'boom'$"):
            ws.send_text("are you there?")
    assert app.state.received == [CONNECT, {"type": "websocket.receive", "text": "boom"}]


def test_exception_after_accept_surfaces_when_leaving_the_block(
    backend: dict[str, Any],
) -> None:
    app = starlette_app()
    with pytest.raises(ValueError, match=r"^cannot handle 'boom'$") as info:
        say_boom_and_leave(TestClient(app, **backend))
    assert "fail_after_accept" in [entry.name for entry in info.traceback]
    assert app.state.events == ["raising"]


@pytest.mark.parametrize("close_first", [False, True], ids=["leave", "close"])
@pytest.mark.parametrize("path", ["/fail/handling", "/fail/leaving"])
def test_exception_in_the_apps_disconnect_handling_is_reraised(
    path: str, close_first: bool
) -> None:
    app = starlette_app()
    with pytest.raises(OSError, match=r"^could not save the transcript$"):
        say_hello_and_leave(TestClient(app), path, close_first)
    assert app.state.events == ["saving the transcript"]


def test_an_app_letting_the_disconnect_escape_has_it_raised_on_leaving() -> None:
    # As Starlette's TestClient does, and as FastAPI's docs teach testing it:
    # `with pytest.raises(WebSocketDisconnect): with client.websocket_connect(...)`.
    app = starlette_app()
    session = TestClient(app).websocket_connect("/escape")
    with pytest.raises(starlette.websockets.WebSocketDisconnect) as info, session as ws:
        assert ws.receive_text() == "hi"
    assert info.value.code == 1000
    assert app.state.received == [CONNECT, CLOSED_BY_TEST]


# -- several sessions, several threads, a running loop --------------------------------


def test_sessions_from_several_threads() -> None:
    client = TestClient(starlette_app())
    done: list[int] = []

    def chat_from_a_thread(n: int) -> None:
        with client.websocket_connect("/echo") as ws:
            for i in range(20):
                ws.send_text(f"{n}.{i}")
                assert ws.receive_text() == f"echo: {n}.{i}"
        done.append(n)

    threads = [threading.Thread(target=chat_from_a_thread, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(done) == [0, 1, 2, 3]


def sync_helper_echo(client: TestClient) -> str:
    with client.websocket_connect("/echo") as ws:
        ws.send_text("from a sync helper")
        return ws.receive_text()


@pytest.mark.parametrize("used_before", [True, False], ids=["used-before", "first-use"])
def test_session_from_sync_code_inside_a_running_event_loop(used_before: bool) -> None:
    client = TestClient(starlette_app())
    if used_before:
        assert sync_helper_echo(client) == "echo: from a sync helper"

    async def async_test() -> str:
        return sync_helper_echo(client)  # a sync helper inside an async test

    assert asyncio.run(async_test()) == "echo: from a sync helper"
    client.close()


# -- denial responses -------------------------------------------------------------------


def test_denial_response(backend: dict[str, Any]) -> None:
    app = starlette_app()
    client = TestClient(app, **backend)
    with pytest.raises(starlette.testclient.WebSocketDenialResponse) as info:
        connect(client, "/deny")
    response = info.value
    assert isinstance(response, WebSocketDenialResponse)
    assert isinstance(response, httpx2.Response)
    assert isinstance(response, StarletteDisconnect)
    assert isinstance(response, WebSocketDisconnect)
    assert response.status_code == 403
    assert response.headers["x-reason"] == "not a member"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "12"
    assert response.text == "members only"
    assert app.state.sent == ["websocket.http.response.start", "websocket.http.response.body"]


def test_denial_response_is_a_websocket_disconnect() -> None:
    with pytest.raises(StarletteDisconnect) as info:
        connect(TestClient(starlette_app()), "/deny")
    assert isinstance(info.value, WebSocketDenialResponse)
    assert info.value.content == b"members only"


def test_streamed_denial_response() -> None:
    app = starlette_app()
    with pytest.raises(WebSocketDenialResponse) as info:
        connect(TestClient(app), "/deny/streaming")
    assert info.value.status_code == 503
    assert info.value.headers["retry-after"] == "30"
    assert info.value.content == b"come back later"
    assert app.state.sent == [
        "websocket.http.response.start",
        *["websocket.http.response.body"] * 4,  # three parts and the final empty one
    ]


def test_http_exception_before_accept_becomes_a_denial_response() -> None:
    with pytest.raises(WebSocketDenialResponse) as info:
        connect(TestClient(starlette_app()), "/deny/http-exception")
    assert info.value.status_code == 401
    assert info.value.headers["www-authenticate"] == "Basic"
    assert info.value.text == "login first"


# -- the handshake ----------------------------------------------------------------------


def test_handshake_scope_headers_and_extra_headers() -> None:
    client = TestClient(starlette_app(), base_url="https://example.org", root_path="/api")
    headers = {"X-Trace": "abc"}
    with client.websocket_connect("/handshake", headers=headers, params={"room": 1}) as ws:
        seen = ws.receive_json()
        assert ws.extra_headers == [(b"x-session-id", b"42"), (b"set-cookie", b"seen=1")]
    assert headers == {"X-Trace": "abc"}  # the caller's dict is left alone
    assert seen == {
        "url": "wss://example.org/handshake?room=1",  # root_path is not in path
        "scheme": "wss",
        "server": ["example.org", 443],
        "client": ["testclient", 50000],
        "root_path": "/api",
        "query": {"room": "1"},
        "headers": {
            "user-agent": "testclient",
            "connection": "upgrade",
            "sec-websocket-version": "13",
            "x-trace": "abc",
            "host": "example.org",
        },
        "authorization": None,
        "cookies": {},
    }


def test_handshake_auth_and_cookies() -> None:
    client = TestClient(starlette_app())
    client.cookies.set("session", "jar-cookie")
    client.auth = httpx2.BasicAuth("alice", "s3cret")
    with client.websocket_connect("/handshake", cookies={"theme": "dark"}) as ws:
        seen = ws.receive_json()
    assert seen["authorization"] == "Basic " + base64.b64encode(b"alice:s3cret").decode()
    assert seen["cookies"] == {"session": "jar-cookie", "theme": "dark"}
    with client.websocket_connect("/handshake", auth=httpx2.BasicAuth("bob", "pw")) as ws:
        assert ws.receive_json()["authorization"] == "Basic Ym9iOnB3"


def test_lifespan_state_reaches_the_websocket() -> None:
    with TestClient(starlette_app()) as client, client.websocket_connect("/greet") as ws:
        assert ws.receive_text() == "welcome"
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert (info.value.code, info.value.reason) == (1000, "")


# -- FastAPI ----------------------------------------------------------------------------


def test_fastapi_dependencies_params_cookies_and_basic_auth(backend: dict[str, Any]) -> None:
    app = fastapi_app()
    client = TestClient(app, **backend)
    client.cookies.set("session", "s-1")
    with client.websocket_connect(
        "/items/2",
        params={"q": "ripe"},
        cookies={"theme": "dark"},
        auth=httpx2.BasicAuth("alice", "s3cret"),
    ) as ws:
        assert ws.receive_json() == {
            "item_id": 2,
            "item": "pear",
            "user": "alice",
            "q": "ripe",
            "session": "s-1",
            "theme": "dark",
        }
        ws.send_text("hello")
        assert ws.receive_json() == {"user": "alice", "said": "hello"}
        assert app.state.events == ["db opened"]
    # the endpoint ended on the disconnect, then the dependency's teardown ran
    assert app.state.events == ["db opened", "feed ended", "db closed"]


def test_fastapi_bearer_token_in_headers() -> None:
    app = fastapi_app()
    with TestClient(app).websocket_connect(
        "/items/1", headers={"Authorization": "Bearer t0k3n"}
    ) as ws:
        first = ws.receive_json()
    assert (first["user"], first["item"], first["q"], first["session"]) == (
        "bob",
        "apple",
        None,
        None,
    )


def test_fastapi_websocket_exception_before_accept() -> None:
    app = fastapi_app()
    client = TestClient(app)
    with pytest.raises(StarletteDisconnect) as missing:
        connect(client, "/items/1")
    with pytest.raises(WebSocketDisconnect) as wrong:
        connect(client, "/items/1", auth=httpx2.BasicAuth("alice", "guess"))
    assert (missing.value.code, missing.value.reason) == (1008, "not authenticated")
    assert (wrong.value.code, wrong.value.reason) == (1008, "bad Basic credentials")
    assert app.state.events == []  # refused before the db dependency ran


def test_fastapi_http_exception_in_a_dependency_is_a_denial_response() -> None:
    with pytest.raises(WebSocketDenialResponse) as info:
        connect(TestClient(fastapi_app()), "/admin", headers={"authorization": "Bearer guest"})
    assert info.value.status_code == 401
    assert info.value.headers["www-authenticate"] == "Bearer"
    assert info.value.json() == {"detail": "admins only"}


def test_fastapi_http_dependency_passes_then_the_app_closes() -> None:
    with TestClient(fastapi_app()).websocket_connect(
        "/admin", headers={"authorization": "Bearer admin"}
    ) as ws:
        assert ws.receive_text() == "hello admin"
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
    assert (info.value.code, info.value.reason) == (1000, "")


def test_fastapi_dependency_override() -> None:
    app = fastapi_app()
    app.dependency_overrides[current_user] = lambda: "tester"
    with TestClient(app).websocket_connect("/items/1") as ws:
        assert ws.receive_json()["user"] == "tester"
        ws.send_text("hi")
        assert ws.receive_json() == {"user": "tester", "said": "hi"}


def test_fastapi_validation_error_closes_with_policy_violation() -> None:
    # FastAPI's handler closes with reason=<the list of errors>, which is not text;
    # unwired hands it over as text (Starlette's TestClient hands over the list)
    client = TestClient(fastapi_app())
    with pytest.raises(StarletteDisconnect) as info:
        connect(client, "/search")
    assert info.value.code == 1008
    assert "'loc': ['query', 'term'], 'msg': 'Field required'" in info.value.reason


def test_fastapi_query_param_via_params() -> None:
    with TestClient(fastapi_app()).websocket_connect("/search", params={"term": "a b"}) as ws:
        assert ws.receive_text() == "a b"


# == async: unwired.AsyncTestClient ===================================================


@pytest.mark.anyio
async def test_async_endpoint_echo_subprotocol_and_close() -> None:
    app = starlette_app()
    async with (
        AsyncTestClient(app) as client,
        client.websocket_connect("/echo", subprotocols=["chat.v1"]) as ws,
    ):
        assert ws.accepted_subprotocol == "chat.v1"
        assert ws.extra_headers == [(b"x-session-id", b"42")]
        await ws.send_text("hi")
        assert await ws.receive_text() == "echo: hi"
        await ws.close(4001, "done here")
    assert app.state.events == [("offered", ["chat.v1"], "chat.v1"), ("disconnected", 4001)]
    assert app.state.received == [
        CONNECT,
        {"type": "websocket.receive", "text": "hi"},
        {"type": "websocket.disconnect", "code": 4001, "reason": "done here"},
    ]


@pytest.mark.anyio
async def test_async_leaving_closes_with_1000() -> None:
    app = starlette_app()
    client = AsyncTestClient(app)  # outside 'async with' too
    async with client.websocket_connect("/echo") as ws:
        await ws.send_text("x")
        assert await ws.receive_text() == "echo: x"
    assert app.state.events[-1] == ("disconnected", 1000)
    assert app.state.received[-1] == CLOSED_BY_TEST
    await client.aclose()


@pytest.mark.anyio
async def test_async_broadcast_room_with_a_waiting_receiver() -> None:
    app = starlette_app()
    heard: list[str] = []

    async with AsyncTestClient(app) as client, client.websocket_connect("/room/alice") as alice:
        assert await alice.receive_text() == "alice joined"
        async with client.websocket_connect("/room/bob") as bob:
            assert await bob.receive_text() == "bob joined"
            assert await alice.receive_text() == "bob joined"

            async def bob_listens() -> None:
                heard.append(await bob.receive_text())

            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(bob_listens)
                    await anyio.wait_all_tasks_blocked()
                    assert heard == []  # bob is waiting in receive_text()
                    await alice.send_text("hi bob")
            assert heard == ["alice: hi bob"]
            assert await alice.receive_text() == "alice: hi bob"
            await bob.send_text("hi alice")
            assert await alice.receive_text() == "bob: hi alice"
            assert await bob.receive_text() == "bob: hi alice"
        assert await alice.receive_text() == "bob left"
    assert app.state.events == [("bob", "left", 1000), ("alice", "left", 1000)]


@pytest.mark.anyio
async def test_async_app_closes_while_the_test_waits() -> None:
    app = starlette_app()
    async with AsyncTestClient(app).websocket_connect("/idle") as ws:
        assert await ws.receive_text() == "hello"
        with pytest.raises(StarletteDisconnect) as info:
            await ws.receive_bytes()
    assert isinstance(info.value, unwired.WebSocketDisconnect)
    assert (info.value.code, info.value.reason) == (4002, "idle for too long")
    assert app.state.events == ["closed by the app"]


@pytest.mark.anyio
async def test_async_json_modes_and_wrong_frame_kind() -> None:
    app = starlette_app()
    client = AsyncTestClient(app)
    async with client.websocket_connect("/json") as ws:
        await ws.send_json({"a": [1, "é"]})
        assert await ws.receive_json() == {"got": {"a": [1, "é"]}}
    async with client.websocket_connect("/json/binary") as ws:
        await ws.send_json({"b": True}, mode="binary")
        assert await ws.receive_json(mode="binary") == {"got": {"b": True}}
    async with client.websocket_connect("/mixed") as ws:
        with pytest.raises(TypeError, match=r"^receive_text\(\) got a binary message"):
            await ws.receive_text()
        assert await ws.receive() == {"type": "websocket.send", "text": "caption"}
        assert await ws.receive_text() == "done"


@pytest.mark.anyio
async def test_async_receive_timeout_leaves_the_session_usable() -> None:
    app = starlette_app()
    async with (
        AsyncTestClient(app, timeout=0.05) as client,
        client.websocket_connect("/ping") as ws,
    ):
        start = time.perf_counter()
        with pytest.raises(TimeoutError) as info:
            await ws.receive_text()
        elapsed = time.perf_counter() - start
        await ws.send_text("ping")
        assert await ws.receive_text() == "pong"
        with pytest.raises(TimeoutError, match=r"timed out after 0\.01s"):
            await ws.receive_json(timeout=0.01)
        await ws.send_text("ping")
        assert await ws.receive_text(timeout=5) == "pong"
    assert 0.04 <= elapsed < 2
    assert str(info.value).startswith(
        "websocket /ping: timed out after 0.05s waiting for a message from the app."
    )
    assert "in ping_pong" in str(info.value)


@pytest.mark.anyio
async def test_async_never_accepting_app_times_out() -> None:
    app = starlette_app()
    with pytest.raises(TimeoutError, match="accept the connection"):
        await aconnect(AsyncTestClient(app), "/never", timeout=0.05)
    await until(lambda: bool(app.state.events))  # see the xfail test above
    assert app.state.events == ["cancelled before accepting"]


@pytest.mark.anyio
async def test_async_exception_before_accept() -> None:
    with pytest.raises(TicketError, match=r"^no ticket for /fail/before$") as info:
        await aconnect(AsyncTestClient(starlette_app()), "/fail/before")
    assert "fail_before_accept" in [entry.name for entry in info.traceback]


@pytest.mark.anyio
async def test_async_exception_after_accept_at_the_next_receive() -> None:
    app = starlette_app()
    async with AsyncTestClient(app).websocket_connect("/fail/after") as ws:
        assert await ws.receive_text() == "ready"
        await ws.send_text("boom")
        with pytest.raises(ValueError, match=r"^cannot handle 'boom'$"):
            await ws.receive_text()
    assert app.state.events == ["raising"]


@pytest.mark.anyio
async def test_async_exception_after_accept_at_the_next_send() -> None:
    app = starlette_app()
    async with AsyncTestClient(app).websocket_connect("/fail/after") as ws:
        assert await ws.receive_text() == "ready"
        await ws.send_text("boom")
        await until(lambda: app.state.events == ["raising"])
        with pytest.raises(ValueError, match=r"^cannot handle 'boom'$"):
            await ws.send_text("are you there?")


@pytest.mark.anyio
async def test_async_exception_after_accept_when_leaving_the_block() -> None:
    app = starlette_app()
    with pytest.raises(ValueError, match=r"^cannot handle 'boom'$") as info:
        await asay_boom_and_leave(AsyncTestClient(app))
    assert "fail_after_accept" in [entry.name for entry in info.traceback]


@pytest.mark.anyio
async def test_async_denial_responses() -> None:
    client = AsyncTestClient(starlette_app())
    with pytest.raises(starlette.testclient.WebSocketDenialResponse) as info:
        await aconnect(client, "/deny")
    assert isinstance(info.value, WebSocketDenialResponse)
    assert (info.value.status_code, info.value.text) == (403, "members only")
    assert info.value.headers["x-reason"] == "not a member"
    with pytest.raises(WebSocketDenialResponse) as streamed:
        await aconnect(client, "/deny/streaming")
    assert (streamed.value.status_code, streamed.value.content) == (503, b"come back later")


@pytest.mark.anyio
async def test_async_subprotocols_lifespan_state_and_extra_headers() -> None:
    app = starlette_app()
    async with AsyncTestClient(app) as client:
        async with client.websocket_connect("/greet") as ws:
            assert ws.accepted_subprotocol is None
            assert ws.extra_headers == []
            assert await ws.receive_text() == "welcome"
        async with client.websocket_connect("/handshake", params={"x": "1"}) as ws:
            seen = await ws.receive_json()
            assert ws.extra_headers == [(b"x-session-id", b"42"), (b"set-cookie", b"seen=1")]
    assert seen["url"] == "ws://testserver/handshake?x=1"
    assert seen["headers"]["user-agent"] == "testclient"


@pytest.mark.anyio
async def test_async_fastapi_dependencies_params_cookies_and_auth() -> None:
    app = fastapi_app()
    async with AsyncTestClient(app) as client:
        client.cookies.set("session", "s-9")
        async with client.websocket_connect(
            "/items/1", params={"q": "crisp"}, auth=httpx2.BasicAuth("carol", "s3cret")
        ) as ws:
            assert await ws.receive_json() == {
                "item_id": 1,
                "item": "apple",
                "user": "carol",
                "q": "crisp",
                "session": "s-9",
                "theme": None,
            }
            await ws.send_text("hi")
            assert await ws.receive_json() == {"user": "carol", "said": "hi"}
        async with client.websocket_connect(
            "/items/2", headers={"authorization": "Bearer t0k3n"}, cookies={"theme": "light"}
        ) as ws:
            second = await ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as refused:
            await aconnect(client, "/items/2")
    assert (second["user"], second["theme"], second["session"]) == ("bob", "light", "s-9")
    assert (refused.value.code, refused.value.reason) == (1008, "not authenticated")
    assert app.state.events == ["db opened", "feed ended", "db closed"] * 2
