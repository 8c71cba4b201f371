"""FastAPI through the framework checklist (_checklist.py), with both clients.

Lifespan: supported; the ``lifespan=`` context manager's yielded dict becomes
``scope["state"]`` (``client.app_state``), read in endpoints as ``request.state``.
Runs on asyncio, uvloop and trio (Starlette and anyio underneath).
Unhandled exceptions: Starlette's ``ServerErrorMiddleware`` sends a 500 and
re-raises, so ``raise_server_exceptions=True`` sees the endpoint's exception.
Streaming: a generator endpoint with ``response_class=EventSourceResponse``
runs in a producer task that FastAPI cancels when the response ends. The
generator is closed only if that cancellation lands inside it, not while the
producer waits to hand an event on, so its ``finally`` may wait for the garbage
collector; the request's end is recorded by a dependency with ``yield``, which
FastAPI exits after the response, with the exception that ended it.

No ``from __future__ import annotations``: FastAPI reads the annotations.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, ClassVar

import anyio.lowlevel
import pytest
from fastapi import (
    APIRouter,
    Body,
    Depends,
    FastAPI,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.responses import RedirectResponse
from fastapi.sse import EventSourceResponse
from starlette.middleware.sessions import SessionMiddleware

from tests.frameworks._checklist import (
    GREETING,
    BoomError,
    Checklist,
    describe,
    upload_summary,
)

EVENTS: list[str] = []


router = APIRouter()


@router.get("/users/{user_id}")
async def user(
    user_id: int, q: str | None = None, tag: Annotated[list[str] | None, Query()] = None
) -> dict[str, Any]:
    return {"user_id": user_id, "q": q, "tags": tag or []}


@router.post("/echo", status_code=201)
async def echo(payload: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    return {"received": payload}


@router.post("/form")
async def form(name: Annotated[str, Form()], lang: Annotated[list[str], Form()]) -> dict[str, Any]:
    return {"name": name, "langs": lang}


@router.post("/upload")
async def upload(
    file: Annotated[UploadFile, File()], description: Annotated[str, Form()]
) -> dict[str, Any]:
    return upload_summary(file.filename, file.content_type, await file.read(), description)


@router.get("/cookies/set")
async def set_cookie(flavour: str, response: Response) -> str:
    response.set_cookie("flavour", flavour)
    return "set"


@router.get("/cookies")
async def cookies(request: Request) -> dict[str, str]:
    return request.cookies


@router.get("/session/set")
async def session_set(request: Request) -> dict[str, Any]:
    request.session.update(request.query_params)
    return request.session


@router.get("/session")
async def session(request: Request) -> dict[str, Any]:
    return request.session


@router.get("/session/clear")
async def session_clear(request: Request) -> dict[str, Any]:
    request.session.clear()
    return {}


@router.get("/redirect")
async def redirect() -> RedirectResponse:
    return RedirectResponse("/users/7?q=redirected")


@router.get("/items/{item_id}")
async def item(item_id: int) -> None:
    raise HTTPException(404, f"no item {item_id}")


@router.get("/boom")
async def boom() -> None:
    raise BoomError("boom")


@router.get("/state")
async def state(request: Request) -> dict[str, str]:
    return {"greeting": request.state.greeting}


async def ticks_lifetime() -> AsyncIterator[None]:
    """Records how the request ended: a dependency with ``yield`` exits after the response."""
    try:
        yield
    except BaseException as exc:
        EVENTS.append(f"ticks ended: {describe(exc)}")
        raise
    EVENTS.append("ticks ended")


@router.get("/ticks", response_class=EventSourceResponse, dependencies=[Depends(ticks_lifetime)])
async def ticks() -> AsyncIterator[int]:
    n = 0
    while True:
        n += 1
        yield n
        await anyio.lowlevel.checkpoint()


@router.websocket("/ws")
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


def create_app(*, fail_startup: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        if fail_startup:
            raise BoomError("startup boom")
        EVENTS.append("startup")
        yield {"greeting": GREETING}
        EVENTS.append("shutdown")

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(SessionMiddleware, secret_key="not-a-secret")
    app.include_router(router)
    return app


class TestFastAPI(Checklist):
    events = EVENTS
    redirect_status = 307
    lifespan_state: ClassVar[dict[str, Any]] = {"greeting": GREETING}  # what lifespan yields
    # The SSE producer's task group wraps Starlette's ClientDisconnect. When its
    # keepalive task was waiting to hand on an event as the stream closed (as
    # happens with trio in a thread), that task's BrokenResourceError joins it.
    ticks_ended = (
        "ticks ended: ExceptionGroup[ClientDisconnect]",
        "ticks ended: ExceptionGroup[ClientDisconnect, BrokenResourceError]",
    )

    @pytest.fixture
    def app(self) -> FastAPI:
        return create_app()

    @pytest.fixture
    def failing_app(self) -> FastAPI:
        return create_app(fail_startup=True)
