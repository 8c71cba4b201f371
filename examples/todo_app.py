"""A small FastAPI todo API, the kind of app a real test suite exercises.

- Per-user todos (create, list, read, update, delete) validated by pydantic models.
- An in-memory store created in the lifespan and handed to requests through the
  lifespan state (``request.state.store``): each ``with TestClient(app)`` starts fresh.
- A dependency that checks ``Authorization: Bearer <token>`` (401 otherwise).
- ``GET /todos/export`` streams the todos as NDJSON, one line at a time.
- Every change is written to an audit log by a background task, after the response.
- 404 for a todo that is missing or someone else's, 409 for a duplicate title,
  422 for invalid input (FastAPI's validation errors).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio.lowlevel
from fastapi import BackgroundTasks, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

TOKENS = {"alice-token": "alice", "bob-token": "bob"}


class TodoIn(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    done: bool = False
    priority: int = Field(default=2, ge=1, le=5)


class TodoPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=100)
    done: bool | None = None
    priority: int | None = Field(default=None, ge=1, le=5)


class Todo(TodoIn):
    id: int
    owner: str


class Store:
    """Todos by id, the next id, and the audit log; one per lifespan."""

    def __init__(self) -> None:
        self.todos: dict[int, Todo] = {}
        self.next_id = 1
        self.audit: list[str] = []

    def owned_by(self, owner: str) -> list[Todo]:
        return [todo for todo in self.todos.values() if todo.owner == owner]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    store = Store()
    store.audit.append("startup")
    yield {"store": store}
    store.audit.append("shutdown")


app = FastAPI(title="todo", lifespan=lifespan)


def get_store(request: Request) -> Store:
    return request.state.store  # type: ignore[no-any-return]


def current_user(authorization: Annotated[str | None, Header()] = None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    user = TOKENS.get(token) if scheme.lower() == "bearer" else None
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="missing or invalid bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


StoreDep = Annotated[Store, Depends(get_store)]
UserDep = Annotated[str, Depends(current_user)]


def owned_todo(todo_id: int, store: StoreDep, user: UserDep) -> Todo:
    todo = store.todos.get(todo_id)
    if todo is None or todo.owner != user:  # someone else's todo does not exist for you
        raise HTTPException(status_code=404, detail=f"todo {todo_id} not found")
    return todo


TodoDep = Annotated[Todo, Depends(owned_todo)]


async def record(store: Store, entry: str) -> None:
    await anyio.lowlevel.checkpoint()  # a real audit sink would do I/O here
    store.audit.append(entry)


def check_unique_title(store: Store, user: str, title: str, todo_id: int | None = None) -> None:
    for todo in store.owned_by(user):
        if todo.title == title and todo.id != todo_id:
            raise HTTPException(status_code=409, detail=f"you already have a todo {title!r}")


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/todos", status_code=201)
async def create_todo(
    todo_in: TodoIn, store: StoreDep, user: UserDep, background: BackgroundTasks
) -> Todo:
    check_unique_title(store, user, todo_in.title)
    todo = Todo(id=store.next_id, owner=user, **todo_in.model_dump())
    store.todos[todo.id] = todo
    store.next_id += 1
    background.add_task(record, store, f"{user} created {todo.id}")
    return todo


@app.get("/todos")
async def list_todos(
    store: StoreDep,
    user: UserDep,
    response: Response,
    done: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[Todo]:
    todos = [todo for todo in store.owned_by(user) if done is None or todo.done == done]
    todos.sort(key=lambda todo: (todo.priority, todo.id))
    response.headers["X-Total-Count"] = str(len(todos))
    return todos[:limit]


# Declared before /todos/{todo_id}, which would otherwise match "export" and
# answer 422 because "export" is not an int.
@app.get("/todos/export")
async def export_todos(store: StoreDep, user: UserDep) -> StreamingResponse:
    todos = sorted(store.owned_by(user), key=lambda todo: todo.id)

    async def lines() -> AsyncIterator[str]:
        for todo in todos:
            yield todo.model_dump_json() + "\n"
            await anyio.lowlevel.checkpoint()  # other tasks run between lines, as with real I/O

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@app.get("/todos/{todo_id}")
async def read_todo(todo: TodoDep) -> Todo:
    return todo


@app.patch("/todos/{todo_id}")
async def update_todo(
    patch: TodoPatch, todo: TodoDep, store: StoreDep, user: UserDep, background: BackgroundTasks
) -> Todo:
    changes = patch.model_dump(exclude_unset=True)
    if "title" in changes:
        check_unique_title(store, user, changes["title"], todo.id)
    updated = todo.model_copy(update=changes)
    store.todos[todo.id] = updated
    background.add_task(record, store, f"{user} updated {todo.id}: {', '.join(sorted(changes))}")
    return updated


@app.delete("/todos/{todo_id}", status_code=204)
async def delete_todo(
    todo: TodoDep, store: StoreDep, user: UserDep, background: BackgroundTasks
) -> None:
    del store.todos[todo.id]
    background.add_task(record, store, f"{user} deleted {todo.id}")


@app.get("/audit")
async def audit_log(store: StoreDep, user: UserDep) -> list[str]:
    return store.audit
