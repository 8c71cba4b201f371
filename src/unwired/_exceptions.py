"""Exceptions raised by unwired.

Who is at fault decides the class::

    UnwiredError                  base of everything unwired raises itself
    ├── ASGIProtocolError         the app broke the ASGI protocol
    └── LifespanFailed            the app reported that startup or shutdown failed
    OSError
    └── ClientDisconnected        raised *inside the app*: it sent after the test went away
    WebSocketDisconnect           the app closed the WebSocket (or refused it)
    └── WebSocketDenialResponse   ... with an HTTP response (also an httpx2.Response)

Timeouts are the httpx2 timeout exceptions (``httpx2.ReadTimeout`` …), so that
code written against httpx2 keeps working. An exception raised by the app itself
is re-raised unchanged, with its own traceback.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING


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


# -- WebSocket closes ---------------------------------------------------------------
#
# ``WebSocketDisconnect`` and ``WebSocketDenialResponse`` subclass Starlette's
# classes of the same names when Starlette is installed, so suites written
# for Starlette's TestClient keep catching them; unwired does not depend on
# Starlette, so the classes are made on first use (``unwired.__getattr__``).


def _starlette_class(module: str, name: str) -> type[Exception] | None:
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if isinstance(found, type) and issubclass(found, Exception) else None


@functools.cache
def websocket_disconnect_type() -> type[WebSocketDisconnect]:
    base = _starlette_class("starlette.websockets", "WebSocketDisconnect") or Exception

    class WebSocketDisconnect(base):  # type: ignore[valid-type,misc]
        """The WebSocket was closed: by the app, or by refusing it before accepting.

        Attributes:
            code: the close code (1000 unless the app gave one).
            reason: the close reason, possibly empty.
        """

        def __init__(self, code: int = 1000, reason: str | None = None) -> None:
            detail = f": {reason}" if reason else ""
            Exception.__init__(self, f"the WebSocket was closed with code {code}{detail}")
            self.code = code
            self.reason = reason or ""

    WebSocketDisconnect.__module__ = "unwired"
    WebSocketDisconnect.__qualname__ = "WebSocketDisconnect"
    return WebSocketDisconnect


@functools.cache
def websocket_denial_type() -> type[WebSocketDenialResponse]:
    import httpx2

    disconnect = websocket_disconnect_type()
    base = _starlette_class("starlette.testclient", "WebSocketDenialResponse")
    bases = (base, disconnect) if base is not None else (httpx2.Response, disconnect)

    class WebSocketDenialResponse(*bases):  # type: ignore[misc]
        """The app refused the WebSocket with an HTTP response; this *is* that response.

        It is an ``httpx2.Response`` (``status_code``, ``headers``, ``content``)
        and a ``WebSocketDisconnect``.
        """

        def __init__(self, status_code: int, headers: list[tuple[bytes, bytes]], body: bytes):
            httpx2.Response.__init__(self, status_code, headers=headers, content=body)
            Exception.__init__(
                self, f"the app refused the WebSocket with an HTTP {status_code} response"
            )
            self.code = 1000
            self.reason = ""

    WebSocketDenialResponse.__module__ = "unwired"
    WebSocketDenialResponse.__qualname__ = "WebSocketDenialResponse"
    return WebSocketDenialResponse


def websocket_disconnect(code: int, reason: str, text: str) -> WebSocketDisconnect:
    """A ``WebSocketDisconnect(code, reason)`` whose message says how it came about.

    ``code`` and ``reason`` stay exactly as Starlette's class has them; only
    the text differs between a refusal, a close and an app that returned.
    """
    exc = websocket_disconnect_type()(code, reason)
    exc.args = (text,)
    return exc


# Tracebacks name the classes as they are imported, not by this private module.
for _class in (UnwiredError, ASGIProtocolError, LifespanFailed, ClientDisconnected):
    _class.__module__ = "unwired"


if TYPE_CHECKING:
    import httpx2

    class WebSocketDisconnect(Exception):
        """The WebSocket was closed: by the app, or by refusing it before accepting.

        A subclass of ``starlette.websockets.WebSocketDisconnect`` when Starlette
        is installed, so ``pytest.raises`` with Starlette's class still catches it.

        Attributes:
            code: the close code (``1000`` for a normal close).
            reason: the close reason, ``""`` if none.
        """

        code: int
        reason: str

        def __init__(self, code: int = 1000, reason: str | None = None) -> None: ...

    class WebSocketDenialResponse(httpx2.Response, WebSocketDisconnect):  # type: ignore[misc]
        """The app refused the WebSocket with an HTTP response; this *is* that response.

        Read its ``status_code``, ``headers`` and ``content`` as for any response.
        A subclass of Starlette's ``WebSocketDenialResponse`` when Starlette is installed.
        """

        def __init__(
            self, status_code: int, headers: list[tuple[bytes, bytes]], body: bytes
        ) -> None: ...
