"""The examples of Starlette's "Test Client" documentation page, run with unwired.

Source: ``docs/testclient.md`` of the Starlette 1.10.0 sdist. Each example is
kept as written there, except that ``TestClient`` comes from ``unwired``; where
the page leaves ``app`` undefined or a snippet asserts nothing, a small app and
assertions are added around the unchanged snippet. Test names get a suffix so
that the page's several ``test_app`` functions can live in one module.

The WebSocket examples ("Testing WebSocket sessions") follow the same rule; the
statements of its method lists get small apps of their own.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.templating import Jinja2Templates
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from unwired import TestClient

# -- "The test client allows you to make requests against your ASGI application" ---


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    assert scope["type"] == "http"
    response = HTMLResponse("<html><body>Hello, world!</body></html>")
    await response(scope, receive, send)


def test_app() -> None:
    client = TestClient(app)
    response = client.get("/")
    assert response.status_code == 200
    # added: the body and type the example app sends
    assert response.text == "<html><body>Hello, world!</body></html>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"


# -- "to set headers on the TestClient you can do" -------------------------------


async def echo_authorization(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "authorization": request.headers.get("authorization"),
            "user-agent": request.headers.get("user-agent"),
        }
    )


headers_app = Starlette(routes=[Route("/", echo_authorization)])


def test_headers() -> None:
    app = headers_app
    client = TestClient(app)

    # Set headers on the client for future requests
    client.headers = {"Authorization": "..."}
    response = client.get("/")
    # added: the client's headers were sent; assigning replaced the client's
    # default headers, so user-agent is httpx2's own again (as with Starlette's)
    assert response.json()["authorization"] == "..."
    assert response.json()["user-agent"].startswith("python-httpx2/")

    # Set headers for each request separately
    response = client.get("/", headers={"Authorization": "..."})
    # added
    assert response.json()["authorization"] == "..."

    # added: a per-request header overrides the client's
    assert client.get("/", headers={"Authorization": "other"}).json()["authorization"] == "other"


# -- "And for example to send files with the TestClient" -------------------------


async def form(request: Request) -> JSONResponse:
    files: dict[str, Any] = {}
    async with request.form() as data:
        for name, value in data.multi_items():
            assert isinstance(value, UploadFile)
            files[name] = [value.filename, value.content_type, len(await value.read())]
    return JSONResponse(files)


files_app = Starlette(routes=[Route("/form", form, methods=["POST"])])


@pytest.fixture
def example_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``example.txt`` and ``example.png`` in the working directory, as the page assumes."""
    (tmp_path / "example.txt").write_text("an example text file\n")
    (tmp_path / "example.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_send_files(example_files: Path) -> None:
    app = files_app
    client = TestClient(app)

    # Send a single file
    with open("example.txt", "rb") as f:
        response = client.post("/form", files={"file": f})
    # added
    assert response.json() == {"file": ["example.txt", "text/plain", 21]}

    # Send multiple files
    with open("example.txt", "rb") as f1:  # noqa: SIM117 - as written on the page
        with open("example.png", "rb") as f2:
            files = {"file1": f1, "file2": ("filename", f2, "image/png")}
            response = client.post("/form", files=files)  # type: ignore[arg-type]
    # added
    assert response.json() == {
        "file1": ["example.txt", "text/plain", 21],
        "file2": ["filename", "image/png", 72],
    }


# -- raise_server_exceptions=False -----------------------------------------------


async def failing(request: Request) -> Response:
    raise RuntimeError("the page's 'content of 500 error responses'")


failing_app = Starlette(routes=[Route("/", failing)])


def test_raise_server_exceptions_false() -> None:
    app = failing_app
    # added: by default the exception reaches the test
    with pytest.raises(RuntimeError, match="content of 500 error responses"):
        TestClient(app).get("/")

    client = TestClient(app, raise_server_exceptions=False)
    # added
    response = client.get("/")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


# -- note: lifespan runs only inside ``with`` (example from lifespan.md) ---------


def lifespan_example_app(log: list[str]) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        log.append("startup")
        yield
        log.append("shutdown")

    return Starlette(routes=[Route("/", lambda r: PlainTextResponse("home"))], lifespan=lifespan)


def test_homepage_lifespan() -> None:
    log: list[str] = []
    app = lifespan_example_app(log)
    # added: not triggered when the TestClient is instantiated
    TestClient(app).get("/")
    assert log == []

    with TestClient(app) as client:
        # Application's lifespan is called on entering the block.
        response = client.get("/")
        assert response.status_code == 200
        # added
        assert log == ["startup"]

    # And the lifespan's teardown is run when exiting the block.
    # added
    assert log == ["startup", "shutdown"]


# -- "HTTP trailers" ----------------------------------------------------------------


async def trailers_app(scope: Scope, receive: Receive, send: Send) -> None:
    # the page's ``app``
    await send({
        "type": "http.response.start", "status": 200,
        "headers": [(b"trailer", b"x-result")], "trailers": True,
    })  # fmt: skip
    await send({"type": "http.response.body", "body": b"hello"})
    await send({"type": "http.response.trailers", "headers": [(b"x-result", b"complete")]})


def test_trailers() -> None:
    app = trailers_app
    response = TestClient(app).get("/", headers={"TE": "trailers"})
    assert response.content == b"hello"
    assert response.extensions["http.response.trailers"] == [(b"x-result", b"complete")]
    # added: "Trailers remain separate from response.headers"
    assert "x-result" not in response.headers


# -- "Debug information" -------------------------------------------------------------


class CSVResponse(Response):
    media_type = "text/csv"

    def __init__(self, rows):  # type: ignore[no-untyped-def]
        self.rows = rows
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        super().__init__(buffer.getvalue())

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if "http.response.debug" in scope.get("extensions", {}):
            await send({"type": "http.response.debug", "info": {"rows": self.rows}})
        await super().__call__(scope, receive, send)


async def export(request: Request) -> Response:
    rows = [("id", "username", "joined")]
    rows += [(str(n), f"user{n}", f"2024-01-{n % 28 + 1:02d}") for n in range(100)]
    return CSVResponse(rows)  # type: ignore[no-untyped-call]


export_app = Starlette(routes=[Route("/export", export)])


def test_export() -> None:
    app = export_app
    client = TestClient(app)
    response = client.get("/export")
    rows = response.extensions["http.response.debug"]["rows"]
    assert rows[0] == ("id", "username", "joined")
    assert len(rows) == 101
    # added: the body is the CSV rendering of the same rows
    assert response.text.splitlines()[:2] == ["id,username,joined", "0,user0,2024-01-01"]


# -- template responses (the example of templates.md the page links to) -------------

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


async def homepage(request: Request) -> Response:
    return templates.TemplateResponse(request, "index.html", {"name": "docs", "items": []})


templates_app = Starlette(routes=[Route("/", homepage)])


def test_homepage_template() -> None:
    app = templates_app
    client = TestClient(app)
    response = client.get("/")
    assert response.status_code == 200
    assert response.template.name == "index.html"  # type: ignore[attr-defined]
    assert "request" in response.context  # type: ignore[attr-defined]
    # added: "The info dictionary is always available ... even when it carries
    # template/context keys"
    debug = response.extensions["http.response.debug"]
    assert debug["template"].name == "index.html"
    assert debug["context"]["name"] == "docs"


# -- "Change client address" ---------------------------------------------------------


async def client_address(request: Request) -> JSONResponse:
    assert request.client is not None
    return JSONResponse({"host": request.client.host, "port": request.client.port})


address_app = Starlette(routes=[Route("/", client_address)])


def test_client_address() -> None:
    app = address_app
    # added: "By default, the TestClient will set the client host to "testclient"
    # and the port to 50000."
    assert TestClient(app).get("/").json() == {"host": "testclient", "port": 50000}

    client = TestClient(app, client=("localhost", 8000))
    # added
    assert client.get("/").json() == {"host": "localhost", "port": 8000}


# -- "Selecting the Async backend" ---------------------------------------------------


async def which_loop(request: Request) -> JSONResponse:
    import asyncio

    import sniffio

    library = sniffio.current_async_library()
    loop = type(asyncio.get_running_loop()).__module__ if library == "asyncio" else None
    return JSONResponse({"library": library, "loop": loop})


backend_app = Starlette(routes=[Route("/", which_loop)])


def test_app_trio() -> None:
    app = backend_app
    with TestClient(app, backend="trio") as client:
        # added
        assert client.get("/").json() == {"library": "trio", "loop": None}


def test_app_uvloop() -> None:
    app = backend_app
    with TestClient(app, backend_options={"use_uvloop": True}) as client:
        # added
        assert client.get("/").json() == {"library": "asyncio", "loop": "uvloop"}


# -- "Testing WebSocket sessions" ----------------------------------------------------


async def websocket_app(scope, receive, send):  # type: ignore[no-untyped-def]
    # the page's ``app``
    assert scope["type"] == "websocket"
    websocket = WebSocket(scope, receive=receive, send=send)
    await websocket.accept()
    await websocket.send_text("Hello, world!")
    await websocket.close()


def test_app_websocket() -> None:
    app = websocket_app
    client = TestClient(app)
    with client.websocket_connect("/") as websocket:
        data = websocket.receive_text()
        assert data == "Hello, world!"
        # added: then the app closed the connection
        with pytest.raises(WebSocketDisconnect) as info:
            websocket.receive_text()
        assert info.value.code == 1000


# -- "Establishing a test session": "May raise starlette.websockets.WebSocketDisconnect
# if the application does not accept the websocket connection." (a small app added)


async def refuse(websocket: WebSocket) -> None:
    await websocket.close(code=4003, reason="not today")


refusing_app = Starlette(routes=[WebSocketRoute("/", refuse)])


def test_websocket_not_accepted() -> None:
    app = refusing_app
    client = TestClient(app)
    with pytest.raises(WebSocketDisconnect) as info:  # noqa: SIM117 - the page's pattern
        with client.websocket_connect("/"):
            pytest.fail("the app accepted")  # added
    # added
    assert (info.value.code, info.value.reason) == (4003, "not today")


# -- the note on ``params``: "hard code it directly in the URL" ------------------------


async def echo_query(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(dict(websocket.query_params))
    await websocket.close()


query_app = Starlette(routes=[WebSocketRoute("/path", echo_query)])


def test_websocket_query_in_the_url() -> None:
    app = query_app
    client = TestClient(app)
    with client.websocket_connect("/path?foo=bar") as websocket:
        # added
        assert websocket.receive_json() == {"foo": "bar"}
    # added: unwired's websocket_connect supports ``params`` too (Starlette's does not)
    with client.websocket_connect("/path", params={"foo": "bar"}) as websocket:
        assert websocket.receive_json() == {"foo": "bar"}


# -- "Sending data", "Receiving data", "Closing the connection": the methods the page
# lists, against a small echo app (added)


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            websocket.app.state.closed_with = message["code"]
            return
        if message.get("text") is not None:
            await websocket.send_text(message["text"])
        else:
            await websocket.send_bytes(message["bytes"])


echo_app = Starlette(routes=[WebSocketRoute("/", echo)])


def test_websocket_session_methods() -> None:
    app = echo_app
    client = TestClient(app)
    with client.websocket_connect("/") as websocket:
        websocket.send_text("text")
        assert websocket.receive_text() == "text"
        websocket.send_bytes(b"bytes")
        assert websocket.receive_bytes() == b"bytes"
        websocket.send_json({"mode": "text"})
        assert websocket.receive_json() == {"mode": "text"}
        websocket.send_json({"mode": "binary"}, mode="binary")
        assert websocket.receive_json(mode="binary") == {"mode": "binary"}
        websocket.close(code=1001)
    assert echo_app.state.closed_with == 1001


# -- "Asynchronous tests" ------------------------------------------------------------
# The page's example uses httpx2's AsyncClient with ASGITransport, not TestClient;
# it is kept unchanged (unwired's AsyncTestClient will be its replacement).

from httpx2 import ASGITransport, AsyncClient  # noqa: E402


def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello World!")


async_app = Starlette(routes=[Route("/", hello)])


@pytest.mark.anyio
async def test_app_async() -> None:
    app = async_app
    # note: you _must_ set `base_url` for relative urls like "/" to work
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        r = await client.get("/")
        assert r.status_code == 200
        assert r.text == "Hello World!"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
