"""The HTTP request/response cycle, seen from the server's side.

Rule 1: every decision about what an app may send, and when, lives in this
file, in the ``_ACCEPTS`` table; an illegal message fails in one place
(``HTTPCycle.app_sent``) naming the message, the state and what was expected.

Rule 2: after a protocol error the cycle is in ``ResponseState.ERROR`` for good.

The driver feeds the cycle the app's messages and the test's actions and gets
back small event objects; it never looks inside a message itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, NoReturn

from .._types import Headers, Message
from . import _checks as check


class ResponseState(enum.Enum):
    """Where the app is in sending its response; values read well in messages."""

    AWAITING_START = "before 'http.response.start'"
    SENDING_BODY = "after 'http.response.start', while the body is being sent"
    SENDING_TRAILERS = "after the last body message, while trailers are due"
    COMPLETE = "after the response was complete"
    ERROR = "after an earlier protocol error"


# Plain names for the members: enum attribute access is slow on Python 3.11,
# and these are read on every message.
AWAITING_START = ResponseState.AWAITING_START
SENDING_BODY = ResponseState.SENDING_BODY
SENDING_TRAILERS = ResponseState.SENDING_TRAILERS
COMPLETE = ResponseState.COMPLETE
ERROR = ResponseState.ERROR

_EXPECTED = {
    AWAITING_START: "'http.response.start' first",
    SENDING_BODY: (
        "'http.response.body' (or 'http.response.pathsend' / 'http.response.zerocopysend')"
    ),
    SENDING_TRAILERS: "'http.response.trailers', as 'trailers': True promised",
    COMPLETE: "nothing more: the response is complete",
    ERROR: "nothing more",
}

_ACCEPTS: dict[ResponseState, frozenset[str]] = {
    AWAITING_START: frozenset(
        {
            "http.response.start",
            "http.response.debug",
            "http.response.early_hint",
            "http.response.push",
        }
    ),
    SENDING_BODY: frozenset(
        {
            "http.response.body",
            "http.response.pathsend",
            "http.response.zerocopysend",
            "http.response.push",
            # The spec says before start; Starlette accepts it later, and its
            # own tests send it so. Once, either way.
            "http.response.debug",
        }
    ),
    SENDING_TRAILERS: frozenset({"http.response.trailers"}),
    COMPLETE: frozenset(),
    ERROR: frozenset(),
}
#: Every type an app may send on an HTTP connection, for "did you mean".
_KNOWN = frozenset().union(*_ACCEPTS.values())


class ReceiveAction(enum.Enum):
    """What the server must do when the app calls ``receive()``."""

    READ_BODY = "read the next request body chunk and pass it on"
    WAIT = "wait until the response is complete or the test goes away"
    DISCONNECT = "answer 'http.disconnect'"


READ_BODY = ReceiveAction.READ_BODY
WAIT = ReceiveAction.WAIT
DISCONNECT = ReceiveAction.DISCONNECT


@dataclass(frozen=True, slots=True)
class ResponseStart:
    status: int
    headers: Headers
    trailers: bool


@dataclass(frozen=True, slots=True)
class BodyChunk:
    data: bytes
    more_body: bool


@dataclass(frozen=True, slots=True)
class FileBody:
    """A body part to read from disk: ``path`` (pathsend) or an open ``file``."""

    path: str | None
    file: Any
    offset: int | None  # None: from the file's current position
    count: int | None  # None: to the end of the file
    more_body: bool


@dataclass(frozen=True, slots=True)
class Trailers:
    headers: Headers
    more_trailers: bool


@dataclass(frozen=True, slots=True)
class DebugInfo:
    info: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EarlyHint:
    links: list[bytes]


@dataclass(frozen=True, slots=True)
class PushPromise:
    path: str
    headers: Headers


Event = ResponseStart | BodyChunk | FileBody | Trailers | DebugInfo | EarlyHint | PushPromise

DISCONNECT_MESSAGE: Message = {"type": "http.disconnect"}


class HTTPCycle:
    """One request/response cycle; pure bookkeeping, no I/O.

    Args:
        method: the request method; a ``HEAD`` response's body is dropped.
    """

    __slots__ = (
        "_body_started",
        "_debugged",
        "_head",
        "_trailers_due",
        "disconnected",
        "request_complete",
        "state",
    )

    def __init__(self, method: str) -> None:
        self.state = AWAITING_START
        self.request_complete = False
        self.disconnected = False
        self._head = method == "HEAD"
        self._trailers_due = False
        self._body_started = False
        self._debugged = False

    # -- the app's side -------------------------------------------------------

    def app_sent(self, message: Message) -> Event:
        """Check one message the app sent and return what it means.

        Raises:
            ClientDisconnected: the test has gone away (the spec's ``OSError``).
            ASGIProtocolError: the message is malformed or out of order.
        """
        return _DISPATCH.dispatch(self, message)  # type: ignore[no-any-return]

    def _refuse(self, kind: str, state: ResponseState) -> NoReturn:
        if kind == "http.response.trailers" and state is COMPLETE and not self._trailers_due:
            check.fail(
                "app sent 'http.response.trailers' but its 'http.response.start' did not set "
                "'trailers': True, so the response was already complete; to send trailers, "
                "set 'trailers': True in 'http.response.start'",
                kind,
                state,
            )
        hint = ""
        if kind == "http.response.start" and state is not ERROR:
            hint = (
                "; a response has one start: an error handler may be sending a second "
                "response after the first had started"
            )
        elif kind == "http.response.body" and state is COMPLETE and self._body_started:
            hint = "; did the last body message leave out 'more_body': True?"
        what = check.sent(kind, _KNOWN, "HTTP")
        check.fail(f"{what} {state.value}; expected {_EXPECTED[state]}{hint}", kind, state)

    def _start(self, message: Message) -> ResponseStart:
        state = self.state
        status = check.status(message, state)
        headers = check.headers(message, "headers", state)
        self._trailers_due = check.flag(message, "trailers", state)
        self.state = SENDING_BODY
        return ResponseStart(status, headers, self._trailers_due)

    def _end_body(self, more_body: bool) -> None:
        if not more_body:
            self.state = SENDING_TRAILERS if self._trailers_due else COMPLETE

    def _body(self, message: Message) -> BodyChunk:
        state = self.state
        data = check.body(message, "body", state)
        more_body = check.flag(message, "more_body", state)
        self._body_started = True
        self._end_body(more_body)
        return BodyChunk(b"" if self._head else data, more_body)

    def _pathsend(self, message: Message) -> FileBody | BodyChunk:
        path = check.text(message, "path", self.state, optional=False)
        if self._body_started:
            check.fail(
                "app sent 'http.response.pathsend' after body messages; a body is sent "
                "either whole with pathsend or with 'http.response.body' messages, not both",
                "http.response.pathsend",
                self.state,
            )
        self._end_body(False)
        if self._head:
            return BodyChunk(b"", False)
        return FileBody(path, None, 0, None, False)

    def _zerocopysend(self, message: Message) -> FileBody | BodyChunk:
        state = self.state
        file = message.get("file")
        try:
            file.fileno()  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):
            check.fail(
                f"app sent 'http.response.zerocopysend' whose 'file' is {type(file).__name__}; "
                "it must be an open file with an OS file descriptor (io.BytesIO has none)",
                "http.response.zerocopysend",
                state,
            )
        offset = check.count(message, "offset", state)
        count = check.count(message, "count", state)
        more_body = check.flag(message, "more_body", state)
        self._body_started = True
        self._end_body(more_body)
        if self._head:
            return BodyChunk(b"", more_body)
        return FileBody(None, file, offset, count, more_body)

    def _trailers(self, message: Message) -> Trailers:
        state = self.state
        headers = check.headers(message, "headers", state)
        more = check.flag(message, "more_trailers", state)
        if not more:
            self.state = COMPLETE
        return Trailers(headers, more)

    def _debug(self, message: Message) -> DebugInfo:
        if self._debugged:
            check.fail(
                "app sent 'http.response.debug' twice; send it once, before 'http.response.start'",
                "http.response.debug",
                self.state,
            )
        self._debugged = True
        info = message.get("info", {})
        if not isinstance(info, dict):
            check.fail(
                f"app sent 'http.response.debug' whose 'info' is {type(info).__name__}; "
                "it must be a dict",
                "http.response.debug",
                self.state,
            )
        return DebugInfo(info)

    def _early_hint(self, message: Message) -> EarlyHint:
        links = message.get("links", [])
        if not isinstance(links, list | tuple) or not all(isinstance(x, bytes) for x in links):
            check.wrong(
                message,
                "links",
                "it must be a list of bytes, e.g. [b'</style.css>; rel=preload; as=style']",
                self.state,
            )
        return EarlyHint(list(links))

    def _push(self, message: Message) -> PushPromise:
        state = self.state
        path = check.text(message, "path", state, optional=False)
        assert path is not None
        return PushPromise(path, check.headers(message, "headers", state))

    def app_returned(self) -> None:
        """Note that the app's coroutine returned; fail if it left the response unfinished.

        Trailers that were promised but not (all) sent are not a failure: the
        body is whole, and Starlette's client accepts it too.

        Raises:
            ASGIProtocolError: no response was started, or its body was cut short.
        """
        if self.disconnected or self.state in (COMPLETE, ERROR, SENDING_TRAILERS):
            return
        if self.state is AWAITING_START:
            text = (
                "app returned without sending 'http.response.start'; every request needs a response"
            )
        elif not self._body_started:
            text = (
                "app returned after 'http.response.start' without sending the body; end the "
                "response with an 'http.response.body' message, e.g. {'type': 'http.response.body'}"
            )
        else:
            text = (
                "app returned before the response body was complete: its last body message had "
                "'more_body': True; end the body with a message without it, e.g. "
                "{'type': 'http.response.body'}"
            )
        state = self.state
        self.state = ERROR
        check.fail(text, None, state)

    # -- the test's side ------------------------------------------------------

    def receive_action(self) -> ReceiveAction:
        """What answering the app's next ``receive()`` takes."""
        if self.disconnected:
            return DISCONNECT
        if not self.request_complete:
            return READ_BODY
        if self.state in (COMPLETE, ERROR):
            return DISCONNECT
        return WAIT

    def request_body(self, data: bytes, more_body: bool) -> Message:
        """The ``http.request`` message carrying the next body chunk."""
        self.request_complete = not more_body
        return {"type": "http.request", "body": data, "more_body": more_body}

    def disconnect(self) -> None:
        """The test stopped listening (closed the response, or gave up waiting)."""
        self.disconnected = True


_DISPATCH = check.Dispatcher(
    _ACCEPTS,
    "http.response.start",
    ERROR,
    "the test closed the response; nothing more can be sent",
)
_DISPATCH.handlers.update(
    {
        "http.response.start": HTTPCycle._start,
        "http.response.body": HTTPCycle._body,
        "http.response.pathsend": HTTPCycle._pathsend,
        "http.response.zerocopysend": HTTPCycle._zerocopysend,
        "http.response.trailers": HTTPCycle._trailers,
        "http.response.debug": HTTPCycle._debug,
        "http.response.early_hint": HTTPCycle._early_hint,
        "http.response.push": HTTPCycle._push,
    }
)
