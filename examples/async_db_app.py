"""A FastAPI notes API on SQLAlchemy's async engine with aiosqlite.

The engine is created in the lifespan and handed to requests through the
lifespan state (``request.state.engine``), as a real app does with its
connection pool. An async engine belongs to the event loop it was used on
first: its pooled connections hold futures of that loop. That is why the test
(``tests/integration/test_async_db.py``) runs the app with
``unwired.AsyncTestClient``, on the test's own loop, so that an async fixture
can write rows through ``client.app_state["engine"]`` and the API reads them,
and the other way round.

- ``POST /notes`` (``{"text": ...}``) creates a note: 201 and the note.
- ``GET /notes`` lists the notes by id; ``GET /notes/{id}`` reads one (404 if missing).

Run it with ``uvicorn examples.async_db_app:app``; set ``NOTES_DATABASE_URL``
to choose the database (default: ``notes.db`` in the working directory).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class NoteRow(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(200))


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=200)


class Note(NoteIn):
    id: int


def create_app(database_url: str) -> FastAPI:
    """The notes API on ``database_url`` (an async SQLAlchemy URL, e.g. ``sqlite+aiosqlite:///x.db``).

    The tables are created at startup; the engine is disposed of at shutdown.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        engine = create_async_engine(database_url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            yield {"engine": engine}
        finally:
            await engine.dispose()

    app = FastAPI(title="notes", lifespan=lifespan)
    app.post("/notes", status_code=201)(create_note)
    app.get("/notes")(list_notes)
    app.get("/notes/{note_id}")(read_note)
    return app


async def session(request: Request) -> AsyncIterator[AsyncSession]:
    engine: AsyncEngine = request.state.engine
    async with AsyncSession(engine, expire_on_commit=False) as db:
        yield db


SessionDep = Annotated[AsyncSession, Depends(session)]


async def create_note(note: NoteIn, db: SessionDep) -> Note:
    row = NoteRow(text=note.text)
    db.add(row)
    await db.commit()
    return Note(id=row.id, text=row.text)


async def list_notes(db: SessionDep) -> list[Note]:
    rows = await db.scalars(select(NoteRow).order_by(NoteRow.id))
    return [Note(id=row.id, text=row.text) for row in rows]


async def read_note(note_id: int, db: SessionDep) -> Note:
    row = await db.get(NoteRow, note_id)
    if row is None:
        raise HTTPException(status_code=404, detail=f"note {note_id} not found")
    return Note(id=row.id, text=row.text)


app = create_app(os.environ.get("NOTES_DATABASE_URL", "sqlite+aiosqlite:///notes.db"))
