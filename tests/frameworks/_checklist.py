"""The scenarios every framework module runs, through both clients, on every loop it supports.

Each framework module writes one app the way that framework's docs do, serving
the routes below, and a ``class Test<Framework>(Checklist)`` naming it. Every
test here then runs with ``TestClient`` and ``AsyncTestClient`` (conftest.py).
A framework that differs overrides the test with a comment saying why.

The routes every app serves (``EVENTS`` is the module's record of what the
app saw; it is cleared before each test):

============================  =================================================
``GET /users/{id:int}``       ``{"user_id": id, "q": q or None, "tags": [tag...]}``
``POST /echo``                JSON in, ``201 {"received": body}`` out
``POST /form``                url-encoded ``name`` and repeated ``lang``, echoed
``POST /upload``              multipart ``file`` + ``description``: ``upload_summary``
``GET /cookies/set?flavour=`` sets the ``flavour`` cookie
``GET /cookies``              the request's cookies as a JSON object
``GET /session/set?k=v...``   stores the query in the session, returns the session
``GET /session``              the session; ``GET /session/clear`` empties it
``GET /redirect``             redirects to ``/users/7?q=redirected``
``GET /items/{id:int}``       the framework's own "not found" error for any id
``GET /boom``                 raises ``BoomError("boom")``
``GET /state``                ``{"greeting": ...}`` stored by the startup hook
``GET /ticks``                an endless SSE stream ``data: 1``, ``data: 2``, ...;
                              once it stops, ``"ticks ended"`` (or how it ended)
                              is recorded where the framework lets an app see it
``WS /ws``                    echoes text as ``echo: <text>`` and JSON as
                              ``{"echo": ...}``; on text ``"bye"`` closes with
                              4001 ``"bye"``; records ``"ws closed <code>"`` when
                              the client closes
============================  =================================================

The startup hook records ``"startup"`` and the shutdown hook ``"shutdown"``;
the ``failing_app`` fixture's startup hook raises ``BoomError("startup boom")``.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any, ClassVar

import httpx2
import pytest

from tests.frameworks._clients import Connect
from unwired import WebSocketDisconnect

#: A JSON body with the types JSON has.
PAYLOAD = {
    "name": "unwired",
    "tags": ["a", "b"],
    "count": 3,
    "ratio": 0.5,
    "ok": True,
    "none": None,
}
#: An upload bigger than one read chunk, with every byte value.
UPLOAD = bytes(range(256)) * 1024
GREETING = "hello from startup"


class BoomError(Exception):
    """What ``GET /boom`` raises; a class of its own so nothing else matches it."""


def upload_summary(
    filename: str | None, content_type: str | None, content: bytes, description: str
) -> dict[str, Any]:
    """What ``POST /upload`` answers, computed from what the app received."""
    return {
        "filename": filename,
        "content_type": content_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "description": description,
    }


def describe(exc: BaseException) -> str:
    """``ClientDisconnect``; ``ExceptionGroup[ClientDisconnect]`` for a group; ``A from B``."""
    if isinstance(exc, BaseExceptionGroup):
        inner = ", ".join(describe(e) for e in exc.exceptions)
        return f"{type(exc).__name__}[{inner}]"
    if exc.__cause__ is not None:
        return f"{type(exc).__name__} from {describe(exc.__cause__)}"
    return type(exc).__name__


def record_end_of(path: str, app: Any, events: list[str]) -> Any:
    """Wrap an ASGI app to record in ``events`` how its requests to ``path`` ended.

    For frameworks that stop iterating a streaming generator without closing
    it: the generator's ``finally`` then waits for the garbage collector, and
    the end of the request is only visible around the app.
    """

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("path") != path:
            await app(scope, receive, send)
            return
        try:
            await app(scope, receive, send)
        except BaseException as exc:
            events.append(f"ticks ended: {describe(exc)}")
            raise
        events.append("ticks ended")

    return wrapper


def sse_data(raw: bytes) -> list[str]:
    """The ``data:`` fields of the complete SSE events in ``raw``, in order."""
    text = raw.decode().replace("\r\n", "\n")
    events = text.split("\n\n")[:-1]  # the last part is an incomplete event (or "")
    return [
        line.removeprefix("data:").strip()
        for event in events
        for line in event.split("\n")
        if line.startswith("data:")
    ]


class Checklist:
    """The shared scenarios; a subclass overrides the ``app`` fixture and sets ``events``."""

    events: ClassVar[list[str]]
    #: The status of ``GET /redirect`` (the framework's default for a redirect).
    redirect_status: ClassVar[int] = 302
    #: Whether ``raise_server_exceptions=True`` sees ``BoomError`` (the framework
    #: lets it escape the ASGI app, perhaps once told to; see the module).
    propagates_exceptions: ClassVar[bool] = True
    #: What the app may record in EVENTS once ``/ticks`` has ended after the test
    #: closed it: how it learnt of the disconnect (the module says where it records it).
    ticks_ended: ClassVar[tuple[str, ...]] = ("ticks ended",)
    #: What the app records at startup (Django has no lifespan: nothing).
    started: ClassVar[list[str]] = ["startup"]
    #: ``client.app_state`` once started: the lifespan state (``scope["state"]``)
    #: the app filled in, for the frameworks that use it.
    lifespan_state: ClassVar[dict[str, Any]] = {}
    #: What the app records once the test has closed ``/ws`` with code 1000.
    ws_closed: ClassVar[str] = "ws closed 1000"

    #: What ``with client:`` raises when the startup hook raises: the app's own
    #: exception, or ``LifespanFailed`` with the message the app gave (a regex).
    startup_failure: ClassVar[tuple[type[BaseException], str]] = (BoomError, r"^startup boom$")
    #: What the app records when its startup failed (Litestar runs its shutdown hooks).
    startup_failure_events: ClassVar[list[str]] = []

    @pytest.fixture
    def app(self) -> Any:
        """A new app for each test: nothing the app keeps outlives the test's loop."""
        raise NotImplementedError

    @pytest.fixture
    def failing_app(self) -> Any:
        """The same app, whose startup hook raises ``BoomError("startup boom")``."""
        raise NotImplementedError

    @pytest.fixture(autouse=True)
    def _fresh_events(self) -> None:
        self.events.clear()

    # -- routing ----------------------------------------------------------------------

    async def test_path_and_query_params(self, connect: Connect, app: Any) -> None:
        async with connect(app) as client:
            tagged = await client.get("/users/42", params={"q": "hello world", "tag": ["a", "b"]})
            bare = await client.get("/users/7")
            missing = await client.get("/nowhere")
        assert (tagged.status_code, tagged.json()) == (
            200,
            {"user_id": 42, "q": "hello world", "tags": ["a", "b"]},
        )
        assert (bare.status_code, bare.json()) == (200, {"user_id": 7, "q": None, "tags": []})
        assert missing.status_code == 404

    # -- bodies -----------------------------------------------------------------------

    async def test_json_body(self, connect: Connect, app: Any) -> None:
        async with connect(app) as client:
            response = await client.post("/echo", json=PAYLOAD)
        assert response.status_code == 201
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == {"received": PAYLOAD}

    async def test_form_fields(self, connect: Connect, app: Any) -> None:
        async with connect(app) as client:
            response = await client.post(
                "/form", data={"name": "Ada Lovelace", "lang": ["py", "rs"]}
            )
        assert (response.status_code, response.json()) == (
            200,
            {"name": "Ada Lovelace", "langs": ["py", "rs"]},
        )

    async def test_multipart_upload(self, connect: Connect, app: Any) -> None:
        async with connect(app) as client:
            response = await client.post(
                "/upload",
                files={"file": ("data.bin", UPLOAD, "application/octet-stream")},
                data={"description": "every byte"},
            )
        assert (response.status_code, response.json()) == (
            200,
            upload_summary("data.bin", "application/octet-stream", UPLOAD, "every byte"),
        )

    # -- cookies and sessions ---------------------------------------------------------

    async def test_cookies(self, connect: Connect, app: Any) -> None:
        async with connect(app, cookies={"initial": "1"}) as client:
            assert (await client.get("/cookies")).json() == {"initial": "1"}
            response = await client.get("/cookies/set", params={"flavour": "oat"})
            assert response.status_code == 200
            assert "flavour=oat" in response.headers["set-cookie"]
            assert client.cookies["flavour"] == "oat"
            assert (await client.get("/cookies")).json() == {"initial": "1", "flavour": "oat"}

    async def test_session_is_kept_per_client(self, connect: Connect, app: Any) -> None:
        # The second client skips the lifespan: one app, one startup (Litestar's
        # event emitter, for one, cannot run two lifespans at once).
        async with connect(app) as first, connect(app, lifespan="off") as second:
            assert (await first.get("/session")).json() == {}
            assert (await first.get("/session/set", params={"user": "ada"})).json() == {
                "user": "ada"
            }
            both = {"user": "ada", "theme": "dark"}
            assert (await first.get("/session/set", params={"theme": "dark"})).json() == both
            assert (await first.get("/session")).json() == both
            assert (await second.get("/session")).json() == {}
            assert (await first.get("/session/clear")).status_code == 200
            assert (await first.get("/session")).json() == {}

    # -- redirects --------------------------------------------------------------------

    async def test_redirect_followed(self, connect: Connect, app: Any) -> None:
        async with connect(app) as client:
            response = await client.get("/redirect")
        assert [r.status_code for r in response.history] == [self.redirect_status]
        assert response.url == "http://testserver/users/7?q=redirected"
        assert response.json() == {"user_id": 7, "q": "redirected", "tags": []}

    async def test_redirect_not_followed(self, connect: Connect, app: Any) -> None:
        async with connect(app, follow_redirects=False) as client:
            response = await client.get("/redirect")
        assert response.status_code == self.redirect_status
        location = httpx2.URL("http://testserver/").join(response.headers["location"])
        assert location == "http://testserver/users/7?q=redirected"

    # -- errors -----------------------------------------------------------------------

    @pytest.mark.parametrize("raise_server_exceptions", [True, False])
    async def test_http_error_is_a_response(
        self, connect: Connect, app: Any, raise_server_exceptions: bool
    ) -> None:
        async with connect(app, raise_server_exceptions=raise_server_exceptions) as client:
            response = await client.get("/items/3")
        assert response.status_code == 404

    async def test_unhandled_error_is_raised(self, connect: Connect, app: Any) -> None:
        async with connect(app) as client:
            if self.propagates_exceptions:
                with pytest.raises(BoomError, match=r"^boom$") as info:
                    await client.get("/boom")
                assert type(info.value) is BoomError  # not wrapped in an ExceptionGroup
            else:
                assert (await client.get("/boom")).status_code == 500
            assert (await client.get("/users/1")).status_code == 200  # still usable

    async def test_unhandled_error_is_a_500(self, connect: Connect, app: Any) -> None:
        async with connect(app, raise_server_exceptions=False) as client:
            response = await client.get("/boom")
            assert response.status_code == 500
            assert (await client.get("/users/1")).status_code == 200

    # -- lifespan ---------------------------------------------------------------------

    async def test_lifespan(self, connect: Connect, app: Any) -> None:
        async with connect(app) as client:
            assert self.events == ["startup"]
            assert client.app_state == self.lifespan_state
            response = await client.get("/state")
            assert (response.status_code, response.json()) == (200, {"greeting": GREETING})
        assert self.events == ["startup", "shutdown"]

    async def test_startup_failure(self, connect: Connect, failing_app: Any) -> None:
        client = connect(failing_app)
        error, pattern = self.startup_failure
        with pytest.raises(error, match=pattern):
            async with client:
                pass  # pragma: no cover - startup raised
        await client.aclose()
        assert self.events == self.startup_failure_events

    # -- streaming --------------------------------------------------------------------

    async def test_endless_stream_read_partially_then_closed(
        self, connect: Connect, app: Any
    ) -> None:
        async with connect(app) as client:
            async with client.stream("GET", "/ticks") as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                raw = b""
                async with contextlib.aclosing(response.aiter_raw()) as chunks:
                    async for chunk in chunks:
                        raw += chunk
                        if len(sse_data(raw)) >= 3:
                            break
                    assert self.events == self.started  # still streaming
            assert sse_data(raw)[:3] == ["1", "2", "3"]
            # Leaving the block told the app (http.disconnect, and an OSError from
            # any further send()), and would have cancelled it after a short grace
            # period: either way its request has ended by now, and how was recorded.
            assert self.events in [[*self.started, end] for end in self.ticks_ended]
            assert (await client.get("/users/1")).status_code == 200  # still usable

    # -- WebSockets -------------------------------------------------------------------

    async def test_websocket_echo_and_client_close(self, connect: Connect, app: Any) -> None:
        async with connect(app) as client:
            async with client.websocket_connect("/ws") as ws:
                await ws.send_text("hi")
                assert await ws.receive_text(timeout=5) == "echo: hi"
                await ws.send_json({"n": 1})
                assert await ws.receive_json(timeout=5) == {"echo": {"n": 1}}
                await ws.close(1000)
            assert self.events == [*self.started, self.ws_closed]

    async def test_websocket_closed_by_the_app(self, connect: Connect, app: Any) -> None:
        async with connect(app) as client, client.websocket_connect("/ws") as ws:
            await ws.send_text("bye")
            with pytest.raises(WebSocketDisconnect) as info:
                await ws.receive_text(timeout=5)
        assert (info.value.code, info.value.reason) == (4001, "bye")
