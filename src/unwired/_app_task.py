"""An app coroutine running as a task on the client's loop, and its bookkeeping.

Rule: ``AppTask`` is the one place that runs an app call, records how it
ended (returned, raised, broke the protocol, was cancelled by us), cancels it,
and words a timeout with where the app is suspended. The HTTP, WebSocket and
lifespan exchanges subclass it and add only their protocol's traffic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

from ._backends import Backend, Signal, TaskHandle
from ._diagnostics import waiting_in_receive, where_suspended
from ._exceptions import ASGIProtocolError, ClientDisconnected
from ._ops import Deadline, Op, Wait
from ._types import Message


def unwrap(exc: BaseException) -> BaseException:
    """The lone exception inside (nested) single-exception groups, else ``exc``.

    One that was put in its group without being raised takes the group's
    traceback, so the test still sees where the app failed.
    """
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        inner = exc.exceptions[0]
        if inner.__traceback__ is None:
            inner = inner.with_traceback(exc.__traceback__)
        exc = inner
    return exc


#: How long an app may take to end after the test went away (closed a stream
#: early, left a WebSocket block) before it is cancelled.
DISCONNECT_GRACE = 0.1
#: How long a cancelled app may take to unwind before the test gives up on it.
CANCEL_WAIT = 5.0


_SLOW_UNWIND = (
    "A finally or except block in the app awaits something slow, or catches the "
    "cancellation without re-raising it."
)

E = TypeVar("E")
_DISCONNECT_NAMES = frozenset({"ClientDisconnect", "WebSocketDisconnect"})


def is_disconnect_error(exc: BaseException | None) -> bool:
    """Does ``exc`` only report that the test went away?

    True for our ``ClientDisconnected``, for the frameworks' translations of it
    (Starlette's ``ClientDisconnect`` and ``WebSocketDisconnect``), for an
    exception raised ``from`` one of those, and for a group with such a member
    (a disconnect breaking one task of a group makes its siblings fail their
    own ways). An exception merely raised *while handling* one is a failure.
    """
    if exc is None:
        return False
    if isinstance(exc, ClientDisconnected) or type(exc).__name__ in _DISCONNECT_NAMES:
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(is_disconnect_error(member) for member in exc.exceptions)
    return is_disconnect_error(exc.__cause__)


def came_from_a_send_after_close(exc: BaseException | None) -> bool:
    """Was ``exc`` set off by a send the app made after the test went away?

    That is our ``ClientDisconnected``, or anything raised from it or while
    handling it (Starlette turns it into ``WebSocketDisconnect(1006)``), or a
    group of such. A WebSocket app that lets the ``WebSocketDisconnect`` of its
    ``receive()`` escape has failed in its own right: Starlette's client
    re-raises that when the test leaves the block, and suites test for it.
    """
    for _ in range(50):  # a chain, not a cycle
        if exc is None:
            return False
        if isinstance(exc, ClientDisconnected):
            return True
        if isinstance(exc, BaseExceptionGroup):
            return all(came_from_a_send_after_close(member) for member in exc.exceptions)
        exc = exc.__cause__ or exc.__context__
    return False  # pragma: no cover - a chain this long is no send's doing


class AppTask:
    """Runs ``_call_app`` as a task; ``_test_signal`` wakes the test, ``_app_signal`` the app."""

    #: Names the exchange in timeout messages, e.g. "GET /items" or "lifespan".
    label = "app"
    #: Ends a timeout message when the app is suspended in its ``receive()``: the
    #: test and the app wait for each other. This one is for HTTP requests.
    receive_note = (
        "the app is waiting in receive() for the test: once the request body is read, "
        "receive() waits until the response is complete or the test goes away"
    )

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._test_signal = Signal(backend)
        self._app_signal = Signal(backend)
        self._task: TaskHandle | None = None
        self._cancelled = False
        self.app_done = False
        self.app_error: BaseException | None = None
        self.protocol_error: ASGIProtocolError | None = None

    async def _call_app(self) -> None:
        raise NotImplementedError

    def _start(self, name: str) -> None:
        self._task = self._backend.spawn(self._run, name=name)

    async def _run(self) -> None:
        try:
            await self._call_app()
        except BaseException as exc:
            if self._backend.is_cancellation(exc):
                # by us, or by the client cancelling what is left as it closes: not a failure
                self._cancelled = True
                raise
            if isinstance(exc, ASGIProtocolError) and self.protocol_error is None:
                self.protocol_error = exc
            else:
                self.app_error = exc
        finally:
            self.app_done = True
            self._test_signal.notify()

    def _checked(self, app_sent: Callable[[Message], E], message: Message) -> E:
        """Check a message the app sent; keep a protocol error even if the app swallows it."""
        try:
            return app_sent(message)
        except ASGIProtocolError as exc:
            if self.protocol_error is None:
                self.protocol_error = exc
            self._test_signal.notify()
            raise

    def _wait(self, deadline: Deadline) -> Wait:
        """Wait for the app's side to change, at most until ``deadline``."""
        return self._test_signal.waiter(), deadline.left()

    def _wind_down(self) -> Op[None]:
        """Give the app its grace period to end, then cancel it and wait for that."""
        deadline = Deadline(DISCONNECT_GRACE)
        while not self.app_done:
            try:
                yield self._wait(deadline)
            except TimeoutError:
                if self._cancelled:
                    what = "the app to exit after cancellation"
                    error = self._timeout(what, CANCEL_WAIT, cancelled=True, hint=_SLOW_UNWIND)
                    raise error from None
                self._cancel_app()
                deadline = Deadline(CANCEL_WAIT)
            except BaseException:
                yield from self._cancel_and_wait()
                raise

    def _end_if_broken(self) -> Op[None]:
        """End an app that broke the protocol, swallowed the error and went on.

        The test gets the error at once, not after its timeout, and the app
        is not left running.
        """
        if self.protocol_error is not None and not self.app_done:
            yield from self._cancel_and_wait()

    def end(self) -> Op[None]:
        """End the app if it still runs (its client is being closed); return once it unwound."""
        yield from self._cancel_and_wait()

    def _cancel_and_wait(self) -> Op[None]:
        """Cancel the app and wait, bounded, until it has unwound (its ``finally`` ran).

        Also used when the test itself was interrupted: the driver shields
        these waits, so a cancelled test still returns only once the app ended.
        """
        self._cancel_app()
        deadline = Deadline(CANCEL_WAIT)
        with contextlib.suppress(TimeoutError):
            while not self.app_done:
                yield self._wait(deadline)

    def _cancel_app(self) -> None:
        if self._task is not None and not self.app_done:
            self._cancelled = True
            self._task.cancel()

    def _timeout(
        self, what: str, timeout: float | None, *, cancelled: bool, hint: str = ""
    ) -> TimeoutError:
        """A timeout saying what the test waited for and where the app is suspended.

        ``hint``, a sentence, tells the likely cause when the caller knows it.
        """
        where = where_suspended(self._task)
        if where and waiting_in_receive(self._task):
            where += f"\n{self.receive_note}"
        after = "; the app task was cancelled" if cancelled else ""
        waited = "" if timeout is None else f" after {timeout:g}s"
        hint = f" {hint}" if hint else ""
        return TimeoutError(
            f"{self.label}: timed out{waited} waiting for {what}{after}.{hint}{where}"
        )

    def _failure(self) -> BaseException | None:
        return self.protocol_error or (None if self.app_error is None else unwrap(self.app_error))
