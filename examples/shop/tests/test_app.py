"""The app as a whole: lifespan, middleware, error handling and the API schema."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from shop.app import app
from shop.dependencies import get_store
from shop.store import Hub, Store

from .support import Client

ORIGIN = "https://shop.example"


def test_health(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "products": 12, "orders": 0}


def test_the_lifespan_seeds_the_state_requests_see(client: Client, store: Store) -> None:
    assert store.events == ["startup"]
    assert sorted(store.users) == ["alice", "bob", "carol", "dave"]
    assert len(store.products) == 12
    assert isinstance(client.app_state["hub"], Hub)


def test_each_client_starts_from_the_seed_and_shuts_down(
    client_class: type[Client],
) -> None:
    stores = []
    for _ in range(2):
        with client_class(app) as client:
            stores.append(client.app_state["store"])
            assert client.get("/products").headers["x-total-count"] == "12"
            form = {"username": "carol", "password": "higher-further"}
            token = client.post("/auth/token", data=form).json()["access_token"]
            client.delete("/products/1", headers={"Authorization": f"Bearer {token}"})
            assert client.get("/products").headers["x-total-count"] == "11"
    assert stores[0] is not stores[1]
    assert [store.events for store in stores] == [["startup", "shutdown"]] * 2


# -- middleware ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [("order-page-7", True), ("not valid!", False), (None, False)],
)
def test_every_response_has_a_request_id(client: Client, sent: str | None, echoed: bool) -> None:
    headers = {} if sent is None else {"X-Request-ID": sent}
    request_id = client.get("/health", headers=headers).headers["x-request-id"]
    if echoed:
        assert request_id == sent
    else:
        assert re.fullmatch("[0-9a-f]{32}", request_id)


def test_every_response_says_how_long_it_took(client: Client) -> None:
    assert re.fullmatch(r"\d+\.\d{3}ms", client.get("/products").headers["x-process-time"])


def test_cors_preflight_from_the_shop_front(client: Client) -> None:
    response = client.options(
        "/orders",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-max-age"] == "600"
    assert "POST" in response.headers["access-control-allow-methods"]


def test_cors_preflight_from_elsewhere_is_refused(client: Client) -> None:
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE"}
    response = client.options("/products/1", headers=headers)
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"


@pytest.mark.parametrize("origin", [ORIGIN, None])
def test_cors_headers_on_simple_requests(client: Client, origin: str | None) -> None:
    response = client.get("/products", headers={} if origin is None else {"Origin": origin})
    assert response.status_code == 200
    if origin is None:
        assert "access-control-allow-origin" not in response.headers
    else:
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert "X-Total-Count" in response.headers["access-control-expose-headers"]


@pytest.mark.parametrize(("accept", "encoding"), [("gzip", "gzip"), ("identity", None)])
def test_responses_are_compressed_when_the_client_accepts_it(
    client: Client, accept: str, encoding: str | None
) -> None:
    response = client.get("/products?limit=50", headers={"Accept-Encoding": accept})
    assert response.headers.get("content-encoding") == encoding
    assert len(response.json()) == 12  # decoded transparently


# -- errors ----------------------------------------------------------------------


def test_unknown_paths_and_methods(client: Client) -> None:
    assert client.get("/nowhere").json() == {"detail": "Not Found"}
    response = client.put("/health")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


@pytest.fixture
def database_down() -> Iterator[None]:
    def broken_store() -> Store:
        raise RuntimeError("database is down")

    app.dependency_overrides[get_store] = broken_store
    yield
    app.dependency_overrides.clear()


@pytest.mark.usefixtures("database_down")
def test_an_app_error_is_raised_in_the_test(client: Client) -> None:
    with pytest.raises(RuntimeError, match="database is down"):
        client.get("/health")


@pytest.mark.usefixtures("database_down")
def test_an_app_error_is_a_500_when_server_exceptions_are_not_raised(
    client_class: type[Client],
) -> None:
    with client_class(app, raise_server_exceptions=False) as client:
        response = client.get("/health")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


# -- the API schema --------------------------------------------------------------


def test_the_openapi_schema_lists_the_routers_and_the_login(client: Client) -> None:
    schema = client.get("/openapi.json").json()
    tags = {tag for path in schema["paths"].values() for op in path.values() for tag in op["tags"]}
    assert tags == {"auth", "products", "orders", "admin", "meta"}
    scheme = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/auth/token"


def test_the_interactive_docs_are_served(client: Client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text
