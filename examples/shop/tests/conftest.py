"""Fixtures for the shop's tests; ``DEMO_CLIENT`` picks the test client (see ``support.py``).

Like most FastAPI suites, every test gets its own client, entered with ``with`` so that
the lifespan seeds a fresh store, and logs in through the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from shop.app import app
from shop.dependencies import StoreDep, current_user
from shop.store import SEED_USERS, Store, User

from .support import Client, Headers, TestClient

PASSWORDS = {username: password for username, _, _, password, _ in SEED_USERS}


@pytest.fixture
def client_class() -> type[Client]:
    """The TestClient class under test, for tests that build their own client."""
    return TestClient


@pytest.fixture
def client() -> Iterator[Client]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def store(client: Client) -> Store:
    """The app's store, from the lifespan state, for checking side effects."""
    return client.app_state["store"]  # type: ignore[no-any-return]


@pytest.fixture
def login(client: Client) -> Callable[[str], Headers]:
    """Log a seeded user in through ``POST /auth/token``; returns their auth headers."""

    def login(username: str) -> Headers:
        form = {"username": username, "password": PASSWORDS[username]}
        response = client.post("/auth/token", data=form)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return login


@pytest.fixture
def alice(login: Callable[[str], Headers]) -> Headers:
    return login("alice")


@pytest.fixture
def bob(login: Callable[[str], Headers]) -> Headers:
    return login("bob")


@pytest.fixture
def admin(login: Callable[[str], Headers]) -> Headers:
    return login("carol")


@pytest.fixture
def act_as() -> Iterator[Callable[[str], None]]:
    """Skip authentication: ``act_as("bob")`` makes every request come from bob."""

    def act_as(username: str) -> None:
        def override(store: StoreDep) -> User:
            return store.users[username]

        app.dependency_overrides[current_user] = override

    yield act_as
    app.dependency_overrides.clear()
