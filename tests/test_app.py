"""Recognising the app: ASGI 3, ASGI 2 (as Starlette does), and what is neither, at once."""

from __future__ import annotations

import functools
import types
from typing import Any

import pytest

from tests.apps import text_app
from unwired import AsyncTestClient, TestClient
from unwired._app import as_asgi3
from unwired._types import Receive, Scope, Send


async def asgi3(scope: Scope, receive: Receive, send: Send) -> None:
    await text_app(b"three")(scope, receive, send)


class ASGI2Class:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(self, receive: Receive, send: Send) -> None:
        await text_app(b"two")(self.scope, receive, send)


def asgi2_function(scope: Scope) -> Any:
    return ASGI2Class(scope)


class ASGI3Instance:
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await text_app(b"three")(scope, receive, send)


class AwaitableClass:
    """A class with ``__await__`` counts as ASGI 3, as in Starlette: used as it is."""

    def __await__(self) -> Any:  # pragma: no cover - never awaited here
        yield


@pytest.mark.parametrize(
    ("app", "body"),
    [
        pytest.param(asgi3, b"three", id="async-function"),
        pytest.param(ASGI3Instance(), b"three", id="async-callable-object"),
        pytest.param(functools.partial(asgi3), b"three", id="partial"),
        pytest.param(ASGI2Class, b"two", id="asgi2-class"),
        pytest.param(asgi2_function, b"two", id="asgi2-function"),
        pytest.param(lambda scope: ASGI2Class(scope), b"two", id="asgi2-lambda"),
        pytest.param(functools.partial(asgi2_function), b"two", id="asgi2-partial"),
    ],
)
def test_apps_are_recognised_as_starlette_does(app: Any, body: bytes) -> None:
    with TestClient(app, lifespan="off") as client:
        assert client.get("/").content == body


def test_a_class_with_await_is_taken_as_it_is() -> None:
    assert as_asgi3(AwaitableClass) is AwaitableClass


def test_a_callable_whose_signature_cannot_be_read_is_taken_for_asgi2() -> None:
    class Opaque:
        __signature__ = "not a signature"  # inspect.signature() raises on this

        def __call__(self, scope: Scope) -> Any:
            return ASGI2Class(scope)

    with TestClient(Opaque(), lifespan="off") as client:
        assert client.get("/").content == b"two"


def create_app() -> Any:
    return asgi3


def sync_app(scope: Scope, receive: Receive, send: Send) -> None: ...


class SyncCallable:
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...


class NeedsTwo:
    def __init__(self, scope: Scope, settings: object) -> None: ...


def two_arguments(scope: Scope, receive: Receive) -> None: ...


class NoArguments:
    def __call__(self) -> None: ...


main = types.ModuleType("main")


@pytest.mark.parametrize(
    ("app", "text"),
    [
        pytest.param(
            "main:app",
            "expected an ASGI application, got the str 'main:app'; unwired does not import "
            "apps by name: `from main import app`, then TestClient(app)",
            id="str",
        ),
        pytest.param(
            "main",
            "expected an ASGI application, got the str 'main'; unwired does not import apps by "
            "name: `from main import app`, then TestClient(app)",
            id="str-without-attribute",
        ),
        pytest.param(
            main,
            "expected an ASGI application, got the module 'main'; pass the app inside it, "
            "e.g. TestClient(main.app)",
            id="module",
        ),
        pytest.param(
            None,
            "expected an ASGI application, got None; does the fixture that makes the app "
            "return it?",
            id="none",
        ),
        pytest.param(
            42,
            "expected an ASGI application, got int 42: pass an async callable "
            "app(scope, receive, send) (ASGI 3), or a callable app(scope) returning one (ASGI 2)",
            id="int",
        ),
        pytest.param(
            create_app,
            "expected an ASGI application, got create_app, which takes no arguments; if it "
            "makes the app, pass the app it makes: TestClient(create_app())",
            id="factory",
        ),
        pytest.param(
            sync_app,
            "expected an ASGI application, got sync_app, which is not async; an ASGI 3 app is "
            "`async def sync_app(scope, receive, send)`",
            id="sync-function",
        ),
        pytest.param(
            SyncCallable(),
            "expected an ASGI application, got an instance of SyncCallable, whose __call__ is not "
            "async; an ASGI 3 app is an object with `async def __call__(self, scope, receive, "
            "send)`",
            id="sync-callable-object",
        ),
        pytest.param(
            NoArguments(),
            "expected an ASGI application, got an instance of NoArguments, which cannot be "
            "called as an ASGI app",
            id="object-taking-nothing",
        ),
        pytest.param(
            functools.partial(sync_app),
            "expected an ASGI application, got sync_app, which is not async; an ASGI 3 app is "
            "`async def sync_app(scope, receive, send)`",
            id="partial-of-a-sync-function",
        ),
        pytest.param(
            ASGI3Instance,
            "expected an ASGI application, got the class ASGI3Instance; pass an instance of it: "
            "TestClient(ASGI3Instance(...))",
            id="app-class",
        ),
        pytest.param(
            NeedsTwo,
            "expected an ASGI application, got the class NeedsTwo, which cannot be created "
            "from the scope alone, as an ASGI 2 app class is: NeedsTwo(scope)",
            id="class-that-is-no-asgi2-app",
        ),
        pytest.param(
            two_arguments,
            "expected an ASGI application, got two_arguments, which can be called neither as "
            "an ASGI 3 app, await two_arguments(scope, receive, send), nor as an ASGI 2 app, "
            "two_arguments(scope)",
            id="wrong-arguments",
        ),
    ],
)
def test_what_is_not_an_app_is_refused_by_the_constructor(app: Any, text: str) -> None:
    with pytest.raises(TypeError) as info:
        TestClient(app)
    assert str(info.value) == text


def test_the_async_client_names_itself() -> None:
    with pytest.raises(TypeError) as info:
        AsyncTestClient(create_app)
    assert str(info.value).endswith("pass the app it makes: AsyncTestClient(create_app())")


def test_a_long_repr_is_shortened_visibly() -> None:
    with pytest.raises(TypeError) as info:
        TestClient(["x" * 100])
    assert str(info.value).startswith(
        f"expected an ASGI application, got list ['{'x' * 55}...: pass an async callable"
    )


def test_framework_classes_passed_for_their_apps_are_refused() -> None:
    from fastapi import FastAPI
    from starlette.applications import Starlette

    for cls in (FastAPI, Starlette):
        with pytest.raises(TypeError) as info:
            TestClient(cls)
        assert str(info.value) == (
            f"expected an ASGI application, got the class {cls.__name__}; pass an instance of "
            f"it: TestClient({cls.__name__}(...))"
        )
