"""Tests for ``unwired._protocol._lifespan``: the lifespan conversation.

A case is a list of steps (a phase name: the server sends that request; a dict:
the app answers) and what the next answer, or the app's exit, must produce.
"""

from __future__ import annotations

from typing import Any

import pytest

from unwired._exceptions import ASGIProtocolError
from unwired._protocol._lifespan import LifespanCycle, LifespanPhase, Outcome, Support

IDLE = LifespanPhase.IDLE
STARTING = LifespanPhase.STARTING
STARTED = LifespanPhase.STARTED
STOPPING = LifespanPhase.STOPPING
DONE = LifespanPhase.DONE
FAILED = LifespanPhase.FAILED
ERROR = LifespanPhase.ERROR

STARTUP_COMPLETE = {"type": "lifespan.startup.complete"}
STARTUP_FAILED = {"type": "lifespan.startup.failed"}
SHUTDOWN_COMPLETE = {"type": "lifespan.shutdown.complete"}
SHUTDOWN_FAILED = {"type": "lifespan.shutdown.failed"}
STARTUP_ANSWERS = "expected 'lifespan.startup.complete' or 'lifespan.startup.failed'"
SHUTDOWN_ANSWERS = "expected 'lifespan.shutdown.complete' or 'lifespan.shutdown.failed'"

# Where a conversation can be, as the steps that lead there.
AT_IDLE: list[Any] = []
AT_STARTING: list[Any] = ["startup"]
AT_STARTED: list[Any] = ["startup", STARTUP_COMPLETE]
AT_STARTUP_FAILED: list[Any] = ["startup", STARTUP_FAILED]
AT_STOPPING: list[Any] = [*AT_STARTED, "shutdown"]
AT_DONE: list[Any] = [*AT_STOPPING, SHUTDOWN_COMPLETE]
AT_ERROR: list[Any] = ["startup", SHUTDOWN_COMPLETE]  # out of turn


def drive(steps: list[Any]) -> LifespanCycle:
    """A cycle after ``steps``: phase names are requests, dicts are the app's answers."""
    cycle = LifespanCycle()
    for step in steps:
        if isinstance(step, str):
            cycle.request(step)
            assert cycle.next_for_app() == {"type": f"lifespan.{step}"}
            continue
        try:
            cycle.app_sent(step)
        except ASGIProtocolError:
            assert cycle.phase is ERROR
    return cycle


# -- the server's side: requests ----------------------------------------------


def test_fresh_cycle() -> None:
    cycle = LifespanCycle()
    assert cycle.phase is IDLE
    assert cycle.answered is False
    assert cycle.next_for_app() is None


def test_requests_reach_the_app_once_and_in_order() -> None:
    cycle = LifespanCycle()
    cycle.request("startup")
    assert cycle.phase is STARTING
    assert cycle.next_for_app() == {"type": "lifespan.startup"}
    assert cycle.next_for_app() is None
    assert cycle.app_sent(dict(STARTUP_COMPLETE)) == Outcome("startup", True, "")
    assert cycle.next_for_app() is None
    cycle.request("shutdown")
    assert cycle.phase is STOPPING
    assert cycle.next_for_app() == {"type": "lifespan.shutdown"}
    assert cycle.next_for_app() is None
    assert cycle.app_sent(dict(SHUTDOWN_COMPLETE)) == Outcome("shutdown", True, "")
    assert cycle.phase is DONE
    assert cycle.next_for_app() is None


# -- the app's answers ---------------------------------------------------------

ANSWERS = [
    pytest.param(
        AT_STARTING, STARTUP_COMPLETE, Outcome("startup", True, ""), STARTED, id="startup-complete"
    ),
    pytest.param(
        AT_STARTING,
        {"type": "lifespan.startup.failed", "message": "database unreachable"},
        Outcome("startup", False, "database unreachable"),
        FAILED,
        id="startup-failed-with-message",
    ),
    pytest.param(
        AT_STARTING,
        STARTUP_FAILED,
        Outcome("startup", False, ""),
        FAILED,
        id="startup-failed-no-message",
    ),
    pytest.param(
        AT_STARTING,
        {"type": "lifespan.startup.failed", "message": None},
        Outcome("startup", False, ""),
        FAILED,
        id="startup-failed-message-none",
    ),
    pytest.param(
        AT_STARTING,
        {"type": "lifespan.startup.failed", "message": ""},
        Outcome("startup", False, ""),
        FAILED,
        id="startup-failed-empty-message",
    ),
    pytest.param(
        AT_STOPPING, SHUTDOWN_COMPLETE, Outcome("shutdown", True, ""), DONE, id="shutdown-complete"
    ),
    pytest.param(
        AT_STOPPING,
        {"type": "lifespan.shutdown.failed", "message": "pool did not drain"},
        Outcome("shutdown", False, "pool did not drain"),
        DONE,
        id="shutdown-failed-with-message",
    ),
    pytest.param(
        AT_STOPPING,
        SHUTDOWN_FAILED,
        Outcome("shutdown", False, ""),
        DONE,
        id="shutdown-failed-no-message",
    ),
]


@pytest.mark.parametrize(("steps", "message", "outcome", "phase"), ANSWERS)
def test_answer(
    steps: list[Any], message: dict[str, Any], outcome: Outcome, phase: LifespanPhase
) -> None:
    cycle = drive(steps)
    assert cycle.app_sent(dict(message)) == outcome
    assert cycle.phase is phase
    assert cycle.answered is True


def test_outcome_message_defaults_to_empty() -> None:
    assert Outcome("startup", True) == Outcome("startup", True, "")


OUT_OF_TURN = [
    pytest.param(
        AT_IDLE,
        STARTUP_COMPLETE,
        "app sent 'lifespan.startup.complete' before 'lifespan.startup' was sent; expected nothing",
        "lifespan.startup.complete",
        "IDLE",
        id="startup-complete-while-idle",
    ),
    pytest.param(
        AT_IDLE,
        SHUTDOWN_FAILED,
        "app sent 'lifespan.shutdown.failed' before 'lifespan.startup' was sent; expected nothing",
        "lifespan.shutdown.failed",
        "IDLE",
        id="shutdown-failed-while-idle",
    ),
    pytest.param(
        AT_STARTING,
        SHUTDOWN_COMPLETE,
        f"app sent 'lifespan.shutdown.complete' during startup; {STARTUP_ANSWERS}",
        "lifespan.shutdown.complete",
        "STARTING",
        id="shutdown-complete-during-startup",
    ),
    pytest.param(
        AT_STARTING,
        {"type": "lifespan.startup"},
        "app sent 'lifespan.startup', which is not an ASGI lifespan message an app can send, "
        f"during startup; {STARTUP_ANSWERS}",
        "lifespan.startup",
        "STARTING",
        id="request-echoed-back",
    ),
    pytest.param(
        AT_STARTING,
        {"type": "http.response.start", "status": 200},
        "app sent 'http.response.start', which is not an ASGI lifespan message an app can "
        f"send, during startup; {STARTUP_ANSWERS}",
        "http.response.start",
        "STARTING",
        id="http-message-during-startup",
    ),
    pytest.param(
        AT_STARTING,
        {"type": "lifespan.startup.completed"},
        "app sent 'lifespan.startup.completed', which is not an ASGI lifespan message an app "
        "can send (did you mean 'lifespan.startup.complete'?), during startup; "
        f"{STARTUP_ANSWERS}",
        "lifespan.startup.completed",
        "STARTING",
        id="misspelt-answer",
    ),
    pytest.param(
        AT_STARTED,
        STARTUP_COMPLETE,
        "app sent 'lifespan.startup.complete' after startup completed, "
        "before 'lifespan.shutdown' was sent; expected nothing",
        "lifespan.startup.complete",
        "STARTED",
        id="startup-complete-twice",
    ),
    pytest.param(
        AT_STARTED,
        SHUTDOWN_COMPLETE,
        "app sent 'lifespan.shutdown.complete' after startup completed, "
        "before 'lifespan.shutdown' was sent; expected nothing",
        "lifespan.shutdown.complete",
        "STARTED",
        id="shutdown-complete-before-shutdown",
    ),
    pytest.param(
        AT_STOPPING,
        STARTUP_COMPLETE,
        f"app sent 'lifespan.startup.complete' during shutdown; {SHUTDOWN_ANSWERS}",
        "lifespan.startup.complete",
        "STOPPING",
        id="startup-complete-during-shutdown",
    ),
    pytest.param(
        AT_DONE,
        SHUTDOWN_COMPLETE,
        "app sent 'lifespan.shutdown.complete' after shutdown completed; expected nothing",
        "lifespan.shutdown.complete",
        "DONE",
        id="shutdown-complete-twice",
    ),
    pytest.param(
        AT_STARTUP_FAILED,
        STARTUP_COMPLETE,
        "app sent 'lifespan.startup.complete' after",
        "lifespan.startup.complete",
        "FAILED",
        id="startup-complete-after-startup-failed",
    ),
    pytest.param(
        AT_ERROR,
        STARTUP_COMPLETE,
        "app sent 'lifespan.startup.complete' after an earlier protocol error; expected nothing",
        "lifespan.startup.complete",
        "ERROR",
        id="anything-after-an-error",
    ),
    pytest.param(
        AT_STARTING,
        1,
        "app sent int 1 instead of a message; every message is a dict whose 'type' is a str "
        "such as 'lifespan.startup.complete'",
        None,
        "STARTING",
        id="not-a-message",
    ),
    pytest.param(
        AT_STOPPING,
        {"message": "bye"},
        "app sent a message without a str 'type': {'message': 'bye'}; every message is a dict "
        "whose 'type' is a str such as 'lifespan.startup.complete'",
        None,
        "STOPPING",
        id="missing-type",
    ),
]


@pytest.mark.parametrize(("steps", "message", "text", "message_type", "state"), OUT_OF_TURN)
def test_out_of_turn(
    steps: list[Any], message: Any, text: str, message_type: str | None, state: str
) -> None:
    cycle = drive(steps)
    answered = cycle.answered
    with pytest.raises(ASGIProtocolError) as info:
        cycle.app_sent(message)
    assert text in str(info.value)
    assert info.value.message_type == message_type
    assert info.value.state == state
    assert cycle.answered is answered


def test_message_after_startup_failed_does_not_claim_a_shutdown() -> None:
    cycle = drive(AT_STARTUP_FAILED)
    with pytest.raises(ASGIProtocolError) as info:
        cycle.app_sent(dict(SHUTDOWN_COMPLETE))
    assert "shutdown completed" not in str(info.value)


NOT_ANSWERS = [
    pytest.param(AT_IDLE, STARTUP_COMPLETE, id="idle"),
    pytest.param(AT_STARTING, SHUTDOWN_COMPLETE, id="starting"),
    pytest.param(AT_STARTED, STARTUP_COMPLETE, id="started"),
    pytest.param(AT_STOPPING, STARTUP_FAILED, id="stopping"),
    pytest.param(AT_DONE, SHUTDOWN_FAILED, id="done"),
    pytest.param(AT_STARTING, "lifespan.startup.complete", id="not-a-message"),
    pytest.param(
        AT_STARTING,
        {"type": "lifespan.startup.failed", "message": b"oops"},
        id="bad-message-field",
    ),
]


@pytest.mark.parametrize(("steps", "message"), NOT_ANSWERS)
def test_error_is_sticky(steps: list[Any], message: Any) -> None:
    cycle = drive(steps)
    with pytest.raises(ASGIProtocolError):
        cycle.app_sent(message)
    assert cycle.phase is ERROR
    for answer in [STARTUP_COMPLETE, STARTUP_FAILED, SHUTDOWN_COMPLETE, SHUTDOWN_FAILED]:
        with pytest.raises(ASGIProtocolError) as info:
            cycle.app_sent(dict(answer))
        assert str(info.value) == (
            f"app sent {answer['type']!r} after an earlier protocol error; expected nothing"
        )
        assert info.value.state == "ERROR"
    assert cycle.phase is ERROR


@pytest.mark.parametrize(
    ("steps", "message", "text", "state"),
    [
        pytest.param(
            AT_STARTING,
            {"type": "lifespan.startup.failed", "message": b"db down"},
            "app sent 'lifespan.startup.failed' whose 'message' is bytes b'db down'; "
            "it must be a str",
            "STARTING",
            id="startup-failed-bytes",
        ),
        pytest.param(
            AT_STARTING,
            {"type": "lifespan.startup.complete", "message": ["ok"]},
            "app sent 'lifespan.startup.complete' whose 'message' is list ['ok']; it must be a str",
            "STARTING",
            id="startup-complete-list",
        ),
        pytest.param(
            AT_STOPPING,
            {"type": "lifespan.shutdown.failed", "message": 42},
            "app sent 'lifespan.shutdown.failed' whose 'message' is int 42; it must be a str",
            "STOPPING",
            id="shutdown-failed-int",
        ),
    ],
)
def test_message_must_be_str(
    steps: list[Any], message: dict[str, Any], text: str, state: str
) -> None:
    cycle = drive(steps)
    with pytest.raises(ASGIProtocolError) as info:
        cycle.app_sent(message)
    assert str(info.value) == text
    assert info.value.message_type == message["type"]
    assert info.value.state == state


# -- the app's coroutine ending -------------------------------------------------

APP_EXITED = [
    pytest.param(AT_STARTING, True, Support.UNSUPPORTED, id="raised-during-startup"),
    pytest.param(AT_STARTING, False, Support.UNSUPPORTED, id="returned-during-startup"),
    pytest.param(AT_IDLE, True, Support.FAILED, id="raised-before-startup"),
    pytest.param(AT_IDLE, False, Support.FINISHED, id="returned-before-startup"),
    pytest.param(AT_ERROR, True, Support.FAILED, id="raised-after-protocol-error-in-startup"),
    pytest.param(AT_ERROR, False, Support.FINISHED, id="returned-after-protocol-error-in-startup"),
    pytest.param(AT_STARTED, True, Support.FAILED, id="raised-after-startup-complete"),
    pytest.param(AT_STARTED, False, Support.FINISHED, id="returned-after-startup-complete"),
    pytest.param(AT_STARTUP_FAILED, True, Support.FAILED, id="raised-after-startup-failed"),
    pytest.param(AT_STARTUP_FAILED, False, Support.FINISHED, id="returned-after-startup-failed"),
    pytest.param(AT_STOPPING, True, Support.FAILED, id="raised-during-shutdown"),
    pytest.param(AT_STOPPING, False, Support.FAILED, id="returned-during-shutdown"),
    pytest.param(AT_DONE, True, Support.FAILED, id="raised-after-shutdown-complete"),
    pytest.param(AT_DONE, False, Support.FINISHED, id="returned-after-shutdown-complete"),
    pytest.param(
        [*AT_STOPPING, SHUTDOWN_FAILED],
        False,
        Support.FINISHED,
        id="returned-after-shutdown-failed",
    ),
]


@pytest.mark.parametrize(("steps", "raised", "support"), APP_EXITED)
def test_app_exited(steps: list[Any], raised: bool, support: Support) -> None:
    cycle = drive(steps)
    phase = cycle.phase
    assert cycle.app_exited(raised) is support
    assert cycle.phase is phase
