"""Real Starlette and FastAPI applications driven through ``unwired.AsyncTestClient``.

Every test runs on asyncio, uvloop and trio (tests/conftest.py). Each builds a
small app for one feature and asserts what the test got back and what the app
did: routing and JSON, lifespan state, dependencies with ``yield``, background
tasks, streaming with an early close, server exceptions, cookies and sessions,
uploads, and a request cancelled by the test's own deadline.

No ``from __future__ import annotations`` here: FastAPI resolves the annotations
of the endpoints and dependencies defined inside test functions, and would not
find those local names in strings.
"""

import contextlib
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.lowlevel
import httpx2
import pytest
from fastapi import BackgroundTasks, Depends, FastAPI, File, Form, HTTPException, UploadFile
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.integration.test_starlette import (  # the same endpoints, for the async client
    BoomError,
    raises,
    raises_mid_stream,
    session_clear,
    session_get,
    session_set,
    set_cookie,
    show_cookies,
)
from unwired import AsyncTestClient

pytestmark = pytest.mark.anyio


# -- routing and JSON --------------------------------------------------------------


async def read_user(request: Request) -> JSONResponse:
    user_id = request.path_params["user_id"]
    return JSONResponse({"user_id": user_id, "type": type(user_id).__name__})


async def search(request: Request) -> JSONResponse:
    params = request.query_params
    return JSONResponse({"q": params.get("q"), "tags": params.getlist("tag")})


async def echo_json(request: Request) -> JSONResponse:
    return JSONResponse({"received": await request.json()}, status_code=201)


ROUTING_APP = Starlette(
    routes=[
        Route("/users/{user_id:int}", read_user),
        Route("/search", search),
        Route("/echo", echo_json, methods=["POST"]),
    ]
)


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "body"),
    [
        ("GET", "/users/42", {}, 200, {"user_id": 42, "type": "int"}),
        (
            "GET",
            "/search",
            {"params": [("q", "café"), ("tag", "a"), ("tag", "b")]},
            200,
            {"q": "café", "tags": ["a", "b"]},
        ),
        ("POST", "/echo", {"json": {"n": [1, 2]}}, 201, {"received": {"n": [1, 2]}}),
    ],
)
async def test_starlette_routing_and_json(
    method: str, url: str, kwargs: dict[str, Any], status: int, body: Any
) -> None:
    async with AsyncTestClient(ROUTING_APP) as client:
        response = await client.request(method, url, **kwargs)
    assert (response.status_code, response.json()) == (status, body)
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("method", "url", "status", "text"),
    [
        ("GET", "/users/abc", 404, "Not Found"),
        ("GET", "/nowhere", 404, "Not Found"),
        ("GET", "/echo", 405, "Method Not Allowed"),
    ],
)
async def test_starlette_routing_errors(method: str, url: str, status: int, text: str) -> None:
    async with AsyncTestClient(ROUTING_APP) as client:
        response = await client.request(method, url)
    assert (response.status_code, response.text) == (status, text)


fastapi_app = FastAPI()


@fastapi_app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
    return {"item_id": item_id, "q": q}


async def test_fastapi_routing_json_and_validation() -> None:
    async with AsyncTestClient(fastapi_app) as client:
        found = await client.get("/items/7", params={"q": "x"})
        invalid = await client.get("/items/seven")
    assert (found.status_code, found.json()) == (200, {"item_id": 7, "q": "x"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["path", "item_id"]


# -- lifespan state ----------------------------------------------------------------


class Counter:
    def __init__(self) -> None:
        self.value = 0


def lifespan_app(log: list[str]) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        log.append("startup")
        yield {"counter": Counter(), "name": "state"}
        log.append("shutdown")

    async def count(request: Request) -> JSONResponse:
        counter: Counter = request.state.counter
        counter.value += 1
        request.state.scribble = "per request"  # lands in the request's copy of the state
        return JSONResponse({"count": counter.value, "name": request.state.name})

    return Starlette(routes=[Route("/count", count)], lifespan=lifespan)


async def test_starlette_lifespan_state_reaches_requests() -> None:
    log: list[str] = []
    client = AsyncTestClient(lifespan_app(log))
    async with client:
        assert log == ["startup"]
        first = (await client.get("/count")).json()
        second = (await client.get("/count")).json()
        assert sorted(client.app_state) == ["counter", "name"]
        assert client.app_state["counter"].value == 2
    assert (first, second) == ({"count": 1, "name": "state"}, {"count": 2, "name": "state"})
    assert log == ["startup", "shutdown"]


async def test_starlette_lifespan_runs_again_in_each_async_with() -> None:
    log: list[str] = []
    client = AsyncTestClient(lifespan_app(log))
    async with client:
        assert (await client.get("/count")).json()["count"] == 1
    async with client:
        assert (await client.get("/count")).json()["count"] == 1  # a fresh Counter
    assert log == ["startup", "shutdown", "startup", "shutdown"]


async def test_fastapi_lifespan_state() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        yield {"settings": {"env": "test"}}

    app = FastAPI(lifespan=lifespan)

    @app.get("/settings")
    async def settings(request: Request) -> dict[str, str]:
        return request.state.settings  # type: ignore[no-any-return]

    async with AsyncTestClient(app) as client:
        assert (await client.get("/settings")).json() == {"env": "test"}


# -- FastAPI dependencies with yield ---------------------------------------------


def dependency_app(log: list[str]) -> FastAPI:
    app = FastAPI()

    async def get_db() -> AsyncIterator[str]:
        log.append("db open")
        try:
            yield "db"
        except HTTPException as exc:
            log.append(f"db saw {exc.status_code}")
            raise
        finally:
            await anyio.lowlevel.checkpoint()
            log.append("db close")

    async def get_session(db: Annotated[str, Depends(get_db)]) -> AsyncIterator[str]:
        log.append("session open")
        yield f"session on {db}"
        log.append("session close")

    @app.get("/rows/{row_id}")
    async def read_row(row_id: int, session: Annotated[str, Depends(get_session)]) -> Any:
        log.append("handler")
        if row_id != 1:
            raise HTTPException(status_code=404, detail=f"row {row_id} not found")
        return {"row": row_id, "session": session}

    return app


async def test_fastapi_yield_dependencies_are_torn_down_when_the_request_returns() -> None:
    log: list[str] = []
    async with AsyncTestClient(dependency_app(log)) as client:
        response = await client.get("/rows/1")
        assert (response.status_code, response.json()) == (
            200,
            {"row": 1, "session": "session on db"},
        )
        assert log == ["db open", "session open", "handler", "session close", "db close"]


async def test_fastapi_yield_dependency_sees_the_handlers_exception() -> None:
    log: list[str] = []
    async with AsyncTestClient(dependency_app(log)) as client:
        response = await client.get("/rows/9")
    assert (response.status_code, response.json()) == (404, {"detail": "row 9 not found"})
    assert log[:3] == ["db open", "session open", "handler"]
    assert log[-2:] == ["db saw 404", "db close"]


# -- background tasks --------------------------------------------------------------


async def test_fastapi_background_tasks_are_done_when_the_request_returns() -> None:
    log: list[str] = []
    app = FastAPI()

    async def notify(email: str) -> None:
        await anyio.sleep(0.01)  # the app does slow I/O after the response
        log.append(f"notified {email}")

    def audit(message: str) -> None:
        log.append(f"audit: {message}")

    @app.post("/send/{email}", status_code=202)
    async def send(email: str, background: BackgroundTasks) -> dict[str, str]:
        background.add_task(notify, email)
        background.add_task(audit, "sent")
        log.append("handler")
        return {"status": "queued"}

    async with AsyncTestClient(app) as client:
        response = await client.post("/send/ada@example.org")
        assert (response.status_code, response.json()) == (202, {"status": "queued"})
        assert log == ["handler", "notified ada@example.org", "audit: sent"]


async def test_starlette_background_task_is_done_when_the_request_returns() -> None:
    log: list[str] = []

    async def record(value: str) -> None:
        await anyio.sleep(0.01)
        log.append(value)

    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok", background=BackgroundTask(record, "after"))

    async with AsyncTestClient(Starlette(routes=[Route("/", endpoint)])) as client:
        assert (await client.get("/")).text == "ok"
        assert log == ["after"]


# -- streaming ---------------------------------------------------------------------


def record_outcome(app: ASGIApp, log: list[str], ended: anyio.Event | None) -> ASGIApp:
    """Logs how the app's handling of ``/ticks`` ended, then sets ``ended``."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/ticks":
            await app(scope, receive, send)
            return
        try:
            await app(scope, receive, send)
        except anyio.get_cancelled_exc_class():
            log.append("app cancelled")
            raise
        except Exception as exc:
            log.append(f"app raised {type(exc).__name__}")
            raise
        else:
            log.append("app returned")
        finally:
            if ended is not None:
                ended.set()

    return middleware


def ticking_app(log: list[str], ended: anyio.Event | None = None) -> Starlette:
    async def ticks(request: Request) -> StreamingResponse:
        async def generate() -> AsyncIterator[str]:
            n = 0
            while True:
                n += 1
                yield f"data: {n}\n\n"
                await anyio.lowlevel.checkpoint()

        return StreamingResponse(generate(), media_type="text/event-stream")

    async def finite(request: Request) -> StreamingResponse:
        async def generate() -> AsyncIterator[bytes]:
            for n in range(4):
                yield b"%d\n" % n
                await anyio.lowlevel.checkpoint()

        return StreamingResponse(generate(), media_type="text/plain")

    return Starlette(
        routes=[Route("/ticks", ticks), Route("/finite", finite)],
        middleware=[Middleware(record_outcome, log=log, ended=ended)],
    )


async def test_infinite_streaming_response_read_partially_then_closed() -> None:
    log: list[str] = []
    async with AsyncTestClient(ticking_app(log), timeout=5) as client:
        async with client.stream("GET", "/ticks") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            # aclosing: httpx2's aiter_lines/aiter_text leave inner async
            # generators unclosed when reading stops early (trio warns).
            async with contextlib.aclosing(response.aiter_raw()) as chunks:
                received = [await anext(chunks) for _ in range(3)]
                assert log == []  # the app is still streaming
        assert received == [b"data: 1\n\n", b"data: 2\n\n", b"data: 3\n\n"]
        # Closing sent http.disconnect; the app's next send() raised an OSError,
        # which Starlette (ASGI spec >= 2.4) turns into ClientDisconnect.
        assert log == ["app raised ClientDisconnect"]
        assert (await client.get("/finite")).text == "0\n1\n2\n3\n"  # still usable


async def test_finite_streaming_response_read_to_the_end() -> None:
    async with (
        AsyncTestClient(ticking_app([])) as client,
        client.stream("GET", "/finite") as response,
    ):
        chunks = [chunk async for chunk in response.aiter_raw()]
    assert chunks == [b"0\n", b"1\n", b"2\n", b"3\n"]


# -- raise_server_exceptions -------------------------------------------------------


ERROR_APP = Starlette(routes=[Route("/endpoint", raises), Route("/stream", raises_mid_stream)])


@pytest.mark.parametrize("path", ["/endpoint", "/stream"])
async def test_raise_server_exceptions_reraises_the_apps_exception(path: str) -> None:
    async with AsyncTestClient(ERROR_APP) as client:
        with pytest.raises(BoomError, match=f"^boom at {path}$") as info:
            await client.get(path)
        assert type(info.value) is BoomError  # not wrapped in an ExceptionGroup
        assert (await client.get("/nowhere")).status_code == 404  # still usable


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [("/endpoint", 500, b"Internal Server Error"), ("/stream", 200, b"partial ")],
)
async def test_raise_server_exceptions_false_returns_the_response(
    path: str, status: int, body: bytes
) -> None:
    async with AsyncTestClient(ERROR_APP, raise_server_exceptions=False) as client:
        response = await client.get(path)
    assert (response.status_code, response.content) == (status, body)


async def test_fastapi_unhandled_exception_both_ways() -> None:
    app = FastAPI()

    @app.get("/fail")
    async def fail() -> None:
        raise BoomError("fastapi boom")

    async with AsyncTestClient(app) as client:
        with pytest.raises(BoomError, match=r"^fastapi boom$"):
            await client.get("/fail")
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        response = await client.get("/fail")
    assert (response.status_code, response.text) == (500, "Internal Server Error")


# -- cookies and sessions ----------------------------------------------------------


SESSION_APP = Starlette(
    routes=[
        Route("/session/set", session_set),
        Route("/session", session_get),
        Route("/session/clear", session_clear),
        Route("/cookie/set", set_cookie),
        Route("/cookies", show_cookies),
    ],
    middleware=[Middleware(SessionMiddleware, secret_key="not-so-secret")],
)


async def test_session_persists_across_requests_and_is_per_client() -> None:
    async with AsyncTestClient(SESSION_APP) as first, AsyncTestClient(SESSION_APP) as second:
        assert (await first.get("/session")).json() == {}
        assert (await first.get("/session/set", params={"user": "ada"})).json() == {"user": "ada"}
        assert "session" in first.cookies
        assert (await first.get("/session/set", params={"theme": "dark"})).json() == {
            "user": "ada",
            "theme": "dark",
        }
        assert (await first.get("/session")).json() == {"user": "ada", "theme": "dark"}
        assert (await second.get("/session")).json() == {}
        assert (await first.get("/session/clear")).json() == {}
        assert "session" not in first.cookies
        assert (await first.get("/session")).json() == {}


async def test_cookies_set_by_the_app_are_sent_back() -> None:
    async with AsyncTestClient(SESSION_APP, cookies={"initial": "1"}) as client:
        assert (await client.get("/cookies")).json() == {"initial": "1"}
        response = await client.get("/cookie/set", params={"value": "abc"})
        assert "token=abc" in response.headers["set-cookie"]
        assert client.cookies["token"] == "abc"
        assert (await client.get("/cookies")).json() == {"initial": "1", "token": "abc"}


# -- uploads -----------------------------------------------------------------------


upload_app = FastAPI()


@upload_app.post("/upload")
async def upload(
    file: Annotated[UploadFile, File()], description: Annotated[str, Form()] = ""
) -> dict[str, Any]:
    content = await file.read()
    return {
        "filename": file.filename,
        "content_type": file.content_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "description": description,
    }


async def test_upload_file_in_memory() -> None:
    async with AsyncTestClient(upload_app) as client:
        response = await client.post(
            "/upload",
            files={"file": ("hello.txt", b"hello", "text/plain")},
            data={"description": "greeting"},
        )
    assert (response.status_code, response.json()) == (
        200,
        {
            "filename": "hello.txt",
            "content_type": "text/plain",
            "size": 5,
            "sha256": hashlib.sha256(b"hello").hexdigest(),
            "description": "greeting",
        },
    )


async def test_upload_file_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    content = b"id,name\n" + b"".join(f"{n},user{n}\n".encode() for n in range(5000))
    path.write_bytes(content)
    async with AsyncTestClient(upload_app) as client:
        with path.open("rb") as file:
            response = await client.post("/upload", files={"file": file})
        missing = await client.post("/upload", data={"description": "no file"})
    assert response.status_code == 200
    assert response.json() == {
        "filename": "report.csv",
        "content_type": "text/csv",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "description": "",
    }
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "file"]


# -- cancellation by the test's deadline -------------------------------------------


class Slow:
    """An app whose ``/slow`` and ``/stalled`` never finish; it logs how they ended."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.ended = anyio.Event()
        app = FastAPI()
        app.get("/slow")(self.slow)
        app.get("/stalled")(self.stalled)
        app.get("/fast")(self.fast)
        self.app = app

    async def slow(self) -> dict[str, str]:
        self.log.append("started")
        try:
            await anyio.sleep(10)
        finally:
            self.log.append("finally ran")
            self.ended.set()
        return {"status": "too late"}

    async def stalled(self) -> StreamingResponse:
        async def generate() -> AsyncIterator[bytes]:
            yield b"data: 1\n\n"
            try:
                await anyio.sleep(10)  # the next event never comes
            finally:
                self.log.append("finally ran")
                self.ended.set()
            yield b"data: late\n\n"

        return StreamingResponse(generate(), media_type="text/event-stream")

    async def fast(self) -> dict[str, str]:
        return {"status": "ok"}


async def test_a_request_cancelled_by_the_tests_deadline_is_cancelled_in_the_app() -> None:
    slow = Slow()
    async with AsyncTestClient(slow.app) as client:
        with anyio.move_on_after(0.05) as scope:
            await client.get("/slow")
        assert scope.cancelled_caught
        with anyio.fail_after(5):  # an event, not a sleep: set by the app's finally
            await slow.ended.wait()
        assert slow.log == ["started", "finally ran"]
        response = await client.get("/fast")
        assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_move_on_after_returns_once_the_app_has_ended() -> None:
    slow = Slow()
    async with AsyncTestClient(slow.app) as client:
        with anyio.move_on_after(0.05) as scope:
            await client.get("/slow")
        assert scope.cancelled_caught
        assert slow.log == ["started", "finally ran"]
        assert (await client.get("/fast")).json() == {"status": "ok"}


async def test_fail_after_raises_once_the_app_has_ended() -> None:
    slow = Slow()
    async with AsyncTestClient(slow.app) as client:
        with pytest.raises(TimeoutError), anyio.fail_after(0.05):
            await client.get("/slow")
        assert slow.log == ["started", "finally ran"]
        assert (await client.get("/fast")).json() == {"status": "ok"}


async def test_a_deadline_around_a_stalled_stream_cancels_the_app() -> None:
    slow = Slow()
    async with AsyncTestClient(slow.app, timeout=5) as client:
        with anyio.move_on_after(0.05) as scope:
            async with (
                client.stream("GET", "/stalled") as response,
                contextlib.aclosing(response.aiter_raw()) as chunks,
            ):
                assert await anext(chunks) == b"data: 1\n\n"
                await anext(chunks)  # waits until the deadline
        assert scope.cancelled_caught
        with anyio.fail_after(5):
            await slow.ended.wait()
        assert slow.log == ["finally ran"]
        assert (await client.get("/fast")).json() == {"status": "ok"}


async def test_a_deadline_around_reading_an_infinite_stream_ends_the_app() -> None:
    log: list[str] = []
    ended = anyio.Event()
    async with AsyncTestClient(ticking_app(log, ended), timeout=5) as client:
        with anyio.move_on_after(0.05) as scope:
            async with (
                client.stream("GET", "/ticks") as response,
                contextlib.aclosing(response.aiter_raw()) as chunks,
            ):
                async for _ in chunks:
                    pass  # an infinite stream: only the deadline ends this
        assert scope.cancelled_caught
        with anyio.fail_after(5):
            await ended.wait()
        # Cancelled while the test waited for a chunk, or told of the disconnect
        # while httpx2 was handling one: either way the app's request has ended.
        assert log in (["app cancelled"], ["app raised ClientDisconnect"])
        assert (await client.get("/finite")).text == "0\n1\n2\n3\n"


async def test_client_timeout_waits_for_the_app_to_end_and_names_the_wait() -> None:
    slow = Slow()
    async with AsyncTestClient(slow.app, timeout=0.05) as client:
        with pytest.raises(httpx2.ReadTimeout, match="waiting for the response to start"):
            await client.get("/slow")
        assert slow.log == ["started", "finally ran"]
        assert (await client.get("/fast")).json() == {"status": "ok"}
