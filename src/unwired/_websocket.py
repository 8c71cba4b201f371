"""WebSocket sessions for the sync and async clients: thin shells over ``WebSocketExchange``.

Rule: the two session classes differ only in how they run an operation (the
driver, or ``await`` on the caller's loop); message encoding and decoding
live once, in ``_SessionBase``.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any, Literal, Self

from ._backends import Backend
from ._driver import Driver
from ._exceptions import websocket_disconnect_type
from ._ops import Op, drive_async
from ._types import Message
from ._ws_exchange import WebSocketExchange

Mode = Literal["text", "binary"]


def _encode_json(data: Any, mode: Mode) -> Message:
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    if mode == "text":
        return {"type": "websocket.receive", "text": text}
    return {"type": "websocket.receive", "bytes": text.encode("utf-8")}


class _SessionBase:
    def __init__(self, exchange: WebSocketExchange, timeout: float | None) -> None:
        self._exchange = exchange
        self._timeout = timeout
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] | None = None

    def _opened(self) -> None:
        accepted = self._exchange.accepted
        assert accepted is not None
        self.accepted_subprotocol = accepted.subprotocol
        self.extra_headers = accepted.headers

    def _wait(self, timeout: float | None) -> float | None:
        return self._timeout if timeout is None else timeout

    @staticmethod
    def _payload(message: Message, want: str, method: str) -> Any:
        """The ``text`` or ``bytes`` of a message, or the reason it has none."""
        if message["type"] == "websocket.close":
            raise websocket_disconnect_type()(message["code"], message["reason"])
        if want not in message:
            got = "binary" if "bytes" in message else "text"
            value = message["bytes" if got == "binary" else "text"]
            alternative = "receive_bytes()" if got == "binary" else "receive_text()"
            msg = (
                f"{method} got a {got} message ({value!r:.60}); "
                f"use {alternative}, or receive() for either kind"
            )
            raise TypeError(msg)
        return message[want]

    @classmethod
    def _decode_json(cls, message: Message, mode: Mode) -> Any:
        if mode == "text":
            return json.loads(cls._payload(message, "text", "receive_json(mode='text')"))
        return json.loads(cls._payload(message, "bytes", "receive_json(mode='binary')"))


class WebSocketSession(_SessionBase):
    """A WebSocket session with the app, for sync tests (``client.websocket_connect``)."""

    def __init__(self, exchange: WebSocketExchange, driver: Driver, timeout: float | None) -> None:
        super().__init__(exchange, timeout)
        self._driver = driver

    def _run(self, op: Op[Any]) -> Any:
        return self._driver.drive(op)

    def __enter__(self) -> Self:
        self._run(self._exchange.connect(self._timeout))
        self._opened()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self._run(self._exchange.exit())

    def send(self, message: Message) -> None:
        """Send a raw ASGI message to the app's ``receive()``."""
        self._run(self._exchange.send(message))

    def send_text(self, data: str) -> None:
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: Mode = "text") -> None:
        self.send(_encode_json(data, mode))

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection from the test's side (the app gets ``websocket.disconnect``)."""
        self.send({"type": "websocket.disconnect", "code": code, "reason": reason})

    def receive(self, timeout: float | None = None) -> Message:
        """The next message the app sent (``websocket.send`` or ``websocket.close``).

        Raises:
            TimeoutError: nothing arrived within ``timeout`` (default: the
                client's read timeout); the session stays usable.
        """
        return self._run(self._exchange.receive(self._wait(timeout)))  # type: ignore[no-any-return]

    def receive_text(self, timeout: float | None = None) -> str:
        return self._payload(self.receive(timeout), "text", "receive_text()")  # type: ignore[no-any-return]

    def receive_bytes(self, timeout: float | None = None) -> bytes:
        return self._payload(self.receive(timeout), "bytes", "receive_bytes()")  # type: ignore[no-any-return]

    def receive_json(self, mode: Mode = "text", timeout: float | None = None) -> Any:
        return self._decode_json(self.receive(timeout), mode)


class AsyncWebSocketSession(_SessionBase):
    """A WebSocket session with the app, for async tests (``AsyncTestClient``)."""

    def __init__(
        self, exchange: WebSocketExchange, backend: Backend, timeout: float | None
    ) -> None:
        super().__init__(exchange, timeout)
        self._backend = backend

    async def _run(self, op: Op[Any]) -> Any:
        return await drive_async(op, self._backend)

    async def __aenter__(self) -> Self:
        await self._run(self._exchange.connect(self._timeout))
        self._opened()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self._run(self._exchange.exit())

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message to the app's ``receive()``."""
        await self._run(self._exchange.send(message))

    async def send_text(self, data: str) -> None:
        await self.send({"type": "websocket.receive", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.receive", "bytes": data})

    async def send_json(self, data: Any, mode: Mode = "text") -> None:
        await self.send(_encode_json(data, mode))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection from the test's side (the app gets ``websocket.disconnect``)."""
        await self.send({"type": "websocket.disconnect", "code": code, "reason": reason})

    async def receive(self, timeout: float | None = None) -> Message:
        """The next message the app sent; ``TimeoutError`` after ``timeout``."""
        return await self._run(self._exchange.receive(self._wait(timeout)))  # type: ignore[no-any-return]

    async def receive_text(self, timeout: float | None = None) -> str:
        return self._payload(await self.receive(timeout), "text", "receive_text()")  # type: ignore[no-any-return]

    async def receive_bytes(self, timeout: float | None = None) -> bytes:
        return self._payload(await self.receive(timeout), "bytes", "receive_bytes()")  # type: ignore[no-any-return]

    async def receive_json(self, mode: Mode = "text", timeout: float | None = None) -> Any:
        return self._decode_json(await self.receive(timeout), mode)
