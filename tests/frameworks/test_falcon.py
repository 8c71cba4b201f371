"""Falcon (``falcon.asgi.App``) through the framework checklist (_checklist.py), with both clients.

Event loops: asyncio only, so asyncio and uvloop here. (On trio plain requests
work, but SSE and WebSockets call ``asyncio.get_running_loop()`` and fail.)
Lifespan: supported through middleware ``process_startup``/``process_shutdown``.
Unhandled exceptions: Falcon's default ``Exception`` handler logs them and
answers 500 inside the app. An error handler that re-raises the exception
lets it out of the app ("handle errors outside of the Falcon app", as Falcon
puts it), and then ``raise_server_exceptions=True`` re-raises it in the test;
``test_exceptions_are_a_500_by_default`` shows the default.
Cookies: Falcon marks cookies ``Secure`` by default, and an http client never
sends a Secure cookie back; a test app over ``http://testserver`` sets
``secure_cookies_by_default = False`` (or the test uses ``base_url="https://testserver"``).
Sessions: Falcon has none; the app keeps them with a small middleware.
Streaming: when ``send()`` raises after the disconnect, Falcon stops
iterating ``resp.sse`` without closing the generator (its ``finally`` waits
for the garbage collector), so the request's end is recorded around the app.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import falcon
import falcon.asgi
import pytest
from falcon.asgi import Request, Response

from tests.frameworks._checklist import (
    GREETING,
    BoomError,
    Checklist,
    record_end_of,
    upload_summary,
)
from tests.frameworks._clients import Connect
from unwired import LifespanFailed

EVENTS: list[str] = []


@pytest.fixture(params=["asyncio", "uvloop"])
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    """Falcon's ASGI app is asyncio-only: asyncio and uvloop, not trio."""
    return ("asyncio", {"use_uvloop": request.param == "uvloop"})


class Lifespan:
    """Startup and shutdown hooks; the greeting stands for a resource made at startup."""

    greeting: str | None = None

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail

    async def process_startup(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        if self.fail:
            raise BoomError("startup boom")
        self.greeting = GREETING
        EVENTS.append("startup")

    async def process_shutdown(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        EVENTS.append("shutdown")


class Sessions:
    """Server-side sessions keyed by a ``session`` cookie, in ``req.context.session``."""

    def __init__(self) -> None:
        self.store: dict[str, dict[str, str]] = {}

    async def process_request(self, req: Request, resp: Response) -> None:
        key = req.get_cookie_values("session")
        req.context.session_key = key[0] if key else secrets.token_hex(16)
        req.context.session = dict(self.store.get(req.context.session_key, {}))

    async def process_response(self, req: Request, resp: Response, resource: Any, ok: bool) -> None:
        if "session" in req.context and req.context.session != self.store.get(
            req.context.session_key, {}
        ):
            self.store[req.context.session_key] = req.context.session
            resp.set_cookie("session", req.context.session_key)


class Users:
    async def on_get(self, req: Request, resp: Response, user_id: int) -> None:
        resp.media = {
            "user_id": user_id,
            "q": req.get_param("q"),
            "tags": req.get_param_as_list("tag") or [],
        }


class Echo:
    async def on_post(self, req: Request, resp: Response) -> None:
        resp.media = {"received": await req.get_media()}
        resp.status = falcon.HTTP_201


class Form:
    async def on_post(self, req: Request, resp: Response) -> None:
        form = await req.get_media()
        resp.media = {"name": form["name"], "langs": form["lang"]}


class Upload:
    async def on_post(self, req: Request, resp: Response) -> None:
        fields: dict[str, Any] = {}
        async for part in await req.get_media():
            if part.filename is not None:
                fields[part.name] = (part.filename, part.content_type, await part.get_data())
            else:
                fields[part.name] = await part.get_text()
        filename, content_type, content = fields["file"]
        resp.media = upload_summary(filename, content_type, content, fields["description"])


class Cookies:
    async def on_get(self, req: Request, resp: Response) -> None:
        resp.media = req.cookies

    async def on_get_set(self, req: Request, resp: Response) -> None:
        resp.set_cookie("flavour", req.get_param("flavour", required=True))
        resp.text = "set"


class Session:
    async def on_get(self, req: Request, resp: Response) -> None:
        resp.media = req.context.session

    async def on_get_set(self, req: Request, resp: Response) -> None:
        req.context.session.update(req.params)
        resp.media = req.context.session

    async def on_get_clear(self, req: Request, resp: Response) -> None:
        req.context.session.clear()
        resp.media = {}


class Redirect:
    async def on_get(self, req: Request, resp: Response) -> None:
        raise falcon.HTTPFound("/users/7?q=redirected")


class Items:
    async def on_get(self, req: Request, resp: Response, item_id: int) -> None:
        raise falcon.HTTPNotFound(description=f"no item {item_id}")


class Boom:
    async def on_get(self, req: Request, resp: Response) -> None:
        raise BoomError("boom")


class State:
    def __init__(self, lifespan: Lifespan) -> None:
        self.lifespan = lifespan

    async def on_get(self, req: Request, resp: Response) -> None:
        resp.media = {"greeting": self.lifespan.greeting}


class Ticks:
    async def on_get(self, req: Request, resp: Response) -> None:
        async def events() -> AsyncIterator[falcon.asgi.SSEvent]:
            n = 0
            while True:
                n += 1
                yield falcon.asgi.SSEvent(text=str(n))

        resp.sse = events()


class Echoes:
    async def on_websocket(self, req: Request, ws: falcon.asgi.WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                text = await ws.receive_text()
                if text == "bye":
                    await ws.close(4001, "bye")
                    return
                if text.startswith("{"):
                    await ws.send_media({"echo": json.loads(text)})
                else:
                    await ws.send_text(f"echo: {text}")
        except falcon.WebSocketDisconnected as exc:
            EVENTS.append(f"ws closed {exc.code}")


async def reraise(req: Request, resp: Response | None, ex: Exception, params: Any) -> None:
    """Let unhandled exceptions out of the app (Falcon's documented way)."""
    raise ex


def create_app(*, propagate_exceptions: bool = True, fail_startup: bool = False) -> Any:
    lifespan = Lifespan(fail=fail_startup)
    app = falcon.asgi.App(middleware=[lifespan, Sessions()])
    app.resp_options.secure_cookies_by_default = False  # served over http:// (docstring)
    app.add_route("/users/{user_id:int}", Users())
    app.add_route("/echo", Echo())
    app.add_route("/form", Form())
    app.add_route("/upload", Upload())
    app.add_route("/cookies", Cookies())
    app.add_route("/cookies/set", Cookies(), suffix="set")
    app.add_route("/session", Session())
    app.add_route("/session/set", Session(), suffix="set")
    app.add_route("/session/clear", Session(), suffix="clear")
    app.add_route("/redirect", Redirect())
    app.add_route("/items/{item_id:int}", Items())
    app.add_route("/boom", Boom())
    app.add_route("/state", State(lifespan))
    app.add_route("/ticks", Ticks())
    app.add_route("/ws", Echoes())
    if propagate_exceptions:
        app.add_error_handler(Exception, reraise)
    return record_end_of("/ticks", app, EVENTS)  # see the module docstring


class TestFalcon(Checklist):
    events = EVENTS
    # The SSE loop's send() raised unwired's OSError, which leaves the app.
    ticks_ended = ("ticks ended: ClientDisconnected",)
    # Falcon answers 'lifespan.startup.failed' with the traceback as its message.
    startup_failure = (
        LifespanFailed,
        r"(?s)^lifespan startup failed: Traceback .*BoomError: startup boom$",
    )

    @pytest.fixture
    def app(self) -> Any:
        return create_app()

    @pytest.fixture
    def failing_app(self) -> Any:
        return create_app(fail_startup=True)

    async def test_exceptions_are_a_500_by_default(self, connect: Connect) -> None:
        async with connect(create_app(propagate_exceptions=False)) as client:
            response = await client.get("/boom")
        assert response.status_code == 500
        assert response.json() == {"title": "500 Internal Server Error"}
