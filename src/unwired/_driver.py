"""The sync client's event loop: one per client, for the client's whole life.

Rule 1: on the default path (asyncio, one thread) a request runs the loop in
the caller's own thread — ``loop.run_until_complete`` on a waiter — and never
hops threads; that is where Starlette's TestClient loses most of its time.

Rule 2: whoever calls, the loop is run by one thread at a time. A thread that
finds it busy hands its operation to the loop as a task and waits; when the
driving thread is done it lets a waiting thread take the loop over. A thread
that is itself running another event loop (a sync helper inside an async test)
drives through a helper thread instead.

The trio backend has no loop object to lend out, so it lives in its own thread
behind an anyio portal; that costs a thread hop per operation.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import anyio.from_thread

from ._backends import AsyncioBackend, Backend, TrioBackend
from ._ops import Op, await_op, drive_async

T = TypeVar("T")
_get_running_loop = asyncio.events._get_running_loop
_CLOSED = "the client is closed; create a new client"
#: How long closing the client waits for the app's leftover tasks to end.
CLOSE_TIMEOUT = 5.0


class Driver(Protocol):
    @property
    def backend(self) -> Backend: ...
    def drive(self, op: Op[T]) -> T: ...
    def close(self, final: bool = True) -> None: ...


def create_driver(backend: str, options: dict[str, Any] | None) -> Driver:
    """The driver for ``TestClient(backend=..., backend_options=...)``.

    Raises:
        ValueError: unknown backend.
        TypeError: unknown backend option, or one of the wrong type.
        ModuleNotFoundError: trio or uvloop is asked for but not installed.
    """
    options = dict(options or {})
    if backend == "asyncio":
        return AsyncioDriver(_loop_factory(options))
    if backend == "trio":
        try:
            import trio
        except ImportError:
            msg = (
                "backend='trio' needs trio, which is not installed: "
                "pip install trio (or unwired[trio])"
            )
            raise ModuleNotFoundError(msg, name="trio") from None
        known = trio.run.__kwdefaults__ or {}  # anyio passes the options to trio.run
        unknown = sorted(set(options) - set(known))
        if known and unknown:
            msg = (
                f"unknown trio backend option(s) {unknown}; known: "
                f"{', '.join(map(repr, known))} (the keyword arguments of trio.run)"
            )
            raise TypeError(msg)
        return PortalDriver("trio", options)
    msg = f"unknown backend {backend!r}; choose 'asyncio' or 'trio'"
    raise ValueError(msg)


def _loop_factory(options: dict[str, Any]) -> Callable[[], asyncio.AbstractEventLoop]:
    factory = options.pop("loop_factory", None)
    use_uvloop = options.pop("use_uvloop", False)
    debug = options.pop("debug", None)
    if options:
        msg = (
            f"unknown asyncio backend option(s) {sorted(options)}; "
            "known: 'loop_factory', 'use_uvloop', 'debug'"
        )
        raise TypeError(msg)
    if factory is not None and not callable(factory):
        msg = (
            "backend_options['loop_factory'] must be a function returning a new event loop "
            f"(e.g. asyncio.new_event_loop), not {type(factory).__name__} {factory!r:.60}"
        )
        raise TypeError(msg)
    if factory is None and use_uvloop:
        try:
            import uvloop
        except ImportError:
            msg = (
                f"backend_options={{'use_uvloop': {use_uvloop!r}}} needs uvloop, which is not "
                "installed: pip install uvloop (or unwired[uvloop])"
            )
            raise ModuleNotFoundError(msg, name="uvloop") from None

        factory = uvloop.new_event_loop
    make = factory or asyncio.new_event_loop

    def new_loop() -> asyncio.AbstractEventLoop:
        loop = make()
        if debug is not None:
            loop.set_debug(debug)
        return loop

    return new_loop


class AsyncioDriver:
    """Runs the client's asyncio loop in whichever thread calls in (see Rule 2)."""

    def __init__(self, loop_factory: Callable[[], asyncio.AbstractEventLoop]) -> None:
        self._loop_factory = loop_factory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._backend: AsyncioBackend | None = None
        self._busy = threading.Lock()  # held by the thread running the loop
        self._cond = threading.Condition(threading.Lock())  # for threads waiting on it
        self._guests = 0
        self._helper: concurrent.futures.ThreadPoolExecutor | None = None
        self._closed = False

    @property
    def backend(self) -> AsyncioBackend:
        backend = self._backend  # once the loop exists, no lock: this is on every request
        if backend is not None:
            return backend
        with self._cond:
            if self._backend is None:
                if self._closed:
                    raise RuntimeError(_CLOSED)
                self._loop = self._loop_factory()
                _give_anyio_a_root_task(self._loop)
                self._backend = AsyncioBackend(self._loop)
                _LIVE.add(self)
            return self._backend

    def drive(self, op: Op[T]) -> T:
        backend = self.backend
        if _get_running_loop() is None and self._busy.acquire(blocking=False):
            try:
                return self._drive_here(op, backend)
            finally:
                self._release()
        return self._drive_elsewhere(op, backend)

    def _release(self) -> None:
        self._busy.release()
        if self._guests:
            with self._cond:
                self._cond.notify_all()

    @staticmethod
    def _drive_here(op: Op[T], backend: AsyncioBackend) -> T:
        try:
            wait = op.send(None)
            while True:
                try:
                    backend.run_until(*wait)
                except BaseException as exc:  # timeouts, interrupts: the op decides
                    wait = op.throw(exc)
                else:
                    wait = op.send(None)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    def _drive_elsewhere(self, op: Op[T], backend: AsyncioBackend) -> T:
        running = _get_running_loop()
        if running is backend.loop:
            msg = (
                "TestClient was called from inside the app's own event loop (from async "
                "code the client is running); a sync call there would deadlock. Use "
                "AsyncTestClient and await it, or call it from a worker thread."
            )
            raise RuntimeError(msg)
        if running is not None:  # another loop runs in this thread: drive from a helper
            with self._cond:
                if self._helper is None:
                    self._helper = concurrent.futures.ThreadPoolExecutor(
                        1, thread_name_prefix="unwired-driver"
                    )
                helper = self._helper
            return helper.submit(self.drive, op).result()
        return self._drive_as_guest(op, backend)

    def _drive_as_guest(self, op: Op[T], backend: AsyncioBackend) -> T:
        loop = backend.loop
        result = asyncio.run_coroutine_threadsafe(drive_async(op, backend), loop)
        result.add_done_callback(self._notify)
        with self._cond:
            self._guests += 1
            try:
                while not (take_over := self._busy.acquire(blocking=False)):
                    if result.done():
                        break
                    self._cond.wait()
            finally:
                self._guests -= 1
        if take_over:
            try:
                loop.run_until_complete(asyncio.wrap_future(result, loop=loop))
            finally:
                self._release()
        return result.result()

    def _notify(self, _: object) -> None:
        with self._cond:
            self._cond.notify_all()

    def close(self, final: bool = True) -> None:
        """Cancel what the app left running, then close the loop and helper thread.

        With ``final=False`` the driver makes a fresh loop when next used.
        """
        with self._cond:
            if self._closed:
                return
            self._closed = True
        with self._busy:
            loop, self._loop, self._backend = self._loop, None, None
            self._closed = final
            if loop is not None and _get_running_loop() is None:
                _shutdown(loop)
            elif loop is not None:  # this thread runs another loop: close ours elsewhere
                thread = threading.Thread(target=_shutdown, args=(loop,), name="unwired-close")
                thread.start()
                thread.join()
        helper, self._helper = self._helper, None
        if helper is not None:
            helper.shutdown(wait=True)


def _give_anyio_a_root_task(loop: asyncio.AbstractEventLoop) -> None:
    """Make a task that lives as long as the loop anyio's "root task".

    anyio ties its worker threads (``anyio.to_thread``, so every sync endpoint
    of FastAPI) to the root task and stops them when it ends. Our loop has no
    long-lived task, so anyio would take each app task for the root: a new
    thread per request, and threads never told to stop when the loop stops
    mid-request — which kept Python from exiting.
    """
    try:
        from anyio._backends._asyncio import _root_task
    except ImportError:  # pragma: no cover - a future anyio without it
        return

    async def root() -> None:  # the loop's first task: it runs before any app code
        token = _root_task.set(asyncio.current_task())
        try:
            await loop.create_future()  # until cancelled by _shutdown
        finally:
            # anyio keeps the task in a mapping keyed weakly by the loop, and
            # the task refers to the loop: left there, the loop is never freed
            _root_task.reset(token)

    # Scheduled, not run: the thread creating the loop may be running another one.
    loop.create_task(root(), name="unwired: anyio root task")


def _shutdown(loop: asyncio.AbstractEventLoop) -> None:
    try:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.wait(tasks, timeout=CLOSE_TIMEOUT))
            loop.run_until_complete(asyncio.sleep(0))  # their done callbacks (anyio workers)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(asyncio.wait_for(loop.shutdown_default_executor(), CLOSE_TIMEOUT))
    finally:
        loop.close()


#: Drivers with a live loop, closed before Python joins threads at exit: an
#: unclosed client's worker threads would otherwise keep the process alive.
_LIVE: weakref.WeakSet[AsyncioDriver | PortalDriver] = weakref.WeakSet()


#: Drivers of clients the garbage collector freed. A finalizer may run in any
#: thread at any point — inside another client's loop, inside a compile() —
#: where running a loop or joining a thread deadlocks or corrupts state, so
#: it only queues the driver (SimpleQueue.put is safe there); the next client
#: created or closed, or the exit hook, closes it.
_ABANDONED: queue.SimpleQueue[Driver] = queue.SimpleQueue()


def abandon(driver: Driver) -> None:
    """Finalizer of a client: have its driver closed at the next safe point."""
    _ABANDONED.put(driver)


def close_abandoned() -> None:
    """Close the drivers of garbage-collected clients (call only from plain sync code)."""
    while True:
        try:
            driver = _ABANDONED.get_nowait()
        except queue.Empty:
            return
        with contextlib.suppress(Exception):
            driver.close()


def _close_live_drivers() -> None:
    close_abandoned()
    for driver in list(_LIVE):
        with contextlib.suppress(Exception):
            driver.close()


threading._register_atexit(_close_live_drivers)  # type: ignore[attr-defined]


class PortalDriver:
    """A loop in its own thread behind an anyio portal (the trio backend)."""

    def __init__(self, backend: str, options: dict[str, Any]) -> None:
        self._name = backend
        self._options = options
        self._lock = threading.Lock()
        self._portal_cm: Any = None
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._backend: Backend | None = None
        self._closed = False

    @property
    def portal(self) -> anyio.from_thread.BlockingPortal:
        with self._lock:
            if self._closed:
                raise RuntimeError(_CLOSED)
            if self._portal is None:
                cm = anyio.from_thread.start_blocking_portal(self._name, self._options)
                self._portal = cm.__enter__()
                self._portal_cm = cm
                _LIVE.add(self)
                self._backend = self._portal.call(TrioBackend)
            return self._portal

    @property
    def backend(self) -> Backend:
        self.portal  # noqa: B018 - starts the loop thread
        assert self._backend is not None
        return self._backend

    def drive(self, op: Op[T]) -> T:
        portal = self.portal
        assert self._backend is not None
        finished = threading.Event()
        future = portal.start_task_soon(_drive_then_set, op, self._backend, finished)
        try:
            return future.result()
        except BaseException:  # Ctrl-C in the test: the app must be seen to end first
            if future.cancel():
                finished.wait(CLOSE_TIMEOUT)
            raise

    def close(self, final: bool = True) -> None:
        with self._lock:
            self._closed = final
            cm, self._portal_cm, self._portal = self._portal_cm, None, None
        if cm is not None:
            cm.__exit__(None, None, None)


async def _drive_then_set(op: Op[T], backend: Backend, finished: threading.Event) -> T:
    try:
        return await drive_async(op, backend)
    finally:
        finished.set()


def run(driver: Driver, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Await ``fn(*args)`` on the driver's loop and return its result."""
    return driver.drive(await_op(driver.backend, fn, *args))
