"""Exceptions raised by unwired.

Who is at fault decides the class::

    UnwiredError                  base of everything unwired raises itself
    ├── ASGIProtocolError         the app broke the ASGI protocol
    └── LifespanFailed            the app reported that startup or shutdown failed
    OSError
    └── ClientDisconnected        raised *inside the app*: it sent after the test went away

Timeouts are the httpx2 timeout exceptions (``httpx2.ReadTimeout`` …), so that
code written against httpx2 keeps working. An exception raised by the app itself
is re-raised unchanged, with its own traceback.
"""

from __future__ import annotations


class UnwiredError(Exception):
    """Base class of the errors unwired raises on its own account."""


class ASGIProtocolError(UnwiredError):
    """The app sent a message the ASGI spec does not allow at that point.

    Attributes:
        message_type: the ``type`` of the offending message (``None`` when the
            message had no usable type).
        state: the phase of the exchange the message arrived in.
    """

    def __init__(self, text: str, *, message_type: str | None, state: str) -> None:
        super().__init__(text)
        self.message_type = message_type
        self.state = state


class LifespanFailed(UnwiredError):
    """The app answered ``lifespan.startup.failed`` or ``lifespan.shutdown.failed``.

    Attributes:
        phase: ``"startup"`` or ``"shutdown"``.
        app_message: the ``message`` the app gave, possibly empty.
    """

    def __init__(self, phase: str, app_message: str) -> None:
        detail = f": {app_message}" if app_message else " (the app gave no message)"
        super().__init__(f"lifespan {phase} failed{detail}")
        self.phase = phase
        self.app_message = app_message


class ClientDisconnected(OSError):
    """Raised by ``send()`` inside the app once the test has stopped listening.

    The ASGI spec (HTTP 2.4) asks servers to raise an ``OSError`` here; apps
    normally let it end the request. The test never sees it re-raised.
    """
