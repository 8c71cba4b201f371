"""Field checks shared by the HTTP, WebSocket and lifespan state machines.

Rule: a check either returns the field's value in its canonical Python type or
raises ``ASGIProtocolError`` saying which field of which message was wrong, what
it was and what the spec wants instead.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from .._exceptions import ASGIProtocolError, ClientDisconnected
from .._types import Headers

_BYTES_LIKE = (bytes, bytearray, memoryview)


def fail(text: str, message_type: str | None, state: enum.Enum) -> NoReturn:
    raise ASGIProtocolError(text, message_type=message_type, state=state.name)


def message_type(message: object, state: enum.Enum) -> str:
    """The ``type`` of a message, which must be a dict with a string type."""
    if type(message) is dict:
        kind = message.get("type")
        if type(kind) is str:
            return kind
    if not isinstance(message, Mapping):
        fail(
            f"app sent {type(message).__name__} {message!r:.80} instead of a message; "
            "send() takes a dict with a 'type' key",
            None,
            state,
        )
    kind = message.get("type")
    if not isinstance(kind, str):
        fail(f"app sent a message without a string 'type': {dict(message)!r:.120}", None, state)
    return kind


def _describe(value: object) -> str:
    return f"{type(value).__name__} {value!r:.60}"


def body(message: Mapping[str, Any], key: str, state: enum.Enum) -> bytes:
    value = message.get(key, b"")
    if isinstance(value, bytes):
        return value
    if isinstance(value, _BYTES_LIKE):
        return bytes(value)
    hint = "; encode it first, e.g. text.encode('utf-8')" if isinstance(value, str) else ""
    fail(
        f"app sent {message['type']!r} whose {key!r} is {_describe(value)}; it must be bytes{hint}",
        message["type"],
        state,
    )


def flag(message: Mapping[str, Any], key: str, state: enum.Enum) -> bool:
    value = message.get(key, False)
    if isinstance(value, bool):
        return value
    fail(
        f"app sent {message['type']!r} whose {key!r} is {_describe(value)}; "
        "it must be True or False",
        message["type"],
        state,
    )


def text(
    message: Mapping[str, Any], key: str, state: enum.Enum, *, optional: bool = True
) -> str | None:
    value = message.get(key)
    if isinstance(value, str) or (value is None and optional):
        return value
    fail(
        f"app sent {message['type']!r} whose {key!r} is {_describe(value)}; it must be a str",
        message["type"],
        state,
    )


def integer(message: Mapping[str, Any], key: str, state: enum.Enum) -> int:
    value = message.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    fail(
        f"app sent {message['type']!r} whose {key!r} is {_describe(value)}; it must be an int",
        message["type"],
        state,
    )


def count(message: Mapping[str, Any], key: str, state: enum.Enum) -> int | None:
    """An optional non-negative int (byte offsets and counts)."""
    if key not in message:
        return None
    value = integer(message, key, state)
    if value < 0:
        fail(
            f"app sent {message['type']!r} whose {key!r} is {value}; it must not be negative",
            message["type"],
            state,
        )
    return value


def headers(message: Mapping[str, Any], key: str, state: enum.Enum) -> Headers:
    """Header pairs as a list of ``(name, value)`` bytes tuples."""
    raw = message.get(key, ())
    kind = message["type"]
    if isinstance(raw, str | bytes) or not _iterable(raw):
        fail(
            f"app sent {kind!r} whose {key!r} is {_describe(raw)}; "
            "it must be an iterable of [name, value] byte-string pairs",
            kind,
            state,
        )
    result: Headers = []
    for pair in raw:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            fail(
                f"app sent {kind!r} with header {pair!r:.80}; each header must be a "
                "[name, value] pair of byte strings",
                kind,
                state,
            )
        name, value = pair
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            fail(
                f"app sent {kind!r} with header {pair!r:.80}; names and values must be bytes, "
                "not str: encode them with .encode('latin-1')",
                kind,
                state,
            )
        if name.startswith(b":"):
            fail(
                f"app sent {kind!r} with pseudo-header {name!r}; pseudo-headers must not be "
                "sent (the status goes in 'status')",
                kind,
                state,
            )
        result.append((name, value))
    return result


class Dispatcher:
    """The table-driven core of a cycle: check the type, refuse or hand on.

    Args:
        accepts: the message types allowed in each state.
        error: the state to stay in after any failure (sticky).
        gone: the text of the ``ClientDisconnected`` raised once the test left.
        after_gone: message types still allowed after the test left.
    """

    __slots__ = ("_accepts", "_after_gone", "_error", "_gone", "handlers")

    def __init__(
        self,
        accepts: Mapping[Any, frozenset[str]],
        error: enum.Enum,
        gone: str,
        after_gone: frozenset[str] = frozenset(),
    ) -> None:
        self._accepts = accepts
        self._error = error
        self._gone = gone
        self._after_gone = after_gone
        self.handlers: dict[str, Callable[[Any, Any], Any]] = {}

    def dispatch(self, cycle: Any, message: Any) -> Any:
        """Run the handler for ``message`` in ``cycle``'s state, or refuse it."""
        if cycle.disconnected and (
            not isinstance(message, Mapping) or message.get("type") not in self._after_gone
        ):
            raise ClientDisconnected(self._gone)
        state = cycle.state
        try:
            kind = message_type(message, state)
            if kind not in self._accepts[state]:
                cycle._refuse(kind, state)
            return self.handlers[kind](cycle, message)
        except BaseException:
            cycle.state = self._error
            raise


def _iterable(value: object) -> bool:
    try:
        iter(value)  # type: ignore[call-overload]
    except TypeError:
        return False
    return True
