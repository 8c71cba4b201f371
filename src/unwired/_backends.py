"""The few loop primitives the exchanges need, for asyncio and for trio.

Rule: code running on the client's loop reaches the event loop only through a
``Backend``. Each primitive is the cheapest native one: on the per-request path
an anyio task group or ``fail_after`` costs more than the rest of a request.

A *waiter* is a one-shot flag: ``new_waiter()`` makes one, ``wake()`` sets it,
``wait()`` waits for it with an optional timeout (raising ``TimeoutError``).
The waiter ``None`` is set by the loop's next pass: waiting on it lets every
task that is ready run once (the app answering a request, usually in full).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    import trio

T = TypeVar("T")
AppCoroutine = Callable[[], Coroutine[Any, Any, None]]


class TaskHandle(Protocol):
    def cancel(self) -> object: ...
    def done(self) -> bool: ...


class Backend(Protocol):
    name: str

    def is_current(self) -> bool: ...
    def spawn(self, fn: AppCoroutine, name: str) -> TaskHandle: ...
    def new_waiter(self) -> Any: ...
    def wake(self, waiter: Any) -> None: ...
    async def wait(self, waiter: Any, timeout: float | None) -> None: ...
    def is_cancellation(self, exc: BaseException) -> bool: ...
    def start_thread(self, fn: Callable[[], object]) -> None: ...
    def call_soon_threadsafe(self, fn: Callable[[], object]) -> None: ...
    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T: ...


class AsyncioBackend:
    """asyncio (and uvloop) primitives on one given loop.

    ``stop_on`` serves the sync driver, which runs the loop only until one
    waiter is set: setting that waiter stops the loop in the same iteration.
    """

    name = "asyncio"
    __slots__ = ("loop", "stop_on")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.stop_on: asyncio.Future[None] | None = None

    def is_current(self) -> bool:
        return asyncio.events._get_running_loop() is self.loop

    def spawn(self, fn: AppCoroutine, name: str) -> asyncio.Task[None]:
        return self.loop.create_task(fn(), name=name)

    def new_waiter(self) -> asyncio.Future[None]:
        return self.loop.create_future()

    def wake(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_result(None)
            if waiter is self.stop_on:
                self.loop.stop()

    def _expire(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(TimeoutError())
            if waiter is self.stop_on:
                self.loop.stop()

    async def wait(self, waiter: asyncio.Future[None] | None, timeout: float | None) -> None:
        if waiter is None:
            await asyncio.sleep(0)
            return
        if timeout is None:
            await waiter
            return
        timer = self.loop.call_later(timeout, self._expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()

    def run_until(self, waiter: asyncio.Future[None] | None, timeout: float | None) -> None:
        """Run the loop in this thread until ``waiter`` is set (sync driving).

        Raises:
            TimeoutError: ``timeout`` passed first.
        """
        loop = self.loop
        loop.stop()
        loop.run_forever()  # one pass over what is ready
        if waiter is None:
            return
        if not waiter.done():
            self._run_armed(waiter, timeout)
        waiter.result()

    def _run_armed(self, waiter: asyncio.Future[None], timeout: float | None) -> None:
        # Only here may wake() stop the loop: uvloop queues a stop as a callback,
        # and one left over from the first pass would end a later run at once.
        loop = self.loop
        timer = None if timeout is None else loop.call_later(timeout, self._expire, waiter)
        self.stop_on = waiter
        try:
            while not waiter.done():
                loop.run_forever()
        finally:
            self.stop_on = None
            if timer is not None:
                timer.cancel()

    @staticmethod
    def is_cancellation(exc: BaseException) -> bool:
        return isinstance(exc, asyncio.CancelledError)

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.loop.run_in_executor(None, fn, *args)

    def start_thread(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` in a worker thread of the loop's executor; ``fn`` handles its errors."""
        self.loop.run_in_executor(None, fn)

    def call_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        """From another thread: run ``fn`` on the loop (not at all if it is closed)."""
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(fn)


class _TrioTask:
    __slots__ = ("_cancelled", "_done", "_scope", "coroutine", "trio_task")

    def __init__(self) -> None:
        self._scope: trio.CancelScope | None = None
        self.coroutine: Coroutine[Any, Any, None] | None = None
        self.trio_task: trio.lowlevel.Task | None = None  # for diagnostics
        self._cancelled = False
        self._done = False

    async def run(self, fn: AppCoroutine) -> None:
        import trio

        self.trio_task = trio.lowlevel.current_task()
        try:
            with trio.CancelScope() as self._scope:
                if self._cancelled:
                    self._scope.cancel()
                self.coroutine = fn()
                await self.coroutine
        finally:
            self._done = True

    def cancel(self) -> None:
        self._cancelled = True
        if self._scope is not None:
            self._scope.cancel()

    def done(self) -> bool:
        return self._done


class TrioBackend:
    """trio primitives; app tasks are system tasks, cancelled through their own scope."""

    name = "trio"
    __slots__ = ("_token", "_trio")

    def __init__(self) -> None:
        import trio

        self._trio = trio
        self._token = trio.lowlevel.current_trio_token()

    def is_current(self) -> bool:
        try:
            return self._trio.lowlevel.current_trio_token() is self._token
        except RuntimeError:
            return False

    def spawn(self, fn: AppCoroutine, name: str) -> _TrioTask:
        task = _TrioTask()
        self._trio.lowlevel.spawn_system_task(
            task.run, fn, name=name, context=contextvars.copy_context()
        )
        return task

    def new_waiter(self) -> trio.Event:
        return self._trio.Event()

    @staticmethod
    def wake(waiter: trio.Event) -> None:
        waiter.set()

    async def wait(self, waiter: trio.Event | None, timeout: float | None) -> None:
        if waiter is None:
            await self._trio.lowlevel.checkpoint()
            return
        if timeout is None:
            await waiter.wait()
            return
        with self._trio.move_on_after(timeout) as scope:
            await waiter.wait()
        if scope.cancelled_caught:
            raise TimeoutError

    def is_cancellation(self, exc: BaseException) -> bool:
        return isinstance(exc, self._trio.Cancelled)

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._trio.to_thread.run_sync(fn, *args)

    def start_thread(self, fn: Callable[[], object]) -> None:
        self._trio.lowlevel.start_thread_soon(fn, lambda _: None)

    def call_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        with contextlib.suppress(self._trio.RunFinishedError):
            self._token.run_sync_soon(fn)


class Signal:
    """Waiters that one ``notify()`` wakes together; every wait gets a fresh waiter.

    A waiter is never reused: one that timed out, or whose waiting task was
    cancelled, must not end a later wait early.
    """

    __slots__ = ("_backend", "_waiters")

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._waiters: list[Any] = []

    def waiter(self) -> Any:
        waiter = self._backend.new_waiter()
        self._waiters.append(waiter)
        return waiter

    async def wait(self) -> None:
        await self._backend.wait(self.waiter(), None)

    def notify(self) -> None:
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                self._backend.wake(waiter)


def current_backend() -> Backend:
    """The backend of the loop running the caller (for the async client).

    Raises:
        RuntimeError: no asyncio loop or trio run is active in this thread.
    """
    loop = asyncio.events._get_running_loop()
    if loop is not None:
        return AsyncioBackend(loop)
    if "trio" in sys.modules:
        try:
            return TrioBackend()
        except RuntimeError:
            pass
    msg = (
        "AsyncTestClient must be used from async code running on an event loop "
        "(asyncio or trio, e.g. an async test); in sync code use unwired.TestClient"
    )
    raise RuntimeError(msg)
