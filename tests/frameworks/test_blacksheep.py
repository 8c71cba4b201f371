"""BlackSheep through the framework checklist (_checklist.py), with both clients.

Event loops: asyncio only, so asyncio and uvloop here. (On trio plain requests
and WebSockets work, but multipart parsing and ``request.is_disconnected()``
call asyncio and fail with "no running event loop".)
Lifespan: supported (``on_start``/``on_stop`` events, ``@app.lifespan``). An
app that never got ``lifespan.startup`` (``lifespan="off"``) starts itself on
its first request or WebSocket instead, and then never runs ``on_stop``.
Unhandled exceptions: BlackSheep answers 500 inside the app, and falls back to
that even when an exception handler re-raises, so nothing leaves the app for
``raise_server_exceptions=True``: the test gets the 500 either way. An
exception handler (``test_an_exception_handler_sees_the_error``) or
``show_error_details=True`` shows the test what went wrong.
Streaming: the SSE generator checks ``await request.is_disconnected()`` before
each event, as BlackSheep's docs show, and ends by itself once the test closes.
WebSockets: BlackSheep closes with ``reason: None`` when it gives no reason
(as the ASGI spec allows), e.g. for a path with no WebSocket route.

No ``from __future__ import annotations``: BlackSheep reads the annotations.
"""

import json
from collections.abc import AsyncIterable
from typing import Any

import pytest
from blacksheep import Application, Cookie, FromJSON, Request, Response, text
from blacksheep.exceptions import NotFound
from blacksheep.server.responses import json as json_response
from blacksheep.server.responses import redirect
from blacksheep.server.sse import TextServerSentEvent
from blacksheep.server.websocket import WebSocket, WebSocketDisconnectError

from tests.frameworks._checklist import GREETING, BoomError, Checklist, upload_summary
from tests.frameworks._clients import Connect
from unwired import LifespanFailed, WebSocketDisconnect

EVENTS: list[str] = []


@pytest.fixture(params=["asyncio", "uvloop"])
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    """BlackSheep is asyncio-only: asyncio and uvloop, not trio."""
    return ("asyncio", {"use_uvloop": request.param == "uvloop"})


class Greeter:
    """Stands for a resource made at startup and shared by the handlers."""

    greeting: str | None = None


def create_app(*, fail_startup: bool = False) -> Application:
    app = Application()
    app.use_sessions("not-a-secret")
    greeter = Greeter()
    get, post = app.router.get, app.router.post

    @app.on_start
    async def startup(application: Application) -> None:
        if fail_startup:
            raise BoomError("startup boom")
        greeter.greeting = GREETING
        EVENTS.append("startup")

    @app.on_stop
    async def shutdown(application: Application) -> None:
        EVENTS.append("shutdown")

    @get("/users/{int:user_id}")
    async def user(user_id: int, q: str | None = None, tag: list[str] | None = None) -> Response:
        return json_response({"user_id": user_id, "q": q, "tags": tag or []})

    @post("/echo")
    async def echo(data: FromJSON[dict[str, Any]]) -> Response:
        return json_response({"received": data.value}, status=201)

    @post("/form")
    async def form(request: Request) -> Response:
        data = await request.form()
        assert data is not None
        return json_response({"name": data["name"], "langs": data["lang"]})

    @post("/upload")
    async def upload(request: Request) -> Response:
        data = await request.form()
        assert data is not None
        [file] = await request.files("file")
        return json_response(
            upload_summary(
                file.file_name.decode() if file.file_name else None,
                file.content_type.decode() if file.content_type else None,
                file.data,
                data["description"],
            )
        )

    @get("/cookies/set")
    async def set_cookie(flavour: str) -> Response:
        response = text("set")
        response.set_cookie(Cookie("flavour", flavour))
        return response

    @get("/cookies")
    async def cookies(request: Request) -> Response:
        return json_response(dict(request.cookies))

    @get("/session/set")
    async def session_set(request: Request) -> Response:
        request.session.update({key: value for key, [value] in request.query.items()})
        return json_response(request.session.to_dict())

    @get("/session")
    async def session(request: Request) -> Response:
        return json_response(request.session.to_dict())

    @get("/session/clear")
    async def session_clear(request: Request) -> Response:
        request.session.clear()
        return json_response({})

    @get("/redirect")
    async def to_user() -> Response:
        return redirect("/users/7?q=redirected")

    @get("/items/{int:item_id}")
    async def item(item_id: int) -> Response:
        raise NotFound()

    @get("/boom")
    async def boom() -> Response:
        raise BoomError("boom")

    @get("/state")
    async def state() -> Response:
        return json_response({"greeting": greeter.greeting})

    @get("/ticks")
    async def ticks(request: Request) -> AsyncIterable[TextServerSentEvent]:
        try:
            n = 0
            while not await request.is_disconnected():
                n += 1
                yield TextServerSentEvent(str(n))
        except BaseException as exc:
            EVENTS.append(f"ticks ended: {type(exc).__name__}")
            raise
        EVENTS.append("ticks ended")

    @app.router.ws("/ws")
    async def ws_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                message = await websocket.receive_text()
                if message == "bye":
                    await websocket.close(4001, "bye")
                    return
                if message.startswith("{"):
                    await websocket.send_json({"echo": json.loads(message)})
                else:
                    await websocket.send_text(f"echo: {message}")
        except WebSocketDisconnectError as exc:
            EVENTS.append(f"ws closed {exc.code}")

    return app


class TestBlackSheep(Checklist):
    events = EVENTS
    propagates_exceptions = False  # BlackSheep answers 500 itself (see the docstring)
    # BlackSheep logs the exception ("Startup error") and answers
    # 'lifespan.startup.failed' with no message.
    startup_failure = (LifespanFailed, r"^lifespan startup failed \(the app gave no message\)$")

    @pytest.fixture
    def app(self) -> Application:
        return create_app()

    @pytest.fixture
    def failing_app(self) -> Application:
        return create_app(fail_startup=True)

    async def test_an_exception_handler_sees_the_error(self, connect: Connect, app: Any) -> None:
        seen: list[Exception] = []

        async def record(app: Application, request: Request, exc: Exception) -> Response:
            seen.append(exc)
            return text("recorded", status=500)

        app.exceptions_handlers[BoomError] = record
        async with connect(app) as client:
            response = await client.get("/boom")
        assert (response.status_code, response.text) == (500, "recorded")
        assert [(type(exc), str(exc)) for exc in seen] == [(BoomError, "boom")]

    async def test_websocket_to_an_unknown_path_is_closed(self, connect: Connect, app: Any) -> None:
        async with connect(app) as client:
            with pytest.raises(WebSocketDisconnect) as info:
                async with client.websocket_connect("/nowhere"):
                    pass
        assert (info.value.code, info.value.reason) == (1000, "")

    async def test_without_lifespan_it_starts_on_the_first_request(
        self, connect: Connect, app: Any
    ) -> None:
        async with connect(app, lifespan="off") as client:
            assert self.events == []
            assert (await client.get("/state")).json() == {"greeting": GREETING}
            assert self.events == ["startup"]
        assert self.events == ["startup"]  # and it never stops
