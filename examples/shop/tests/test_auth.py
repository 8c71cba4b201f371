"""Logging in, bearer tokens, and who may call what."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shop.tokens import issue_token

from .support import Client, Headers


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("username", "password", "full_name", "role"),
    [
        ("alice", "wonderland", "Alice Customer", "customer"),
        ("bob", "builder-42", "Bob Customer", "customer"),
        ("carol", "higher-further", "Carol Admin", "admin"),
    ],
)
def test_login_issues_a_bearer_token_for_the_user(
    client: Client, username: str, password: str, full_name: str, role: str
) -> None:
    form = {"username": username, "password": password}
    response = client.post("/auth/token", data=form)
    assert response.status_code == 200
    token = response.json()
    assert (token["token_type"], token["expires_in"]) == ("bearer", 3600)
    me = client.get("/auth/me", headers=bearer(token["access_token"]))
    assert me.json() == {"username": username, "full_name": full_name, "role": role}


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice", "wrong"),
        ("alice", "builder-42"),
        ("Alice", "wonderland"),
        ("mallory", "anything"),
    ],
    ids=["wrong-password", "someone-elses-password", "wrong-case", "unknown-user"],
)
def test_login_refuses_wrong_credentials_without_saying_which(
    client: Client, username: str, password: str
) -> None:
    response = client.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "incorrect username or password"}


@pytest.mark.parametrize(
    ("form", "missing"),
    [({"password": "wonderland"}, "username"), ({"username": "alice"}, "password")],
)
def test_login_needs_both_form_fields(client: Client, form: dict[str, str], missing: str) -> None:
    response = client.post("/auth/token", data=form)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["body", missing], "missing")


def test_login_takes_a_form_not_json(client: Client) -> None:
    response = client.post("/auth/token", json={"username": "alice", "password": "wonderland"})
    assert response.status_code == 422


def test_disabled_accounts_cannot_log_in(client: Client) -> None:
    response = client.post("/auth/token", data={"username": "dave", "password": "red-dwarf"})
    assert response.status_code == 403
    assert response.json() == {"detail": "account disabled"}


def test_tokens_of_disabled_accounts_are_refused(client: Client) -> None:
    response = client.get("/auth/me", headers=bearer(issue_token("dave")))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/auth/me"),
        ("GET", "/orders"),
        ("POST", "/orders"),
        ("POST", "/orders/1/cancel"),
        ("GET", "/admin/stats"),
    ],
)
def test_protected_endpoints_need_a_token(client: Client, method: str, path: str) -> None:
    response = client.request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated"}


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        ("not-a-token", "invalid token"),
        (issue_token("alice")[:-2] + "xx", "invalid token"),
        (issue_token("alice").replace("e", "f", 1), "invalid token"),
        (issue_token("alice", ttl=-1), "token expired"),
        (issue_token("mallory"), "unknown user"),
    ],
    ids=["garbage", "forged-signature", "tampered-payload", "expired", "unknown-user"],
)
def test_bad_tokens_are_refused_with_the_reason(client: Client, token: str, detail: str) -> None:
    response = client.get("/auth/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize("scheme", ["Basic", ""])
def test_only_the_bearer_scheme_is_accepted(client: Client, scheme: str) -> None:
    authorization = f"{scheme} {issue_token('alice')}".strip()
    response = client.get("/auth/me", headers={"Authorization": authorization})
    assert response.status_code == 401


def test_the_scheme_is_case_insensitive(client: Client) -> None:
    response = client.get("/auth/me", headers={"Authorization": f"bearer {issue_token('bob')}"})
    assert response.json()["username"] == "bob"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/products"),
        ("PATCH", "/products/1"),
        ("PUT", "/products/1/image"),
        ("POST", "/products/import"),
        ("POST", "/orders/1/ship"),
        ("GET", "/orders/export"),
        ("GET", "/orders?everyone=true"),
        ("GET", "/admin/stats"),
    ],
)
def test_customers_are_forbidden_what_only_admins_may_do(
    client: Client, login: Callable[[str], Headers], method: str, path: str
) -> None:
    response = client.request(method, path, headers=login("alice"))
    assert response.status_code == 403
    assert "admins" in response.json()["detail"]
    # The same request from an admin gets past authorization (to validation, or done).
    assert client.request(method, path, headers=login("carol")).status_code != 403
