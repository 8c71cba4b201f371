"""Operations: the test's side of an exchange, written once for every driver.

Rule: an operation is a generator. It reads and changes exchange state
directly, and when it must wait it yields ``(waiter, timeout)``; the driver
waits — by running the client's loop in the caller's thread, by a portal call,
or by ``await`` on the caller's own loop — then resumes it. A wait that times
out, or is interrupted, is thrown into the generator, which cleans up (it may
yield more waits to do so) and raises what the test should see.

Timeouts live here too: ``Deadline`` bounds the waits, and ``check_timeout``
checks each timeout a test gives before any wait uses it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeAlias, TypeVar

import anyio

from ._backends import Backend
from ._protocol._checks import describe

T = TypeVar("T")
Wait: TypeAlias = tuple[Any, float | None]
Op: TypeAlias = Generator[Wait, None, T]
#: The wait that ends after one pass of the loop: the tasks ready to run do.
ONE_PASS: Wait = (None, None)


def check_timeout(timeout: object, *, of_timeout_object: bool = False) -> float | None:
    """A timeout the test gave, in seconds (``None``: no limit), checked before any wait uses it.

    ``0`` is refused: every wait would expire before the app ran at all.

    Args:
        timeout: the seconds to check.
        of_timeout_object: ``timeout`` is the read timeout of an ``httpx2.Timeout`` the
            test passed.

    Raises:
        TypeError: not a number.
        ValueError: not a finite number greater than 0.
    """
    if timeout is None:
        return None
    if isinstance(timeout, int | float) and not isinstance(timeout, bool):
        if 0 < timeout < math.inf:
            return timeout
        number = True
    else:
        number = False
    rule = "timeout must be a number of seconds > 0, an httpx2.Timeout, or None (no limit)"
    if of_timeout_object:
        shown = f"httpx2.Timeout with read={timeout!r}"
    else:
        shown = repr(timeout) if number else describe(timeout)
    if not number:
        msg = f"{rule}, not {shown}"
        raise TypeError(msg)
    hint = ""
    if timeout == 0:
        hint = (
            ": every wait would time out before the app could answer; to check that something "
            "does not happen, give a short timeout such as 0.1"
        )
    elif timeout == math.inf:
        hint = "; to wait forever, pass None"
    msg = f"{rule}, not {shown}{hint}"
    raise ValueError(msg)


class Deadline:
    """A timeout fixed to a point in time, so that waking up early does not restart it."""

    __slots__ = ("_end", "timeout")

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self._end = None if timeout is None else time.monotonic() + timeout

    def left(self) -> float | None:
        """Seconds left (``None``: no limit).

        Raises:
            TimeoutError: none are left; checked before every wait, as a
                waiter that keeps being set would never reach its own timer.
        """
        if self._end is None:
            return None
        left = self._end - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left


async def drive_async(op: Op[T], backend: Backend) -> T:
    """Run an operation on the current loop.

    Once a wait has failed (a timeout, or the test task being cancelled), the
    operation's cleanup waits are shielded from cancellation: they are bounded
    by their own deadlines, and the app must be seen to end.
    """
    shielded = False
    try:
        wait = op.send(None)
        while True:
            try:
                if shielded:
                    with anyio.CancelScope(shield=True):
                        await backend.wait(*wait)
                else:
                    await backend.wait(*wait)
            except BaseException as exc:  # timeouts, cancellation: the op decides
                shielded = True
                wait = op.throw(exc)
            else:
                wait = op.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def await_op(backend: Backend, fn: Callable[..., Awaitable[T]], *args: Any) -> Op[T]:
    """Await ``fn(*args)`` in a task of the loop (for ``client.run`` and the portal)."""
    waiter = backend.new_waiter()
    outcome: list[Any] = []

    async def run() -> None:
        try:
            outcome.append((True, await fn(*args)))
        except BaseException as exc:
            outcome.append((False, exc))
            if backend.is_cancellation(exc):
                raise
        finally:
            backend.wake(waiter)

    task = backend.spawn(run, name=getattr(fn, "__qualname__", "unwired.run"))
    try:
        yield waiter, None
    except BaseException:
        task.cancel()
        raise
    ok, value = outcome[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]
