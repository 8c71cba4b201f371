"""Starlette through the framework checklist (_checklist.py), with both clients.

Lifespan: supported; the ``lifespan=`` context manager's yielded dict becomes
``scope["state"]`` (``client.app_state``) and is copied into each request's
``request.state``. Runs on asyncio, uvloop and trio (anyio throughout).
Unhandled exceptions: ``ServerErrorMiddleware`` sends a 500 and re-raises, so
``raise_server_exceptions=True`` sees the app's own exception.
Streaming: with ASGI spec_version 2.4 (which unwired advertises) Starlette does
not listen for ``http.disconnect``: after the test closes the stream, its next
``send()`` raises unwired's ``OSError``, which it turns into ``ClientDisconnect``.
It does not close the body generator (see ``record_end``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import anyio.lowlevel
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.frameworks._checklist import (
    GREETING,
    BoomError,
    Checklist,
    describe,
    upload_summary,
)

EVENTS: list[str] = []


async def user(request: Request) -> JSONResponse:
    params = request.query_params
    return JSONResponse(
        {
            "user_id": request.path_params["user_id"],
            "q": params.get("q"),
            "tags": params.getlist("tag"),
        }
    )


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"received": await request.json()}, status_code=201)


async def form(request: Request) -> JSONResponse:
    async with request.form() as data:
        return JSONResponse({"name": data["name"], "langs": data.getlist("lang")})


async def upload(request: Request) -> JSONResponse:
    async with request.form() as data:
        file = data["file"]
        assert not isinstance(file, str)
        content = await file.read()
        description = data["description"]
        assert isinstance(description, str)
        return JSONResponse(upload_summary(file.filename, file.content_type, content, description))


async def set_cookie(request: Request) -> Response:
    response = Response("set")
    response.set_cookie("flavour", request.query_params["flavour"])
    return response


async def cookies(request: Request) -> JSONResponse:
    return JSONResponse(request.cookies)


async def session_set(request: Request) -> JSONResponse:
    request.session.update(request.query_params)
    return JSONResponse(request.session)


async def session(request: Request) -> JSONResponse:
    return JSONResponse(request.session)


async def session_clear(request: Request) -> JSONResponse:
    request.session.clear()
    return JSONResponse({})


async def redirect(request: Request) -> RedirectResponse:
    return RedirectResponse("/users/7?q=redirected")


async def item(request: Request) -> Response:
    raise HTTPException(404, f"no item {request.path_params['item_id']}")


async def boom(request: Request) -> Response:
    raise BoomError("boom")


async def state(request: Request) -> JSONResponse:
    return JSONResponse({"greeting": request.state.greeting})


async def ticks(request: Request) -> StreamingResponse:
    async def events() -> AsyncIterator[str]:
        n = 0
        while True:
            n += 1
            yield f"data: {n}\n\n"
            await anyio.lowlevel.checkpoint()

    return StreamingResponse(events(), media_type="text/event-stream")


def record_end(app: ASGIApp) -> ASGIApp:
    """Records how the endpoint ended.

    Not a ``finally`` in the generator: when ``send()`` fails, Starlette raises
    ``ClientDisconnect`` without closing the body iterator, so the generator's
    ``finally`` runs only once the garbage collector has finalized it and the
    loop runs again (here, in practice, when the client closes its loop), with
    any server.
    """

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except BaseException as exc:
            EVENTS.append(f"ticks ended: {describe(exc)}")
            raise
        EVENTS.append("ticks ended")

    return endpoint


async def ws_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            text = await websocket.receive_text()
            if text == "bye":
                await websocket.close(4001, "bye")
                return
            if text.startswith("{"):
                await websocket.send_json({"echo": json.loads(text)})
            else:
                await websocket.send_text(f"echo: {text}")
    except WebSocketDisconnect as exc:
        EVENTS.append(f"ws closed {exc.code}")


ROUTES = [
    Route("/users/{user_id:int}", user),
    Route("/echo", echo, methods=["POST"]),
    Route("/form", form, methods=["POST"]),
    Route("/upload", upload, methods=["POST"]),
    Route("/cookies/set", set_cookie),
    Route("/cookies", cookies),
    Route("/session/set", session_set),
    Route("/session", session),
    Route("/session/clear", session_clear),
    Route("/redirect", redirect),
    Route("/items/{item_id:int}", item),
    Route("/boom", boom),
    Route("/state", state),
    Route("/ticks", ticks, middleware=[Middleware(record_end)]),
    WebSocketRoute("/ws", ws_echo),
]


def create_app(*, fail_startup: bool = False) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        if fail_startup:
            raise BoomError("startup boom")
        EVENTS.append("startup")
        yield {"greeting": GREETING}
        EVENTS.append("shutdown")

    return Starlette(
        routes=ROUTES,
        middleware=[Middleware(SessionMiddleware, secret_key="not-a-secret")],
        lifespan=lifespan,
    )


class TestStarlette(Checklist):
    events = EVENTS

    @pytest.fixture
    def app(self) -> Starlette:
        return create_app()

    @pytest.fixture
    def failing_app(self) -> Starlette:
        return create_app(fail_startup=True)

    redirect_status = 307
    lifespan_state: ClassVar[dict[str, Any]] = {"greeting": GREETING}  # what lifespan yields
    ticks_ended = ("ticks ended: ClientDisconnect",)
