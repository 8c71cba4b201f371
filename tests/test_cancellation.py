"""However the test leaves an exchange, the app is told or cancelled, and unwinds first.

The ways out: an exception in the test's block, a ``KeyboardInterrupt`` in
the block, and Ctrl-C (a real SIGINT) arriving while the client waits on the
app. Each time the app must see a disconnect or a cancellation, its
``finally`` must have run by the time the test gets the exception, nothing of
it may be left on the client's loop, and the client must go on working.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator

import anyio
import httpx2
import pytest

from unwired import TestClient
from unwired._types import Receive, Scope, Send

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs pthread_kill")


class App:
    """A streaming endpoint, a WebSocket echo and a hanging endpoint that log how they end."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.hang_startup = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            elif scope["type"] == "websocket":
                await self._echo(receive, send)
            elif scope["path"] == "/ok":
                await send({"type": "http.response.start", "status": 204})
                await send({"type": "http.response.body"})
            else:
                await self._stream(scope["path"], receive, send)
        except OSError:  # a send after the test went away
            self.log.append("send failed")
        except anyio.get_cancelled_exc_class():
            self.log.append("cancelled")
            raise
        finally:
            self.log.append(f"{scope['type']} finally")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()
        if self.hang_startup:
            await anyio.sleep_forever()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})

    async def _stream(self, path: str, receive: Receive, send: Send) -> None:
        if path == "/hang":
            await anyio.sleep_forever()
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        while (message := await receive())["type"] == "http.request":
            pass  # the request body; then wait for the test to go away
        self.log.append(message["type"])

    async def _echo(self, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message["text"]})
        self.log.append(message["type"])

    def ended(self, scope_type: str = "http") -> bool:
        """Did the app's call of this type end, told of the test's going or cancelled?"""
        told = {"http.disconnect", "websocket.disconnect", "send failed", "cancelled"}
        return f"{scope_type} finally" in self.log and bool(told & set(self.log))


@contextlib.contextmanager
def ctrl_c_after(seconds: float) -> Iterator[None]:
    """Deliver a real SIGINT to the main thread while the block is waiting."""
    timer = threading.Timer(
        seconds, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT)
    )
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()


def _left_on_loop(client: TestClient) -> list[str]:
    """The tasks on the client's loop other than its own bookkeeping."""
    loop = client._driver.backend.loop  # type: ignore[attr-defined]
    names = [task.get_name() for task in asyncio.all_tasks(loop) if not task.done()]
    return [name for name in names if not name.startswith("unwired:")]


def _assert_clean(app: App, client: TestClient, backend: str, scope_type: str = "http") -> None:
    assert app.ended(scope_type), app.log
    if backend != "trio":
        assert _left_on_loop(client) == []
    app.log.clear()
    assert client.get("/ok").status_code == 204  # the client goes on
    assert app.log == ["http finally"]


BACKENDS = pytest.mark.parametrize("backend", ["asyncio", "uvloop", "trio"])


def _client(app: App, backend: str) -> TestClient:
    if backend == "uvloop":
        return TestClient(app, backend_options={"use_uvloop": True}, timeout=10)
    return TestClient(app, backend=backend, timeout=10)  # type: ignore[arg-type]


def _raise_value_error() -> None:
    raise ValueError("the test failed")


def _raise_keyboard_interrupt() -> None:
    raise KeyboardInterrupt


LEAVE = pytest.mark.parametrize(
    "leave", [_raise_value_error, _raise_keyboard_interrupt], ids=["exception", "interrupt"]
)


def _expected(leave: Callable[[], None]) -> type[BaseException]:
    return ValueError if leave is _raise_value_error else KeyboardInterrupt


def _stream_then(
    client: TestClient, leave: Callable[[], None], wait_for_more: bool = False
) -> None:
    """Read the first chunk, then leave the block (or wait for a chunk that never comes)."""
    with client.stream("GET", "/stream") as response:
        chunks = response.iter_raw()
        assert next(chunks) == b"first"
        leave()
        if wait_for_more:
            with ctrl_c_after(0.1):
                next(chunks)


def _echo_then(client: TestClient, leave: Callable[[], None], wait_for_more: bool = False) -> None:
    """Echo one message, then leave the block (or wait for a message that never comes)."""
    with client.websocket_connect("/ws") as websocket:
        websocket.send_text("ping")
        assert websocket.receive_text() == "ping"
        leave()
        if wait_for_more:
            with ctrl_c_after(0.1):
                websocket.receive_text()


@BACKENDS
@LEAVE
def test_leaving_a_stream_block_disconnects_the_app(
    backend: str, leave: Callable[[], None]
) -> None:
    app = App()
    with _client(app, backend) as client:
        with pytest.raises(_expected(leave)):
            _stream_then(client, leave)
        assert "http.disconnect" in app.log
        _assert_clean(app, client, backend)


@BACKENDS
@LEAVE
def test_leaving_a_websocket_block_disconnects_the_app(
    backend: str, leave: Callable[[], None]
) -> None:
    app = App()
    with _client(app, backend) as client:
        with pytest.raises(_expected(leave)):
            _echo_then(client, leave)
        assert "websocket.disconnect" in app.log
        _assert_clean(app, client, backend, "websocket")


@BACKENDS
def test_ctrl_c_while_waiting_for_a_response(backend: str) -> None:
    app = App()
    with _client(app, backend) as client:
        with pytest.raises(KeyboardInterrupt), ctrl_c_after(0.1):
            client.get("/hang")
        assert "cancelled" in app.log
        _assert_clean(app, client, backend)


@BACKENDS
def test_ctrl_c_while_waiting_for_a_chunk(backend: str) -> None:
    app = App()
    with _client(app, backend) as client:
        with pytest.raises(KeyboardInterrupt):
            _stream_then(client, lambda: None, wait_for_more=True)
        _assert_clean(app, client, backend)


@BACKENDS
def test_ctrl_c_while_waiting_for_a_websocket_message(backend: str) -> None:
    app = App()
    with _client(app, backend) as client:
        with pytest.raises(KeyboardInterrupt):
            _echo_then(client, lambda: None, wait_for_more=True)
        _assert_clean(app, client, backend, "websocket")


@BACKENDS
def test_ctrl_c_during_lifespan_startup(backend: str) -> None:
    app = App()
    app.hang_startup = True
    client = _client(app, backend)
    with pytest.raises(KeyboardInterrupt), ctrl_c_after(0.1), client:
        pass  # pragma: no cover - startup never completes
    assert app.log == ["cancelled", "lifespan finally"]
    app.hang_startup = False
    app.log.clear()
    with client:
        assert client.get("/ok").status_code == 204
    assert app.log == ["http finally", "lifespan finally"]


def test_nothing_is_left_after_many_interrupted_exchanges() -> None:
    app = App()
    threads = threading.active_count()
    with TestClient(app) as client:
        for _ in range(20):
            with pytest.raises(KeyboardInterrupt):
                _stream_then(client, _raise_keyboard_interrupt)
            with pytest.raises(KeyboardInterrupt):
                _echo_then(client, _raise_keyboard_interrupt)
        assert _left_on_loop(client) == []
    assert app.log.count("http finally") == app.log.count("websocket finally") == 20
    assert threading.active_count() == threads


def test_an_app_slow_to_unwind_after_cancellation_gets_the_likely_cause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("unwired._app_task.CANCEL_WAIT", 0.2)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await anyio.sleep(3600)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(1)  # slow cleanup

    client = TestClient(app, lifespan="off", timeout=0.1)
    with pytest.raises(httpx2.ReadTimeout) as info:
        client.get("/")
    assert str(info.value).partition("\n")[0] == (
        "GET /: timed out after 0.2s waiting for the app to exit after cancellation; the app "
        "task was cancelled. A finally or except block in the app awaits something slow, or "
        "catches the cancellation without re-raising it."
    )
    client.close()
