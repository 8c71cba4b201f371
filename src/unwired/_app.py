"""Recognising ASGI 2 and ASGI 3 applications, as Starlette's TestClient does."""

from __future__ import annotations

import functools
import inspect
from typing import Any, cast

from ._types import ASGI2App, ASGIApp, Receive, Scope, Send


def _is_async_callable(obj: Any) -> bool:
    while isinstance(obj, functools.partial):
        obj = obj.func
    call = type(obj).__call__ if callable(obj) else None
    return inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(call)


def as_asgi3(app: object) -> ASGIApp:
    """``app`` as an ASGI 3 callable, wrapping an ASGI 2 one.

    Raises:
        TypeError: ``app`` is not callable.
    """
    if not callable(app):
        msg = (
            f"expected an ASGI application, got {type(app).__name__} {app!r:.60}: pass an "
            "async callable app(scope, receive, send) (ASGI 3), or a callable app(scope) "
            "returning one (ASGI 2)"
        )
        raise TypeError(msg)
    if inspect.isclass(app) and not hasattr(app, "__await__"):
        return _asgi2(cast(ASGI2App, app))
    if not inspect.isclass(app) and not _is_async_callable(app):
        return _asgi2(cast(ASGI2App, app))
    return cast(ASGIApp, app)


def _asgi2(app: ASGI2App) -> ASGIApp:
    async def asgi3(scope: Scope, receive: Receive, send: Send) -> None:
        instance = app(scope)
        await instance(receive, send)

    asgi3.__qualname__ = f"asgi2({getattr(app, '__qualname__', type(app).__qualname__)})"
    return asgi3
