"""The catalogue: listing, reading, admin changes, bulk import and product images."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from httpx2 import Response

from shop.store import Store

from .support import Client, Headers

NEW = {"sku": "CUP-001", "name": "Cupping spoon", "price_cents": 1200, "stock": 4}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4


def ids(response: Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [product["id"] for product in response.json()]


# -- listing ---------------------------------------------------------------------


def test_the_catalogue_is_public_and_paginated(client: Client) -> None:
    response = client.get("/products")
    assert ids(response) == list(range(1, 11))
    assert response.headers["x-total-count"] == "12"
    assert response.json()[0] == {
        "id": 1,
        "sku": "COF-001",
        "name": "Espresso beans",
        "price_cents": 1290,
        "stock": 40,
        "tags": ["coffee"],
        "has_image": False,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("limit=5", [1, 2, 3, 4, 5]),
        ("offset=5&limit=5", [6, 7, 8, 9, 10]),
        ("offset=10&limit=5", [11, 12]),
        ("offset=12", []),
        ("limit=50", list(range(1, 13))),
    ],
)
def test_offset_and_limit_page_through_the_catalogue(
    client: Client, query: str, expected: list[int]
) -> None:
    response = client.get(f"/products?{query}")
    assert ids(response) == expected
    assert response.headers["x-total-count"] == "12"


@pytest.mark.parametrize(
    ("query", "parameter", "error_type"),
    [
        ("offset=-1", "offset", "greater_than_equal"),
        ("limit=51", "limit", "less_than_equal"),
        ("limit=ten", "limit", "int_parsing"),
        ("q=a", "q", "string_too_short"),
        ("sort=popularity", "sort", "literal_error"),
    ],
)
def test_invalid_query_parameters_are_422s_naming_the_parameter(
    client: Client, query: str, parameter: str, error_type: str
) -> None:
    response = client.get(f"/products?{query}")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["query", parameter], error_type)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=coffee", [2, 12]),
        ("q=TEA", [3]),
        ("tag=gift", [5, 9, 11]),
        ("tag=coffee&max_price=1000", [2, 8]),
        ("tag=tea&in_stock=true", [3]),
        ("tag=furniture", []),
    ],
)
def test_search_and_filters(client: Client, query: str, expected: list[int]) -> None:
    response = client.get(f"/products?{query}")
    assert ids(response) == expected
    assert response.headers["x-total-count"] == str(len(expected))


@pytest.mark.parametrize(
    ("sort", "first_three"),
    [("price", [9, 8, 10]), ("-price", [7, 6, 12]), ("name", [10, 12, 9])],
)
def test_sorting(client: Client, sort: str, first_three: list[int]) -> None:
    assert ids(client.get(f"/products?sort={sort}&limit=3")) == first_three


def test_a_trailing_slash_redirects_to_the_canonical_url(client: Client) -> None:
    response = client.get("/products/?limit=2")
    assert [redirect.status_code for redirect in response.history] == [307]
    assert response.url.path == "/products"
    assert ids(response) == [1, 2]


def test_read_a_product(client: Client) -> None:
    response = client.get("/products/6")
    assert response.status_code == 200
    assert response.json()["name"] == "Hand grinder"


@pytest.mark.parametrize(("product_id", "status"), [(99, 404), ("grinder", 422)])
def test_read_a_missing_or_malformed_id(client: Client, product_id: object, status: int) -> None:
    response = client.get(f"/products/{product_id}")
    assert response.status_code == status
    if status == 404:
        assert response.json() == {"error": "not_found", "detail": "product 99 not found"}


# -- changes by admins -----------------------------------------------------------


def test_admins_create_products(client: Client, admin: Headers, store: Store) -> None:
    response = client.post("/products", json={**NEW, "tags": [" Coffee", "TOOLS"]}, headers=admin)
    assert response.status_code == 201
    assert response.headers["location"] == "/products/13"
    created = {**NEW, "id": 13, "tags": ["coffee", "tools"], "has_image": False}
    assert response.json() == created
    assert client.get("/products/13").json() == created
    assert client.get("/products").headers["x-total-count"] == "13"
    assert store.products[13].name == "Cupping spoon"


@pytest.mark.parametrize(
    ("change", "field", "error_type"),
    [
        ({"sku": "cup-1"}, "sku", "string_pattern_mismatch"),
        ({"name": ""}, "name", "string_too_short"),
        ({"price_cents": 0}, "price_cents", "greater_than"),
        ({"tags": ["a", "b", "c", "d", "e", "f"]}, "tags", "too_long"),
        ({"tags": ["tea", "Tea"]}, "tags", "value_error"),
    ],
)
def test_create_validates_the_product(
    client: Client, admin: Headers, change: dict[str, Any], field: str, error_type: str
) -> None:
    response = client.post("/products", json={**NEW, **change}, headers=admin)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["body", field], error_type)
    assert client.get("/products").headers["x-total-count"] == "12"


def test_skus_are_unique(client: Client, admin: Headers) -> None:
    response = client.post("/products", json={**NEW, "sku": "COF-001"}, headers=admin)
    assert response.status_code == 409
    assert response.json() == {"error": "conflict", "detail": "SKU COF-001 is taken"}


@pytest.mark.parametrize(
    ("patch", "changes"),
    [
        ({"price_cents": 1390, "stock": 0}, {"price_cents": 1390, "stock": 0}),
        ({"tags": ["Coffee", "Dark"]}, {"tags": ["coffee", "dark"]}),
        ({"name": None}, {}),
    ],
)
def test_admins_update_products(
    client: Client, admin: Headers, patch: dict[str, Any], changes: dict[str, Any]
) -> None:
    before = client.get("/products/1").json()
    response = client.patch("/products/1", json=patch, headers=admin)
    assert response.status_code == 200
    assert response.json() == {**before, **changes}
    assert client.get("/products/1").json() == {**before, **changes}


@pytest.mark.parametrize("patch", [{"price_cents": -5}, {"tags": ["x", "X"]}])
def test_updates_are_validated(client: Client, admin: Headers, patch: Any) -> None:
    before = client.get("/products/1").json()
    assert client.patch("/products/1", json=patch, headers=admin).status_code == 422
    assert client.get("/products/1").json() == before


def test_admins_delete_products(client: Client, admin: Headers) -> None:
    response = client.delete("/products/4", headers=admin)
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/products/4").status_code == 404
    assert client.delete("/products/4", headers=admin).status_code == 404
    assert client.get("/products").headers["x-total-count"] == "11"


def test_products_on_open_orders_cannot_be_deleted(
    client: Client, admin: Headers, alice: Headers
) -> None:
    client.post("/orders", json={"items": [{"product_id": 3, "quantity": 1}]}, headers=alice)
    response = client.delete("/products/3", headers=admin)
    assert response.status_code == 409
    assert response.json() == {
        "error": "conflict",
        "detail": "product 3 is on open orders",
        "orders": [1],
    }
    client.post("/orders/1/cancel", headers=alice)
    assert client.delete("/products/3", headers=admin).status_code == 204


# -- bulk import from a streamed body --------------------------------------------


def test_import_reads_ndjson_as_it_streams_in(client: Client, admin: Headers) -> None:
    def body() -> Iterator[bytes]:  # lines split across chunks, as on a real network
        yield b'{"sku": "IMP-001", "name": "Imported one", "price_cents": 100}\n{"sku": "IM'
        yield b'P-002", "name": "Imported two", "price_cents": 200, "stock": 3}\n\n'
        yield b'{"sku": "IMP-003", "name": "", "price_cents": 300}\n'
        yield b'{"sku": "COF-001", "name": "Duplicate", "price_cents": 1}\nnot json'

    headers = {**admin, "Content-Type": "application/x-ndjson"}
    response = client.post("/products/import", content=body(), headers=headers)
    assert response.status_code == 200
    report = response.json()
    assert report["created"] == [13, 14]
    assert report["errors"][:2] == [
        {"line": 4, "error": "name: String should have at least 1 character"},
        {"line": 5, "error": "SKU COF-001 is taken"},
    ]
    assert report["errors"][2]["line"] == 6
    assert report["errors"][2]["error"].startswith("Invalid JSON")
    assert client.get("/products/14").json()["stock"] == 3


def test_import_wants_ndjson(client: Client, admin: Headers) -> None:
    response = client.post("/products/import", json=[NEW], headers=admin)
    assert response.status_code == 415
    assert response.json() == {
        "error": "unsupported_media_type",
        "detail": "send application/x-ndjson, not application/json",
    }


# -- images (multipart upload) ---------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "content_type"),
    [("mug.png", PNG, "image/png"), ("mug.jpg", JPEG, "image/jpeg")],
)
def test_admins_upload_an_image_that_anyone_can_download(
    client: Client, admin: Headers, filename: str, data: bytes, content_type: str
) -> None:
    files = {"image": (filename, data, content_type)}
    response = client.put("/products/5/image", files=files, data={"alt": "a mug"}, headers=admin)
    assert response.status_code == 200
    info = response.json()
    assert info == {
        "product_id": 5,
        "content_type": content_type,
        "size": len(data),
        "etag": info["etag"],
        "alt": "a mug",
    }
    download = client.get("/products/5/image")
    assert download.content == data
    assert download.headers["content-type"] == content_type
    assert download.headers["etag"] == info["etag"]
    assert client.get("/products/5").json()["has_image"] is True


def test_a_matching_etag_gets_304_not_modified(client: Client, admin: Headers) -> None:
    files = {"image": ("mug.png", PNG, "image/png")}
    etag = client.put("/products/5/image", files=files, headers=admin).json()["etag"]
    cached = client.get("/products/5/image", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag
    stale = client.get("/products/5/image", headers={"If-None-Match": '"older"'})
    assert (stale.status_code, stale.content) == (200, PNG)


@pytest.mark.parametrize(
    ("upload", "status", "error"),
    [
        (("notes.txt", b"hello", "text/plain"), 415, "unsupported_media_type"),
        (("big.png", PNG + bytes(64 * 1024), "image/png"), 413, "too_large"),
        (("fake.png", b"<svg></svg>", "image/png"), 400, "bad_request"),
    ],
    ids=["not-an-image", "too-large", "not-what-it-claims"],
)
def test_uploads_are_checked(
    client: Client, admin: Headers, upload: Any, status: int, error: str
) -> None:
    response = client.put("/products/5/image", files={"image": upload}, headers=admin)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert client.get("/products/5/image").status_code == 404


def test_the_image_file_is_required(client: Client, admin: Headers) -> None:
    response = client.put("/products/5/image", data={"alt": "no file"}, headers=admin)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "image"]


def test_a_product_without_an_image(client: Client) -> None:
    response = client.get("/products/1/image")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "product 1 has no image"}
