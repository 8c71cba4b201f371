"""TestClient over hand-written ASGI apps: construction, scope, bodies, errors."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from typing import Any

import httpx2
import pytest

from tests.apps import Recorder, scripted_app, text_app
from unwired import ASGIProtocolError, TestClient
from unwired._client import set_default_timeout
from unwired._types import Receive, Scope, Send


def test_is_not_collected_by_pytest() -> None:
    assert TestClient.__test__ is False


def test_is_an_httpx2_client() -> None:
    assert issubclass(TestClient, httpx2.Client)


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"app": 42}, TypeError, "expected an ASGI application, got int 42"),
        ({"app": text_app(), "backend": "curio"}, ValueError, "choose 'asyncio' or 'trio'"),
        ({"app": text_app(), "lifespan": "yes"}, ValueError, "'auto', 'on', 'off'"),
        (
            {"app": text_app(), "backend_options": {"use_uvlop": True}},
            TypeError,
            "unknown asyncio backend option(s) ['use_uvlop']",
        ),
    ],
    ids=["not-callable", "backend", "lifespan", "backend-option"],
)
def test_bad_arguments_say_what_was_expected(
    kwargs: dict[str, Any], error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as info:
        TestClient(**kwargs)
    assert text in str(info.value)


def test_caller_headers_are_not_mutated_and_user_agent_defaults() -> None:
    headers = {"x-token": "t"}
    client = TestClient(Recorder(), headers=headers)
    assert headers == {"x-token": "t"}
    assert client.headers["user-agent"] == "testclient"
    assert TestClient(Recorder(), headers={"User-Agent": "me"}).headers["user-agent"] == "me"
    client.close()


def test_scope_is_what_the_spec_says_a_server_sends() -> None:
    app = Recorder()
    with TestClient(app, lifespan="off") as client:
        client.get("/caf%C3%A9/x?q=a%20b&q=2", headers={"X-Mixed-Case": "v"})
    scope = dict(app.scopes[0])
    headers = scope.pop("headers")
    assert scope == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/café/x",
        "raw_path": b"/caf%C3%A9/x",
        "query_string": b"q=a%20b&q=2",
        "root_path": "",
        "client": ("testclient", 50000),
        "server": ("testserver", 80),
        "state": {},
        "extensions": {
            "http.response.debug": {},
            "http.response.early_hint": {},
            "http.response.pathsend": {},
            "http.response.trailers": {},
            "http.response.zerocopysend": {},
        },
    }
    assert (b"host", b"testserver") in headers
    assert (b"user-agent", b"testclient") in headers
    assert (b"x-mixed-case", b"v") in headers
    assert all(name == name.lower() and isinstance(name, bytes) for name, _ in headers)


@pytest.mark.parametrize(
    ("base_url", "server", "scheme"),
    [
        ("https://example.org", ("example.org", 443), "https"),
        ("http://example.org:8080", ("example.org", 8080), "http"),
    ],
)
def test_server_and_scheme_come_from_base_url(
    base_url: str, server: tuple[str, int], scheme: str
) -> None:
    app = Recorder()
    client = TestClient(app, base_url=base_url, root_path="/api", client=("1.2.3.4", 7))
    client.get("/x")
    client.close()
    scope = app.scopes[0]
    assert (scope["server"], scope["scheme"]) == (server, scheme)
    assert (scope["root_path"], scope["path"], scope["client"]) == ("/api", "/x", ("1.2.3.4", 7))


def test_http_version_is_configurable() -> None:
    app = Recorder()
    with TestClient(app, http_version="2", lifespan="off") as client:
        client.get("/")
    assert app.scopes[0]["http_version"] == "2"


def test_bytes_body_arrives_in_one_message_then_disconnect_after_the_response() -> None:
    app = Recorder()
    with TestClient(app, lifespan="off") as client:
        assert client.post("/", content=b"payload").content == b"payload"
    assert app.received == [
        {"type": "http.request", "body": b"payload", "more_body": False},
        {"type": "http.disconnect"},
    ]


def test_iterator_body_is_streamed_chunk_by_chunk() -> None:
    app = Recorder()
    pulled: list[int] = []
    threads: set[threading.Thread] = set()
    loops: list[object] = []

    def body() -> Any:
        for index, chunk in enumerate([b"a", b"bb", b"ccc"]):
            pulled.append(index)
            threads.add(threading.current_thread())
            loops.append(asyncio.events._get_running_loop())
            yield chunk

    with TestClient(app, lifespan="off") as client:
        assert client.post("/", content=body()).content == b"abbccc"
    assert pulled == [0, 1, 2]
    # read off the app's loop (a file read there would block it), in a worker thread
    assert threading.current_thread() not in threads
    assert loops == [None, None, None]
    assert app.received == [
        {"type": "http.request", "body": b"a", "more_body": True},
        {"type": "http.request", "body": b"bb", "more_body": True},
        {"type": "http.request", "body": b"ccc", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": False},
        {"type": "http.disconnect"},
    ]


def test_head_response_has_no_body() -> None:
    with TestClient(text_app(b"x" * 100)) as client:
        response = client.head("/")
    assert (response.status_code, response.content) == (200, b"")


def test_asgi2_apps_are_wrapped() -> None:
    seen: list[str] = []

    class ASGI2:
        def __init__(self, scope: Scope) -> None:
            self.scope = scope

        async def __call__(self, receive: Receive, send: Send) -> None:
            seen.append(self.scope["type"])
            await text_app(b"two")(self.scope, receive, send)

    def asgi2_function(scope: Scope) -> Any:
        return ASGI2(scope)

    for app in (ASGI2, asgi2_function):
        assert TestClient(app, lifespan="off").get("/").content == b"two"
    assert seen == ["http", "http"]


def test_asgi3_callable_objects_and_partials_are_used_as_they_are() -> None:
    class App:
        async def __call__(
            self, scope: Scope, receive: Receive, send: Send, *, body: bytes
        ) -> None:
            await text_app(body)(scope, receive, send)

    app = functools.partial(App(), body=b"partial")
    assert TestClient(app, lifespan="off").get("/").content == b"partial"


class Boom(Exception):
    pass


async def raise_before_start(scope: Scope, receive: Receive, send: Send) -> None:
    raise Boom("before start")


async def raise_after_start(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    raise Boom("after start")


async def raise_in_group(scope: Scope, receive: Receive, send: Send) -> None:
    raise ExceptionGroup("wrapped", [Boom("in a group")])


@pytest.mark.parametrize("app", [raise_before_start, raise_after_start, raise_in_group])
def test_app_exceptions_are_reraised_unwrapped_with_their_traceback(app: Any) -> None:
    with TestClient(app, lifespan="off") as client, pytest.raises(Boom) as info:
        client.get("/")
    assert any(entry.name == app.__name__ for entry in info.traceback)


def test_without_raise_server_exceptions_a_failure_before_start_is_a_500() -> None:
    with TestClient(raise_before_start, raise_server_exceptions=False, lifespan="off") as client:
        response = client.get("/")
        assert (response.status_code, response.content) == (500, b"")
        with client.stream("GET", "/") as streamed:  # its body can be streamed raw, too
            assert (streamed.status_code, list(streamed.iter_raw())) == (500, [])


def test_without_raise_server_exceptions_a_failure_after_start_keeps_what_was_sent() -> None:
    with TestClient(raise_after_start, raise_server_exceptions=False, lifespan="off") as client:
        response = client.get("/")
    assert (response.status_code, response.content) == (200, b"partial")


@pytest.mark.parametrize(
    ("messages", "text"),
    [
        (
            [{"type": "http.response.body", "body": b"x"}],
            "app sent 'http.response.body' before 'http.response.start'",
        ),
        (
            [
                {"type": "http.response.start", "status": 200},
                {"type": "http.response.start", "status": 200},
            ],
            "app sent 'http.response.start' after 'http.response.start'",
        ),
        (
            [{"type": "http.response.start", "status": 200, "headers": [("a", "b")]}],
            "names and values must be bytes, not str",
        ),
        ([], "app returned without sending 'http.response.start'"),
        (
            [
                {"type": "http.response.start", "status": 200},
                {"type": "http.response.body", "body": b"x", "more_body": True},
            ],
            "app returned before the response body was complete",
        ),
    ],
    ids=["body-first", "start-twice", "str-headers", "no-response", "unfinished-body"],
)
def test_protocol_violations_raise_asgi_protocol_error(messages: Any, text: str) -> None:
    client = TestClient(scripted_app(*messages), lifespan="off")
    with client, pytest.raises(ASGIProtocolError) as info:
        client.get("/")
    assert text in str(info.value)


def test_a_protocol_error_the_app_swallows_is_still_reported() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        with contextlib.suppress(Exception):
            await send({"type": "http.response.body", "body": b"early"})
        await text_app()(scope, receive, send)

    with TestClient(app, lifespan="off") as client, pytest.raises(ASGIProtocolError):
        client.get("/")


def test_cookies_and_redirects_work_through_httpx2() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/login":
            headers = [(b"set-cookie", b"session=abc; Path=/"), (b"location", b"/home")]
            await send({"type": "http.response.start", "status": 303, "headers": headers})
            await send({"type": "http.response.body"})
            return
        cookie = dict(scope["headers"]).get(b"cookie", b"")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": cookie})

    with TestClient(app, lifespan="off") as client:
        response = client.post("/login")
        assert (response.status_code, response.url.path) == (200, "/home")
        assert response.content == b"session=abc"
        assert client.get("/other").content == b"session=abc"
        assert client.get("/login", follow_redirects=False).status_code == 303


# -- timeouts: checked where they are given ----------------------------------------

_TIMEOUT_RULE = "timeout must be a number of seconds > 0, an httpx2.Timeout, or None (no limit)"


@pytest.mark.parametrize(
    ("timeout", "error", "text"),
    [
        pytest.param("abc", TypeError, f"{_TIMEOUT_RULE}, not str 'abc'", id="str"),
        pytest.param(True, TypeError, f"{_TIMEOUT_RULE}, not bool True", id="bool"),
        pytest.param(
            0,
            ValueError,
            f"{_TIMEOUT_RULE}, not 0: every wait would time out before the app could answer; "
            "to check that something does not happen, give a short timeout such as 0.1",
            id="zero",
        ),
        pytest.param(-1, ValueError, f"{_TIMEOUT_RULE}, not -1", id="negative"),
        pytest.param(float("nan"), ValueError, f"{_TIMEOUT_RULE}, not nan", id="nan"),
        pytest.param(
            float("inf"),
            ValueError,
            f"{_TIMEOUT_RULE}, not inf; to wait forever, pass None",
            id="inf",
        ),
        pytest.param(
            httpx2.Timeout(5, read=-1),
            ValueError,
            f"{_TIMEOUT_RULE}, not httpx2.Timeout with read=-1",
            id="httpx2-timeout",
        ),
    ],
)
def test_a_bad_timeout_is_refused_by_the_constructor(
    timeout: Any, error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as info:
        TestClient(text_app(), timeout=timeout)
    assert str(info.value) == text


def test_a_bad_default_timeout_is_refused_by_the_constructor() -> None:
    previous = set_default_timeout(-5)
    try:
        with pytest.raises(ValueError, match=r"^timeout must be a number .*, not -5$"):
            TestClient(text_app())
    finally:
        set_default_timeout(previous)


@pytest.mark.parametrize("timeout", [None, 5, 0.5, httpx2.Timeout(None), httpx2.Timeout(5, read=1)])
def test_good_timeouts_are_taken(timeout: Any) -> None:
    with TestClient(text_app(), timeout=timeout, lifespan="off") as client:
        assert client.get("/").content == b"hi"


def test_a_bad_per_request_timeout_is_refused_before_the_app_runs() -> None:
    app = Recorder()
    with TestClient(app, lifespan="off") as client:
        with pytest.raises(TypeError) as info:
            client.get("/", timeout="abc")  # type: ignore[arg-type]
        assert str(info.value) == f"{_TIMEOUT_RULE}, not str 'abc'"
        with pytest.raises(ValueError, match=r"^timeout must be a number .*, not -1$"):
            client.get("/", timeout=-1)
        with pytest.raises(ValueError, match=r"^timeout must be a number .*, not -1$"):
            client.websocket_connect("/", timeout=-1)
    assert app.scopes == []


# -- request bodies: the test's chunks -----------------------------------------------


@pytest.mark.parametrize(
    ("chunks", "text"),
    [
        (
            ["a", "b"],
            "request body chunks must be bytes, got str 'a'; encode it (e.g. "
            "chunk.encode('utf-8')) or pass bytes",
        ),
        ([5], "request body chunks must be bytes, got int 5"),
    ],
)
def test_a_request_body_chunk_that_is_not_bytes_is_the_tests_error(
    chunks: list[Any], text: str
) -> None:
    app = Recorder()
    with TestClient(app, lifespan="off") as client, pytest.raises(TypeError) as info:
        client.post("/", content=iter(chunks))
    assert str(info.value).startswith(text)
    assert app.received == []


def test_request_body_chunks_may_be_bytes_like() -> None:
    app = Recorder()
    with TestClient(app, lifespan="off") as client:
        response = client.post("/", content=iter([bytearray(b"ab"), memoryview(b"cd")]))
    assert response.content == b"abcd"


# -- client.run() -------------------------------------------------------------------


def test_run_given_a_sync_function_names_the_portal() -> None:
    client = TestClient(text_app())
    with pytest.raises(TypeError) as info:
        client.run(len, [1, 2])  # type: ignore[arg-type]
    assert str(info.value) == (
        "client.run() runs async functions; len returned int, not an awaitable; "
        "use client.portal.call() for sync functions"
    )
    client.close()


# -- using a client the wrong way ----------------------------------------------------


def test_entering_a_client_twice_names_the_statement_and_what_to_do() -> None:
    client = TestClient(text_app(), lifespan="off")
    with client, pytest.raises(RuntimeError) as info:
        client.__enter__()
    assert str(info.value) == (
        "this client is already inside a 'with client:' block; use the client of the outer "
        "block (to run a second copy of the app, create a second client)"
    )


def test_entering_a_closed_client_says_what_to_do() -> None:
    client = TestClient(text_app())
    client.close()
    with pytest.raises(RuntimeError) as info:
        client.__enter__()
    assert str(info.value) == (
        "Cannot open a client instance that has been closed; client.close() ends a client for "
        "good: create a new client (leaving 'with client:' does not close it)"
    )


def test_async_with_on_the_sync_client_names_the_right_statement() -> None:
    async def enter(client: Any) -> None:
        async with client:
            pass

    client = TestClient(text_app())
    with pytest.raises(TypeError) as info:
        asyncio.run(enter(client))
    assert str(info.value) == (
        "TestClient is used with 'with client:', not 'async with'; in async tests, use "
        "unwired.AsyncTestClient"
    )
    client.close()


def test_websocket_connect_refuses_unknown_keywords() -> None:
    with pytest.raises(TypeError) as info:
        TestClient(text_app()).websocket_connect("/ws", token="secret")
    assert str(info.value) == (
        "websocket_connect() got an unexpected keyword argument 'token'; "
        "it takes headers, cookies, auth, params, timeout"
    )


@pytest.mark.parametrize("when", ["before start", "after start"])
def test_a_protocol_error_the_app_swallows_is_raised_without_waiting(when: str) -> None:
    finished: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if when == "after start":
            await send({"type": "http.response.start", "status": 200})
        with contextlib.suppress(ASGIProtocolError):
            await send({"type": "http.response.bogus"})
        try:
            await asyncio.Event().wait()  # hangs: the test must not wait for its timeout
        finally:
            finished.append("cancelled")

    client = TestClient(app, lifespan="off", timeout=30)
    with pytest.raises(ASGIProtocolError, match="bogus"):
        client.get("/")
    assert finished == ["cancelled"]
    client.close()
