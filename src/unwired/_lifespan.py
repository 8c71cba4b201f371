"""The app's lifespan task on the client's loop, and the test's startup/shutdown.

Rule: this module waits and relays; what each lifespan message means, and what
an early exit says about lifespan support, is ``LifespanCycle``'s call.
"""

from __future__ import annotations

from typing import Any, Literal

from ._app_task import AppTask, unwrap
from ._backends import Backend
from ._exceptions import ASGIProtocolError, LifespanFailed
from ._ops import Deadline, Op
from ._protocol._lifespan import LifespanCycle, Outcome, Support
from ._protocol._scope import lifespan_scope
from ._types import ASGIApp, Message

LifespanMode = Literal["auto", "on", "off"]
#: How long a failed startup/shutdown may take to raise its exception.
FAILURE_GRACE = 1.0

_UNSUPPORTED_NOTE = (
    "unwired: the app raised this on the lifespan scope before it answered "
    "'lifespan.startup', as an app without lifespan support does (e.g. with "
    "assert scope['type'] == 'http'); for such an app, create the client with "
    "lifespan='auto' or 'off'"
)
_NEVER_RECEIVED = (
    "The app never called receive() to get 'lifespan.startup': if it does not support "
    "lifespan, create the client with lifespan='off'."
)


class Lifespan(AppTask):
    """One run of the app's lifespan scope."""

    label = "lifespan"
    receive_note = (
        "the app is waiting in receive() for the next lifespan message, but the test waits "
        "for its answer to the last one"
    )

    def __init__(
        self, app: ASGIApp, state: dict[str, Any], backend: Backend, mode: LifespanMode
    ) -> None:
        super().__init__(backend)
        self._app = app
        self._state = state
        self._mode = mode
        self._cycle = LifespanCycle()
        self._outcome: Outcome | None = None
        self._received = False  # has the app called receive() yet?
        self._waiting = False  # is it waiting in receive() now?
        self.supported = True

    # -- the app's side -------------------------------------------------------

    async def _call_app(self) -> None:
        await self._app(lifespan_scope(self._state), self._receive, self._send)

    async def _receive(self) -> Message:
        while (message := self._cycle.next_for_app()) is None:
            self._waiting = True
            self._test_signal.notify()  # a test waiting to see whether the app raises
            try:
                await self._app_signal.wait()
            finally:
                self._waiting = False
        self._received = True
        return message

    async def _send(self, message: Message) -> None:
        self._outcome = self._checked(self._cycle.app_sent, message)
        self._test_signal.notify()

    def _request(self, phase: str) -> None:
        self._outcome = None
        self._cycle.request(phase)
        self._app_signal.notify()

    # -- the test's side ------------------------------------------------------

    def startup(self, timeout: float | None) -> Op[None]:
        """Send ``lifespan.startup`` and wait for the answer.

        Raises:
            LifespanFailed: the app answered ``lifespan.startup.failed``.
            ASGIProtocolError: the app answered out of turn.
            TimeoutError: no answer within ``timeout``.
        """
        if self._mode == "off":
            self.supported = False
            return
        self._request("startup")
        self._start("unwired: lifespan")
        yield from self._answer("startup", timeout)

    def shutdown(self, timeout: float | None) -> Op[None]:
        """Send ``lifespan.shutdown``, wait for the answer, then for the app to return.

        Raises:
            Exception: the app's own, if it raised after answering startup.
        """
        if not self.supported:
            return
        if self.app_done:  # it ended during the block: fine, unless it crashed
            if self.app_error is not None:
                raise unwrap(self.app_error)
            return
        self._request("shutdown")
        yield from self._answer("shutdown", timeout)
        yield from self._until_done(timeout, "the lifespan task to return after shutdown")

    def _answer(self, phase: str, timeout: float | None) -> Op[None]:
        deadline = Deadline(timeout)
        while self._outcome is None and not self.app_done and self.protocol_error is None:
            yield from self._await(deadline, f"the app to answer 'lifespan.{phase}'")
        if self.protocol_error is not None:
            yield from self._cancel_and_wait()
            raise self.protocol_error
        outcome = self._outcome
        if outcome is not None and outcome.ok:
            return
        if outcome is not None:  # failed: the app usually raises next, unless it waits on
            yield from self._until_done(FAILURE_GRACE, None, unless_waiting=True)
            if self.app_error is not None:
                raise unwrap(self.app_error)
            raise LifespanFailed(phase, outcome.message)
        support = self._cycle.app_exited(raised=self.app_error is not None)
        if support is Support.UNSUPPORTED and self._mode == "auto":
            self.supported = False
            return
        if self.app_error is not None:
            error = unwrap(self.app_error)
            if support is Support.UNSUPPORTED:
                error.add_note(_UNSUPPORTED_NOTE)
            raise error
        text = (
            f"app returned from the lifespan scope without answering 'lifespan.{phase}'; "
            f"answer it with 'lifespan.{phase}.complete' (or 'lifespan.{phase}.failed')"
        )
        if phase == "startup":
            text += (
                ", or, if the app does not support lifespan, create the client with "
                "lifespan='auto' or 'off'"
            )
        else:
            text += " before returning"
        raise ASGIProtocolError(text, message_type=None, state=self._cycle.phase.name)

    def _until_done(
        self, timeout: float | None, what: str | None, unless_waiting: bool = False
    ) -> Op[None]:
        """Wait for the app to return; ``unless_waiting``: or to wait in ``receive()``."""
        deadline = Deadline(timeout)
        while not self.app_done and not (unless_waiting and self._waiting):
            if what is not None:
                yield from self._await(deadline, what)
                continue
            try:  # best effort: cancel quietly when out of time
                yield self._wait(deadline)
            except TimeoutError:
                yield from self._cancel_and_wait()
                return

    def _await(self, deadline: Deadline, what: str) -> Op[None]:
        """One wait for the app; on timeout or interruption, cancel the lifespan task."""
        try:
            yield self._wait(deadline)
        except TimeoutError:
            hint = "" if self._received else _NEVER_RECEIVED
            error = self._timeout(what, deadline.timeout, cancelled=True, hint=hint)
            yield from self._cancel_and_wait()
            raise error from None
        except BaseException:
            yield from self._cancel_and_wait()
            raise
