"""A stand-in for anyio's ``BlockingPortal`` over a driver whose loop runs in the caller.

Rule: every method runs its work through ``Driver.drive``, so it works from
any thread, like the portal Starlette's TestClient exposes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ._driver import Driver, run
from ._ops import Op

T = TypeVar("T")


async def _call(func: Callable[..., Any], *args: Any) -> Any:
    result = func(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


class DriverPortal:
    """Runs functions on the client's event loop from sync code."""

    def __init__(self, driver: Driver) -> None:
        self._driver = driver

    def call(self, func: Callable[..., Awaitable[T] | T], *args: Any) -> T:
        """Call ``func(*args)`` on the loop (awaiting it if async) and return the result."""
        return run(self._driver, _call, func, *args)  # type: ignore[no-any-return]

    def start_task_soon(
        self, func: Callable[..., Awaitable[T]], *args: Any, name: object = None
    ) -> concurrent.futures.Future[T]:
        """Start ``func(*args)`` as a task; its future's ``result()`` runs the loop until done."""
        future: _DrivenFuture[T] = _DrivenFuture(self._driver)
        backend = self._driver.backend

        async def task() -> None:
            try:
                future.set_result(await func(*args))
            except BaseException as exc:
                future.set_exception(exc)
                if backend.is_cancellation(exc):
                    raise
            finally:
                backend.wake(future.waiter)

        def spawn() -> Op[None]:
            future.waiter = backend.new_waiter()
            backend.spawn(task, name=str(name or getattr(func, "__qualname__", "task")))
            return
            yield

        self._driver.drive(spawn())
        return future


class _DrivenFuture(concurrent.futures.Future[T]):
    """A future whose ``result()`` runs the client's loop until it is resolved."""

    waiter: Any = None

    def __init__(self, driver: Driver) -> None:
        super().__init__()
        self._driver = driver

    def _until_done(self, timeout: float | None) -> Op[None]:
        if not self.done():
            with contextlib.suppress(TimeoutError):
                yield self.waiter, timeout

    def result(self, timeout: float | None = None) -> T:
        if not self.done():
            self._driver.drive(self._until_done(timeout))
        return super().result(timeout=0)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if not self.done():
            self._driver.drive(self._until_done(timeout))
        return super().exception(timeout=0)
