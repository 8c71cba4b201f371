"""A FastAPI app on SQLAlchemy's async engine (aiosqlite), tested from async tests.

The app (``examples/async_db_app.py``) creates its engine in the lifespan and
keeps it in the lifespan state. ``AsyncTestClient`` runs the app on the test's
own loop, so an async fixture can write through ``client.app_state["engine"]``
and the test reads the rows back through the API, and the other way round.

The companion test at the end runs the same scenario with Starlette's
TestClient, which runs the app on a loop of its own in another thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import starlette.testclient
from examples.async_db_app import NoteRow, create_app
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from unwired import AsyncTestClient
from unwired._types import ASGIApp, Receive, Scope, Send

pytestmark = pytest.mark.anyio

SEEDED = [{"id": 1, "text": "milk"}, {"id": 2, "text": "eggs"}]


# Not on trio: aiosqlite and SQLAlchemy's asyncio extension are asyncio-only
# (aiosqlite hands results back through asyncio futures, SQLAlchemy's pool uses
# asyncio queues), so the trio case of tests/conftest.py does not apply here.
@pytest.fixture(
    params=[
        pytest.param(("asyncio", {}), id="asyncio"),
        pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    return request.param


class LoopRecorder:
    """Wraps an app; records the thread and running loop of every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[int, asyncio.AbstractEventLoop]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append((threading.get_ident(), asyncio.get_running_loop()))
        await self.app(scope, receive, send)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}"


@pytest.fixture
def app(database_url: str) -> LoopRecorder:
    return LoopRecorder(create_app(database_url))


@pytest.fixture
async def client(app: LoopRecorder) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture
def engine(client: AsyncTestClient) -> AsyncEngine:
    """The engine the app created in its lifespan."""
    engine: AsyncEngine = client.app_state["engine"]
    return engine


@pytest.fixture
async def seeded(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Rows written by the test, through the app's own engine, on the test's loop."""
    async with engine.begin() as connection:
        await connection.execute(insert(NoteRow), [{"text": "milk"}, {"text": "eggs"}])
    return SEEDED


async def read_texts(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.scalars(select(NoteRow.text).order_by(NoteRow.id))).all())


async def test_rows_written_by_a_fixture_are_read_through_the_api(
    client: AsyncTestClient, seeded: list[dict[str, Any]]
) -> None:
    listed = await client.get("/notes")
    one = await client.get("/notes/2")
    missing = await client.get("/notes/3")
    assert (listed.status_code, listed.json()) == (200, seeded)
    assert (one.status_code, one.json()) == (200, {"id": 2, "text": "eggs"})
    assert (missing.status_code, missing.json()) == (404, {"detail": "note 3 not found"})


async def test_rows_posted_through_the_api_are_read_with_the_engine(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    created = [await client.post("/notes", json={"text": text}) for text in ("a", "b")]
    assert [(r.status_code, r.json()) for r in created] == [
        (201, {"id": 1, "text": "a"}),
        (201, {"id": 2, "text": "b"}),
    ]
    assert await read_texts(engine) == ["a", "b"]


async def test_writes_from_both_sides_interleave(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(NoteRow).values(text="from the test"))
    assert (await client.post("/notes", json={"text": "from the api"})).status_code == 201
    async with engine.begin() as connection:
        await connection.execute(insert(NoteRow).values(text="from the test again"))
    assert [note["text"] for note in (await client.get("/notes")).json()] == [
        "from the test",
        "from the api",
        "from the test again",
    ]
    assert await read_texts(engine) == ["from the test", "from the api", "from the test again"]


async def test_the_app_and_the_engine_run_on_the_tests_loop(
    app: LoopRecorder, client: AsyncTestClient, seeded: list[dict[str, Any]]
) -> None:
    for _ in range(2):
        assert (await client.get("/notes")).json() == seeded
    assert app.seen == [(threading.get_ident(), asyncio.get_running_loop())] * 2


async def test_invalid_input_is_refused_and_nothing_is_written(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    response = await client.post("/notes", json={"text": ""})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "text"]
    assert await read_texts(engine) == []


async def test_the_lifespan_disposes_of_the_engine(app: LoopRecorder) -> None:
    async with AsyncTestClient(app) as client:
        assert (await client.post("/notes", json={"text": "kept"})).status_code == 201
        engine: AsyncEngine = client.app_state["engine"]
        pool = engine.pool
        assert pool.checkedin() == 1  # type: ignore[attr-defined]
    assert pool.checkedin() == 0  # type: ignore[attr-defined]
    # The data outlives the engine: a new lifespan reads it from the file.
    async with AsyncTestClient(app) as client:
        assert (await client.get("/notes")).json() == [{"id": 1, "text": "kept"}]


# -- the same scenario with Starlette's TestClient ------------------------------


async def test_starlette_testclient_runs_the_app_on_another_loop_and_thread(
    app: LoopRecorder,
) -> None:
    """What Starlette's TestClient does with the same scenario, as observed.

    Run with SQLAlchemy 2.1 and aiosqlite 0.22, it raises no loop error: both
    avoid binding to a loop (aiosqlite makes a future on the running loop for
    each call, SQLAlchemy creates its pool's asyncio queue lazily and takes a
    free connection without waiting), so one engine used in turn from two
    loops still works. But the app does run on another loop, in another
    thread, while the test's loop is blocked: a driver or an object that is
    bound to a loop (asyncpg connections, an ``asyncio.Queue`` someone waits
    on) is shared between two loops.
    """
    with starlette.testclient.TestClient(app) as client:
        engine: AsyncEngine = client.app_state["engine"]
        async with engine.begin() as connection:
            await connection.execute(insert(NoteRow), [{"text": "milk"}, {"text": "eggs"}])
        assert client.get("/notes").json() == SEEDED
        assert client.post("/notes", json={"text": "bread"}).status_code == 201
        assert await read_texts(engine) == ["milk", "eggs", "bread"]
    ((thread, loop), second) = app.seen
    assert second == (thread, loop)  # inside 'with', one portal loop for every request
    assert thread != threading.get_ident()
    assert loop is not asyncio.get_running_loop()
    assert loop.is_closed()  # gone with the portal when 'with' ended
