"""Litestar through the framework checklist (_checklist.py), with both clients.

Event loops: asyncio, uvloop and trio (anyio throughout). One app object should
stay on one kind of loop: its server-side session store keeps an anyio lock
made for the first loop that used it, so each test here makes its own app.
Lifespan: supported (``on_startup``/``on_shutdown`` hooks, or ``lifespan=``
context managers); the app keeps its own ``app.state``, injected as ``state``,
and leaves ``scope["state"]`` (``client.app_state``) empty. Two clients must
not run one app's lifespan at the same time: its event emitter keeps one
stream, and the first one is never closed (``ResourceWarning``).
Logging: by default each ``Litestar(...)`` configures the root logger (so
httpx2's per-request INFO lines start to show) and, on Python < 3.12, starts
a queue-listener thread that is never stopped: one more thread per app. A suite
that builds an app per test, like this one, passes ``logging_config=None``.
Unhandled exceptions: Litestar's exception middleware turns every exception
into a 500 response inside the app and never re-raises it, so there is
nothing for ``raise_server_exceptions=True`` to re-raise: the test gets the
500 either way. To see the exception in a test, use an ``after_exception``
hook (``test_after_exception_hook_sees_the_error``) or ``debug=True`` (the
traceback in the response body).
Streaming: ``ServerSentEvent`` listens for ``http.disconnect`` and cancels
its stream; it does not close the generator, so the request's end is
recorded by a route middleware.

No ``from __future__ import annotations``: Litestar reads the annotations.
"""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar

import anyio.lowlevel
import pytest
from litestar import Litestar, Request, Response, Router, WebSocket, get, post, websocket
from litestar.datastructures import Cookie, State, UploadFile
from litestar.exceptions import NotFoundException, WebSocketDisconnect
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody, URLEncodedBody
from litestar.response import Redirect, ServerSentEvent
from litestar.types import ASGIApp, Receive, Scope, Send

from tests.frameworks._checklist import (
    GREETING,
    BoomError,
    Checklist,
    describe,
    upload_summary,
)
from tests.frameworks._clients import Connect

EVENTS: list[str] = []


@get("/users/{user_id:int}")
async def user(
    user_id: FromPath[int], q: FromQuery[str | None] = None, tag: FromQuery[list[str] | None] = None
) -> dict[str, Any]:
    return {"user_id": user_id, "q": q, "tags": tag or []}


@post("/echo")  # Litestar's POST default status is 201
async def echo(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    return {"received": data}


@post("/form", status_code=200)
async def form(data: URLEncodedBody[dict[str, Any]]) -> dict[str, Any]:
    return {"name": data["name"], "langs": data["lang"]}


@dataclass
class UploadForm:
    file: UploadFile
    description: str


@post("/upload", status_code=200)
async def upload(data: MultipartBody[UploadForm]) -> dict[str, Any]:
    file = data.file
    return upload_summary(file.filename, file.content_type, await file.read(), data.description)


@get("/cookies/set")
async def set_cookie(flavour: FromQuery[str]) -> Response[str]:
    return Response("set", cookies=[Cookie(key="flavour", value=flavour)])


@get("/cookies")
async def cookies(request: Request[Any, Any, Any]) -> dict[str, str]:
    return request.cookies


@get("/set")
async def session_set(request: Request[Any, Any, Any]) -> dict[str, Any]:
    request.set_session({**request.session, **dict(request.query_params.items())})
    return request.session


@get("/")
async def session(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return request.session


@get("/clear")
async def session_clear(request: Request[Any, Any, Any]) -> dict[str, Any]:
    request.clear_session()
    return {}


@get("/redirect")
async def redirect() -> Redirect:
    return Redirect(path="/users/7?q=redirected")


@get("/items/{item_id:int}")
async def item(item_id: FromPath[int]) -> None:
    raise NotFoundException(f"no item {item_id}")


@get("/boom")
async def boom() -> None:
    raise BoomError("boom")


@get("/state")
async def read_state(state: State) -> dict[str, str]:
    return {"greeting": state.greeting}


def record_end(app: ASGIApp) -> ASGIApp:
    """Records how the request ended (the stream does not close its generator)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except BaseException as exc:
            EVENTS.append(f"ticks ended: {describe(exc)}")
            raise
        EVENTS.append("ticks ended")

    return middleware


@get("/ticks", middleware=[record_end])
async def ticks() -> ServerSentEvent:
    async def events() -> AsyncIterator[str]:
        n = 0
        while True:
            n += 1
            yield str(n)
            await anyio.lowlevel.checkpoint()

    return ServerSentEvent(events())


@websocket("/ws")
async def ws_echo(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    try:
        while True:
            text = await socket.receive_text()
            if text == "bye":
                await socket.close(code=4001, reason="bye")
                return
            if text.startswith("{"):
                await socket.send_json({"echo": json.loads(text)})
            else:
                await socket.send_text(f"echo: {text}")
    except WebSocketDisconnect as exc:
        EVENTS.append(f"ws closed {exc.code}")


def startup(app: Litestar) -> None:
    app.state.greeting = GREETING
    EVENTS.append("startup")


def shutdown(app: Litestar) -> None:
    EVENTS.append("shutdown")


def fail(app: Litestar) -> None:
    raise BoomError("startup boom")


def create_app(*, fail_startup: bool = False) -> Litestar:
    sessions = Router(
        "/session",
        route_handlers=[session_set, session, session_clear],
        middleware=[ServerSideSessionConfig().middleware],  # its cookie only on these routes
    )
    return Litestar(
        route_handlers=[
            user,
            echo,
            form,
            upload,
            set_cookie,
            cookies,
            sessions,
            redirect,
            item,
            boom,
            read_state,
            ticks,
            ws_echo,
        ],
        on_startup=[fail if fail_startup else startup],
        on_shutdown=[shutdown],
        logging_config=None,  # see the module docstring
    )


class TestLitestar(Checklist):
    events = EVENTS
    propagates_exceptions = False  # Litestar answers 500 itself (see the docstring)
    # Two of its tasks race to the disconnect: the listener cancels the stream (a
    # clean end; first on trio), or the stream's send() raises unwired's OSError
    # first (asyncio), which Litestar wraps as "Exception caught after response started".
    ticks_ended = (
        "ticks ended",
        "ticks ended: LitestarException from ExceptionGroup[ClientDisconnected]",
    )
    # Litestar runs its shutdown hooks even when a startup hook failed.
    startup_failure_events: ClassVar[list[str]] = ["shutdown"]

    @pytest.fixture
    def app(self) -> Litestar:
        return create_app()

    @pytest.fixture
    def failing_app(self) -> Litestar:
        return create_app(fail_startup=True)

    async def test_after_exception_hook_sees_the_error(self, connect: Connect) -> None:
        seen: list[BaseException] = []

        async def record(exc: BaseException, scope: Scope) -> None:
            seen.append(exc)

        app = Litestar([boom], after_exception=[record], logging_config=None)
        async with connect(app) as client:
            response = await client.get("/boom")
        assert response.status_code == 500
        assert response.json() == {"status_code": 500, "detail": "Internal Server Error"}
        assert [(type(exc), str(exc)) for exc in seen] == [(BoomError, "boom")]
