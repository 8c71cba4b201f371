"""Lifespan inside ``with client:``: modes, failures, state, timeouts."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest

from tests.apps import text_app
from unwired import ASGIProtocolError, LifespanFailed, TestClient
from unwired._types import Message, Receive, Scope, Send


class LifespanApp:
    """Answers lifespan as told and logs the lifespan messages it receives."""

    def __init__(
        self, startup: str = "complete", shutdown: str = "complete", raise_after: bool = False
    ) -> None:
        self.startup = startup
        self.shutdown = shutdown
        self.raise_after = raise_after
        self.log: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = scope["state"]
            body = repr(sorted(state.items())).encode()
            state["touched"] = True  # must not leak into the lifespan state
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        for phase, answer in (("startup", self.startup), ("shutdown", self.shutdown)):
            message: Message = await receive()
            self.log.append(message["type"])
            if phase == "startup":
                scope["state"]["db"] = "connected"
            reply: Message = {"type": f"lifespan.{phase}.{answer}"}
            if answer == "failed":
                reply["message"] = f"{phase} went wrong"
            await send(reply)
            if answer == "failed":
                if self.raise_after:
                    raise RuntimeError(f"{phase} exploded")
                return


def test_startup_and_shutdown_run_around_the_block_with_state() -> None:
    app = LifespanApp()
    client = TestClient(app)
    with client:
        assert app.log == ["lifespan.startup"]
        assert client.get("/").content == b"[('db', 'connected')]"
        assert client.get("/").content == b"[('db', 'connected')]"
        assert client.app_state == {"db": "connected"}
    assert app.log == ["lifespan.startup", "lifespan.shutdown"]


def test_lifespan_off_never_calls_the_lifespan_scope() -> None:
    app = LifespanApp()
    with TestClient(app, lifespan="off") as client:
        assert client.get("/").content == b"[]"
    assert app.log == []


async def only_http(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    await text_app()(scope, receive, send)


async def returns_on_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        return
    await text_app()(scope, receive, send)


@pytest.mark.parametrize("app", [only_http, returns_on_lifespan])
def test_auto_treats_an_app_that_does_not_answer_startup_as_unsupported(app: Any) -> None:
    with TestClient(app) as client:
        assert client.get("/").content == b"hi"


def test_on_makes_an_app_raising_on_lifespan_an_error() -> None:
    with pytest.raises(AssertionError), TestClient(only_http, lifespan="on"):
        pass


def test_on_makes_an_app_returning_on_lifespan_an_error() -> None:
    with pytest.raises(ASGIProtocolError) as info, TestClient(returns_on_lifespan, lifespan="on"):
        pass
    assert "without answering 'lifespan.startup'" in str(info.value)
    assert "lifespan='auto' or 'off'" in str(info.value)


def test_startup_failure_raises_with_the_apps_message() -> None:
    app = LifespanApp(startup="failed")
    with pytest.raises(LifespanFailed) as info, TestClient(app):
        pass
    assert str(info.value) == "lifespan startup failed: startup went wrong"
    assert (info.value.phase, info.value.app_message) == ("startup", "startup went wrong")


def test_startup_failure_reraises_the_apps_own_exception() -> None:
    app = LifespanApp(startup="failed", raise_after=True)
    with pytest.raises(RuntimeError, match="startup exploded"), TestClient(app):
        pass


def test_shutdown_failure_is_raised_when_leaving_the_block() -> None:
    app = LifespanApp(shutdown="failed")
    client = TestClient(app)
    with pytest.raises(LifespanFailed, match="shutdown went wrong"), client:
        assert client.get("/").status_code == 200


def test_out_of_turn_lifespan_message_is_a_protocol_error() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.shutdown.complete"})

    with pytest.raises(ASGIProtocolError) as info, TestClient(app):
        pass
    assert "app sent 'lifespan.shutdown.complete' during startup" in str(info.value)


def test_a_startup_that_hangs_times_out_with_where_it_is_stuck() -> None:
    cancelled: list[bool] = []

    async def hanging_startup(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with pytest.raises(httpx2.ReadTimeout) as info, TestClient(hanging_startup, timeout=0.1):
        pass
    assert "waiting for the app to answer 'lifespan.startup'" in str(info.value)
    assert "in hanging_startup" in str(info.value)
    assert cancelled == [True]


def test_the_block_can_be_entered_again_after_it_was_left() -> None:
    app = LifespanApp()
    client = TestClient(app)
    with client:
        pass
    with client:
        assert client.get("/").status_code == 200
    assert app.log == ["lifespan.startup", "lifespan.shutdown"] * 2
    assert client.get("/").status_code == 200  # usable after the block, like Starlette's


def test_entering_twice_at_once_is_refused() -> None:
    client = TestClient(LifespanApp())
    with client, pytest.raises(RuntimeError, match="already inside a 'with client:' block"):
        client.__enter__()


def test_a_closed_client_cannot_be_entered() -> None:
    client = TestClient(LifespanApp())
    client.close()
    with pytest.raises(RuntimeError, match="has been closed"):
        client.__enter__()


# -- what the lifespan errors advise -------------------------------------------------


def test_returning_at_startup_advises_answering_or_turning_lifespan_off() -> None:
    with pytest.raises(ASGIProtocolError) as info, TestClient(returns_on_lifespan, lifespan="on"):
        pass
    assert str(info.value) == (
        "app returned from the lifespan scope without answering 'lifespan.startup'; answer it "
        "with 'lifespan.startup.complete' (or 'lifespan.startup.failed'), or, if the app does "
        "not support lifespan, create the client with lifespan='auto' or 'off'"
    )


def test_returning_at_shutdown_advises_waiting_for_shutdown() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()

    with pytest.raises(ASGIProtocolError) as info, TestClient(app):
        pass
    assert str(info.value) == (
        "app returned from the lifespan scope without answering 'lifespan.shutdown'; answer it "
        "with 'lifespan.shutdown.complete' (or 'lifespan.shutdown.failed') before returning"
    )


def test_on_explains_an_exception_raised_before_startup_was_answered() -> None:
    with pytest.raises(AssertionError) as info, TestClient(only_http, lifespan="on"):
        pass
    assert info.value.__notes__ == [
        "unwired: the app raised this on the lifespan scope before it answered "
        "'lifespan.startup', as an app without lifespan support does (e.g. with "
        "assert scope['type'] == 'http'); for such an app, create the client with "
        "lifespan='auto' or 'off'"
    ]


def test_on_leaves_an_exception_raised_during_startup_alone() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        raise RuntimeError("shutdown crashed")

    with pytest.raises(RuntimeError) as info, TestClient(app, lifespan="on"):
        pass
    assert not hasattr(info.value, "__notes__")


async def treats_lifespan_as_http(scope: Scope, receive: Receive, send: Send) -> None:
    await asyncio.sleep(3600)  # a request handler that never looks at scope["type"]


def test_a_startup_timeout_before_receive_suggests_lifespan_off() -> None:
    with (
        pytest.raises(httpx2.ReadTimeout) as info,
        TestClient(treats_lifespan_as_http, timeout=0.1),
    ):
        pass
    first_line = str(info.value).partition("\n")[0]
    assert first_line == (
        "lifespan: timed out after 0.1s waiting for the app to answer 'lifespan.startup'; the "
        "app task was cancelled. The app never called receive() to get 'lifespan.startup': if "
        "it does not support lifespan, create the client with lifespan='off'."
    )


def test_a_startup_timeout_after_receive_does_not() -> None:
    async def slow_startup(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await asyncio.sleep(3600)

    with pytest.raises(httpx2.ReadTimeout) as info, TestClient(slow_startup, timeout=0.1):
        pass
    assert str(info.value).partition("\n")[0] == (
        "lifespan: timed out after 0.1s waiting for the app to answer 'lifespan.startup'; the "
        "app task was cancelled."
    )


class CrashedAfterStartup(Exception):
    pass


def test_an_exception_the_lifespan_raises_after_startup_is_raised_on_exit() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            raise CrashedAfterStartup("the background job of the lifespan died")
        await text_app()(scope, receive, send)

    client = TestClient(app)
    with pytest.raises(CrashedAfterStartup, match="background job"), client:
        assert client.get("/").text == "hi"


def test_a_failed_startup_does_not_wait_for_an_app_that_waits_for_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Quart answers 'lifespan.startup.failed', then waits in receive(): it will not raise
    monkeypatch.setattr("unwired._lifespan.FAILURE_GRACE", 30.0)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            if (await receive())["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(LifespanFailed, match="no database"), TestClient(app):
        pass  # pragma: no cover - startup fails
