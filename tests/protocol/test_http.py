"""Tests for ``unwired._protocol._http``: the HTTP response state machine.

Every case is a list of the messages an app sends, fed to a fresh ``HTTPCycle``;
the tables say which events (or which error) must come out, and in what state.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

import pytest

from unwired._exceptions import ASGIProtocolError, ClientDisconnected, UnwiredError
from unwired._protocol._http import (
    DISCONNECT_MESSAGE,
    BodyChunk,
    DebugInfo,
    EarlyHint,
    Event,
    FileBody,
    HTTPCycle,
    PushPromise,
    ReceiveAction,
    ResponseStart,
    ResponseState,
    Trailers,
)

AWAITING_START = ResponseState.AWAITING_START
SENDING_BODY = ResponseState.SENDING_BODY
SENDING_TRAILERS = ResponseState.SENDING_TRAILERS
COMPLETE = ResponseState.COMPLETE
ERROR = ResponseState.ERROR

READ_BODY = ReceiveAction.READ_BODY
WAIT = ReceiveAction.WAIT
DISCONNECT = ReceiveAction.DISCONNECT


def msg(kind: str, **fields: Any) -> dict[str, Any]:
    """An ``http.response.<kind>`` message with the given keys."""
    return {"type": f"http.response.{kind}", **fields}


class FakeFile:
    """Just enough of an open file for ``http.response.zerocopysend``."""

    def fileno(self) -> int:
        return 99


FILE = FakeFile()
TEXT = [(b"content-type", b"text/plain")]
START = msg("start", status=200)
END = msg("body")
MORE = msg("body", body=b"", more_body=True)


def feed(method: str, messages: Sequence[Any]) -> tuple[HTTPCycle, list[Event]]:
    """A new cycle for ``method`` after the app sent ``messages``, and the events."""
    cycle = HTTPCycle(method)
    return cycle, [cycle.app_sent(message) for message in messages]


# -- valid sequences ----------------------------------------------------------

VALID = [
    pytest.param(
        "GET",
        [msg("start", status=200, headers=TEXT), msg("body", body=b"hello")],
        [ResponseStart(200, TEXT, False), BodyChunk(b"hello", False)],
        COMPLETE,
        id="start-and-body",
    ),
    pytest.param(
        "GET",
        [msg("start", status=204), msg("body")],
        [ResponseStart(204, [], False), BodyChunk(b"", False)],
        COMPLETE,
        id="defaults-no-headers-no-body",
    ),
    pytest.param(
        "GET",
        [msg("start", status=100), END],
        [ResponseStart(100, [], False), BodyChunk(b"", False)],
        COMPLETE,
        id="status-100-lowest",
    ),
    pytest.param(
        "GET",
        [msg("start", status=599), END],
        [ResponseStart(599, [], False), BodyChunk(b"", False)],
        COMPLETE,
        id="status-599-highest",
    ),
    pytest.param(
        "GET",
        [msg("start", status=200, headers=[[b"x-a", b"1"], [b"x-a", b"2"]]), END],
        [ResponseStart(200, [(b"x-a", b"1"), (b"x-a", b"2")], False), BodyChunk(b"", False)],
        COMPLETE,
        id="headers-as-lists-order-and-duplicates-kept",
    ),
    pytest.param(
        "GET",
        [msg("start", status=200, headers={b"x-a": b"1"}.items()), END],
        [ResponseStart(200, [(b"x-a", b"1")], False), BodyChunk(b"", False)],
        COMPLETE,
        id="headers-any-iterable-of-pairs",
    ),
    pytest.param(
        "GET",
        [msg("start", status=200, headers=TEXT)],
        [ResponseStart(200, TEXT, False)],
        SENDING_BODY,
        id="start-only",
    ),
    pytest.param(
        "GET",
        [
            START,
            msg("body", body=b"a", more_body=True),
            msg("body", body=b"b", more_body=True),
            msg("body", body=b"", more_body=False),
        ],
        [
            ResponseStart(200, [], False),
            BodyChunk(b"a", True),
            BodyChunk(b"b", True),
            BodyChunk(b"", False),
        ],
        COMPLETE,
        id="chunked-body",
    ),
    pytest.param(
        "GET",
        [START, msg("body", body=b"a", more_body=True)],
        [ResponseStart(200, [], False), BodyChunk(b"a", True)],
        SENDING_BODY,
        id="chunked-body-unfinished",
    ),
    pytest.param(
        "GET",
        [
            msg("start", status=200, trailers=True),
            msg("body", body=b"data"),
            msg("trailers", headers=[(b"x-checksum", b"abc")]),
        ],
        [
            ResponseStart(200, [], True),
            BodyChunk(b"data", False),
            Trailers([(b"x-checksum", b"abc")], False),
        ],
        COMPLETE,
        id="trailers",
    ),
    pytest.param(
        "GET",
        [
            msg("start", status=200, trailers=True),
            MORE,
            END,
            msg("trailers", headers=[(b"x-a", b"1")], more_trailers=True),
            msg("trailers", more_trailers=False),
        ],
        [
            ResponseStart(200, [], True),
            BodyChunk(b"", True),
            BodyChunk(b"", False),
            Trailers([(b"x-a", b"1")], True),
            Trailers([], False),
        ],
        COMPLETE,
        id="trailers-with-more-trailers",
    ),
    pytest.param(
        "GET",
        [msg("start", status=200, trailers=True), END],
        [ResponseStart(200, [], True), BodyChunk(b"", False)],
        SENDING_TRAILERS,
        id="trailers-due",
    ),
    pytest.param(
        "GET",
        [msg("start", status=200, trailers=True), msg("body", more_body=True)],
        [ResponseStart(200, [], True), BodyChunk(b"", True)],
        SENDING_BODY,
        id="trailers-promised-body-unfinished",
    ),
    pytest.param(
        "GET",
        [msg("start", status=200, trailers=False), END],
        [ResponseStart(200, [], False), BodyChunk(b"", False)],
        COMPLETE,
        id="trailers-explicitly-false",
    ),
    pytest.param(
        "GET",
        [START, msg("pathsend", path="/srv/www/index.html")],
        [ResponseStart(200, [], False), FileBody("/srv/www/index.html", None, 0, None, False)],
        COMPLETE,
        id="pathsend",
    ),
    pytest.param(
        "GET",
        [msg("start", status=200, trailers=True), msg("pathsend", path="/f"), msg("trailers")],
        [
            ResponseStart(200, [], True),
            FileBody("/f", None, 0, None, False),
            Trailers([], False),
        ],
        COMPLETE,
        id="pathsend-then-trailers",
    ),
    pytest.param(
        "GET",
        [START, msg("zerocopysend", file=FILE)],
        [ResponseStart(200, [], False), FileBody(None, FILE, None, None, False)],
        COMPLETE,
        id="zerocopysend-whole-file",
    ),
    pytest.param(
        "GET",
        [
            START,
            msg("zerocopysend", file=FILE, offset=10, count=20, more_body=True),
            msg("body", body=b"!"),
        ],
        [
            ResponseStart(200, [], False),
            FileBody(None, FILE, 10, 20, True),
            BodyChunk(b"!", False),
        ],
        COMPLETE,
        id="zerocopysend-offset-and-count-then-body",
    ),
    pytest.param(
        "GET",
        [START, msg("zerocopysend", file=FILE, offset=0)],
        [ResponseStart(200, [], False), FileBody(None, FILE, 0, None, False)],
        COMPLETE,
        id="zerocopysend-offset-only",
    ),
    pytest.param(
        "GET",
        [START, msg("zerocopysend", file=FILE, count=5, more_body=True)],
        [ResponseStart(200, [], False), FileBody(None, FILE, None, 5, True)],
        SENDING_BODY,
        id="zerocopysend-count-only",
    ),
    pytest.param(
        "GET",
        [
            START,
            msg("body", body=b"head", more_body=True),
            msg("zerocopysend", file=FILE, more_body=True),
            msg("zerocopysend", file=FILE),
        ],
        [
            ResponseStart(200, [], False),
            BodyChunk(b"head", True),
            FileBody(None, FILE, None, None, True),
            FileBody(None, FILE, None, None, False),
        ],
        COMPLETE,
        id="zerocopysend-mixed-with-body-and-repeated",
    ),
    pytest.param(
        "GET",
        [msg("debug", info={"template": "index.html", "context": {"n": 1}}), START, END],
        [
            DebugInfo({"template": "index.html", "context": {"n": 1}}),
            ResponseStart(200, [], False),
            BodyChunk(b"", False),
        ],
        COMPLETE,
        id="debug-before-start",
    ),
    pytest.param(
        "GET",
        [msg("debug")],
        [DebugInfo({})],
        AWAITING_START,
        id="debug-without-info",
    ),
    pytest.param(
        "GET",
        [msg("early_hint", links=[b"</style.css>; rel=preload; as=style"]), START, END],
        [
            EarlyHint([b"</style.css>; rel=preload; as=style"]),
            ResponseStart(200, [], False),
            BodyChunk(b"", False),
        ],
        COMPLETE,
        id="early-hint-before-start",
    ),
    pytest.param(
        "GET",
        [msg("early_hint", links=(b"<a>", b"<b>")), msg("early_hint", links=[b"<c>"])],
        [EarlyHint([b"<a>", b"<b>"]), EarlyHint([b"<c>"])],
        AWAITING_START,
        id="early-hint-tuple-becomes-list-and-repeats",
    ),
    pytest.param(
        "GET",
        [msg("early_hint")],
        [EarlyHint([])],
        AWAITING_START,
        id="early-hint-without-links",
    ),
    pytest.param(
        "GET",
        [START, msg("push", path="/style.css", headers=[(b"accept", b"text/css")]), END],
        [
            ResponseStart(200, [], False),
            PushPromise("/style.css", [(b"accept", b"text/css")]),
            BodyChunk(b"", False),
        ],
        COMPLETE,
        id="push-after-start",
    ),
    pytest.param(
        "GET",
        [START, msg("push", path="/a b")],
        [ResponseStart(200, [], False), PushPromise("/a b", [])],
        SENDING_BODY,
        id="push-without-headers",
    ),
    pytest.param(
        "HEAD",
        [
            msg("start", status=200, headers=[(b"content-length", b"10")]),
            msg("body", body=b"hello", more_body=True),
            msg("body", body=b"world"),
        ],
        [
            ResponseStart(200, [(b"content-length", b"10")], False),
            BodyChunk(b"", True),
            BodyChunk(b"", False),
        ],
        COMPLETE,
        id="head-drops-body-keeps-more-body",
    ),
    pytest.param(
        "HEAD",
        [START, msg("pathsend", path="/f")],
        [ResponseStart(200, [], False), BodyChunk(b"", False)],
        COMPLETE,
        id="head-pathsend",
    ),
    pytest.param(
        "HEAD",
        [START, msg("zerocopysend", file=FILE, more_body=True), msg("zerocopysend", file=FILE)],
        [ResponseStart(200, [], False), BodyChunk(b"", True), BodyChunk(b"", False)],
        COMPLETE,
        id="head-zerocopysend",
    ),
    pytest.param(
        "GET",
        [START, msg("body", body=bytearray(b"abc"), more_body=True), END],
        [ResponseStart(200, [], False), BodyChunk(b"abc", True), BodyChunk(b"", False)],
        COMPLETE,
        id="bytearray-body",
    ),
    pytest.param(
        "GET",
        [START, msg("body", body=memoryview(b"abc"))],
        [ResponseStart(200, [], False), BodyChunk(b"abc", False)],
        COMPLETE,
        id="memoryview-body",
    ),
    pytest.param(
        "GET",
        [
            MappingProxyType({"type": "http.response.start", "status": 201}),
            OrderedDict(type="http.response.body", body=b"x"),
        ],
        [ResponseStart(201, [], False), BodyChunk(b"x", False)],
        COMPLETE,
        id="messages-as-other-mappings",
    ),
]


@pytest.mark.parametrize(("method", "messages", "events", "state"), VALID)
def test_valid_sequence(
    method: str, messages: list[Any], events: list[Event], state: ResponseState
) -> None:
    cycle, got = feed(method, messages)
    assert got == events
    assert cycle.state is state


@pytest.mark.parametrize(
    "data", [bytearray(b"abc"), memoryview(b"abc")], ids=["bytearray", "memoryview"]
)
def test_bytes_like_body_becomes_bytes(data: bytearray | memoryview) -> None:
    cycle, _ = feed("GET", [START])
    event = cycle.app_sent(msg("body", body=data))
    # BodyChunk(bytearray(b"abc"), False) == BodyChunk(b"abc", False), so check the type.
    assert event == BodyChunk(b"abc", False)
    assert isinstance(event, BodyChunk)
    assert type(event.data) is bytes


def test_header_tuples_are_copied_into_a_new_list() -> None:
    headers: list[Any] = [[b"x-a", b"1"]]
    cycle, _ = feed("GET", [])
    event = cycle.app_sent(msg("start", status=200, headers=headers))
    assert event == ResponseStart(200, [(b"x-a", b"1")], False)
    assert isinstance(event, ResponseStart)
    assert event.headers is not headers
    assert type(event.headers[0]) is tuple


def test_state_after_each_message() -> None:
    cycle = HTTPCycle("GET")
    states = [cycle.state]
    for message in [
        msg("debug", info={}),
        msg("start", status=200, trailers=True),
        MORE,
        END,
        msg("trailers", more_trailers=True),
        msg("trailers"),
    ]:
        cycle.app_sent(message)
        states.append(cycle.state)
    assert states == [
        AWAITING_START,
        AWAITING_START,
        SENDING_BODY,
        SENDING_BODY,
        SENDING_TRAILERS,
        SENDING_TRAILERS,
        COMPLETE,
    ]


# -- invalid messages ---------------------------------------------------------


class Invalid(NamedTuple):
    id: str
    before: list[Any]  # valid messages sent first
    message: Any  # the offending one
    text: str  # must appear in the error message
    message_type: str | None
    state: str  # the state the error names


_NOT_BYTES = "names and values must be bytes, not str: encode them with .encode('latin-1')"
_NOT_PAIR = "each header must be a [name, value] pair of byte strings"
_NOT_ITERABLE = "it must be an iterable of [name, value] byte-string pairs"
_BODY_EXPECTED = (
    "expected 'http.response.body' (or 'http.response.pathsend' / 'http.response.zerocopysend')"
)
_COMPLETE_EXPECTED = "expected nothing more: the response is complete"
_ONE_START = (
    "a response has one start: an error handler may be sending a second response after the "
    "first had started"
)
_EVERY_MESSAGE = "every message is a dict whose 'type' is a str such as 'http.response.start'"
_NOT_HTTP = "which is not an ASGI HTTP message an app can send"

INVALID = [
    # -- out of order
    Invalid(
        "body-before-start",
        [],
        msg("body", body=b"x"),
        "app sent 'http.response.body' before 'http.response.start'; "
        "expected 'http.response.start' first",
        "http.response.body",
        "AWAITING_START",
    ),
    Invalid(
        "pathsend-before-start",
        [],
        msg("pathsend", path="/f"),
        "app sent 'http.response.pathsend' before 'http.response.start'",
        "http.response.pathsend",
        "AWAITING_START",
    ),
    Invalid(
        "trailers-before-start",
        [],
        msg("trailers"),
        "app sent 'http.response.trailers' before 'http.response.start'",
        "http.response.trailers",
        "AWAITING_START",
    ),
    Invalid(
        "start-twice",
        [START],
        START,
        "app sent 'http.response.start' after 'http.response.start', "
        f"while the body is being sent; {_BODY_EXPECTED}; {_ONE_START}",
        "http.response.start",
        "SENDING_BODY",
    ),
    Invalid(
        "early-hint-after-start",
        [START],
        msg("early_hint", links=[]),
        "app sent 'http.response.early_hint' after 'http.response.start'",
        "http.response.early_hint",
        "SENDING_BODY",
    ),
    Invalid(
        "body-after-complete",
        [START, END],
        msg("body", body=b"late"),
        f"app sent 'http.response.body' after the response was complete; {_COMPLETE_EXPECTED}"
        "; did the last body message leave out 'more_body': True?",
        "http.response.body",
        "COMPLETE",
    ),
    Invalid(
        "body-after-zerocopysend-complete",
        [START, msg("zerocopysend", file=FILE)],
        msg("body", body=b"late"),
        f"app sent 'http.response.body' after the response was complete; {_COMPLETE_EXPECTED}"
        "; did the last body message leave out 'more_body': True?",
        "http.response.body",
        "COMPLETE",
    ),
    Invalid(
        "body-after-pathsend",
        [START, msg("pathsend", path="/f")],
        msg("body", body=b"late"),
        f"app sent 'http.response.body' after the response was complete; {_COMPLETE_EXPECTED}",
        "http.response.body",
        "COMPLETE",
    ),
    Invalid(
        "body-after-trailers",
        [msg("start", status=200, trailers=True), END, msg("trailers")],
        msg("body", body=b"late"),
        f"app sent 'http.response.body' after the response was complete; {_COMPLETE_EXPECTED}",
        "http.response.body",
        "COMPLETE",
    ),
    Invalid(
        "start-after-complete",
        [START, END],
        START,
        "app sent 'http.response.start' after the response was complete; "
        f"{_COMPLETE_EXPECTED}; {_ONE_START}",
        "http.response.start",
        "COMPLETE",
    ),
    Invalid(
        "pathsend-after-pathsend",
        [START, msg("pathsend", path="/f")],
        msg("pathsend", path="/f"),
        "app sent 'http.response.pathsend' after the response was complete",
        "http.response.pathsend",
        "COMPLETE",
    ),
    Invalid(
        "trailers-not-promised",
        [START, END],
        msg("trailers"),
        "app sent 'http.response.trailers' but its 'http.response.start' did not set "
        "'trailers': True, so the response was already complete; to send trailers, set "
        "'trailers': True in 'http.response.start'",
        "http.response.trailers",
        "COMPLETE",
    ),
    Invalid(
        "trailers-before-body-done",
        [msg("start", status=200, trailers=True), MORE],
        msg("trailers"),
        "app sent 'http.response.trailers' after 'http.response.start', "
        f"while the body is being sent; {_BODY_EXPECTED}",
        "http.response.trailers",
        "SENDING_BODY",
    ),
    Invalid(
        "body-while-trailers-due",
        [msg("start", status=200, trailers=True), END],
        msg("body"),
        "app sent 'http.response.body' after the last body message, while trailers are due; "
        "expected 'http.response.trailers', as 'trailers': True promised",
        "http.response.body",
        "SENDING_TRAILERS",
    ),
    Invalid(
        "trailers-after-last-trailers",
        [msg("start", status=200, trailers=True), END, msg("trailers")],
        msg("trailers"),
        "app sent 'http.response.trailers' after the response was complete",
        "http.response.trailers",
        "COMPLETE",
    ),
    # -- not an HTTP response message
    Invalid(
        "websocket-send",
        [],
        {"type": "websocket.send", "text": "hi"},
        f"app sent 'websocket.send', {_NOT_HTTP}, "
        "before 'http.response.start'; expected 'http.response.start' first",
        "websocket.send",
        "AWAITING_START",
    ),
    Invalid(
        "http-request-while-sending-body",
        [START],
        {"type": "http.request", "body": b""},
        f"app sent 'http.request', {_NOT_HTTP}, "
        "after 'http.response.start', while the body is being sent",
        "http.request",
        "SENDING_BODY",
    ),
    Invalid(
        "unknown-http-response-type",
        [],
        msg("bogus"),
        f"app sent 'http.response.bogus', {_NOT_HTTP}, before 'http.response.start'; expected",
        "http.response.bogus",
        "AWAITING_START",
    ),
    Invalid(
        "misspelt-http-response-type",
        [START],
        msg("bdy", body=b"x"),
        f"app sent 'http.response.bdy', {_NOT_HTTP} (did you mean 'http.response.body'?), "
        f"after 'http.response.start', while the body is being sent; {_BODY_EXPECTED}",
        "http.response.bdy",
        "SENDING_BODY",
    ),
    Invalid(
        "misspelt-family",
        [],
        {"type": "http.respone.start", "status": 200},
        f"app sent 'http.respone.start', {_NOT_HTTP} (did you mean 'http.response.start'?), "
        "before 'http.response.start'",
        "http.respone.start",
        "AWAITING_START",
    ),
    Invalid(
        "unknown-family",
        [],
        {"type": "lifespan.startup.complete"},
        f"app sent 'lifespan.startup.complete', {_NOT_HTTP}, before 'http.response.start'",
        "lifespan.startup.complete",
        "AWAITING_START",
    ),
    # -- not a message at all
    Invalid(
        "str-instead-of-message",
        [],
        "http.response.start",
        f"app sent str 'http.response.start' instead of a message; {_EVERY_MESSAGE}",
        None,
        "AWAITING_START",
    ),
    Invalid(
        "none-instead-of-message",
        [START],
        None,
        "app sent NoneType None instead of a message",
        None,
        "SENDING_BODY",
    ),
    Invalid(
        "list-of-pairs-instead-of-message",
        [],
        [("type", "http.response.start")],
        "app sent list [('type', 'http.response.start')] instead of a message",
        None,
        "AWAITING_START",
    ),
    Invalid(
        "missing-type",
        [],
        {"status": 200},
        f"app sent a message without a str 'type': {{'status': 200}}; {_EVERY_MESSAGE}",
        None,
        "AWAITING_START",
    ),
    Invalid(
        "bytes-type",
        [],
        {"type": b"http.response.start"},
        "app sent a message without a str 'type': {'type': b'http.response.start'}",
        None,
        "AWAITING_START",
    ),
    Invalid(
        "mapping-with-non-str-type",
        [],
        MappingProxyType({"type": 1}),
        "app sent a message without a str 'type': {'type': 1}",
        None,
        "AWAITING_START",
    ),
    # -- http.response.start fields
    Invalid(
        "status-missing",
        [],
        msg("start"),
        "app sent 'http.response.start' without 'status'; it must be an int, e.g. 200",
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "status-none",
        [],
        msg("start", status=None),
        "app sent 'http.response.start' whose 'status' is NoneType None; "
        "it must be an int, e.g. 200",
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "status-99",
        [],
        msg("start", status=99),
        "app sent 'http.response.start' with status 99; "
        "it must be an HTTP status code from 100 to 599",
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "status-600",
        [],
        msg("start", status=600),
        "app sent 'http.response.start' with status 600; "
        "it must be an HTTP status code from 100 to 599",
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "status-bool",
        [],
        msg("start", status=True),
        "app sent 'http.response.start' whose 'status' is bool True; it must be an int",
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "status-str",
        [],
        msg("start", status="200"),
        "app sent 'http.response.start' whose 'status' is str '200'; it must be an int",
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "status-float",
        [],
        msg("start", status=200.0),
        "app sent 'http.response.start' whose 'status' is float 200.0; it must be an int",
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "headers-str-pairs",
        [],
        msg("start", status=200, headers=[("content-type", "text/plain")]),
        "app sent 'http.response.start' with header ('content-type', 'text/plain'); " + _NOT_BYTES,
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "headers-str-value",
        [],
        msg("start", status=200, headers=[(b"content-type", "text/plain")]),
        "with header (b'content-type', 'text/plain'); " + _NOT_BYTES,
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "headers-one-item",
        [],
        msg("start", status=200, headers=[(b"content-type",)]),
        "app sent 'http.response.start' with header (b'content-type',); " + _NOT_PAIR,
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "headers-three-items",
        [],
        msg("start", status=200, headers=[[b"a", b"b", b"c"]]),
        "with header [b'a', b'b', b'c']; " + _NOT_PAIR,
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "headers-flat-list-of-bytes",
        [],
        msg("start", status=200, headers=[b"content-type", b"text/plain"]),
        "with header b'content-type'; " + _NOT_PAIR,
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "headers-dict",
        [],
        msg("start", status=200, headers={b"content-type": b"text/plain"}),
        "app sent 'http.response.start' whose 'headers' is a dict; it must be a list of "
        "[name, value] pairs: pass list(headers.items())",
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "headers-not-iterable",
        [],
        msg("start", status=200, headers=42),
        "app sent 'http.response.start' whose 'headers' is int 42; " + _NOT_ITERABLE,
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "headers-none",
        [],
        msg("start", status=200, headers=None),
        "whose 'headers' is NoneType None; " + _NOT_ITERABLE,
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "headers-str",
        [],
        msg("start", status=200, headers="content-type: text/plain"),
        "whose 'headers' is str 'content-type: text/plain'; " + _NOT_ITERABLE,
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "headers-bytes",
        [],
        msg("start", status=200, headers=b"content-type: text/plain"),
        "whose 'headers' is bytes b'content-type: text/plain'; " + _NOT_ITERABLE,
        "http.response.start",
        "AWAITING_START",
    ),
    Invalid(
        "trailers-flag-not-bool",
        [],
        msg("start", status=200, trailers="yes"),
        "app sent 'http.response.start' whose 'trailers' is str 'yes'; it must be True or False",
        "http.response.start",
        "AWAITING_START",
    ),
    # -- http.response.body fields
    Invalid(
        "body-str",
        [START],
        msg("body", body="hello"),
        "app sent 'http.response.body' whose 'body' is str 'hello'; it must be bytes; "
        "encode it first, e.g. text.encode('utf-8')",
        "http.response.body",
        "SENDING_BODY",
    ),
    Invalid(
        "body-int",
        [START],
        msg("body", body=5),
        "app sent 'http.response.body' whose 'body' is int 5; it must be bytes",
        "http.response.body",
        "SENDING_BODY",
    ),
    Invalid(
        "more-body-int",
        [START],
        msg("body", body=b"", more_body=1),
        "app sent 'http.response.body' whose 'more_body' is int 1; it must be True or False",
        "http.response.body",
        "SENDING_BODY",
    ),
    Invalid(
        "more-body-none",
        [START],
        msg("body", more_body=None),
        "whose 'more_body' is NoneType None; it must be True or False",
        "http.response.body",
        "SENDING_BODY",
    ),
    # -- extensions
    Invalid(
        "pathsend-without-path",
        [START],
        msg("pathsend"),
        "app sent 'http.response.pathsend' without 'path'; it must be a str",
        "http.response.pathsend",
        "SENDING_BODY",
    ),
    Invalid(
        "pathsend-bytes-path",
        [START],
        msg("pathsend", path=b"/f"),
        "app sent 'http.response.pathsend' whose 'path' is bytes b'/f'; it must be a str",
        "http.response.pathsend",
        "SENDING_BODY",
    ),
    Invalid(
        "zerocopysend-without-file",
        [START],
        msg("zerocopysend"),
        "app sent 'http.response.zerocopysend' whose 'file' is NoneType; "
        "it must be an open file with an OS file descriptor (io.BytesIO has none)",
        "http.response.zerocopysend",
        "SENDING_BODY",
    ),
    Invalid(
        "zerocopysend-path-as-file",
        [START],
        msg("zerocopysend", file="/f"),
        "app sent 'http.response.zerocopysend' whose 'file' is str; it must be an open file "
        "with an OS file descriptor (io.BytesIO has none)",
        "http.response.zerocopysend",
        "SENDING_BODY",
    ),
    Invalid(
        "zerocopysend-offset-str",
        [START],
        msg("zerocopysend", file=FILE, offset="10"),
        "app sent 'http.response.zerocopysend' whose 'offset' is str '10'; it must be an int",
        "http.response.zerocopysend",
        "SENDING_BODY",
    ),
    Invalid(
        "zerocopysend-offset-none",
        [START],
        msg("zerocopysend", file=FILE, offset=None),
        "whose 'offset' is NoneType None; it must be an int",
        "http.response.zerocopysend",
        "SENDING_BODY",
    ),
    Invalid(
        "zerocopysend-count-bool",
        [START],
        msg("zerocopysend", file=FILE, count=False),
        "app sent 'http.response.zerocopysend' whose 'count' is bool False; it must be an int",
        "http.response.zerocopysend",
        "SENDING_BODY",
    ),
    Invalid(
        "zerocopysend-more-body-str",
        [START],
        msg("zerocopysend", file=FILE, more_body="no"),
        "whose 'more_body' is str 'no'; it must be True or False",
        "http.response.zerocopysend",
        "SENDING_BODY",
    ),
    Invalid(
        "trailers-bad-headers",
        [msg("start", status=200, trailers=True), END],
        msg("trailers", headers=[("x-checksum", "abc")]),
        "app sent 'http.response.trailers' with header ('x-checksum', 'abc'); " + _NOT_BYTES,
        "http.response.trailers",
        "SENDING_TRAILERS",
    ),
    Invalid(
        "more-trailers-not-bool",
        [msg("start", status=200, trailers=True), END],
        msg("trailers", more_trailers=0),
        "app sent 'http.response.trailers' whose 'more_trailers' is int 0; "
        "it must be True or False",
        "http.response.trailers",
        "SENDING_TRAILERS",
    ),
    Invalid(
        "debug-info-not-dict",
        [],
        msg("debug", info=[("template", "index.html")]),
        "app sent 'http.response.debug' whose 'info' is list; it must be a dict",
        "http.response.debug",
        "AWAITING_START",
    ),
    Invalid(
        "debug-info-none",
        [],
        msg("debug", info=None),
        "app sent 'http.response.debug' whose 'info' is NoneType; it must be a dict",
        "http.response.debug",
        "AWAITING_START",
    ),
    Invalid(
        "early-hint-str-links",
        [],
        msg("early_hint", links=["</style.css>; rel=preload"]),
        "app sent 'http.response.early_hint' whose 'links' is list ['</style.css>; rel=preload']; "
        "it must be a list of bytes, e.g. [b'</style.css>; rel=preload; as=style']",
        "http.response.early_hint",
        "AWAITING_START",
    ),
    Invalid(
        "early-hint-links-single-bytes",
        [],
        msg("early_hint", links=b"</style.css>; rel=preload"),
        "app sent 'http.response.early_hint' whose 'links' is bytes b'</style.css>; rel=preload'; "
        "it must be a list of bytes",
        "http.response.early_hint",
        "AWAITING_START",
    ),
    Invalid(
        "push-without-path",
        [START],
        msg("push"),
        "app sent 'http.response.push' without 'path'; it must be a str",
        "http.response.push",
        "SENDING_BODY",
    ),
    Invalid(
        "push-bad-headers",
        [START],
        msg("push", path="/a", headers=7),
        "app sent 'http.response.push' whose 'headers' is int 7; " + _NOT_ITERABLE,
        "http.response.push",
        "SENDING_BODY",
    ),
    # -- after an error: nothing is accepted
    Invalid(
        "start-after-error",
        [START, msg("body", more_body="yes")],
        START,
        "app sent 'http.response.start' after an earlier protocol error; expected nothing more",
        "http.response.start",
        "ERROR",
    ),
    Invalid(
        "body-after-error",
        [msg("body")],
        msg("body"),
        "app sent 'http.response.body' after an earlier protocol error; expected nothing more",
        "http.response.body",
        "ERROR",
    ),
]


def _fail_prefix(cycle: HTTPCycle, before: list[Any]) -> None:
    """Send ``before``; a message in it may itself be the error that starts a case."""
    for message in before:
        try:
            cycle.app_sent(message)
        except ASGIProtocolError:
            assert cycle.state is ERROR


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in INVALID])
def test_invalid_message(case: Invalid) -> None:
    cycle = HTTPCycle("GET")
    _fail_prefix(cycle, case.before)
    with pytest.raises(ASGIProtocolError) as info:
        cycle.app_sent(case.message)
    assert case.text in str(info.value)
    assert info.value.message_type == case.message_type
    assert info.value.state == case.state
    assert isinstance(info.value, UnwiredError)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in INVALID])
def test_error_is_sticky(case: Invalid) -> None:
    cycle = HTTPCycle("GET")
    _fail_prefix(cycle, case.before)
    with pytest.raises(ASGIProtocolError):
        cycle.app_sent(case.message)
    assert cycle.state is ERROR
    for message in [START, END, msg("trailers"), msg("debug")]:
        with pytest.raises(ASGIProtocolError) as info:
            cycle.app_sent(message)
        assert str(info.value) == (
            f"app sent {message['type']!r} after an earlier protocol error; expected nothing more"
        )
        assert info.value.state == "ERROR"
        assert cycle.state is ERROR
    cycle.app_returned()  # the error was reported already; returning adds nothing
    assert cycle.state is ERROR


def test_str_body_hint_only_for_str() -> None:
    hint = "encode it first"
    for body, hinted in [("text", True), (5, False), (None, False)]:
        cycle, _ = feed("GET", [START])
        with pytest.raises(ASGIProtocolError) as info:
            cycle.app_sent(msg("body", body=body))
        assert (hint in str(info.value)) is hinted


def test_long_non_message_is_truncated_in_the_error() -> None:
    cycle = HTTPCycle("GET")
    not_a_message: Any = "x" * 500
    with pytest.raises(ASGIProtocolError) as info:
        cycle.app_sent(not_a_message)
    assert str(info.value) == (
        f"app sent str '{'x' * 76}... instead of a message; {_EVERY_MESSAGE}"
    )


def test_long_message_without_type_is_shortened_visibly() -> None:
    cycle = HTTPCycle("GET")
    with pytest.raises(ASGIProtocolError) as info:
        cycle.app_sent({"body": b"x" * 500})
    assert str(info.value) == (
        f"app sent a message without a str 'type': {{'body': b'{'x' * 106}...; {_EVERY_MESSAGE}"
    )


def test_a_long_wrong_value_is_shortened_visibly() -> None:
    cycle, _ = feed("GET", [START])
    with pytest.raises(ASGIProtocolError) as info:
        cycle.app_sent(msg("body", body="y" * 100))
    assert str(info.value).startswith(
        f"app sent 'http.response.body' whose 'body' is str '{'y' * 56}...; it must be bytes"
    )


# -- spec requirements on the extensions ------------------------------------------

SPEC_RULES = [
    pytest.param(
        [msg("debug", info={})],
        msg("debug", info={}),
        id="debug-twice",
    ),
    pytest.param(
        [START, msg("body", body=b"a", more_body=True)],
        msg("pathsend", path="/f"),
        id="pathsend-after-body",
    ),
    pytest.param(
        [START],
        msg("zerocopysend", file=io.BytesIO(b"data")),
        id="zerocopysend-bytesio",
    ),
    pytest.param(
        [],
        msg("start", status=200, headers=[(b":status", b"200")]),
        id="pseudo-header",
    ),
]


@pytest.mark.parametrize(("before", "message"), SPEC_RULES)
def test_spec_violation_is_refused(before: list[Any], message: Any) -> None:
    cycle, _ = feed("GET", before)
    with pytest.raises(ASGIProtocolError):
        cycle.app_sent(message)


@pytest.mark.parametrize("key", ["offset", "count"])
def test_zerocopysend_refuses_negative_positions(key: str, tmp_path: Any) -> None:
    cycle, _ = feed("GET", [START])
    with (tmp_path / "f").open("wb") as file, pytest.raises(ASGIProtocolError) as info:
        cycle.app_sent(msg("zerocopysend", file=file, **{key: -1}))
    assert str(info.value) == (
        f"app sent 'http.response.zerocopysend' whose '{key}' is -1; it must not be negative"
    )


def test_debug_is_accepted_after_start_but_only_once() -> None:
    """Starlette's client accepts debug info at any point; unwired does too, once."""
    cycle = HTTPCycle("GET")
    cycle.app_sent(START)
    assert cycle.app_sent(msg("debug", info={"x": 1})) == DebugInfo({"x": 1})
    with pytest.raises(ASGIProtocolError, match="twice"):
        cycle.app_sent(msg("debug", info={}))


def test_push_is_accepted_before_and_after_start() -> None:
    """PRODUCT.md: push is accepted and recorded, never an error."""
    cycle = HTTPCycle("GET")
    assert cycle.app_sent(msg("push", path="/a.css")) == PushPromise("/a.css", [])
    cycle.app_sent(START)
    assert cycle.app_sent(msg("push", path="/b.css")) == PushPromise("/b.css", [])


# -- the test's side: receive(), disconnects, the app returning ----------------


def test_receive_action_over_a_whole_exchange() -> None:
    cycle = HTTPCycle("POST")
    assert cycle.receive_action() is READ_BODY
    assert cycle.request_body(b"ab", True) == {
        "type": "http.request",
        "body": b"ab",
        "more_body": True,
    }
    assert cycle.receive_action() is READ_BODY
    assert cycle.request_body(b"", False) == {
        "type": "http.request",
        "body": b"",
        "more_body": False,
    }
    assert cycle.receive_action() is WAIT
    cycle.app_sent(START)
    assert cycle.receive_action() is WAIT
    cycle.app_sent(MORE)
    assert cycle.receive_action() is WAIT
    cycle.app_sent(END)
    assert cycle.receive_action() is DISCONNECT
    assert cycle.receive_action() is DISCONNECT


Step = Callable[[HTTPCycle], object]


def _request_done(cycle: HTTPCycle) -> object:
    return cycle.request_body(b"", False)


def _request_more(cycle: HTTPCycle) -> object:
    return cycle.request_body(b"x", True)


def _send(*messages: dict[str, Any]) -> Step:
    def step(cycle: HTTPCycle) -> object:
        return [cycle.app_sent(message) for message in messages]

    return step


def _send_bad(cycle: HTTPCycle) -> object:
    with pytest.raises(ASGIProtocolError):
        cycle.app_sent(msg("body"))
    return None


def _disconnect(cycle: HTTPCycle) -> object:
    cycle.disconnect()
    return None


RECEIVE_ACTIONS = [
    pytest.param([], READ_BODY, id="fresh"),
    pytest.param([_request_more], READ_BODY, id="request-body-pending"),
    pytest.param([_request_more, _request_done], WAIT, id="request-complete"),
    pytest.param([_send(START, END)], READ_BODY, id="response-done-request-not"),
    pytest.param([_request_done, _send(START)], WAIT, id="response-started"),
    pytest.param(
        [_request_done, _send(msg("start", status=200, trailers=True), END)],
        WAIT,
        id="trailers-due",
    ),
    pytest.param([_request_done, _send(START, END)], DISCONNECT, id="response-complete"),
    pytest.param([_request_done, _send_bad], DISCONNECT, id="after-protocol-error"),
    pytest.param([_send_bad], READ_BODY, id="after-protocol-error-request-pending"),
    pytest.param([_disconnect], DISCONNECT, id="disconnected-before-request-read"),
    pytest.param([_request_done, _disconnect], DISCONNECT, id="disconnected-while-waiting"),
    pytest.param(
        [_request_done, _send(START, MORE), _disconnect], DISCONNECT, id="disconnected-mid-body"
    ),
]


@pytest.mark.parametrize(("steps", "action"), RECEIVE_ACTIONS)
def test_receive_action(steps: list[Step], action: ReceiveAction) -> None:
    cycle = HTTPCycle("GET")
    for step in steps:
        step(cycle)
    assert cycle.receive_action() is action


@pytest.mark.parametrize(
    ("data", "more_body", "complete"),
    [
        pytest.param(b"chunk", True, False, id="more"),
        pytest.param(b"last", False, True, id="last"),
        pytest.param(b"", False, True, id="empty"),
    ],
)
def test_request_body(data: bytes, more_body: bool, complete: bool) -> None:
    cycle = HTTPCycle("POST")
    message = cycle.request_body(data, more_body)
    assert message == {"type": "http.request", "body": data, "more_body": more_body}
    assert cycle.request_complete is complete


def test_disconnect_message() -> None:
    assert DISCONNECT_MESSAGE == {"type": "http.disconnect"}


@pytest.mark.parametrize(
    ("before", "message"),
    [
        pytest.param([], START, id="before-start"),
        pytest.param([START], msg("body", body=b"x"), id="mid-body"),
        pytest.param([START, END], msg("body"), id="after-complete"),
        pytest.param([START], "not a message", id="even-malformed"),
    ],
)
def test_send_after_disconnect_raises_client_disconnected(before: list[Any], message: Any) -> None:
    cycle, _ = feed("GET", before)
    state = cycle.state
    cycle.disconnect()
    assert cycle.disconnected is True
    with pytest.raises(ClientDisconnected) as info:
        cycle.app_sent(message)
    assert isinstance(info.value, OSError)
    assert str(info.value) == "the test closed the response; nothing more can be sent"
    assert cycle.state is state


APP_RETURNED_ERRORS = [
    pytest.param(
        [],
        "app returned without sending 'http.response.start'; every request needs a response",
        "AWAITING_START",
        id="no-start",
    ),
    pytest.param(
        [msg("debug"), msg("early_hint")],
        "app returned without sending 'http.response.start'; every request needs a response",
        "AWAITING_START",
        id="only-pre-start-messages",
    ),
    pytest.param(
        [START],
        "app returned after 'http.response.start' without sending the body; end the response "
        "with an 'http.response.body' message, e.g. {'type': 'http.response.body'}",
        "SENDING_BODY",
        id="no-body",
    ),
    pytest.param(
        [START, MORE],
        "app returned before the response body was complete: its last body message had "
        "'more_body': True; end the body with a message without it, e.g. "
        "{'type': 'http.response.body'}",
        "SENDING_BODY",
        id="mid-body",
    ),
]


@pytest.mark.parametrize(("before", "text", "state"), APP_RETURNED_ERRORS)
def test_app_returned_unfinished(before: list[Any], text: str, state: str) -> None:
    cycle, _ = feed("GET", before)
    with pytest.raises(ASGIProtocolError) as info:
        cycle.app_returned()
    assert str(info.value) == text
    assert info.value.message_type is None
    assert info.value.state == state
    assert cycle.state is ERROR
    cycle.app_returned()  # reported once
    assert cycle.state is ERROR


@pytest.mark.parametrize(
    ("before", "disconnect", "state"),
    [
        pytest.param([START, END], False, COMPLETE, id="complete"),
        pytest.param(
            [msg("start", status=200, trailers=True), END, msg("trailers")],
            False,
            COMPLETE,
            id="complete-with-trailers",
        ),
        pytest.param([START, msg("start")], False, ERROR, id="after-error"),
        pytest.param(
            [msg("start", status=200, trailers=True), END],
            False,
            SENDING_TRAILERS,
            id="trailers-promised-but-not-sent",
        ),
        pytest.param([], True, AWAITING_START, id="disconnected-before-start"),
        pytest.param([START, MORE], True, SENDING_BODY, id="disconnected-mid-body"),
    ],
)
def test_app_returned_quietly(before: list[Any], disconnect: bool, state: ResponseState) -> None:
    cycle = HTTPCycle("GET")
    _fail_prefix(cycle, before)
    if disconnect:
        cycle.disconnect()
    cycle.app_returned()  # does not raise
    assert cycle.state is state
