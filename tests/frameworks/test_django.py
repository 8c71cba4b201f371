"""Django (ASGI handler) and Channels (WebSockets) through the framework checklist.

Both clients run every checklist test (_checklist.py).

The project is tests/frameworks/django_app; its ``asgi.application`` is a
Channels ``ProtocolTypeRouter``: Django's ``ASGIHandler`` for HTTP, a consumer
for WebSockets.

Event loops: asyncio only (Django and asgiref run on asyncio), so asyncio and
uvloop here.
Lifespan: not supported. Django's handler raises ``ValueError("Django can only
handle ASGI/HTTP connections, not lifespan.")`` and Channels' router raises
``ValueError("No application configured for scope type 'lifespan'")``, before
sending anything. With ``lifespan="auto"`` (the default) unwired takes that, as
the ASGI spec says, for "no lifespan support" and carries on: ``with client:``
works and runs no startup. ``lifespan="on"`` raises the app's ``ValueError``,
with a note saying what it means. Startup work belongs in ``AppConfig.ready()``.
Unhandled exceptions: Django answers 500 itself unless
``DEBUG_PROPAGATE_EXCEPTIONS = True`` (set in the test settings), which lets
them out of the app for ``raise_server_exceptions=True``.
Django leaks the request body's ``SpooledTemporaryFile`` when an exception
leaves ``ASGIHandler.handle()`` (it closes the file only for ``RequestAborted``
and ``AssertionError``), i.e. with ``DEBUG_PROPAGATE_EXCEPTIONS``; the file's
``__del__`` warns when collected, which ``-W error`` turns into a failure
wherever that happens. This module ignores that one warning and collects the
garbage after the tests that raise, so it happens here.
Streaming: Django listens for ``http.disconnect`` beside the response task
and cancels it, but here the task's pending ``send()`` raises first (an
``OSError``, as the spec asks of a server after a disconnect), which leaves
the app. Django closes its own wrapper around the view's async generator, not
the generator itself, whose ``finally`` waits for the garbage collector; the
request's end is recorded around the app.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.test import override_settings

from tests.frameworks._checklist import Checklist, record_end_of
from tests.frameworks._clients import Connect
from tests.frameworks.django_app.asgi import application, django_asgi_app
from tests.frameworks.django_app.views import EVENTS

pytestmark = pytest.mark.filterwarnings(  # the leaked body file (see the docstring)
    "ignore:Exception ignored in. <function SpooledTemporaryFile.__del__"
    ":pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture(params=["asyncio", "uvloop"])
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    """Django is asyncio-only: asyncio and uvloop, not trio."""
    return ("asyncio", {"use_uvloop": request.param == "uvloop"})


#: Checklist tests whose app raises out of Django's handler, leaking the body file.
_RAISING_TESTS = {
    "test_unhandled_error_is_raised",
    "test_unhandled_error_is_a_500",
    "test_endless_stream_read_partially_then_closed",
}


class TestDjango(Checklist):
    events = EVENTS
    started: ClassVar[list[str]] = []  # no lifespan
    # The response task, waiting in send(), gets unwired's OSError (what the spec
    # asks of a server after a disconnect) before Django's disconnect listener
    # cancels it, and Django lets it out of the app; unwired does not re-raise
    # an error that follows the client's own disconnect.
    ticks_ended = ("ticks ended: ClientDisconnected",)

    @pytest.fixture
    def app(self) -> Any:
        return record_end_of("/ticks", application, EVENTS)

    @pytest.fixture(autouse=True)
    def _collect_leaked_body_files(self, request: pytest.FixtureRequest) -> Iterator[None]:
        yield
        if request.node.originalname in _RAISING_TESTS:
            gc.collect()  # while this module's filter applies (see the docstring)

    async def test_lifespan(self, connect: Connect, app: Any) -> None:
        """No lifespan: ``with client:`` runs no startup, and requests work."""
        async with connect(app) as client:
            assert client.app_state == {}
            assert (await client.get("/users/1")).status_code == 200
        assert self.events == []

    async def test_startup_failure(self, connect: Connect, app: Any) -> None:
        """No startup to fail; but asking for lifespan fails, with unwired's note."""
        client = connect(app, lifespan="on")
        with pytest.raises(
            ValueError, match="No application configured for scope type 'lifespan'"
        ) as info:
            async with client:
                pass  # pragma: no cover - startup raised
        await client.aclose()
        assert any("lifespan='auto' or 'off'" in note for note in info.value.__notes__)

    async def test_plain_django_handler_has_no_lifespan(self, connect: Connect) -> None:
        """Without Channels: Django's own ``ASGIHandler`` refuses the lifespan scope."""
        async with connect(django_asgi_app) as client:
            assert (await client.get("/users/1")).json() == {"user_id": 1, "q": None, "tags": []}
        client = connect(django_asgi_app, lifespan="on")
        with pytest.raises(ValueError, match=r"^Django can only handle ASGI/HTTP connections"):
            async with client:
                pass  # pragma: no cover - startup raised
        await client.aclose()

    async def test_exceptions_are_a_500_by_default(self, connect: Connect, app: Any) -> None:
        with override_settings(DEBUG_PROPAGATE_EXCEPTIONS=False):
            async with connect(app) as client:
                response = await client.get("/boom")
        assert response.status_code == 500
        assert "<title>Server Error (500)</title>" in response.text
