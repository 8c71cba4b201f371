"""Tests for the todo API, written the way real FastAPI suites are.

The same file runs with either client (``scripts/demo`` runs it with both)::

    DEMO_CLIENT=unwired   pytest examples    # unwired.TestClient (the default)
    DEMO_CLIENT=starlette pytest examples    # starlette.testclient.TestClient
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
import starlette.testclient
from todo_app import app

import unwired

CLIENT = os.environ.get("DEMO_CLIENT", "unwired")
CLIENTS = {"unwired": unwired.TestClient, "starlette": starlette.testclient.TestClient}
if CLIENT not in CLIENTS:
    raise RuntimeError(f"DEMO_CLIENT must be one of {sorted(CLIENTS)}, not {CLIENT!r}")
TestClient = CLIENTS[CLIENT]

ALICE = {"Authorization": "Bearer alice-token"}
BOB = {"Authorization": "Bearer bob-token"}


@pytest.fixture
def client() -> Iterator[httpx2.Client]:
    with TestClient(app) as client:
        yield client


def create(
    client: httpx2.Client, title: str, headers: dict[str, str] = ALICE, **fields: Any
) -> Any:
    response = client.post("/todos", json={"title": title, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_health_needs_no_token(client: httpx2.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# -- authentication --------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Bearer nope", "Basic YWxpY2U6cHc=", "alice-token"],
)
def test_requests_without_a_valid_bearer_token_are_refused(
    client: httpx2.Client, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/todos", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "missing or invalid bearer token"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/todos"),
        ("GET", "/todos/1"),
        ("PATCH", "/todos/1"),
        ("DELETE", "/todos/1"),
        ("GET", "/todos/export"),
        ("GET", "/audit"),
    ],
)
def test_every_todo_endpoint_requires_a_token(
    client: httpx2.Client, method: str, path: str
) -> None:
    create(client, "secret")
    response = client.request(method, path, json={"title": "x"})
    assert response.status_code == 401


def test_the_scheme_is_case_insensitive(client: httpx2.Client) -> None:
    response = client.get("/todos", headers={"Authorization": "bearer alice-token"})
    assert response.status_code == 200


# -- create ----------------------------------------------------------------------


def test_create_returns_the_todo_with_defaults(client: httpx2.Client) -> None:
    response = client.post("/todos", json={"title": "buy milk"}, headers=ALICE)
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "id": 1,
        "title": "buy milk",
        "done": False,
        "priority": 2,
        "owner": "alice",
    }


def test_ids_are_assigned_in_order_across_users(client: httpx2.Client) -> None:
    ids = [create(client, f"t{i}", headers=ALICE if i % 2 else BOB)["id"] for i in range(4)]
    assert ids == [1, 2, 3, 4]


def test_each_client_starts_with_an_empty_store(client: httpx2.Client) -> None:
    # The lifespan creates the store, and the fixture makes a client per test.
    assert client.get("/todos", headers=ALICE).json() == []
    assert create(client, "first")["id"] == 1


@pytest.mark.parametrize(
    ("body", "location", "error_type"),
    [
        ({}, ["body", "title"], "missing"),
        ({"title": ""}, ["body", "title"], "string_too_short"),
        ({"title": "x" * 101}, ["body", "title"], "string_too_long"),
        ({"title": 42}, ["body", "title"], "string_type"),
        ({"title": "a", "priority": 0}, ["body", "priority"], "greater_than_equal"),
        ({"title": "a", "priority": 6}, ["body", "priority"], "less_than_equal"),
        ([{"title": "a"}], ["body"], "model_attributes_type"),
    ],
)
def test_create_rejects_invalid_bodies(
    client: httpx2.Client, body: Any, location: list[str], error_type: str
) -> None:
    response = client.post("/todos", json=body, headers=ALICE)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (location, error_type)


def test_create_rejects_malformed_json(client: httpx2.Client) -> None:
    response = client.post(
        "/todos",
        content=b'{"title": ',
        headers={**ALICE, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_duplicate_titles_conflict_for_the_same_user_only(client: httpx2.Client) -> None:
    create(client, "gym")
    response = client.post("/todos", json={"title": "gym"}, headers=ALICE)
    assert response.status_code == 409
    assert response.json() == {"detail": "you already have a todo 'gym'"}
    assert create(client, "gym", headers=BOB)["owner"] == "bob"


# -- read and list ---------------------------------------------------------------


def test_read_returns_the_stored_todo(client: httpx2.Client) -> None:
    todo = create(client, "read me", priority=4)
    response = client.get(f"/todos/{todo['id']}", headers=ALICE)
    assert response.status_code == 200
    assert response.json() == todo


@pytest.mark.parametrize(("todo_id", "status"), [(99, 404), (-1, 404), ("abc", 422)])
def test_read_unknown_or_malformed_ids(client: httpx2.Client, todo_id: object, status: int) -> None:
    create(client, "exists")
    response = client.get(f"/todos/{todo_id}", headers=ALICE)
    assert response.status_code == status
    if status == 404:
        assert response.json() == {"detail": f"todo {todo_id} not found"}
    else:
        assert response.json()["detail"][0]["loc"] == ["path", "todo_id"]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_other_users_todos_look_missing(client: httpx2.Client, method: str) -> None:
    todo = create(client, "private", headers=ALICE)
    response = client.request(method, f"/todos/{todo['id']}", json={"done": True}, headers=BOB)
    assert response.status_code == 404
    assert client.get(f"/todos/{todo['id']}", headers=ALICE).json() == todo


@pytest.fixture
def seeded(client: httpx2.Client) -> httpx2.Client:
    create(client, "write report", priority=1)
    create(client, "water plants", done=True, priority=3)
    create(client, "call mum", priority=2)
    create(client, "pay rent", done=True, priority=1)
    create(client, "bob's thing", headers=BOB)
    return client


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("", ["write report", "pay rent", "call mum", "water plants"]),
        ("?done=true", ["pay rent", "water plants"]),
        ("?done=false", ["write report", "call mum"]),
        ("?limit=2", ["write report", "pay rent"]),
        ("?done=true&limit=1", ["pay rent"]),
    ],
)
def test_list_filters_sorts_by_priority_and_limits(
    seeded: httpx2.Client, query: str, titles: list[str]
) -> None:
    response = seeded.get(f"/todos{query}", headers=ALICE)
    assert response.status_code == 200
    assert [todo["title"] for todo in response.json()] == titles
    assert all(todo["owner"] == "alice" for todo in response.json())


@pytest.mark.parametrize(("query", "total"), [("?done=true", "2"), ("?limit=1", "4")])
def test_list_reports_the_total_before_the_limit(
    seeded: httpx2.Client, query: str, total: str
) -> None:
    assert seeded.get(f"/todos{query}", headers=ALICE).headers["x-total-count"] == total


@pytest.mark.parametrize("query", ["?limit=0", "?limit=101", "?done=perhaps"])
def test_list_rejects_invalid_query_parameters(client: httpx2.Client, query: str) -> None:
    response = client.get(f"/todos{query}", headers=ALICE)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


# -- update and delete -----------------------------------------------------------


@pytest.mark.parametrize(
    "patch",
    [{"done": True}, {"title": "renamed"}, {"priority": 5}, {"title": "both", "done": True}, {}],
)
def test_patch_changes_only_the_given_fields(client: httpx2.Client, patch: dict[str, Any]) -> None:
    todo = create(client, "original")
    response = client.patch(f"/todos/{todo['id']}", json=patch, headers=ALICE)
    assert response.status_code == 200
    assert response.json() == {**todo, **patch}
    assert client.get(f"/todos/{todo['id']}", headers=ALICE).json() == {**todo, **patch}


@pytest.mark.parametrize("patch", [{"title": ""}, {"priority": 9}, {"done": "sometimes"}])
def test_patch_validates_like_create(client: httpx2.Client, patch: dict[str, Any]) -> None:
    todo = create(client, "original")
    response = client.patch(f"/todos/{todo['id']}", json=patch, headers=ALICE)
    assert response.status_code == 422
    assert client.get(f"/todos/{todo['id']}", headers=ALICE).json() == todo


def test_patch_cannot_take_another_todos_title(client: httpx2.Client) -> None:
    create(client, "taken")
    todo = create(client, "mine")
    response = client.patch(f"/todos/{todo['id']}", json={"title": "taken"}, headers=ALICE)
    assert response.status_code == 409
    keep = client.patch(f"/todos/{todo['id']}", json={"title": "mine"}, headers=ALICE)
    assert keep.status_code == 200


def test_delete_removes_the_todo(client: httpx2.Client) -> None:
    todo = create(client, "temporary")
    response = client.delete(f"/todos/{todo['id']}", headers=ALICE)
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/todos/{todo['id']}", headers=ALICE).status_code == 404
    assert client.delete(f"/todos/{todo['id']}", headers=ALICE).status_code == 404


# -- streaming export ------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 5])
def test_export_streams_one_json_line_per_todo(client: httpx2.Client, count: int) -> None:
    todos = [create(client, f"todo {i}", priority=i % 5 + 1) for i in range(count)]
    create(client, "not alice's", headers=BOB)
    with client.stream("GET", "/todos/export", headers=ALICE) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = list(response.iter_lines())
    assert [json.loads(line) for line in lines] == todos


def test_export_reads_whole_without_streaming(client: httpx2.Client) -> None:
    create(client, "a")
    create(client, "b", done=True)
    response = client.get("/todos/export", headers=ALICE)
    assert response.text.splitlines() == [
        '{"title":"a","done":false,"priority":2,"id":1,"owner":"alice"}',
        '{"title":"b","done":true,"priority":2,"id":2,"owner":"alice"}',
    ]


# -- background audit log --------------------------------------------------------


def test_background_tasks_have_run_when_the_request_returns(client: httpx2.Client) -> None:
    todo = create(client, "audited")
    client.patch(f"/todos/{todo['id']}", json={"done": True, "priority": 1}, headers=ALICE)
    client.delete(f"/todos/{todo['id']}", headers=ALICE)
    assert client.get("/audit", headers=ALICE).json() == [
        "startup",
        "alice created 1",
        "alice updated 1: done, priority",
        "alice deleted 1",
    ]


@pytest.mark.parametrize(
    ("action", "entry"),
    [
        (lambda c: create(c, "x", headers=BOB), "bob created 1"),
        (lambda c: c.patch("/todos/1", json={}, headers=ALICE), "alice updated 1: "),
        (lambda c: c.delete("/todos/1", headers=ALICE), "alice deleted 1"),
    ],
    ids=["create", "update", "delete"],
)
def test_each_change_is_audited_once(client: httpx2.Client, action: Any, entry: str) -> None:
    if entry.startswith("alice"):
        create(client, "existing")
    before = client.get("/audit", headers=ALICE).json()
    action(client)
    assert client.get("/audit", headers=ALICE).json() == [*before, entry]


def test_failed_requests_are_not_audited(client: httpx2.Client) -> None:
    client.post("/todos", json={"title": ""}, headers=ALICE)
    client.delete("/todos/7", headers=ALICE)
    assert client.get("/audit", headers=ALICE).json() == ["startup"]


def test_lifespan_state_lives_for_the_with_block() -> None:
    with TestClient(app) as client:
        create(client, "last one")
        store = client.app_state["store"]  # the lifespan's state, as the app saw it
        assert store.audit == ["startup", "alice created 1"]
    assert store.audit[-1] == "shutdown"
    assert [todo.title for todo in store.todos.values()] == ["last one"]
