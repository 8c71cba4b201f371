"""WebSocketCycle: what an app may send in each state, and what it means."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from unwired import ASGIProtocolError, ClientDisconnected
from unwired._protocol._websocket import (
    CLOSED,
    CONNECTED,
    CONNECTING,
    DENYING,
    ERROR,
    Accepted,
    Closed,
    Data,
    DenialBody,
    DenialStart,
    WebSocketCycle,
)

ACCEPT = {"type": "websocket.accept"}
DENY = {"type": "websocket.http.response.start", "status": 403, "headers": []}


def feed(messages: list[Any]) -> tuple[WebSocketCycle, list[Any]]:
    cycle = WebSocketCycle()
    return cycle, [cycle.app_sent(message) for message in messages]


VALID = [
    pytest.param([ACCEPT], [Accepted(None, [])], CONNECTED, id="accept"),
    pytest.param(
        [{"type": "websocket.accept", "subprotocol": "chat", "headers": [(b"x", b"1")]}],
        [Accepted("chat", [(b"x", b"1")])],
        CONNECTED,
        id="accept-subprotocol-headers",
    ),
    pytest.param(
        [ACCEPT, {"type": "websocket.send", "text": "hi"}],
        [Accepted(None, []), Data("hi", None)],
        CONNECTED,
        id="send-text",
    ),
    pytest.param(
        [ACCEPT, {"type": "websocket.send", "bytes": bytearray(b"\x00")}],
        [Accepted(None, []), Data(None, b"\x00")],
        CONNECTED,
        id="send-bytes",
    ),
    pytest.param(
        [ACCEPT, {"type": "websocket.send", "bytes": None, "text": "t"}],
        [Accepted(None, []), Data("t", None)],
        CONNECTED,
        id="send-text-with-bytes-none",
    ),
    pytest.param(
        [ACCEPT, {"type": "websocket.close"}],
        [Accepted(None, []), Closed(1000, "")],
        CLOSED,
        id="close-default",
    ),
    pytest.param(
        [{"type": "websocket.close", "code": 4000, "reason": "no"}],
        [Closed(4000, "no")],
        CLOSED,
        id="close-before-accept",
    ),
    pytest.param(
        [DENY, {"type": "websocket.http.response.body", "body": b"a", "more_body": True}],
        [DenialStart(403, []), DenialBody(b"a", True)],
        DENYING,
        id="denial-in-parts",
    ),
    pytest.param(
        [DENY, {"type": "websocket.http.response.body", "body": b"a"}],
        [DenialStart(403, []), DenialBody(b"a", False)],
        CLOSED,
        id="denial-complete",
    ),
]


@pytest.mark.parametrize(("messages", "events", "state"), VALID)
def test_valid_sessions(messages: list[Any], events: list[Any], state: Any) -> None:
    cycle, seen = feed(messages)
    assert seen == events
    assert cycle.state is state


INVALID = [
    pytest.param(
        [],
        {"type": "websocket.send", "text": "x"},
        "app sent 'websocket.send' before the app accepted the connection; expected "
        "'websocket.accept', 'websocket.close' or 'websocket.http.response.start'",
        "CONNECTING",
        id="send-before-accept",
    ),
    pytest.param(
        [ACCEPT],
        ACCEPT,
        "app sent 'websocket.accept' while the connection is open; "
        "expected 'websocket.send' or 'websocket.close'",
        "CONNECTED",
        id="accept-twice",
    ),
    pytest.param(
        [ACCEPT],
        {"type": "websocket.send"},
        "app sent 'websocket.send' with neither 'text' nor 'bytes'; set exactly one of them",
        "CONNECTED",
        id="send-nothing",
    ),
    pytest.param(
        [ACCEPT],
        {"type": "websocket.send", "text": "a", "bytes": b"b"},
        "app sent 'websocket.send' with both 'text' and 'bytes'; set exactly one of them",
        "CONNECTED",
        id="send-both",
    ),
    pytest.param(
        [ACCEPT],
        {"type": "websocket.send", "text": b"bytes"},
        "whose 'text' is bytes b'bytes'; it must be a str",
        "CONNECTED",
        id="text-as-bytes",
    ),
    pytest.param(
        [ACCEPT],
        {"type": "http.response.start", "status": 200},
        "app sent 'http.response.start', which is not an ASGI WebSocket message an app can "
        "send, while the connection is open; expected 'websocket.send' or 'websocket.close'",
        "CONNECTED",
        id="http-message",
    ),
    pytest.param(
        [ACCEPT],
        {"type": "websocket.sent", "text": "x"},
        "app sent 'websocket.sent', which is not an ASGI WebSocket message an app can send "
        "(did you mean 'websocket.send'?), while the connection is open",
        "CONNECTED",
        id="misspelt-type",
    ),
    pytest.param(
        [],
        {"type": "websocket.http.response.start", "status": 42},
        "app sent 'websocket.http.response.start' with status 42; "
        "it must be an HTTP status code from 100 to 599",
        "CONNECTING",
        id="denial-status-out-of-range",
    ),
    pytest.param(
        [],
        {"type": "websocket.http.response.start"},
        "app sent 'websocket.http.response.start' without 'status'; it must be an int, e.g. 200",
        "CONNECTING",
        id="denial-status-missing",
    ),
    pytest.param(
        [ACCEPT, {"type": "websocket.close"}],
        {"type": "websocket.send", "text": "late"},
        "app sent 'websocket.send' after the connection was closed; "
        "expected nothing more: the connection is closed",
        "CLOSED",
        id="send-after-close",
    ),
    pytest.param(
        [DENY],
        {"type": "websocket.send", "text": "x"},
        "app sent 'websocket.send' while sending a denial response; "
        "expected 'websocket.http.response.body'",
        "DENYING",
        id="send-while-denying",
    ),
    pytest.param(
        [ACCEPT],
        {"type": "websocket.close", "code": "1000"},
        "whose 'code' is str '1000'; it must be an int",
        "CONNECTED",
        id="close-code-str",
    ),
    pytest.param(
        [],
        {"type": "websocket.accept", "subprotocol": 1},
        "whose 'subprotocol' is int 1; it must be a str",
        "CONNECTING",
        id="subprotocol-int",
    ),
    pytest.param(
        [],
        "accept",
        "app sent str 'accept' instead of a message; every message is a dict whose 'type' is "
        "a str such as 'websocket.accept'",
        "CONNECTING",
        id="not-a-dict",
    ),
]


@pytest.mark.parametrize(("before", "message", "text", "state"), INVALID)
def test_invalid_messages_fail_and_stick(
    before: list[Any], message: Any, text: str, state: str
) -> None:
    cycle, _ = feed(before)
    with pytest.raises(ASGIProtocolError) as info:
        cycle.app_sent(message)
    assert text in str(info.value)
    assert info.value.state == state
    assert cycle.state is ERROR
    with pytest.raises(ASGIProtocolError, match="after an earlier protocol error"):
        cycle.app_sent({"type": "websocket.close"})


def test_sending_after_the_test_disconnected_raises_an_oserror() -> None:
    cycle, _ = feed([ACCEPT])
    cycle.disconnect()
    with pytest.raises(ClientDisconnected) as info:
        cycle.app_sent({"type": "websocket.send", "text": "x"})
    assert isinstance(info.value, OSError)


def test_starts_connecting() -> None:
    assert WebSocketCycle().state is CONNECTING
    assert sys.modules["unwired._protocol._websocket"].CONNECT_MESSAGE == {
        "type": "websocket.connect"
    }


def test_close_reason_that_is_not_text_is_taken_as_text() -> None:
    """FastAPI's default WebSocket validation handler sends a list of errors as reason."""
    _, events = feed([ACCEPT, {"type": "websocket.close", "code": 1008, "reason": [{"e": 1}]}])
    assert events[-1] == Closed(1008, "[{'e': 1}]")


def test_the_app_may_answer_the_tests_close_with_its_own() -> None:
    cycle, _ = feed([ACCEPT])
    cycle.disconnect()
    assert cycle.app_sent({"type": "websocket.close", "code": 1000}) == Closed(1000, "")
    assert cycle.state is CLOSED
