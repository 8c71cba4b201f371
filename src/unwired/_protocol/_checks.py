"""Field checks shared by the HTTP, WebSocket and lifespan state machines.

Rule: a check either returns the field's value in its canonical Python type or
raises ``ASGIProtocolError`` saying which field of which message was wrong, what
it was and what the spec wants instead. How a wrong value is shown
(``describe``, cut visibly by ``shorten``) and which known message type a
misspelt one was meant to be (``guess``) are decided here too, for every error
message unwired writes, the clients' included.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Callable, Collection, Mapping
from typing import Any, NoReturn

from .._exceptions import ASGIProtocolError, ClientDisconnected
from .._types import Headers

_BYTES_LIKE = (bytes, bytearray, memoryview)


def fail(text: str, message_type: str | None, state: enum.Enum) -> NoReturn:
    raise ASGIProtocolError(text, message_type=message_type, state=state.name)


def message_type(message: object, state: enum.Enum, example: str) -> str:
    """The ``type`` of a message, which must be a dict with a string type.

    ``example`` is a type of the protocol at hand, shown in the error.
    """
    if type(message) is dict:
        kind = message.get("type")
        if type(kind) is str:
            return kind
    rule = f"every message is a dict whose 'type' is a str such as {example!r}"
    if not isinstance(message, Mapping):
        fail(f"app sent {describe(message, 80)} instead of a message; {rule}", None, state)
    kind = message.get("type")
    if not isinstance(kind, str):
        what = shorten(repr(dict(message)), 120)
        fail(f"app sent a message without a str 'type': {what}; {rule}", None, state)
    return kind


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the cut shown by '...'."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(value: object, limit: int = 60) -> str:
    """A value for an error message: its type's name and its (shortened) repr."""
    return f"{type(value).__name__} {shorten(repr(value), limit)}"


def guess(kind: str, known: Collection[str]) -> str | None:
    """The known message type ``kind`` was probably meant to be, if any.

    Types are compared by their last part among the types of the same family
    (``http.response.bdy`` -> ``http.response.body``); a type of no known
    family must be nearly one of the known types.
    """
    family, _, last = kind.rpartition(".")
    members = {k.rpartition(".")[2]: k for k in known if k.rpartition(".")[0] == family}
    if members:
        found = difflib.get_close_matches(last, members, n=1)
        return members[found[0]] if found else None
    found = difflib.get_close_matches(kind, known, n=1, cutoff=0.9)
    return found[0] if found else None


def sent(kind: str, known: Collection[str], protocol: str) -> str:
    """``app sent 'kind'``, saying so when ``kind`` is no message an app sends in ``protocol``."""
    if kind in known:
        return f"app sent {kind!r}"
    meant = guess(kind, known)
    hint = f" (did you mean {meant!r}?)" if meant is not None else ""
    return f"app sent {kind!r}, which is not an ASGI {protocol} message an app can send{hint},"


def wrong(message: Mapping[str, Any], key: str, rule: str, state: enum.Enum) -> NoReturn:
    """Fail on field ``key`` of ``message``: what it was (or that it is missing), then ``rule``."""
    kind = message["type"]
    if key in message:
        fail(f"app sent {kind!r} whose {key!r} is {describe(message[key])}; {rule}", kind, state)
    fail(f"app sent {kind!r} without {key!r}; {rule}", kind, state)


def body(message: Mapping[str, Any], key: str, state: enum.Enum) -> bytes:
    value = message.get(key, b"")
    if isinstance(value, bytes):
        return value
    if isinstance(value, _BYTES_LIKE):
        return bytes(value)
    hint = "; encode it first, e.g. text.encode('utf-8')" if isinstance(value, str) else ""
    wrong(message, key, f"it must be bytes{hint}", state)


def flag(message: Mapping[str, Any], key: str, state: enum.Enum) -> bool:
    value = message.get(key, False)
    if isinstance(value, bool):
        return value
    wrong(message, key, "it must be True or False", state)


def text(
    message: Mapping[str, Any], key: str, state: enum.Enum, *, optional: bool = True
) -> str | None:
    value = message.get(key)
    if isinstance(value, str) or (value is None and optional):
        return value
    wrong(message, key, "it must be a str", state)


def integer(message: Mapping[str, Any], key: str, state: enum.Enum, example: str = "") -> int:
    value = message.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    wrong(message, key, f"it must be an int{example and f', e.g. {example}'}", state)


def status(message: Mapping[str, Any], state: enum.Enum) -> int:
    """An HTTP status code (of a response, or of a WebSocket denial response)."""
    value = integer(message, "status", state, "200")
    if not 100 <= value <= 599:
        fail(
            f"app sent {message['type']!r} with status {value}; "
            "it must be an HTTP status code from 100 to 599",
            message["type"],
            state,
        )
    return value


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
    if type(raw) is not list and type(raw) is not tuple:  # the usual kinds need no more
        if isinstance(raw, Mapping):
            fail(
                f"app sent {kind!r} whose {key!r} is a {type(raw).__name__}; it must be a list "
                "of [name, value] pairs: pass list(headers.items())",
                kind,
                state,
            )
        if isinstance(raw, str | bytes) or not _iterable(raw):
            wrong(message, key, "it must be an iterable of [name, value] byte-string pairs", state)
    result: Headers = []
    for pair in raw:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            fail(
                f"app sent {kind!r} with header {shorten(repr(pair), 80)}; each header must be a "
                "[name, value] pair of byte strings",
                kind,
                state,
            )
        name, value = pair
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            fail(
                f"app sent {kind!r} with header {shorten(repr(pair), 80)}; names and values must "
                "be bytes, not str: encode them with .encode('latin-1')",
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
        example: a message type of the protocol, shown when a message has none.
        error: the state to stay in after any failure (sticky).
        gone: the text of the ``ClientDisconnected`` raised once the test left.
        after_gone: message types still allowed after the test left.
    """

    __slots__ = ("_accepts", "_after_gone", "_error", "_example", "_gone", "handlers")

    def __init__(
        self,
        accepts: Mapping[Any, frozenset[str]],
        example: str,
        error: enum.Enum,
        gone: str,
        after_gone: frozenset[str] = frozenset(),
    ) -> None:
        self._accepts = accepts
        self._example = example
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
            kind = message_type(message, state, self._example)
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
