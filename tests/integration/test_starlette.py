"""Real Starlette applications driven through ``unwired.TestClient``.

Each test builds a small app for one feature and asserts what the app saw and
what the test got back: status, body, headers, ordering and cleanup.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx2
import pytest
import sniffio
from starlette.applications import Starlette
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.datastructures import MutableHeaders, UploadFile
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from unwired import TestClient

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")

BACKENDS = [
    pytest.param({"backend": "asyncio"}, id="asyncio"),
    pytest.param({"backend": "asyncio", "backend_options": {"use_uvloop": True}}, id="uvloop"),
    pytest.param({"backend": "trio"}, id="trio"),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keyword arguments selecting one event loop implementation for the client."""
    return dict(request.param)


# -- routing -----------------------------------------------------------------------


async def user(request: Request) -> JSONResponse:
    user_id = request.path_params["user_id"]
    return JSONResponse({"user_id": user_id, "type": type(user_id).__name__})


async def file_path(request: Request) -> JSONResponse:
    return JSONResponse({"path": request.path_params["path"]})


async def search(request: Request) -> JSONResponse:
    params = request.query_params
    return JSONResponse(
        {"q": params.get("q"), "tags": params.getlist("tag"), "page": int(params.get("page", "1"))}
    )


async def items(request: Request) -> JSONResponse:
    return JSONResponse({"method": request.method})


async def ping(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "path": request.url.path,
            "root_path": request.scope["root_path"],
            "url_for": str(request.url_for("ping")),
        }
    )


ROUTING_APP = Starlette(
    routes=[
        Route("/users/{user_id:int}", user),
        Route("/files/{path:path}", file_path),
        Route("/search", search),
        Route("/items", items, methods=["GET", "POST"]),
        Mount("/api", routes=[Route("/ping", ping, name="ping")]),
    ]
)


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "body"),
    [
        ("GET", "/users/42", {}, 200, {"user_id": 42, "type": "int"}),
        ("GET", "/files/a/b/c.txt", {}, 200, {"path": "a/b/c.txt"}),
        (
            "GET",
            "/search?q=hello%20world&tag=a&tag=b&page=3",
            {},
            200,
            {"q": "hello world", "tags": ["a", "b"], "page": 3},
        ),
        (
            "GET",
            "/search",
            {"params": {"q": "x&y", "tag": ["c", "d"]}},
            200,
            {"q": "x&y", "tags": ["c", "d"], "page": 1},
        ),
        ("GET", "/search", {}, 200, {"q": None, "tags": [], "page": 1}),
        ("POST", "/items", {}, 200, {"method": "POST"}),
        (
            "GET",
            "/api/ping",
            {},
            200,
            {"path": "/api/ping", "root_path": "/api", "url_for": "http://testserver/api/ping"},
        ),
    ],
)
def test_routing_path_and_query_params(
    method: str, url: str, kwargs: dict[str, Any], status: int, body: Any
) -> None:
    client = TestClient(ROUTING_APP)
    response = client.request(method, url, **kwargs)
    assert response.status_code == status
    assert response.json() == body


@pytest.mark.parametrize(
    ("method", "url", "status", "text"),
    [
        ("GET", "/users/abc", 404, "Not Found"),
        ("GET", "/nowhere", 404, "Not Found"),
        ("DELETE", "/items", 405, "Method Not Allowed"),
    ],
)
def test_routing_errors(method: str, url: str, status: int, text: str) -> None:
    client = TestClient(ROUTING_APP)
    response = client.request(method, url)
    assert response.status_code == status
    assert response.text == text
    if status == 405:
        assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


# -- middleware --------------------------------------------------------------------


class RecordingMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, log: list[str]) -> None:
        super().__init__(app)
        self.log = log

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        self.log.append("base:before")
        response = await call_next(request)
        self.log.append("base:after")
        response.headers["x-base"] = "1"
        return response


class PureASGIMiddleware:
    """Logs around the inner app and appends ``x-pure: <name>`` to the response."""

    def __init__(self, app: ASGIApp, name: str, log: list[str]) -> None:
        self.app = app
        self.name = name
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.log.append(f"{self.name}:before")

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("x-pure", self.name)
            await send(message)

        await self.app(scope, receive, send_with_header)
        self.log.append(f"{self.name}:after")


def test_middleware_order_and_response_headers() -> None:
    log: list[str] = []

    async def endpoint(request: Request) -> PlainTextResponse:
        log.append("endpoint")
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[Route("/", endpoint)],
        middleware=[
            Middleware(PureASGIMiddleware, name="outer", log=log),
            Middleware(RecordingMiddleware, log=log),
            Middleware(PureASGIMiddleware, name="inner", log=log),
        ],
    )
    response = TestClient(app).get("/")
    assert response.status_code == 200
    assert response.text == "ok"
    assert response.headers["x-base"] == "1"
    assert response.headers.get_list("x-pure") == ["inner", "outer"]
    assert log[:4] == ["outer:before", "base:before", "inner:before", "endpoint"]
    # call_next returns at the response start, while the inner app may still be running
    assert sorted(log[4:6]) == ["base:after", "inner:after"]
    assert log[6:] == ["outer:after"]


class BodyPeekingMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        peeked = await request.body()
        response = await call_next(request)
        response.headers["x-peeked-bytes"] = str(len(peeked))
        return response


def test_base_http_middleware_and_endpoint_both_read_the_body() -> None:
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"received": await request.json()})

    app = Starlette(
        routes=[Route("/echo", echo, methods=["POST"])],
        middleware=[Middleware(BodyPeekingMiddleware)],
    )
    payload = {"name": "unwired", "tags": ["a", "b"]}
    response = TestClient(app).post("/echo", json=payload)
    assert response.status_code == 200
    assert response.json() == {"received": payload}
    assert response.headers["x-peeked-bytes"] == str(len(response.request.content))


class TokenMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.headers.get("x-token") != "secret":
            return PlainTextResponse("missing token", status_code=401)
        return await call_next(request)


@pytest.mark.parametrize(
    ("headers", "status", "text"),
    [
        ({"X-Token": "secret"}, 200, "inside"),
        ({}, 401, "missing token"),
        ({"X-Token": "x"}, 401, "missing token"),
    ],
)
def test_middleware_short_circuits(headers: dict[str, str], status: int, text: str) -> None:
    app = Starlette(
        routes=[Route("/", lambda request: PlainTextResponse("inside"))],
        middleware=[Middleware(TokenMiddleware)],
    )
    response = TestClient(app).get("/", headers=headers)
    assert (response.status_code, response.text) == (status, text)


def test_pure_asgi_middleware_rewrites_the_scope() -> None:
    def add_tenant(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                scope = {**scope, "headers": [*scope["headers"], (b"x-tenant", b"acme")]}
                scope["state"]["tenant_seen_by_middleware"] = True
            await app(scope, receive, send)

        return middleware

    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse(
            {"tenant": request.headers["x-tenant"], "flag": request.state.tenant_seen_by_middleware}
        )

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(add_tenant)])
    client = TestClient(app)
    assert client.get("/").json() == {"tenant": "acme", "flag": True}
    assert "tenant_seen_by_middleware" not in client.app_state


# -- background tasks --------------------------------------------------------------


def record_final_body(app: ASGIApp, log: list[str]) -> ASGIApp:
    """Logs "response sent" when the app sends its last body message."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def logging_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                log.append("response sent")

        await app(scope, receive, logging_send)

    return middleware


@pytest.mark.parametrize("with_base_middleware", [False, True], ids=["plain", "base-middleware"])
def test_background_tasks_have_run_when_get_returns(
    backend: dict[str, Any], with_base_middleware: bool
) -> None:
    log: list[str] = []

    def sync_task(name: str) -> None:
        log.append(f"sync {name}")

    async def async_task(name: str) -> None:
        for _ in range(5):
            await anyio.lowlevel.checkpoint()
        log.append(f"async {name}")

    async def endpoint(request: Request) -> PlainTextResponse:
        tasks = BackgroundTasks()
        tasks.add_task(sync_task, "first")
        tasks.add_task(async_task, "second")
        return PlainTextResponse("queued", background=tasks)

    middleware = [Middleware(record_final_body, log=log)]
    if with_base_middleware:
        middleware.append(Middleware(RecordingMiddleware, log=[]))
    app = Starlette(routes=[Route("/", endpoint)], middleware=middleware)
    response = TestClient(app, **backend).get("/")
    assert response.text == "queued"
    assert log == ["response sent", "sync first", "async second"]


def test_single_background_task_with_arguments() -> None:
    log: list[tuple[str, int]] = []

    async def save(key: str, value: int) -> None:
        await anyio.lowlevel.checkpoint()
        log.append((key, value))

    async def endpoint(request: Request) -> JSONResponse:
        value = int(request.query_params["value"])
        return JSONResponse({"accepted": value}, background=BackgroundTask(save, "k", value=value))

    client = TestClient(Starlette(routes=[Route("/", endpoint)]))
    assert client.get("/", params={"value": 1}).json() == {"accepted": 1}
    assert client.get("/", params={"value": 2}).json() == {"accepted": 2}
    assert log == [("k", 1), ("k", 2)]


# -- streaming ---------------------------------------------------------------------


def test_streaming_response_full_body_and_lines() -> None:
    async def numbers(request: Request) -> StreamingResponse:
        async def generate() -> AsyncIterator[str]:
            for n in range(1, 6):
                yield f"line {n}\n"
                await anyio.lowlevel.checkpoint()

        return StreamingResponse(generate(), media_type="text/plain")

    def sync_numbers(request: Request) -> StreamingResponse:
        return StreamingResponse((f"line {n}\n" for n in range(1, 6)), media_type="text/plain")

    app = Starlette(routes=[Route("/async", numbers), Route("/sync", sync_numbers)])
    client = TestClient(app)
    expected = [f"line {n}" for n in range(1, 6)]
    for path in ("/async", "/sync"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert "content-length" not in response.headers
        assert response.text.splitlines() == expected
        with client.stream("GET", path) as streamed:
            assert list(streamed.iter_lines()) == expected


def test_stream_delivers_chunks_before_the_app_finishes(backend: dict[str, Any]) -> None:
    """The second chunk is only produced after the test has read the first one."""
    gate: dict[str, anyio.Event] = {}

    async def gated(request: Request) -> StreamingResponse:
        gate["open"] = anyio.Event()

        async def generate() -> AsyncIterator[bytes]:
            yield b"first"
            await gate["open"].wait()
            yield b"second"

        return StreamingResponse(generate())

    async def open_gate() -> None:
        gate["open"].set()

    client = TestClient(Starlette(routes=[Route("/", gated)]), **backend)
    with client.stream("GET", "/") as response:
        chunks = response.iter_bytes()
        assert next(chunks) == b"first"
        assert not gate["open"].is_set()
        client.run(open_gate)
        assert b"".join(chunks) == b"second"


def test_infinite_sse_stream_read_partially_then_closed(backend: dict[str, Any]) -> None:
    log: list[str] = []

    async def events(request: Request) -> StreamingResponse:
        async def ticks() -> AsyncIterator[str]:
            n = 0
            try:
                while True:
                    n += 1
                    yield f"event: tick\ndata: {n}\n\n"
                    await anyio.lowlevel.checkpoint()
            finally:
                log.append("generator closed")

        return StreamingResponse(ticks(), media_type="text/event-stream")

    def record_outcome(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["path"] != "/events":
                await app(scope, receive, send)
                return
            try:
                await app(scope, receive, send)
            except Exception as exc:
                log.append(f"app raised {type(exc).__name__}")
                raise
            log.append("app returned")

        return middleware

    app = Starlette(routes=[Route("/events", events)], middleware=[Middleware(record_outcome)])
    started = time.monotonic()
    with TestClient(app, timeout=5, **backend) as client:
        with client.stream("GET", "/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines: list[str] = []
            for line in response.iter_lines():
                lines.append(line)
                if len(lines) == 9:
                    break
        # Starlette (ASGI spec >= 2.4) turns the OSError from send() into ClientDisconnect.
        assert log == ["app raised ClientDisconnect"]
        assert client.get("/nowhere").status_code == 404  # the client is still usable
    assert time.monotonic() - started < 5
    assert lines == [
        *("event: tick", "data: 1", ""),
        *("event: tick", "data: 2", ""),
        *("event: tick", "data: 3", ""),
    ]
    assert log == ["app raised ClientDisconnect", "generator closed"]


def disconnect_aware_sse(log: list[str]) -> ASGIApp:
    """Sends three events, then waits for more work that never comes."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        headers = [(b"content-type", b"text/event-stream")]
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            for n in range(1, 4):
                body = f"data: {n}\n\n".encode()
                await send({"type": "http.response.body", "body": body, "more_body": True})
            while True:
                message = await receive()
                log.append(message["type"])
                if message["type"] == "http.disconnect":
                    break
            try:
                await send({"type": "http.response.body", "body": b"data: late\n\n"})
            except OSError as exc:
                log.append(f"late send raised OSError ({type(exc).__name__})")
        finally:
            log.append("finally")

    return app


def test_sse_app_sees_disconnect_when_stream_is_closed(backend: dict[str, Any]) -> None:
    log: list[str] = []
    client = TestClient(disconnect_aware_sse(log), timeout=5, **backend)
    started = time.monotonic()
    with client.stream("GET", "/") as response:
        lines = response.iter_lines()
        events = [next(lines) for _ in range(6)]
        assert events == ["data: 1", "", "data: 2", "", "data: 3", ""]
        assert "http.disconnect" not in log
    assert time.monotonic() - started < 5
    # If the app had not called receive() yet when the test closed (on asyncio
    # the loop runs only inside client calls), its first receive() is the
    # disconnect: as with uvicorn, an unread request body is not delivered.
    ending = ["http.disconnect", "late send raised OSError (ClientDisconnected)", "finally"]
    assert log in (ending, ["http.request", *ending])


class CleanupError(Exception):
    pass


async def fails_after_disconnect(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for n in range(1, 4):
        body = f"data: {n}\n\n".encode()
        await send({"type": "http.response.body", "body": body, "more_body": True})
    while (await receive())["type"] != "http.disconnect":
        pass
    raise CleanupError("failed while cleaning up")


def stop_with_break(response: httpx2.Response) -> object:
    for line in response.iter_lines():
        if line == "data: 3":
            break
    return None  # the line iterator was dropped at the break


def stop_in_helper(response: httpx2.Response) -> object:
    lines = response.iter_lines()
    while next(lines) != "data: 3":
        pass
    return None  # the line iterator is dropped when this function returns


def stop_keeping_iterator(response: httpx2.Response) -> object:
    lines = response.iter_lines()
    while next(lines) != "data: 3":
        pass
    return lines  # kept alive until the stream's ``with`` has exited


@pytest.mark.parametrize(
    "stop_reading",
    [stop_with_break, stop_in_helper, stop_keeping_iterator],
    ids=["break", "helper", "kept-iterator"],
)
def test_app_exception_after_early_close_reaches_the_test(
    backend: dict[str, Any], stop_reading: Any
) -> None:
    """An app failing while handling the disconnect fails the test, however reading stopped."""
    client = TestClient(fails_after_disconnect, timeout=5, **backend)
    with (
        pytest.raises(CleanupError, match=r"^failed while cleaning up$"),
        client.stream("GET", "/") as response,
    ):
        iterator = stop_reading(response)
    del iterator


def test_app_ignoring_disconnect_is_cancelled_after_close(backend: dict[str, Any]) -> None:
    log: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            log.append("cancelled")
            raise
        finally:
            log.append("finally")

    started = time.monotonic()
    client = TestClient(app, timeout=5, **backend)
    with client.stream("GET", "/") as response:
        assert next(response.iter_lines()) == "data: 1"
    assert time.monotonic() - started < 5
    assert log == ["cancelled", "finally"]


# -- files -------------------------------------------------------------------------

FILE_CONTENT = b"0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def file_client(tmp_path: Path) -> TestClient:
    path = tmp_path / "data.txt"
    path.write_bytes(FILE_CONTENT)

    async def download(request: Request) -> FileResponse:
        return FileResponse(path, filename="report.txt")

    return TestClient(Starlette(routes=[Route("/file", download, methods=["GET", "HEAD"])]))


def test_file_response_get(file_client: TestClient) -> None:
    response = file_client.get("/file")
    assert response.status_code == 200
    assert response.content == FILE_CONTENT
    assert response.headers["content-length"] == str(len(FILE_CONTENT))
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="report.txt"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"]
    assert response.headers["last-modified"]


def test_file_response_head_has_headers_but_no_body(file_client: TestClient) -> None:
    response = file_client.head("/file")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(FILE_CONTENT))
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [("bytes=0-4", 0, 5), ("bytes=10-19", 10, 20), ("bytes=30-", 30, 36), ("bytes=-6", 30, 36)],
)
def test_file_response_single_range(
    file_client: TestClient, range_header: str, start: int, end: int
) -> None:
    response = file_client.get("/file", headers={"Range": range_header})
    assert response.status_code == 206
    assert response.content == FILE_CONTENT[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{len(FILE_CONTENT)}"
    assert response.headers["content-length"] == str(end - start)


def test_file_response_multiple_ranges(file_client: TestClient) -> None:
    response = file_client.get("/file", headers={"Range": "bytes=0-1, 5-6"})
    assert response.status_code == 206
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    boundary = content_type.split("boundary=")[1]
    body = response.text
    assert body.count(f"--{boundary}") == 3
    assert f"Content-Range: bytes 0-1/{len(FILE_CONTENT)}\r\n\r\n01\r\n" in body
    assert f"Content-Range: bytes 5-6/{len(FILE_CONTENT)}\r\n\r\n56\r\n" in body
    assert response.headers["content-length"] == str(len(response.content))


def test_file_response_unsatisfiable_range(file_client: TestClient) -> None:
    response = file_client.get("/file", headers={"Range": "bytes=100-200"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(FILE_CONTENT)}"


def test_file_response_streamed(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 4096  # 1 MiB: several chunks
    path.write_bytes(data)
    app = Starlette(routes=[Route("/big", lambda request: FileResponse(path))])
    with TestClient(app).stream("GET", "/big") as response:
        received = list(response.iter_bytes())
    assert b"".join(received) == data
    assert len(received) > 1


# -- templates ---------------------------------------------------------------------


def test_jinja2_template_response_exposes_template_and_context() -> None:
    async def homepage(request: Request) -> Response:
        context = {"name": "World", "items": ["a", "b"]}
        return TEMPLATES.TemplateResponse(request, "index.html", context)

    response = TestClient(Starlette(routes=[Route("/home", homepage)])).get("/home")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>Hello, World!</h1>" in response.text
    assert "<li>a</li><li>b</li>" in response.text
    assert "<p>/home</p>" in response.text
    assert response.template.name == "index.html"  # type: ignore[attr-defined]
    context = response.context  # type: ignore[attr-defined]
    assert context["name"] == "World"
    assert context["items"] == ["a", "b"]
    assert context["request"].url.path == "/home"


# -- sessions and cookies ----------------------------------------------------------


async def session_set(request: Request) -> JSONResponse:
    request.session.update(request.query_params)
    return JSONResponse(request.session)


async def session_get(request: Request) -> JSONResponse:
    return JSONResponse(request.session)


async def session_clear(request: Request) -> JSONResponse:
    request.session.clear()
    return JSONResponse(request.session)


SESSION_APP = Starlette(
    routes=[
        Route("/session/set", session_set),
        Route("/session", session_get),
        Route("/session/clear", session_clear),
    ],
    middleware=[Middleware(SessionMiddleware, secret_key="not-so-secret")],
)


def test_session_persists_across_requests() -> None:
    client = TestClient(SESSION_APP)
    assert client.get("/session").json() == {}
    assert client.get("/session/set", params={"user": "ada"}).json() == {"user": "ada"}
    assert "session" in client.cookies
    assert client.get("/session").json() == {"user": "ada"}
    assert client.get("/session/set", params={"theme": "dark"}).json() == {
        "user": "ada",
        "theme": "dark",
    }
    assert client.get("/session").json() == {"user": "ada", "theme": "dark"}
    assert client.get("/session/clear").json() == {}
    assert "session" not in client.cookies
    assert client.get("/session").json() == {}


def test_sessions_are_per_client() -> None:
    first, second = TestClient(SESSION_APP), TestClient(SESSION_APP)
    first.get("/session/set", params={"user": "ada"})
    assert second.get("/session").json() == {}
    assert first.get("/session").json() == {"user": "ada"}


async def set_cookie(request: Request) -> PlainTextResponse:
    response = PlainTextResponse("set")
    response.set_cookie("token", request.query_params["value"], httponly=True)
    return response


async def delete_cookie(request: Request) -> PlainTextResponse:
    response = PlainTextResponse("deleted")
    response.delete_cookie("token")
    return response


async def show_cookies(request: Request) -> JSONResponse:
    return JSONResponse(request.cookies)


COOKIE_APP = Starlette(
    routes=[
        Route("/cookie/set", set_cookie),
        Route("/cookie/delete", delete_cookie),
        Route("/cookies", show_cookies),
    ]
)


def test_cookies_set_by_the_app_are_sent_back() -> None:
    client = TestClient(COOKIE_APP, cookies={"initial": "1"})
    assert client.get("/cookies").json() == {"initial": "1"}
    response = client.get("/cookie/set", params={"value": "abc"})
    assert "token=abc" in response.headers["set-cookie"]
    assert client.cookies["token"] == "abc"
    assert client.get("/cookies").json() == {"initial": "1", "token": "abc"}
    client.get("/cookie/delete")
    assert client.get("/cookies").json() == {"initial": "1"}


# -- redirects ---------------------------------------------------------------------


async def login(request: Request) -> RedirectResponse:
    response = RedirectResponse("/me", status_code=303)
    response.set_cookie("user", "ada")
    return response


REDIRECT_APP = Starlette(
    routes=[
        Route("/old", lambda request: RedirectResponse("/new")),
        Route("/chain", lambda request: RedirectResponse("/old", status_code=301)),
        Route("/new", lambda request: PlainTextResponse(f"new via {request.method}")),
        Route("/login", login, methods=["POST"]),
        Route("/me", lambda request: PlainTextResponse(f"me: {request.cookies.get('user')}")),
    ]
)


def test_redirects_are_followed_by_default() -> None:
    response = TestClient(REDIRECT_APP).get("/chain")
    assert response.status_code == 200
    assert response.text == "new via GET"
    assert str(response.url) == "http://testserver/new"
    assert [r.status_code for r in response.history] == [301, 307]
    assert [r.url.path for r in response.history] == ["/chain", "/old"]


def test_post_redirect_with_cookie_becomes_get() -> None:
    client = TestClient(REDIRECT_APP)
    response = client.post("/login", data={"user": "ada"})
    assert response.status_code == 200
    assert response.request.method == "GET"
    assert response.text == "me: ada"
    assert client.cookies["user"] == "ada"


def test_follow_redirects_false_on_the_client() -> None:
    response = TestClient(REDIRECT_APP, follow_redirects=False).get("/old")
    assert response.status_code == 307
    assert response.headers["location"] == "/new"
    assert response.is_redirect
    assert response.next_request is not None
    assert str(response.next_request.url) == "http://testserver/new"


def test_follow_redirects_false_per_request() -> None:
    client = TestClient(REDIRECT_APP)
    assert client.get("/old", follow_redirects=False).status_code == 307
    assert client.get("/old").status_code == 200


# -- forms and uploads -------------------------------------------------------------


async def describe_form(request: Request) -> JSONResponse:
    fields: dict[str, list[Any]] = {}
    async with request.form() as form:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                content = await value.read()
                described: Any = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "size": len(content),
                    "text": content.decode(errors="replace")[:40],
                }
            else:
                described = value
            fields.setdefault(key, []).append(described)
    return JSONResponse(fields)


FORM_APP = Starlette(routes=[Route("/form", describe_form, methods=["POST"])])


def uploaded(filename: str, content_type: str, content: bytes) -> dict[str, Any]:
    return {
        "filename": filename,
        "content_type": content_type,
        "size": len(content),
        "text": content.decode()[:40],
    }


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"data": {"a": "1", "b": ["2", "3"]}}, {"a": ["1"], "b": ["2", "3"]}),
        (
            {"files": {"doc": ("notes.txt", b"some notes", "text/plain")}},
            {"doc": [uploaded("notes.txt", "text/plain", b"some notes")]},
        ),
        (
            {
                "files": [
                    ("f", ("a.csv", b"x,y\n", "text/csv")),
                    ("f", ("b.json", b"{}", "application/json")),
                ]
            },
            {
                "f": [
                    uploaded("a.csv", "text/csv", b"x,y\n"),
                    uploaded("b.json", "application/json", b"{}"),
                ]
            },
        ),
        (
            {"data": {"title": "report"}, "files": {"doc": ("r.txt", b"body", "text/plain")}},
            {"title": ["report"], "doc": [uploaded("r.txt", "text/plain", b"body")]},
        ),
    ],
    ids=["urlencoded", "one-file", "two-files-one-field", "fields-and-file"],
)
def test_form_and_multipart(kwargs: dict[str, Any], expected: dict[str, Any]) -> None:
    response = TestClient(FORM_APP).post("/form", **kwargs)
    assert response.status_code == 200
    assert response.json() == expected


def test_upload_real_files_from_disk(tmp_path: Path) -> None:
    text = tmp_path / "example.txt"
    text.write_text("hello from disk\n")
    image = tmp_path / "example.png"
    png = b"\x89PNG\r\n\x1a\n" + bytes(1000)
    image.write_bytes(png)
    client = TestClient(FORM_APP)
    with text.open("rb") as f1, image.open("rb") as f2:
        files: dict[str, Any] = {"file1": f1, "file2": ("picture", f2, "image/png")}
        response = client.post("/form", files=files, data={"caption": "two files"})
    assert response.status_code == 200
    body = response.json()
    assert body["caption"] == ["two files"]
    assert body["file1"] == [uploaded("example.txt", "text/plain", b"hello from disk\n")]
    [picture] = body["file2"]
    assert (picture["filename"], picture["content_type"], picture["size"]) == (
        "picture",
        "image/png",
        len(png),
    )


def test_large_upload_reaches_the_app_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "large.bin"
    data = bytes(range(256)) * 8192  # 2 MiB
    path.write_bytes(data)

    async def count(request: Request) -> JSONResponse:
        sizes = [len(chunk) async for chunk in request.stream()]
        return JSONResponse({"total": sum(sizes), "chunks": len([s for s in sizes if s])})

    client = TestClient(Starlette(routes=[Route("/count", count, methods=["POST"])]))
    with path.open("rb") as f:
        response = client.post("/count", content=f)
    body = response.json()
    assert body["total"] == len(data)
    assert body["chunks"] > 1

    def generate() -> Iterator[bytes]:
        yield b"one"
        yield b"two"
        yield b"three"

    assert client.post("/count", content=generate()).json() == {"total": 11, "chunks": 3}


# -- lifespan ----------------------------------------------------------------------


def lifespan_app(log: list[str]) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        log.append("startup")
        yield {"greeting": "hello", "visits": []}
        log.append("shutdown")

    async def endpoint(request: Request) -> JSONResponse:
        request.state.visits.append(request.url.path)
        request.state.per_request = True
        return JSONResponse({"greeting": request.state.greeting, "visits": request.state.visits})

    return Starlette(routes=[Route("/{name}", endpoint)], lifespan=lifespan)


def test_lifespan_state_is_visible_in_requests(backend: dict[str, Any]) -> None:
    log: list[str] = []
    client = TestClient(lifespan_app(log), **backend)
    assert log == []
    with client:
        assert log == ["startup"]
        assert client.get("/a").json() == {"greeting": "hello", "visits": ["/a"]}
        assert client.get("/b").json() == {"greeting": "hello", "visits": ["/a", "/b"]}
        assert client.app_state["visits"] == ["/a", "/b"]
        assert "per_request" not in client.app_state  # each request gets a shallow copy
        assert log == ["startup"]
    assert log == ["startup", "shutdown"]


def test_lifespan_runs_again_on_each_with_block() -> None:
    log: list[str] = []
    client = TestClient(lifespan_app(log))
    with client:
        client.get("/x")
    with client:
        client.get("/y")
    assert log == ["startup", "shutdown", "startup", "shutdown"]


def test_lifespan_startup_failure_raises_the_app_exception(backend: dict[str, Any]) -> None:
    log: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        log.append("startup")
        raise ConnectionError("database unavailable")
        yield  # pragma: no cover

    app = Starlette(lifespan=lifespan)
    with (
        pytest.raises(ConnectionError, match=r"^database unavailable$"),
        TestClient(app, **backend),
    ):
        log.append("body ran")
    assert log == ["startup"]


def test_lifespan_shutdown_failure_raises_the_app_exception() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        raise RuntimeError("could not flush")

    client = TestClient(
        Starlette(routes=[Route("/", lambda r: PlainTextResponse("up"))], lifespan=lifespan)
    )
    with pytest.raises(RuntimeError, match=r"^could not flush$"), client:
        assert client.get("/").text == "up"


def test_app_without_lifespan_support_works_inside_with() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError("only http")
        await PlainTextResponse("plain")(scope, receive, send)

    with TestClient(app) as client:
        assert client.get("/").text == "plain"


# -- server exceptions -------------------------------------------------------------


class BoomError(Exception):
    pass


async def raises(request: Request) -> Response:
    raise BoomError(f"boom at {request.url.path}")


async def raises_mid_stream(request: Request) -> StreamingResponse:
    async def generate() -> AsyncIterator[bytes]:
        yield b"partial "
        raise BoomError(f"boom at {request.url.path}")

    return StreamingResponse(generate())


async def raises_in_background(request: Request) -> PlainTextResponse:
    async def fail() -> None:
        raise BoomError(f"boom at {request.url.path}")

    return PlainTextResponse("done", background=BackgroundTask(fail))


ERROR_APP = Starlette(
    routes=[
        Route("/endpoint", raises),
        Route("/stream", raises_mid_stream),
        Route("/background", raises_in_background),
        Mount(
            "/wrapped",
            routes=[Route("/endpoint", raises)],
            middleware=[Middleware(RecordingMiddleware, log=[])],
        ),
    ]
)


@pytest.mark.parametrize("path", ["/endpoint", "/stream", "/background", "/wrapped/endpoint"])
def test_raise_server_exceptions_reraises_the_app_exception(path: str) -> None:
    client = TestClient(ERROR_APP)
    with pytest.raises(BoomError, match=f"^boom at {path}$") as excinfo:
        client.get(path)
    assert type(excinfo.value) is BoomError


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/endpoint", 500, b"Internal Server Error"),
        ("/wrapped/endpoint", 500, b"Internal Server Error"),
        ("/stream", 200, b"partial "),
        ("/background", 200, b"done"),
    ],
)
def test_raise_server_exceptions_false_returns_the_response(
    path: str, status: int, body: bytes
) -> None:
    response = TestClient(ERROR_APP, raise_server_exceptions=False).get(path)
    assert response.status_code == status
    assert response.content == body


def test_http_exception_handler_is_not_a_server_error() -> None:
    from starlette.exceptions import HTTPException

    async def forbidden(request: Request) -> Response:
        raise HTTPException(status_code=403, detail="no entry", headers={"x-reason": "test"})

    response = TestClient(Starlette(routes=[Route("/", forbidden)])).get("/")
    assert response.status_code == 403
    assert response.text == "no entry"
    assert response.headers["x-reason"] == "test"


# -- root_path ---------------------------------------------------------------------


async def where(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "path": request.scope["path"],
            "root_path": request.scope["root_path"],
            "url": str(request.url),
            "base_url": str(request.base_url),
            "url_for": str(request.url_for("where")),
        }
    )


@pytest.mark.parametrize(
    ("request_path", "scope_path", "url"),
    [
        ("/api/where", "/api/where", "http://testserver/api/where"),
        ("/where", "/where", "http://testserver/where"),
    ],
)
def test_root_path(request_path: str, scope_path: str, url: str) -> None:
    app = Starlette(routes=[Route("/where", where, name="where")])
    response = TestClient(app, root_path="/api").get(request_path)
    assert response.status_code == 200
    assert response.json() == {
        "path": scope_path,
        "root_path": "/api",
        "url": url,
        "base_url": "http://testserver/api/",
        "url_for": "http://testserver/api/where",
    }


# -- the scope ---------------------------------------------------------------------


def scope_recorder(seen: list[Scope]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError("http only")
        seen.append(scope)
        request = Request(scope, receive)
        body = {
            "url": str(request.url),
            "url_path": request.url.path,
            "client": [request.client.host, request.client.port] if request.client else None,
            "query": dict(request.query_params),
        }
        await JSONResponse(body)(scope, receive, send)

    return app


def test_scope_of_a_request() -> None:
    seen: list[Scope] = []
    client = TestClient(scope_recorder(seen))
    response = client.get(
        "/a%20b/c%2Fd", params={"q": "x y", "n": "1"}, headers={"X-Custom-Header": "Value"}
    )
    assert response.json() == {
        "url": "http://testserver/a b/c/d?q=x+y&n=1",  # Starlette builds it from the decoded path
        "url_path": "/a b/c/d",
        "client": ["testclient", 50000],
        "query": {"q": "x y", "n": "1"},
    }
    [scope] = seen
    assert scope["type"] == "http"
    assert scope["asgi"]["version"] == "3.0"
    assert tuple(map(int, scope["asgi"]["spec_version"].split("."))) >= (2, 0)
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/a b/c/d"
    assert scope["raw_path"] == b"/a%20b/c%2Fd"
    assert scope["query_string"] == b"q=x+y&n=1"
    assert scope["root_path"] == ""
    assert scope["client"] == ("testclient", 50000)
    assert scope["server"] == ("testserver", 80)
    assert type(scope["server"]) is tuple
    headers = scope["headers"]
    assert all(type(name) is bytes and type(value) is bytes for name, value in headers)
    assert all(name == name.lower() for name, _ in headers)
    assert (b"x-custom-header", b"Value") in headers
    assert (b"host", b"testserver") in headers
    assert (b"user-agent", b"testclient") in headers


@pytest.mark.parametrize(
    ("kwargs", "scheme", "server", "client_address", "http_version"),
    [
        ({}, "http", ("testserver", 80), ("testclient", 50000), "1.1"),
        (
            {"base_url": "https://example.org"},
            "https",
            ("example.org", 443),
            ("testclient", 50000),
            "1.1",
        ),
        (
            {"base_url": "http://localhost:8000"},
            "http",
            ("localhost", 8000),
            ("testclient", 50000),
            "1.1",
        ),
        ({"client": ("10.1.2.3", 1234)}, "http", ("testserver", 80), ("10.1.2.3", 1234), "1.1"),
        ({"http_version": "2"}, "http", ("testserver", 80), ("testclient", 50000), "2"),
    ],
)
def test_scope_follows_client_settings(
    kwargs: dict[str, Any],
    scheme: str,
    server: tuple[str, int],
    client_address: tuple[str, int],
    http_version: str,
) -> None:
    seen: list[Scope] = []
    response = TestClient(scope_recorder(seen), **kwargs).get("/x")
    assert response.json()["client"] == list(client_address)
    base_url = kwargs.get("base_url", "http://testserver")
    assert response.json()["url"] == f"{base_url}/x"
    [scope] = seen
    assert (scope["scheme"], scope["server"], scope["client"], scope["http_version"]) == (
        scheme,
        server,
        client_address,
        http_version,
    )


# -- one event loop for the client's whole life -------------------------------------


class LoopBoundConnection:
    """Like an asyncpg connection: remembers the loop it was opened on."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queries = 0

    async def fetch(self, value: str) -> str:
        reply: asyncio.Future[str] = self.loop.create_future()
        self.loop.call_soon(reply.set_result, value.upper())
        self.queries += 1
        return await reply


async def query(request: Request) -> PlainTextResponse:
    state = request.app.state
    if not hasattr(state, "connection"):
        state.connection = LoopBoundConnection()
    return PlainTextResponse(await state.connection.fetch(request.path_params["text"]))


@pytest.mark.parametrize("backend_options", [None, {"use_uvloop": True}], ids=["asyncio", "uvloop"])
def test_lazily_created_connection_is_reused_outside_with(
    backend_options: dict[str, Any] | None,
) -> None:
    app = Starlette(routes=[Route("/query/{text}", query)])
    client = TestClient(app, backend_options=backend_options)
    assert client.get("/query/first").text == "FIRST"
    assert client.get("/query/second").text == "SECOND"
    assert app.state.connection.queries == 2


async def worker(jobs: asyncio.Queue[tuple[str, asyncio.Future[str]]]) -> None:
    while True:
        text, reply = await jobs.get()
        reply.set_result(text[::-1])


async def start_worker(request: Request) -> PlainTextResponse:
    state = request.app.state
    state.jobs = asyncio.Queue()
    state.worker = asyncio.get_running_loop().create_task(worker(state.jobs))
    return PlainTextResponse("started")


async def submit(request: Request) -> PlainTextResponse:
    reply: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    await request.app.state.jobs.put((request.path_params["text"], reply))
    return PlainTextResponse(await reply)


@pytest.mark.parametrize("backend_options", [None, {"use_uvloop": True}], ids=["asyncio", "uvloop"])
def test_worker_started_by_one_request_serves_the_next(
    backend_options: dict[str, Any] | None,
) -> None:
    app = Starlette(routes=[Route("/start", start_worker), Route("/reverse/{text}", submit)])
    client = TestClient(app, timeout=5, backend_options=backend_options)
    assert client.get("/start").text == "started"
    assert client.get("/reverse/abc").text == "cba"
    assert client.get("/reverse/unwired").text == "deriwnu"

    async def worker_state() -> tuple[bool, int]:
        return app.state.worker.done(), app.state.jobs.qsize()

    assert client.run(worker_state) == (False, 0)
    assert client.portal.call(worker_state) == (False, 0)
    client.close()
    assert app.state.worker.cancelled()


def test_anyio_memory_stream_shared_between_requests(backend: dict[str, Any]) -> None:
    async def publish(request: Request) -> PlainTextResponse:
        state = request.app.state
        if not hasattr(state, "sender"):
            state.sender, state.receiver = anyio.create_memory_object_stream[str](10)
        await state.sender.send(request.path_params["message"])
        return PlainTextResponse("published")

    async def consume(request: Request) -> JSONResponse:
        receiver = request.app.state.receiver
        count = int(request.query_params["count"])
        return JSONResponse([await receiver.receive() for _ in range(count)])

    app = Starlette(routes=[Route("/publish/{message}", publish), Route("/consume", consume)])
    client = TestClient(app, **backend)
    for message in ("one", "two", "three"):
        assert client.get(f"/publish/{message}").text == "published"
    assert client.get("/consume", params={"count": 2}).json() == ["one", "two"]

    async def leftover() -> str:
        message: str = await app.state.receiver.receive()
        return message

    assert client.run(leftover) == "three"
    app.state.sender.close()
    app.state.receiver.close()


# -- clients freed by the garbage collector -----------------------------------------

GC_INSIDE_REQUEST = """
import gc
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from unwired import TestClient

async def collect(request):
    gc.collect()  # the collector may run anywhere; here, inside the app
    return PlainTextResponse("collected")

app = Starlette(routes=[Route("/", collect), Route("/ping", lambda r: PlainTextResponse("pong"))])

def leave_garbage():
    client = TestClient(app, backend="trio")
    assert client.get("/ping").text == "pong"
    client.self_reference = client  # a cycle, as a caught exception's traceback makes

gc.disable()
leave_garbage()
print(TestClient(app, backend="trio").get("/").text)
"""


def test_trio_client_freed_by_gc_in_a_trio_request_does_not_deadlock(tmp_path: Path) -> None:
    """Run in a subprocess: a deadlock there fails this test instead of hanging the run."""
    script = tmp_path / "gc_inside_request.py"
    script.write_text(GC_INSIDE_REQUEST)
    try:
        result = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=5, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail("deadlock: freeing a trio client from inside another trio client's request")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "collected\n"


# -- other backends ----------------------------------------------------------------


def test_trio_backend_runs_the_app_on_trio() -> None:
    async def library(request: Request) -> JSONResponse:
        await anyio.lowlevel.checkpoint()
        return JSONResponse({"library": sniffio.current_async_library()})

    app = Starlette(routes=[Route("/", library)])
    assert TestClient(app, backend="trio").get("/").json() == {"library": "trio"}
    assert TestClient(app).get("/").json() == {"library": "asyncio"}
    with TestClient(app, backend="trio") as client:
        assert client.get("/").json() == {"library": "trio"}
