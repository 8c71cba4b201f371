"""Recognising ASGI 2 and ASGI 3 applications, as Starlette's TestClient does.

Rule: which kind an app is follows Starlette's rules exactly (a class without
``__await__`` and any callable that is not async are ASGI 2). On top of that,
what can be neither is refused when the client is created, naming what was
given and what to pass instead, but only when the signature says so for
certain: a callable whose signature cannot be read is taken as it is.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable
from typing import Any, cast

from ._protocol._checks import describe
from ._types import ASGI2App, ASGIApp, Receive, Scope, Send


def _is_async_callable(obj: Any) -> bool:
    while isinstance(obj, functools.partial):
        obj = obj.func
    call = type(obj).__call__ if callable(obj) else None
    return inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(call)


def as_asgi3(app: object, client: str = "TestClient") -> ASGIApp:
    """``app`` as an ASGI 3 callable, wrapping an ASGI 2 one.

    Args:
        app: what the test passed as the app.
        client: the client's class name, for the error messages.

    Raises:
        TypeError: ``app`` is not an ASGI application (with what to pass instead).
    """
    if not callable(app):
        raise TypeError(_not_callable(app, client))
    if inspect.isclass(app):
        if hasattr(app, "__await__"):
            return cast(ASGIApp, app)
        _check_asgi2_class(app, client)
        return _asgi2(cast(ASGI2App, app))
    if _is_async_callable(app):
        return cast(ASGIApp, app)
    _check_asgi2_callable(app, client)
    return _asgi2(cast(ASGI2App, app))


_EXPECTED = "expected an ASGI application, got"


def _not_callable(app: object, client: str) -> str:
    if isinstance(app, str):
        module, _, name = app.partition(":")
        return (
            f"{_EXPECTED} the str {app!r}; unwired does not import apps by name: "
            f"`from {module} import {name or 'app'}`, then {client}({name or 'app'})"
        )
    if isinstance(app, types.ModuleType):
        return (
            f"{_EXPECTED} the module {app.__name__!r}; pass the app inside it, "
            f"e.g. {client}({app.__name__}.app)"
        )
    if app is None:
        return f"{_EXPECTED} None; does the fixture that makes the app return it?"
    return (
        f"{_EXPECTED} {describe(app)}: pass an async callable app(scope, receive, send) "
        "(ASGI 3), or a callable app(scope) returning one (ASGI 2)"
    )


def _takes(func: Callable[..., Any], count: int) -> bool | None:
    """Can ``func`` be called with ``count`` positional arguments? ``None``: cannot tell."""
    try:
        signature = inspect.signature(func, follow_wrapped=False)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*[None] * count)
    except TypeError:
        return False
    return True


def _check_asgi2_class(app: type, client: str) -> None:
    name = app.__qualname__
    # the __call__ its instances have (not type.__call__, which creates them)
    call = next((vars(base)["__call__"] for base in app.__mro__ if "__call__" in vars(base)), None)
    if (
        inspect.iscoroutinefunction(call)
        and _takes(call, 4)  # (self, scope, receive, send)
        and _takes(call, 3) is False  # not (self, receive, send), as an ASGI 2 instance
    ):
        msg = f"{_EXPECTED} the class {name}; pass an instance of it: {client}({name}(...))"
        raise TypeError(msg)
    if _takes(app, 1) is False:
        msg = (
            f"{_EXPECTED} the class {name}, which cannot be created from the scope alone, "
            f"as an ASGI 2 app class is: {name}(scope)"
        )
        raise TypeError(msg)


def _check_asgi2_callable(app: Callable[..., Any], client: str) -> None:
    if _takes(app, 1) is not False:
        return
    inner = app
    while isinstance(inner, functools.partial):
        inner = inner.func
    if not inspect.isroutine(inner):  # an object with a sync __call__
        name = type(app).__qualname__
        if _takes(app, 3):
            msg = (
                f"{_EXPECTED} an instance of {name}, whose __call__ is not async; an ASGI 3 app "
                "is an object with `async def __call__(self, scope, receive, send)`"
            )
        else:
            msg = f"{_EXPECTED} an instance of {name}, which cannot be called as an ASGI app"
        raise TypeError(msg)
    name = getattr(inner, "__qualname__", repr(inner))
    if _takes(app, 0):
        msg = (
            f"{_EXPECTED} {name}, which takes no arguments; if it makes the app, "
            f"pass the app it makes: {client}({name}())"
        )
    elif _takes(app, 3):
        msg = (
            f"{_EXPECTED} {name}, which is not async; an ASGI 3 app is "
            f"`async def {name}(scope, receive, send)`"
        )
    else:
        msg = (
            f"{_EXPECTED} {name}, which can be called neither as an ASGI 3 app, "
            f"await {name}(scope, receive, send), nor as an ASGI 2 app, {name}(scope)"
        )
    raise TypeError(msg)


def _asgi2(app: ASGI2App) -> ASGIApp:
    async def asgi3(scope: Scope, receive: Receive, send: Send) -> None:
        instance = app(scope)
        await instance(receive, send)

    asgi3.__qualname__ = f"asgi2({getattr(app, '__qualname__', type(app).__qualname__)})"
    return asgi3
