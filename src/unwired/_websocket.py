"""WebSocket sessions for the sync and async clients: thin shells over ``WebSocketExchange``.

Rule: the two session classes differ only in how they run an operation (the
driver, or ``await`` on the caller's loop); message encoding and decoding
live once, in ``_SessionBase``. A message the test sends is checked here,
before the app sees it: the test's mistakes are raised in the test, naming
the method to use, and never reach the app to be blamed on it.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any, Literal, NoReturn, Self

from ._backends import Backend
from ._driver import Driver
from ._exceptions import websocket_disconnect
from ._ops import Op, check_timeout, drive_async
from ._protocol._checks import describe, shorten
from ._protocol._websocket import APP_MESSAGE_TYPES
from ._types import Message
from ._ws_exchange import WebSocketExchange

Mode = Literal["text", "binary"]

_BYTES_LIKE = (bytes, bytearray, memoryview)
_METHODS = (
    "use send_text(), send_bytes() or send_json(), or send({'type': 'websocket.receive', "
    "'text': ...})"
)


def _encode_json(data: Any, mode: Mode) -> Message:
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    if mode == "text":
        return {"type": "websocket.receive", "text": text}
    return {"type": "websocket.receive", "bytes": text.encode("utf-8")}


def _text_message(data: object) -> Message:
    if not isinstance(data, str):
        msg = f"send_text() takes a str, not {describe(data)}; use send_bytes() for binary data"
        raise TypeError(msg)
    return {"type": "websocket.receive", "text": data}


def _bytes_message(data: object) -> Message:
    if not isinstance(data, _BYTES_LIKE):
        msg = f"send_bytes() takes bytes, not {describe(data)}; use send_text() for text"
        raise TypeError(msg)
    return {"type": "websocket.receive", "bytes": bytes(data)}


def _close_message(code: object, reason: object) -> Message:
    if not isinstance(code, int) or isinstance(code, bool):
        msg = f"close() takes an int code, not {describe(code)}; e.g. close(1000)"
        raise TypeError(msg)
    if reason is not None and not isinstance(reason, str):
        msg = f"close() takes a str reason, not {describe(reason)}"
        raise TypeError(msg)
    return {"type": "websocket.disconnect", "code": code, "reason": reason}


def _checked(message: object) -> Message:
    """A message the test gave ``send()``, if it is one the app can receive.

    Raises:
        TypeError: not a dict, or a field of the wrong type.
        ValueError: a type only the app sends, or no payload.
    """
    if not isinstance(message, dict):
        if isinstance(message, str):
            hint = "use send_text() to send text"
        elif isinstance(message, _BYTES_LIKE):
            hint = "use send_bytes() to send bytes"
        else:
            hint = (
                "use send_json() to send it as JSON, or "
                "send({'type': 'websocket.receive', 'text': ...})"
            )
        msg = f"send() takes an ASGI message dict, not {describe(message)}; {hint}"
        raise TypeError(msg)
    kind = message.get("type")
    if kind == "websocket.receive":
        _check_payload(message)
    elif kind == "websocket.disconnect":
        code = message.get("code", 1000)
        if not isinstance(code, int) or isinstance(code, bool):
            _wrong_field(message, "code", "it must be an int, e.g. 1000")
    elif not isinstance(kind, str):
        msg = f"send() got a message without a 'type': {shorten(repr(message), 80)}; {_METHODS}"
        raise ValueError(msg)
    elif kind in APP_MESSAGE_TYPES:  # certainly a mix-up; any other type goes to the app as it is,
        msg = (  # for tests of how the app handles a message it does not expect
            f"send() got a {kind!r} message, which is what the app sends; the test sends "
            "'websocket.receive' (what the app's receive() gets) or 'websocket.disconnect'"
        )
        raise ValueError(msg)
    return message


def _check_payload(message: dict[str, Any]) -> None:
    text, data = message.get("text"), message.get("bytes")
    if (text is None) == (data is None):
        which = "both 'text' and 'bytes'" if text is not None else "neither 'text' nor 'bytes'"
        msg = f"send() got a 'websocket.receive' message with {which}; set exactly one of them"
        raise ValueError(msg)
    if text is not None and not isinstance(text, str):
        _wrong_field(message, "text", "it must be a str (use send_bytes() for binary data)")
    if data is not None and not isinstance(data, _BYTES_LIKE):
        _wrong_field(message, "bytes", "it must be bytes (use send_text() for text)")


def _wrong_field(message: dict[str, Any], key: str, rule: str) -> NoReturn:
    what = f"{message['type']!r} message whose {key!r} is {describe(message[key])}"
    msg = f"send() got a {what}; {rule}"
    raise TypeError(msg)


_NEW, _OPEN, _CLOSED = "new", "open", "closed"


class _SessionBase:
    #: How a session of this class is entered, for the errors that say so.
    _with = "with"

    def __init__(self, exchange: WebSocketExchange, timeout: float | None) -> None:
        self._exchange = exchange
        self._timeout = timeout
        self._state = _NEW
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] | None = None

    def _opened(self) -> None:
        accepted = self._exchange.accepted
        assert accepted is not None
        self._state = _OPEN
        self.accepted_subprotocol = accepted.subprotocol
        self.extra_headers = accepted.headers

    def _check_open(self) -> None:
        """Refuse to run when the session is not inside its ``with`` block."""
        if self._state is _OPEN:
            return
        call = f"client.websocket_connect({self._exchange.path!r})"
        if self._state is _NEW:
            article = "an" if self._with == "async with" else "a"
            msg = (
                f"the WebSocket session is not open; use it in {article} {self._with!r} block: "
                f"{self._with} {call} as websocket:"
            )
        else:
            msg = (
                f"the WebSocket session is closed: its {self._with!r} block has ended; "
                f"open a new one with {call}"
            )
        raise RuntimeError(msg)

    def _wait(self, timeout: float | None) -> float | None:
        return self._timeout if timeout is None else check_timeout(timeout)

    @staticmethod
    def _payload(message: Message, want: str, method: str, other: str) -> Any:
        """The ``text`` or ``bytes`` of a message, or the reason it has none.

        ``other`` is the call that reads the other kind of message.
        """
        if message["type"] == "websocket.close":
            code, reason = message["code"], message["reason"]
            detail = f"code {code}: {reason}" if reason else f"code {code}"
            raise websocket_disconnect(code, reason, f"the app closed the WebSocket ({detail})")
        if want not in message:
            got = "binary" if "bytes" in message else "text"
            value = message["bytes" if got == "binary" else "text"]
            msg = (
                f"{method} got a {got} message ({shorten(repr(value), 60)}); "
                f"use {other}, or receive() for either kind"
            )
            raise TypeError(msg)
        return message[want]

    @classmethod
    def _text(cls, message: Message) -> str:
        return cls._payload(message, "text", "receive_text()", "receive_bytes()")  # type: ignore[no-any-return]

    @classmethod
    def _bytes(cls, message: Message) -> bytes:
        return cls._payload(message, "bytes", "receive_bytes()", "receive_text()")  # type: ignore[no-any-return]

    @classmethod
    def _decode_json(cls, message: Message, mode: Mode) -> Any:
        if mode == "text":
            method, other = "receive_json(mode='text')", "receive_json(mode='binary')"
            return json.loads(cls._payload(message, "text", method, other))
        method, other = "receive_json(mode='binary')", "receive_json() (mode='text')"
        return json.loads(cls._payload(message, "bytes", method, other))


class WebSocketSession(_SessionBase):
    """A WebSocket session with the app, for sync tests (``client.websocket_connect``)."""

    def __init__(self, exchange: WebSocketExchange, driver: Driver, timeout: float | None) -> None:
        super().__init__(exchange, timeout)
        self._driver = driver

    def _run(self, op: Op[Any]) -> Any:
        return self._driver.drive(op)

    def __enter__(self) -> Self:
        try:
            self._run(self._exchange.connect(self._timeout))
        except BaseException:
            self._state = _CLOSED
            raise
        self._opened()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self._state = _CLOSED
        self._run(self._exchange.exit())

    def __aenter__(self) -> NoReturn:
        msg = (
            "a TestClient's WebSocket session is used with 'with', not 'async with': "
            "with client.websocket_connect(...) as websocket: (in async tests, use "
            "unwired.AsyncTestClient)"
        )
        raise TypeError(msg)

    async def __aexit__(self, *exc_info: object) -> None:  # pragma: no cover - never entered
        return None

    def send(self, message: Message) -> None:
        """Send a raw ASGI message to the app's ``receive()``.

        Raises:
            TypeError, ValueError: ``message`` is not one the app can receive
                (``websocket.receive`` with ``text`` or ``bytes``, or ``websocket.disconnect``).
        """
        message = _checked(message)
        self._check_open()
        self._run(self._exchange.send(message))

    def send_text(self, data: str) -> None:
        """Send a text message (``websocket.receive`` with ``text``); ``data`` must be a str."""
        self.send(_text_message(data))

    def send_bytes(self, data: bytes) -> None:
        """Send a binary message (``websocket.receive`` with ``bytes``); ``data`` must be bytes."""
        self.send(_bytes_message(data))

    def send_json(self, data: Any, mode: Mode = "text") -> None:
        """Send ``data`` as JSON, in a text message (``mode="text"``) or a binary one."""
        self.send(_encode_json(data, mode))

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection from the test's side (the app gets ``websocket.disconnect``)."""
        self.send(_close_message(code, reason))

    def receive(self, timeout: float | None = None) -> Message:
        """The next message the app sent (``websocket.send`` or ``websocket.close``).

        Raises:
            TimeoutError: nothing arrived within ``timeout`` (default: the
                client's read timeout); the session stays usable.
        """
        self._check_open()
        return self._run(self._exchange.receive(self._wait(timeout)))  # type: ignore[no-any-return]

    def receive_text(self, timeout: float | None = None) -> str:
        """The next message, which must be text.

        Raises:
            TypeError: the app sent a binary message (use ``receive_bytes``).
            WebSocketDisconnect: the app closed the connection.
            TimeoutError: nothing arrived within ``timeout``.
        """
        return self._text(self.receive(timeout))

    def receive_bytes(self, timeout: float | None = None) -> bytes:
        """The next message, which must be binary.

        Raises:
            TypeError: the app sent a text message (use ``receive_text``).
            WebSocketDisconnect: the app closed the connection.
            TimeoutError: nothing arrived within ``timeout``.
        """
        return self._bytes(self.receive(timeout))

    def receive_json(self, mode: Mode = "text", timeout: float | None = None) -> Any:
        """The next message, decoded as JSON from text (``mode="text"``) or bytes."""
        return self._decode_json(self.receive(timeout), mode)


class AsyncWebSocketSession(_SessionBase):
    """A WebSocket session with the app, for async tests (``AsyncTestClient``)."""

    _with = "async with"

    def __init__(
        self, exchange: WebSocketExchange, backend: Backend, timeout: float | None
    ) -> None:
        super().__init__(exchange, timeout)
        self._backend = backend

    async def _run(self, op: Op[Any]) -> Any:
        return await drive_async(op, self._backend)

    async def __aenter__(self) -> Self:
        try:
            await self._run(self._exchange.connect(self._timeout))
        except BaseException:
            self._state = _CLOSED
            raise
        self._opened()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self._state = _CLOSED
        await self._run(self._exchange.exit())

    def __enter__(self) -> NoReturn:
        msg = (
            "an AsyncTestClient's WebSocket session is used with 'async with', not 'with': "
            "async with client.websocket_connect(...) as websocket:, then await its methods "
            "(in sync tests, use unwired.TestClient)"
        )
        raise TypeError(msg)

    def __exit__(self, *exc_info: object) -> None:  # pragma: no cover - never entered
        return None

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message to the app's ``receive()``, checked as by the sync session."""
        message = _checked(message)
        self._check_open()
        await self._run(self._exchange.send(message))

    async def send_text(self, data: str) -> None:
        """Send a text message (``websocket.receive`` with ``text``); ``data`` must be a str."""
        await self.send(_text_message(data))

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message (``websocket.receive`` with ``bytes``); ``data`` must be bytes."""
        await self.send(_bytes_message(data))

    async def send_json(self, data: Any, mode: Mode = "text") -> None:
        """Send ``data`` as JSON, in a text message (``mode="text"``) or a binary one."""
        await self.send(_encode_json(data, mode))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection from the test's side (the app gets ``websocket.disconnect``)."""
        await self.send(_close_message(code, reason))

    async def receive(self, timeout: float | None = None) -> Message:
        """The next message the app sent; ``TimeoutError`` after ``timeout``."""
        self._check_open()
        return await self._run(self._exchange.receive(self._wait(timeout)))  # type: ignore[no-any-return]

    async def receive_text(self, timeout: float | None = None) -> str:
        """The next message, which must be text.

        Raises:
            TypeError: the app sent a binary message (use ``receive_bytes``).
            WebSocketDisconnect: the app closed the connection.
            TimeoutError: nothing arrived within ``timeout``.
        """
        return self._text(await self.receive(timeout))

    async def receive_bytes(self, timeout: float | None = None) -> bytes:
        """The next message, which must be binary.

        Raises:
            TypeError: the app sent a text message (use ``receive_text``).
            WebSocketDisconnect: the app closed the connection.
            TimeoutError: nothing arrived within ``timeout``.
        """
        return self._bytes(await self.receive(timeout))

    async def receive_json(self, mode: Mode = "text", timeout: float | None = None) -> Any:
        """The next message, decoded as JSON from text (``mode="text"``) or bytes."""
        return self._decode_json(await self.receive(timeout), mode)
