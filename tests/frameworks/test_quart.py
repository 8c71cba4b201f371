"""Quart through the framework checklist (_checklist.py), with both clients.

Event loops: asyncio only (Quart schedules its own tasks with asyncio), so
this module runs on asyncio and uvloop, not trio.
Lifespan: supported (``before_serving``/``after_serving``).
Unhandled exceptions: by default Quart answers 500 itself; with
``PROPAGATE_EXCEPTIONS = True`` (and neither ``debug`` nor ``testing``, which
render a traceback page instead) the exception leaves the ASGI app, so
``raise_server_exceptions=True`` re-raises it (``test_exceptions_are_a_500_by_default``
shows the default).
Disconnects: Quart runs each request and each WebSocket as a handler task
beside a task reading ``receive()``; ``http.disconnect`` or
``websocket.disconnect`` ends the reader and Quart cancels the handler: a
streaming response's generator is then closed (``GeneratorExit``), and a
WebSocket handler sees ``CancelledError`` (Quart does not expose the close code).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import (
    Quart,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    request,
    session,
    websocket,
)

from tests.frameworks._checklist import GREETING, BoomError, Checklist, upload_summary
from tests.frameworks._clients import Connect
from unwired import LifespanFailed

EVENTS: list[str] = []


@pytest.fixture(params=["asyncio", "uvloop"])
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    """Quart is asyncio-only: asyncio and uvloop, not trio."""
    return ("asyncio", {"use_uvloop": request.param == "uvloop"})


def create_app(*, propagate_exceptions: bool = True, fail_startup: bool = False) -> Quart:
    app = Quart(__name__)
    app.secret_key = "not-a-secret"
    app.config["PROPAGATE_EXCEPTIONS"] = propagate_exceptions

    @app.before_serving
    async def startup() -> None:
        if fail_startup:
            raise BoomError("startup boom")
        app.config["GREETING"] = GREETING
        EVENTS.append("startup")

    @app.after_serving
    async def shutdown() -> None:
        EVENTS.append("shutdown")

    @app.route("/users/<int:user_id>")
    async def user(user_id: int) -> dict[str, Any]:
        return {
            "user_id": user_id,
            "q": request.args.get("q"),
            "tags": request.args.getlist("tag"),
        }

    @app.post("/echo")
    async def echo() -> tuple[dict[str, Any], int]:
        return {"received": await request.get_json()}, 201

    @app.post("/form")
    async def form() -> dict[str, Any]:
        data = await request.form
        return {"name": data["name"], "langs": data.getlist("lang")}

    @app.post("/upload")
    async def upload() -> dict[str, Any]:
        files = await request.files
        data = await request.form
        file = files["file"]
        return upload_summary(file.filename, file.content_type, file.read(), data["description"])

    @app.route("/cookies/set")
    async def set_cookie() -> Response:
        response = await make_response("set")
        response.set_cookie("flavour", request.args["flavour"])
        return response

    @app.route("/cookies")
    async def cookies() -> dict[str, str]:
        return dict(request.cookies)

    @app.route("/session/set")
    async def session_set() -> dict[str, Any]:
        session.update(request.args.items())
        return dict(session)

    @app.route("/session")
    async def session_get() -> dict[str, Any]:
        return dict(session)

    @app.route("/session/clear")
    async def session_clear() -> dict[str, Any]:
        session.clear()
        return {}

    @app.route("/redirect")
    async def to_user() -> Response:
        return redirect("/users/7?q=redirected")

    @app.route("/items/<int:item_id>")
    async def item(item_id: int) -> None:
        abort(404)

    @app.route("/boom")
    async def boom() -> None:
        raise BoomError("boom")

    @app.route("/state")
    async def state() -> dict[str, str]:
        return {"greeting": current_app.config["GREETING"]}

    @app.route("/ticks")
    async def ticks() -> Response:
        async def events() -> AsyncIterator[bytes]:
            try:
                n = 0
                while True:
                    n += 1
                    yield f"data: {n}\n\n".encode()
                    await asyncio.sleep(0)
            except BaseException as exc:
                EVENTS.append(f"ticks ended: {type(exc).__name__}")
                raise

        response = await make_response(events(), {"Content-Type": "text/event-stream"})
        response.timeout = None  # an endless stream: no response timeout
        return response

    @app.websocket("/ws")
    async def ws_echo() -> None:
        await websocket.accept()
        try:
            while True:
                text = await websocket.receive()
                if text == "bye":
                    await websocket.close(4001, "bye")
                    return
                if isinstance(text, str) and text.startswith("{"):
                    await websocket.send_json({"echo": json.loads(text)})
                else:
                    await websocket.send(f"echo: {text}")
        except asyncio.CancelledError:
            EVENTS.append("ws cancelled")
            raise

    return app


class TestQuart(Checklist):
    events = EVENTS
    # Quart cancels the handler (waiting in send()), then closes the generator.
    ticks_ended = ("ticks ended: GeneratorExit",)
    ws_closed = "ws cancelled"
    # Quart answers 'lifespan.startup.failed' with str(error) and keeps waiting
    # for the next lifespan message: unwired raises LifespanFailed with that text
    # (after its grace period for an app that raises: 1 s here).
    startup_failure = (LifespanFailed, r"^lifespan startup failed: startup boom$")

    @pytest.fixture
    def app(self) -> Quart:
        return create_app()

    @pytest.fixture
    def failing_app(self) -> Quart:
        return create_app(fail_startup=True)

    async def test_exceptions_are_a_500_by_default(self, connect: Connect) -> None:
        async with connect(create_app(propagate_exceptions=False)) as client:
            response = await client.get("/boom")
        assert response.status_code == 500
        assert "Internal Server Error" in response.text
