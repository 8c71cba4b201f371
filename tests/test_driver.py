"""The client's event loop: one per client, any thread, any caller, closed cleanly."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import weakref
from typing import Any

import pytest

from tests.apps import text_app
from unwired import TestClient
from unwired._types import Receive, Scope, Send


class LoopSpy:
    """Records the loop and thread each request ran on; keeps a resource between requests."""

    def __init__(self) -> None:
        self.loops: list[Any] = []
        self.threads: list[int] = []
        self.queue: asyncio.Queue[int] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan")
        self.loops.append(asyncio.get_running_loop())
        self.threads.append(threading.get_ident())
        if self.queue is None:
            self.queue = asyncio.Queue()  # bound to the loop of the first request
        await self.queue.put(1)
        await self.queue.get()
        await asyncio.sleep(0)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def test_one_loop_for_every_request_outside_with_and_no_thread_hop() -> None:
    app = LoopSpy()
    client = TestClient(app)
    for _ in range(3):
        assert client.get("/").content == b"ok"
    assert len(set(app.loops)) == 1
    assert set(app.threads) == {threading.get_ident()}
    client.close()
    assert app.loops[0].is_closed()


def test_a_thread_per_request_is_never_started() -> None:
    client = TestClient(LoopSpy())
    client.get("/")
    before = threading.active_count()
    for _ in range(50):
        client.get("/")
    assert threading.active_count() == before
    client.close()


def test_several_threads_share_one_client() -> None:
    app = LoopSpy()
    client = TestClient(app)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(25):
                assert client.get("/").content == b"ok"
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(app.loops) == 150
    assert len(set(app.loops)) == 1
    client.close()


def test_a_thread_waiting_on_a_stream_is_fed_by_another_threads_request() -> None:
    channel: asyncio.Queue[bytes] | None = None

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal channel
        if channel is None:
            channel = asyncio.Queue()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if scope["path"] == "/publish":
            await channel.put(b"news")
            await send({"type": "http.response.body", "body": b"sent"})
            return
        await send({"type": "http.response.body", "body": await channel.get()})

    client = TestClient(app, timeout=10)
    client.get("/publish")  # creates the queue; its item is consumed next
    assert client.get("/subscribe").content == b"news"
    result: list[bytes] = []
    reader = threading.Thread(target=lambda: result.append(client.get("/subscribe").content))
    reader.start()
    while reader.is_alive() and not result:
        assert client.get("/publish").content == b"sent"
        reader.join(timeout=0.05)
    reader.join(timeout=10)
    assert result == [b"news"]
    client.close()


def test_works_from_sync_code_called_inside_a_running_event_loop() -> None:
    client = TestClient(LoopSpy())
    client.get("/")

    async def async_test() -> bytes:
        return client.get("/").content  # a sync helper inside an async test

    assert asyncio.run(async_test()) == b"ok"
    client.close()


def test_calling_the_client_from_the_apps_own_loop_is_a_clear_error() -> None:
    client: TestClient

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/inner":
            await text_app()(scope, receive, send)
            return
        client.get("/inner")

    client = TestClient(app, lifespan="off")
    with pytest.raises(RuntimeError, match="inside the app's own event loop"):
        client.get("/outer")
    client.close()


def test_run_executes_on_the_apps_loop() -> None:
    app = LoopSpy()
    client = TestClient(app)
    client.get("/")

    async def current_loop(offset: int) -> tuple[Any, int]:
        return asyncio.get_running_loop(), offset + 1

    assert client.run(current_loop, 1) == (app.loops[0], 2)
    assert client.run(current_loop(41)) == (app.loops[0], 42)
    with pytest.raises(TypeError, match="pass the function instead"):
        client.run(current_loop(1), 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes a coroutine or an async function"):
        client.run(42)  # type: ignore[arg-type]
    client.close()


def test_run_reraises_and_portal_calls_work() -> None:
    client = TestClient(LoopSpy())

    async def fail() -> None:
        raise KeyError("inside")

    with pytest.raises(KeyError, match="inside"):
        client.run(fail)
    assert client.portal.call(asyncio.sleep, 0, "slept") == "slept"
    assert client.portal.call(lambda x: x * 2, 21) == 42
    future = client.portal.start_task_soon(asyncio.sleep, 0.01, "later")
    assert future.result(timeout=5) == "later"
    client.close()


def test_closing_releases_the_loop_and_every_thread() -> None:
    before = set(threading.enumerate())
    client = TestClient(LoopSpy())
    client.get("/")
    asyncio.run(_from_async(client))  # starts the helper thread
    client.close()
    assert set(threading.enumerate()) <= before


@pytest.mark.parametrize("close", ["close", "with", "garbage"])
def test_a_closed_client_leaves_its_loop_to_the_garbage_collector(close: str) -> None:
    # anyio keeps per-loop state keyed weakly by the loop; a value that refers
    # back to the loop (the root task unwired gives anyio) kept every loop alive
    app = LoopSpy()
    client = TestClient(app)
    if close == "with":
        with client:
            client.get("/")
    else:
        client.get("/")
    if close == "close":
        client.close()
    loop = weakref.ref(app.loops[0])
    del client, app
    gc.collect()
    TestClient(LoopSpy()).close()  # closes a collected client's driver
    gc.collect()
    assert loop() is None


async def _from_async(client: TestClient) -> None:
    assert client.get("/").content == b"ok"


def test_a_request_on_a_closed_client_is_the_httpx2_error() -> None:
    client = TestClient(LoopSpy())
    client.close()
    with pytest.raises(RuntimeError, match="client has been closed"):
        client.get("/")


def test_a_garbage_collected_client_is_closed_by_the_next_one_without_warnings() -> None:
    app = LoopSpy()
    client = TestClient(app)
    client.get("/")
    del client
    gc.collect()
    assert not app.loops[0].is_closed()  # never closed inside the garbage collector
    TestClient(app).close()
    assert app.loops[0].is_closed()


def test_leftover_app_tasks_are_cancelled_on_close() -> None:
    log: list[str] = []
    tasks: list[asyncio.Task[None]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        async def background() -> None:
            try:
                await asyncio.sleep(3600)
            finally:
                log.append("background cancelled")

        tasks.append(asyncio.get_running_loop().create_task(background()))
        await asyncio.sleep(0)  # let it start
        await text_app()(scope, receive, send)

    client = TestClient(app, lifespan="off")
    client.get("/")
    client.close()
    assert log == ["background cancelled"]
    assert tasks[0].cancelled()


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not on Windows")
def test_uvloop_option() -> None:
    import uvloop

    app = LoopSpy()
    client = TestClient(app, backend_options={"use_uvloop": True})
    client.get("/")
    client.get("/")
    assert isinstance(app.loops[0], uvloop.Loop)
    assert len(set(app.loops)) == 1
    client.close()


def test_loop_factory_and_debug_options() -> None:
    made: list[asyncio.AbstractEventLoop] = []

    def factory() -> asyncio.AbstractEventLoop:
        made.append(asyncio.new_event_loop())
        return made[-1]

    app = LoopSpy()
    client = TestClient(app, backend_options={"loop_factory": factory, "debug": True})
    client.get("/")
    assert app.loops == made
    assert made[0].get_debug()
    client.close()


def test_trio_backend() -> None:
    import trio

    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await trio.lowlevel.checkpoint()
        seen.append(scope["path"])
        await text_app(b"trio")(scope, receive, send)

    with TestClient(app, backend="trio") as client:
        assert client.get("/a").content == b"trio"
        assert client.run(trio.sleep, 0) is None
        with client.stream("GET", "/b") as response:
            assert response.read() == b"trio"
    assert seen == ["/a", "/b"]


def test_closing_from_inside_a_running_event_loop() -> None:
    app = LoopSpy()
    client = TestClient(app)
    client.get("/")

    async def async_teardown() -> None:
        client.close()

    asyncio.run(async_teardown())
    assert app.loops[0].is_closed()


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_run_after_close_is_a_clear_error(backend: str) -> None:
    client = TestClient(LoopSpy(), backend=backend)  # type: ignore[arg-type]
    client.close()
    with pytest.raises(RuntimeError, match="the client is closed; create a new client"):
        client.run(asyncio.sleep, 0)


def test_trio_timeout_cancels_the_app_and_reports_it() -> None:
    import httpx2
    import trio

    log: list[str] = []

    async def stuck(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await trio.sleep_forever()
        finally:
            log.append("finally")

    with TestClient(stuck, backend="trio", timeout=0.1, lifespan="off") as client:
        with pytest.raises(httpx2.ReadTimeout, match="waiting for the response to start"):
            client.get("/")
        assert log == ["finally"]


def test_portal_futures_report_exceptions() -> None:
    client = TestClient(LoopSpy())

    async def fail() -> None:
        await asyncio.sleep(0)
        raise ValueError("in task")

    future = client.portal.start_task_soon(fail)
    assert isinstance(future.exception(timeout=5), ValueError)
    with pytest.raises(ValueError, match="in task"):
        client.portal.start_task_soon(fail).result()
    pending = client.portal.start_task_soon(asyncio.sleep, 3600)
    with pytest.raises(TimeoutError):
        pending.result(timeout=0.01)
    client.close()


SYNC_ENDPOINT_SUITE = """
from fastapi import FastAPI
from unwired import TestClient

app = FastAPI()

@app.get("/")
def read_main():  # a sync endpoint: FastAPI runs it in anyio's thread pool
    return {{"msg": "Hello World"}}

client = TestClient(app{options})  # module level and never closed, as in FastAPI's docs

def test_read_main():
    assert client.get("/").json() == {{"msg": "Hello World"}}
"""


@pytest.mark.parametrize("options", ["", ", backend='trio'"], ids=["asyncio", "trio"])
def test_an_unclosed_client_does_not_hang_interpreter_exit(options: str, tmp_path: Any) -> None:
    """Regression: anyio's worker threads (or the trio thread) kept Python from exiting."""
    import subprocess

    script = tmp_path / "suite.py"
    script.write_text(SYNC_ENDPOINT_SUITE.format(options=options) + "\ntest_read_main()\n")
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_anyio_worker_threads_are_reused_across_requests() -> None:
    """Regression: each request that used anyio.to_thread started a new OS thread."""
    import anyio.to_thread

    idents: list[int] = []

    def blocking() -> None:
        idents.append(threading.get_ident())

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await anyio.to_thread.run_sync(blocking)
        await text_app()(scope, receive, send)

    client = TestClient(app, lifespan="off")
    for _ in range(20):
        client.get("/")
    assert len(set(idents)) == 1
    (worker,) = [thread for thread in threading.enumerate() if thread.ident == idents[0]]
    client.close()
    worker.join(timeout=5)  # told to stop when the client closed
    assert not worker.is_alive()


def test_a_client_first_used_inside_a_running_event_loop() -> None:
    """Regression: creating the loop ran it at once, which fails under another running loop."""
    app = LoopSpy()
    client = TestClient(app)

    async def async_test() -> bytes:
        return client.get("/").content

    assert asyncio.run(async_test()) == b"ok"
    assert client.get("/").content == b"ok"
    assert len(set(app.loops)) == 1
    client.close()


# -- backend options are checked when the client is created ----------------------------


def test_unknown_trio_options_are_refused_by_the_constructor() -> None:
    with pytest.raises(TypeError) as info:
        TestClient(text_app(), backend="trio", backend_options={"use_uvloop": True})
    assert str(info.value) == (
        "unknown trio backend option(s) ['use_uvloop']; known: 'clock', 'instruments', "
        "'restrict_keyboard_interrupt_to_checkpoints', 'strict_exception_groups' "
        "(the keyword arguments of trio.run)"
    )


def test_a_loop_factory_that_is_not_callable_is_refused_by_the_constructor() -> None:
    with pytest.raises(TypeError) as info:
        TestClient(text_app(), backend_options={"loop_factory": 5})
    assert str(info.value) == (
        "backend_options['loop_factory'] must be a function returning a new event loop "
        "(e.g. asyncio.new_event_loop), not int 5"
    )


@pytest.mark.parametrize(
    ("backend", "options", "module", "text"),
    [
        (
            "asyncio",
            {"use_uvloop": True},
            "uvloop",
            "backend_options={'use_uvloop': True} needs uvloop, which is not installed: "
            "pip install uvloop (or unwired[uvloop])",
        ),
        (
            "trio",
            {},
            "trio",
            "backend='trio' needs trio, which is not installed: "
            "pip install trio (or unwired[trio])",
        ),
    ],
)
def test_a_missing_backend_library_is_named_with_how_to_install_it(
    backend: str, options: dict[str, Any], module: str, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes "import <module>" fail
    with pytest.raises(ModuleNotFoundError) as info:
        TestClient(text_app(), backend=backend, backend_options=options)  # type: ignore[arg-type]
    assert str(info.value) == text
    assert info.value.name == module
