"""Structural guards of the sync path's speed: what a request must never do.

Timings are the benchmarks' job (``python -m benchmarks``); these tests count
instead. Starlette's TestClient is slow because every request outside ``with``
starts an event loop in a new thread, and every request inside hops to the
loop's thread. unwired's sync client runs its one loop in the caller's thread.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.apps import text_app
from unwired import TestClient


async def _item(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["item_id"]})


STARLETTE_APP = Starlette(routes=[Route("/items/{item_id:int}", _item)])


class Counts:
    def __init__(self) -> None:
        self.loops = self.threads = self.tasks = 0


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Counts:
    """Counts event loops made, threads started and tasks created, process-wide."""
    counted = Counts()
    loop_init = asyncio.BaseEventLoop.__init__
    thread_start = threading.Thread.start
    create_task = asyncio.BaseEventLoop.create_task

    def counting_loop_init(self: asyncio.BaseEventLoop) -> None:
        counted.loops += 1
        loop_init(self)

    def counting_start(self: threading.Thread) -> None:
        counted.threads += 1
        thread_start(self)

    def counting_create_task(self: asyncio.BaseEventLoop, *args: object, **kw: object) -> object:
        counted.tasks += 1
        return create_task(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(asyncio.BaseEventLoop, "__init__", counting_loop_init)
    monkeypatch.setattr(threading.Thread, "start", counting_start)
    monkeypatch.setattr(asyncio.BaseEventLoop, "create_task", counting_create_task)
    return counted


@pytest.mark.parametrize("inside_with", [True, False], ids=["inside-with", "outside-with"])
@pytest.mark.parametrize(
    ("app", "path"), [(text_app(), "/"), (STARLETTE_APP, "/items/7")], ids=["asgi", "starlette"]
)
def test_requests_make_no_loop_no_thread_and_one_task_each(
    counts: Counts, app: object, path: str, inside_with: bool
) -> None:
    client = TestClient(app)
    if inside_with:
        client.__enter__()
    assert client.get(path).status_code == 200  # the loop is made here, once
    loops, threads, tasks = counts.loops, counts.threads, counts.tasks
    for _ in range(100):
        assert client.get(path).status_code == 200
    assert counts.loops - loops == 0  # no loop per request
    assert counts.threads - threads == 0  # no thread per request (nor a hop to one)
    assert counts.tasks - tasks == 100  # one task per request: the app's
    if inside_with:
        client.__exit__()
    client.close()
    assert counts.loops == 1


def test_the_app_runs_in_the_callers_thread(counts: Counts) -> None:
    seen: list[threading.Thread] = []

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        seen.append(threading.current_thread())
        await text_app()(scope, receive, send)  # type: ignore[arg-type]

    with TestClient(app, lifespan="off") as client:
        for _ in range(10):
            client.get("/")
    assert set(seen) == {threading.current_thread()}
    assert counts.threads == 0
