"""The WebSocket session, seen from the server's side.

Rule 1: what an app may send in each state lives in ``_ACCEPTS``; an illegal
message fails in ``WebSocketCycle.app_sent``, naming the message, the state
and what was expected. After a protocol error the state is ``ERROR`` for good.

Rule 2: the cycle never waits; it turns each message the app sends into an
event, and tells the driver what the app's ``receive()`` should get.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NoReturn

from .._types import Headers, Message
from . import _checks as check


class WebSocketState(enum.Enum):
    """Where the session is; values read well in messages."""

    CONNECTING = "before the app accepted the connection"
    CONNECTED = "while the connection is open"
    DENYING = "while sending a denial response"
    CLOSED = "after the connection was closed"
    ERROR = "after an earlier protocol error"


CONNECTING = WebSocketState.CONNECTING
CONNECTED = WebSocketState.CONNECTED
DENYING = WebSocketState.DENYING
CLOSED = WebSocketState.CLOSED
ERROR = WebSocketState.ERROR

_ACCEPTS: dict[WebSocketState, frozenset[str]] = {
    CONNECTING: frozenset({"websocket.accept", "websocket.close", "websocket.http.response.start"}),
    CONNECTED: frozenset({"websocket.send", "websocket.close"}),
    DENYING: frozenset({"websocket.http.response.body"}),
    CLOSED: frozenset(),
    ERROR: frozenset(),
}
#: Every type an app may send on a WebSocket, for "did you mean".
#: Every message type a WebSocket app sends.
APP_MESSAGE_TYPES = frozenset().union(*_ACCEPTS.values())

_EXPECTED = {
    CONNECTING: "'websocket.accept', 'websocket.close' or 'websocket.http.response.start'",
    CONNECTED: "'websocket.send' or 'websocket.close'",
    DENYING: "'websocket.http.response.body'",
    CLOSED: "nothing more: the connection is closed",
    ERROR: "nothing more",
}


@dataclass(frozen=True, slots=True)
class Accepted:
    subprotocol: str | None
    headers: Headers


@dataclass(frozen=True, slots=True)
class Data:
    """A message from the app: exactly one of ``text`` and ``data`` is set."""

    text: str | None
    data: bytes | None


@dataclass(frozen=True, slots=True)
class Closed:
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class DenialStart:
    status: int
    headers: Headers


@dataclass(frozen=True, slots=True)
class DenialBody:
    body: bytes
    more_body: bool


Event = Accepted | Data | Closed | DenialStart | DenialBody

CONNECT_MESSAGE: Message = {"type": "websocket.connect"}


class WebSocketCycle:
    """Bookkeeping for one WebSocket session; no I/O."""

    __slots__ = ("disconnected", "state")

    def __init__(self) -> None:
        self.state = CONNECTING
        self.disconnected = False  # the test closed its end

    def app_sent(self, message: Message) -> Event:
        """Check one message the app sent and return what it means.

        Raises:
            ClientDisconnected: the test has closed the connection (the spec's ``OSError``).
            ASGIProtocolError: the message is malformed or out of order.
        """
        return _DISPATCH.dispatch(self, message)  # type: ignore[no-any-return]

    def _refuse(self, kind: str, state: WebSocketState) -> NoReturn:
        what = check.sent(kind, APP_MESSAGE_TYPES, "WebSocket")
        check.fail(f"{what} {state.value}; expected {_EXPECTED[state]}", kind, state)

    def _accept(self, message: Message) -> Accepted:
        subprotocol = check.text(message, "subprotocol", self.state)
        headers = check.headers(message, "headers", self.state)
        self.state = CONNECTED
        return Accepted(subprotocol, headers)

    def _send(self, message: Message) -> Data:
        text, data = message.get("text"), message.get("bytes")
        if (text is None) == (data is None):
            check.fail(
                "app sent 'websocket.send' with "
                + ("both 'text' and 'bytes'" if text is not None else "neither 'text' nor 'bytes'")
                + "; set exactly one of them",
                "websocket.send",
                self.state,
            )
        if text is not None:
            return Data(check.text(message, "text", self.state), None)
        return Data(None, check.body(message, "bytes", self.state))

    def _close(self, message: Message) -> Closed:
        code = check.integer(message, "code", self.state) if "code" in message else 1000
        reason = message.get("reason")
        # The spec wants a str; FastAPI's default handler for a WebSocket
        # validation error sends its list of errors. Accept it, as text.
        reason = "" if reason is None else reason if isinstance(reason, str) else str(reason)
        self.state = CLOSED
        return Closed(code, reason)

    def _denial_start(self, message: Message) -> DenialStart:
        status = check.status(message, self.state)
        headers = check.headers(message, "headers", self.state)
        self.state = DENYING
        return DenialStart(status, headers)

    def _denial_body(self, message: Message) -> DenialBody:
        body = check.body(message, "body", self.state)
        more_body = check.flag(message, "more_body", self.state)
        if not more_body:
            self.state = CLOSED
        return DenialBody(body, more_body)

    def disconnect(self) -> None:
        """The test closed its end (``websocket.disconnect`` was queued for the app)."""
        self.disconnected = True


# The app may still answer the test's close with its own (the closing handshake).
_DISPATCH = check.Dispatcher(
    _ACCEPTS,
    "websocket.accept",
    ERROR,
    "the test closed the WebSocket; nothing more can be sent",
    after_gone=frozenset({"websocket.close"}),
)
_DISPATCH.handlers.update(
    {
        "websocket.accept": WebSocketCycle._accept,
        "websocket.send": WebSocketCycle._send,
        "websocket.close": WebSocketCycle._close,
        "websocket.http.response.start": WebSocketCycle._denial_start,
        "websocket.http.response.body": WebSocketCycle._denial_body,
    }
)
