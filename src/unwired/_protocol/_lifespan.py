"""The lifespan protocol, seen from the server's side.

Rule: the phases and what the app may send in each live in ``_ACCEPTS``; a
message out of place fails in ``LifespanCycle.app_sent``. What to make of an
app that raises or returns instead of answering (the spec's "lifespan not
supported") is decided in ``LifespanCycle.app_exited``, nowhere else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .._types import Message
from . import _checks as check


class LifespanPhase(enum.Enum):
    """Where the lifespan conversation is; values read well in messages."""

    IDLE = "before 'lifespan.startup' was sent"
    STARTING = "during startup"
    STARTED = "after startup completed, before 'lifespan.shutdown' was sent"
    STOPPING = "during shutdown"
    DONE = "after shutdown completed"
    FAILED = "after startup failed"
    ERROR = "after an earlier protocol error"


_ACCEPTS = {
    LifespanPhase.STARTING: ("lifespan.startup.complete", "lifespan.startup.failed"),
    LifespanPhase.STOPPING: ("lifespan.shutdown.complete", "lifespan.shutdown.failed"),
}
#: Every type an app may send on the lifespan scope, for "did you mean".
_KNOWN = frozenset(kind for kinds in _ACCEPTS.values() for kind in kinds)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The app's answer to a startup or shutdown request."""

    phase: str  # "startup" or "shutdown"
    ok: bool
    message: str = ""


class Support(enum.Enum):
    """What an app's early exit says about its lifespan support."""

    UNSUPPORTED = "the app does not support lifespan"
    FAILED = "the app failed during lifespan"
    FINISHED = "the app finished lifespan normally"


class LifespanCycle:
    """Bookkeeping for one lifespan conversation; no I/O."""

    __slots__ = ("_pending", "answered", "phase")

    def __init__(self) -> None:
        self.phase = LifespanPhase.IDLE
        self._pending: Message | None = None
        self.answered = False  # has the app sent anything at all?

    def request(self, phase: str) -> None:
        """Queue ``lifespan.startup`` or ``lifespan.shutdown`` for the app."""
        self.phase = LifespanPhase.STARTING if phase == "startup" else LifespanPhase.STOPPING
        self._pending = {"type": f"lifespan.{phase}"}

    def next_for_app(self) -> Message | None:
        """The message for the app's ``receive()``, or ``None`` if it must wait."""
        message, self._pending = self._pending, None
        return message

    def app_sent(self, message: Message) -> Outcome:
        """Check an answer from the app.

        Raises:
            ASGIProtocolError: not a lifespan answer, or not the one due now.
        """
        phase = self.phase
        try:
            kind = check.message_type(message, phase, "lifespan.startup.complete")
            if kind not in _ACCEPTS.get(phase, ()):
                expected = " or ".join(repr(k) for k in _ACCEPTS.get(phase, ())) or "nothing"
                what = check.sent(kind, _KNOWN, "lifespan")
                check.fail(f"{what} {phase.value}; expected {expected}", kind, phase)
            text = check.text(message, "message", phase) or ""
        except BaseException:
            self.phase = LifespanPhase.ERROR
            raise
        self.answered = True
        ok = kind.endswith(".complete")
        if phase is LifespanPhase.STARTING:
            self.phase = LifespanPhase.STARTED if ok else LifespanPhase.FAILED
            return Outcome("startup", ok, text)
        self.phase = LifespanPhase.DONE
        return Outcome("shutdown", ok, text)

    def app_exited(self, raised: bool) -> Support:
        """Classify the app's coroutine ending while a phase was under way.

        Per the spec, an app that raises (or returns) on the lifespan scope
        before answering startup does not support lifespan.
        """
        if self.phase is LifespanPhase.STARTING and not self.answered:
            return Support.UNSUPPORTED
        if raised or self.phase in (LifespanPhase.STARTING, LifespanPhase.STOPPING):
            return Support.FAILED
        return Support.FINISHED
