"""One WebSocket session on the client's loop: the app task and the test's operations.

Rule: this module moves messages and wakes waiters; what each message means
is ``WebSocketCycle``'s call. Like ``_exchange``, the test's side is a set of
operations (see ``_ops``) shared by the sync and async sessions.
"""

from __future__ import annotations

from collections import deque

from ._app_task import AppTask, came_from_a_send_after_close
from ._backends import Backend
from ._exceptions import websocket_denial_type, websocket_disconnect
from ._ops import Deadline, Op
from ._protocol._websocket import (
    CONNECT_MESSAGE,
    Accepted,
    Closed,
    Data,
    DenialBody,
    DenialStart,
    Event,
    WebSocketCycle,
)
from ._types import ASGIApp, Message, Scope


class WebSocketExchange(AppTask):
    """An app task serving one WebSocket session, and what the test has seen of it."""

    receive_note = (
        "the app is waiting in receive() for a message from the test; send it one "
        "(e.g. websocket.send_text(...)) before receiving, or have the app send first"
    )

    def __init__(self, app: ASGIApp, scope: Scope, backend: Backend) -> None:
        super().__init__(backend)
        self._app = app
        self._scope = scope
        self._cycle = WebSocketCycle()
        self._inbox: deque[Message] = deque([CONNECT_MESSAGE])  # for the app's receive()
        self._outbox: deque[Event] = deque()  # what the app sent, for the test
        self._reported = False
        self.accepted: Accepted | None = None
        self.path: str = scope["path"]
        self.label = f"websocket {self.path}"

    # -- the app's side -------------------------------------------------------

    async def _call_app(self) -> None:
        await self._app(self._scope, self._receive, self._send)

    async def _receive(self) -> Message:
        while not self._inbox:
            await self._app_signal.wait()
        return self._inbox.popleft()

    async def _send(self, message: Message) -> None:
        event = self._checked(self._cycle.app_sent, message)
        self._outbox.append(event)
        self._test_signal.notify()

    # -- the test's side ------------------------------------------------------

    def failure(self) -> BaseException | None:
        """What went wrong in the app, if the test should see it.

        An app that fails only because it sent after the test had closed the
        session has not failed. One that lets the ``WebSocketDisconnect`` of
        its ``receive()`` escape has: that is raised, as Starlette's client does.
        """
        exc = self.app_error
        if self.protocol_error is None and came_from_a_send_after_close(exc):
            return None
        return self._failure()

    def _raise_failure(self) -> None:
        """Raise the app's failure, once: at the next call, or on leaving the block."""
        failure = self.failure()
        if failure is not None and not self._reported:
            self._reported = True
            raise failure

    def connect(self, timeout: float | None) -> Op[Accepted]:
        """Start the app and wait until it accepts, refuses or fails.

        Raises:
            WebSocketDisconnect: the app closed before accepting.
            WebSocketDenialResponse: the app refused with an HTTP response.
            TimeoutError: no answer within ``timeout`` (the app is cancelled).
        """
        self._start("unwired: websocket app")
        deadline = Deadline(timeout)
        while not self._outbox:
            yield from self._end_if_broken()
            self._raise_failure()
            if self.app_done:
                raise websocket_disconnect(
                    1006,
                    "the app returned without accepting",
                    "the app returned without accepting the WebSocket (code 1006)",
                )
            try:
                yield self._wait(deadline)
            except BaseException as exc:
                if isinstance(exc, TimeoutError):
                    exc = self._timeout("the app to accept the connection", timeout, cancelled=True)
                yield from self._cancel_and_wait()
                raise exc from None
        event = self._outbox.popleft()
        if type(event) is Accepted:
            self.accepted = event
            return event
        if type(event) is Closed:
            refusal: BaseException = self._refused(event)
        else:
            assert type(event) is DenialStart
            body = yield from self._denial_body(timeout)
            refusal = websocket_denial_type()(event.status, event.headers, body)
        yield from self._end_app()
        self._raise_failure()
        raise refusal

    def _refused(self, event: Closed) -> BaseException:
        detail = f"code {event.code}: {event.reason}" if event.reason else f"code {event.code}"
        if event.code == 1000 and not event.reason:
            detail += f"; a router does this when no route matches {self.path!r}"
        text = f"the app refused the WebSocket before accepting it ({detail})"
        return websocket_disconnect(event.code, event.reason, text)

    def _denial_body(self, timeout: float | None) -> Op[bytes]:
        parts: list[bytes] = []
        deadline = Deadline(timeout)
        while True:
            while not self._outbox:
                yield from self._end_if_broken()
                self._raise_failure()
                if self.app_done:
                    return b"".join(parts)
                try:
                    yield self._wait(deadline)
                except TimeoutError:
                    error = self._timeout(
                        "the rest of the denial response", timeout, cancelled=True
                    )
                    yield from self._cancel_and_wait()
                    raise error from None
            event = self._outbox.popleft()
            assert type(event) is DenialBody
            parts.append(event.body)
            if not event.more_body:
                return b"".join(parts)

    def send(self, message: Message) -> Op[None]:
        """Queue a message for the app's ``receive()``."""
        self._raise_failure()
        if message.get("type") == "websocket.disconnect":
            self._cycle.disconnect()  # the app may still answer with its close
        self._inbox.append(message)
        self._app_signal.notify()
        return
        yield

    def receive(self, timeout: float | None) -> Op[Message]:
        """The next message the app sent: ``websocket.send`` or ``websocket.close``.

        Raises:
            TimeoutError: nothing within ``timeout``; the session stays usable.
        """
        deadline = Deadline(timeout)
        while not self._outbox:
            self._raise_failure()
            if self.app_done:
                return {"type": "websocket.close", "code": 1000, "reason": ""}
            try:
                yield self._wait(deadline)
            except TimeoutError:
                msg = "a message from the app"
                raise self._timeout(msg, timeout, cancelled=False) from None
            except BaseException:
                yield from self._cancel_and_wait()
                raise
        event = self._outbox.popleft()
        if type(event) is Data:
            if event.text is not None:
                return {"type": "websocket.send", "text": event.text}
            return {"type": "websocket.send", "bytes": event.data}
        assert type(event) is Closed
        return {"type": "websocket.close", "code": event.code, "reason": event.reason}

    def exit(self) -> Op[None]:
        """Leave the session: close it if still open, let the app end, report its failure."""
        yield from self._end_app()
        self._raise_failure()

    def _end_app(self) -> Op[None]:
        """Tell the app the connection is gone; give it a grace period, then cancel it."""
        if not self._cycle.disconnected and not self.app_done:
            self._cycle.disconnect()
            self._inbox.append({"type": "websocket.disconnect", "code": 1000, "reason": ""})
            self._app_signal.notify()
        yield from self._wind_down()
