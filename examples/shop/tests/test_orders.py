"""Orders: placing them against the stock, who sees which, cancelling, shipping, and
what happens in the background afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from httpx2 import Response

from shop.store import Email, Store

from .support import Client, Headers


def place(client: Client, headers: Headers, *lines: tuple[int, int]) -> Any:
    items = [{"product_id": product_id, "quantity": quantity} for product_id, quantity in lines]
    response = client.post("/orders", json={"items": items}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def stock(client: Client, product_id: int) -> int:
    return client.get(f"/products/{product_id}").json()["stock"]  # type: ignore[no-any-return]


# -- placing ---------------------------------------------------------------------


def test_placing_an_order_prices_it_and_reserves_the_stock(client: Client, alice: Headers) -> None:
    items = [{"product_id": 1, "quantity": 2}, {"product_id": 9, "quantity": 3}]
    response = client.post("/orders", json={"items": items, "note": "gift wrap"}, headers=alice)
    assert response.status_code == 201
    assert response.headers["location"] == "/orders/1"
    assert response.json() == {
        "id": 1,
        "owner": "alice",
        "items": [
            {"product_id": 1, "name": "Espresso beans", "quantity": 2, "unit_price_cents": 1290},
            {"product_id": 9, "name": "Dark chocolate", "quantity": 3, "unit_price_cents": 350},
        ],
        "total_cents": 3630,
        "note": "gift wrap",
        "status": "placed",
    }
    assert (stock(client, 1), stock(client, 9)) == (38, 57)


@pytest.mark.parametrize(
    ("lines", "total"),
    [([(8, 10)], 4500), ([(6, 1), (12, 1)], 8800), ([(11, 4), (10, 2), (3, 1)], 11610)],
)
def test_the_total_is_the_sum_of_the_lines(
    client: Client, alice: Headers, lines: list[tuple[int, int]], total: int
) -> None:
    assert place(client, alice, *lines)["total_cents"] == total


@pytest.mark.parametrize(
    ("lines", "product", "available"),
    [([(1, 1), (7, 4)], "Gooseneck kettle", 3), ([(4, 1)], "Earl Grey", 0)],
)
def test_orders_are_all_or_nothing_when_stock_runs_out(
    client: Client,
    alice: Headers,
    lines: list[tuple[int, int]],
    product: str,
    available: int,
) -> None:
    items = [{"product_id": product_id, "quantity": quantity} for product_id, quantity in lines]
    response = client.post("/orders", json={"items": items}, headers=alice)
    assert response.status_code == 409
    assert response.json() == {
        "error": "out_of_stock",
        "detail": f"only {available} of {product!r} left",
        "product_id": lines[-1][0],
        "available": available,
    }
    assert stock(client, 1) == 40  # the first line reserved nothing
    assert client.get("/orders", headers=alice).json() == []


def test_ordering_an_unknown_product(client: Client, alice: Headers) -> None:
    items = [{"product_id": 99, "quantity": 1}]
    response = client.post("/orders", json={"items": items}, headers=alice)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "product 99 not found"}


@pytest.mark.parametrize(
    ("body", "location", "error_type"),
    [
        ({"items": []}, ["body", "items"], "too_short"),
        ({"items": [{"product_id": 1, "quantity": 0}]}, ["body", "items", 0, "quantity"], "greater_than_equal"),  # noqa: E501
        ({"items": [{"product_id": 1, "quantity": 11}]}, ["body", "items", 0, "quantity"], "less_than_equal"),  # noqa: E501
        ({"items": [{"product_id": 1, "quantity": 1}] * 2}, ["body"], "value_error"),
        ({"items": [{"product_id": 1, "quantity": 1}], "note": "x" * 201}, ["body", "note"], "string_too_long"),  # noqa: E501
    ],
)  # fmt: skip
def test_invalid_orders_are_422s(
    client: Client, alice: Headers, body: Any, location: list[Any], error_type: str
) -> None:
    response = client.post("/orders", json=body, headers=alice)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (location, error_type)


# -- listing and reading ---------------------------------------------------------


@pytest.fixture
def orders(client: Client, alice: Headers, bob: Headers, admin: Headers) -> Client:
    """alice: orders 1 (placed), 2 (cancelled) and 4 (shipped); bob: 3 (placed)."""
    place(client, alice, (1, 1))
    place(client, alice, (2, 1))
    place(client, bob, (3, 1))
    place(client, alice, (5, 1))
    assert client.post("/orders/2/cancel", headers=alice).status_code == 200
    assert client.post("/orders/4/ship", headers=admin).status_code == 200
    return client


def order_ids(response: Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [order["id"] for order in response.json()]


def test_customers_list_their_own_orders_newest_first(
    orders: Client, alice: Headers, bob: Headers
) -> None:
    response = orders.get("/orders", headers=alice)
    assert order_ids(response) == [4, 2, 1]
    assert response.headers["x-total-count"] == "3"
    assert order_ids(orders.get("/orders", headers=bob)) == [3]


@pytest.mark.parametrize(("status", "expected"), [("placed", [1]), ("shipped", [4])])
def test_list_by_status(orders: Client, alice: Headers, status: str, expected: list[int]) -> None:
    assert order_ids(orders.get(f"/orders?status={status}", headers=alice)) == expected


def test_admins_list_everyones_orders_a_page_at_a_time(orders: Client, admin: Headers) -> None:
    assert order_ids(orders.get("/orders?everyone=true", headers=admin)) == [4, 3, 2, 1]
    page = orders.get("/orders?everyone=true&offset=1&limit=2", headers=admin)
    assert order_ids(page) == [3, 2]
    assert page.headers["x-total-count"] == "4"


def test_customers_read_their_own_orders(orders: Client, alice: Headers) -> None:
    response = orders.get("/orders/4", headers=alice)
    assert response.status_code == 200
    assert (response.json()["owner"], response.json()["status"]) == ("alice", "shipped")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_other_peoples_orders_do_not_exist_for_you(
    orders: Client, bob: Headers, alice: Headers, method: str
) -> None:
    path = "/orders/1" if method == "GET" else "/orders/1/cancel"
    response = orders.request(method, path, headers=bob)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "order 1 not found"}
    assert orders.get("/orders/1", headers=alice).json()["status"] == "placed"


def test_admins_read_anyones_orders(orders: Client, admin: Headers) -> None:
    assert orders.get("/orders/3", headers=admin).json()["owner"] == "bob"


# -- cancelling and shipping -----------------------------------------------------


def test_cancelling_puts_the_stock_back(client: Client, alice: Headers) -> None:
    order = place(client, alice, (6, 5))
    assert stock(client, 6) == 0
    response = client.post(f"/orders/{order['id']}/cancel", headers=alice)
    assert response.status_code == 200
    assert response.json() == {**order, "status": "cancelled"}
    assert stock(client, 6) == 5


@pytest.mark.parametrize(
    ("action", "order_id", "status"),
    [("cancel", 2, "cancelled"), ("cancel", 4, "shipped"), ("ship", 2, "cancelled")],
)
def test_only_placed_orders_can_be_cancelled_or_shipped(
    orders: Client, admin: Headers, action: str, order_id: int, status: str
) -> None:
    response = orders.post(f"/orders/{order_id}/{action}", headers=admin)
    assert response.status_code == 409
    assert response.json() == {
        "error": "conflict",
        "detail": f"order {order_id} is {status}",
        "status": status,
    }


def test_admins_may_cancel_anyones_order(orders: Client, admin: Headers) -> None:
    response = orders.post("/orders/3/cancel", headers=admin)
    assert (response.status_code, response.json()["owner"]) == (200, "bob")


# -- background tasks and figures ------------------------------------------------


def test_the_confirmation_email_is_out_when_the_request_returns(
    client: Client, alice: Headers, store: Store
) -> None:
    place(client, alice, (1, 1))
    assert store.outbox == [Email("alice@shop.example", "Order 1 placed")]


def test_every_change_emails_the_customer(orders: Client, admin: Headers) -> None:
    assert orders.get("/admin/outbox", headers=admin).json() == [
        {"to": "alice@shop.example", "subject": "Order 1 placed"},
        {"to": "alice@shop.example", "subject": "Order 2 placed"},
        {"to": "bob@shop.example", "subject": "Order 3 placed"},
        {"to": "alice@shop.example", "subject": "Order 4 placed"},
        {"to": "alice@shop.example", "subject": "Order 2 cancelled"},
        {"to": "alice@shop.example", "subject": "Order 4 shipped"},
    ]


def test_failed_orders_send_nothing(client: Client, alice: Headers, store: Store) -> None:
    items = [{"product_id": 4, "quantity": 1}]
    assert client.post("/orders", json={"items": items}, headers=alice).status_code == 409
    assert store.outbox == []


def test_stats_leave_out_cancelled_orders(orders: Client, admin: Headers) -> None:
    assert orders.get("/admin/stats", headers=admin).json() == {
        "orders": 3,
        "revenue_cents": 1290 + 650 + 1500,
        "units_sold": 3,
        "low_stock": ["KET-001", "TEA-002"],
    }


# -- overriding a dependency -----------------------------------------------------


def test_overriding_current_user_skips_the_login(
    client: Client, act_as: Callable[[str], None]
) -> None:
    act_as("bob")
    assert client.get("/auth/me").json()["username"] == "bob"
    order = client.post("/orders", json={"items": [{"product_id": 1, "quantity": 1}]}).json()
    assert order["owner"] == "bob"


def test_overriding_current_user_with_an_admin(
    client: Client, act_as: Callable[[str], None]
) -> None:
    act_as("carol")
    assert client.get("/admin/stats").status_code == 200
    act_as("alice")
    assert client.get("/admin/stats").status_code == 403
