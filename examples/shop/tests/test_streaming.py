"""Streamed responses: the catalogue feed (server-sent events) and the NDJSON export of
orders, read whole and read partially."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from .support import Client, Headers


def sse_events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """The events of a text/event-stream, each a dict of its fields."""
    event: dict[str, str] = {}
    for line in lines:
        if line:
            field, _, value = line.partition(": ")
            event[field] = value
        elif event:
            yield event
            event = {}


# -- the catalogue feed (SSE) ----------------------------------------------------


def test_the_feed_sends_every_product_then_ends(client: Client) -> None:
    with client.stream("GET", "/products/feed") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-cache"
        events = list(sse_events(response.iter_lines()))
    assert [event["id"] for event in events[:-1]] == [str(n) for n in range(1, 13)]
    assert {event["event"] for event in events[:-1]} == {"product"}
    assert json.loads(events[0]["data"])["name"] == "Espresso beans"
    assert events[-1] == {"event": "end", "data": "{}"}


def test_a_client_may_stop_reading_after_a_few_events(client: Client) -> None:
    with client.stream("GET", "/products/feed") as response:
        events = sse_events(response.iter_lines())
        first = [next(events) for _ in range(3)]
    assert [event["id"] for event in first] == ["1", "2", "3"]
    assert client.get("/health").json()["status"] == "ok"  # the client carries on


@pytest.mark.parametrize(("last_event_id", "first_id"), [("5", "6"), ("11", "12")])
def test_the_feed_resumes_after_last_event_id(
    client: Client, last_event_id: str, first_id: str
) -> None:
    headers = {"Last-Event-ID": last_event_id}
    with client.stream("GET", "/products/feed", headers=headers) as response:
        first = next(sse_events(response.iter_lines()))
    assert first["id"] == first_id


def test_resuming_after_the_last_product_only_ends(client: Client) -> None:
    response = client.get("/products/feed", headers={"Last-Event-ID": "12"})
    assert response.text == "event: end\ndata: {}\n\n"


def test_a_malformed_last_event_id_is_a_422(client: Client) -> None:
    response = client.get("/products/feed", headers={"Last-Event-ID": "latest"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "last-event-id"]


def test_the_feed_shows_the_catalogue_as_it_is(client: Client, admin: Headers) -> None:
    client.delete("/products/2", headers=admin)
    client.patch("/products/1", json={"name": "Espresso roast"}, headers=admin)
    text = client.get("/products/feed").text  # read whole, without streaming
    events = list(sse_events(iter(text.splitlines())))
    assert [event["id"] for event in events[:-1]] == [str(n) for n in range(1, 13) if n != 2]
    assert json.loads(events[0]["data"])["name"] == "Espresso roast"


def test_streamed_responses_pass_through_the_middleware(client: Client) -> None:
    with client.stream("GET", "/products/feed", headers={"X-Request-ID": "feed-1"}) as response:
        assert response.headers["x-request-id"] == "feed-1"
        assert response.headers["x-process-time"].endswith("ms")
        assert "content-encoding" not in response.headers  # GZip leaves event streams alone
        next(response.iter_lines())


# -- the orders export (NDJSON) --------------------------------------------------


@pytest.fixture
def three_orders(client: Client, alice: Headers, bob: Headers) -> list[dict[str, object]]:
    orders = []
    for headers, product_id in [(alice, 1), (bob, 2), (alice, 3)]:
        items = [{"product_id": product_id, "quantity": 2}]
        orders.append(client.post("/orders", json={"items": items}, headers=headers).json())
    return orders


def test_admins_export_every_order_as_a_json_line(
    client: Client, admin: Headers, three_orders: list[dict[str, object]]
) -> None:
    with client.stream("GET", "/orders/export", headers=admin) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        disposition = response.headers["content-disposition"]
        assert disposition == 'attachment; filename="orders.ndjson"'
        assert [json.loads(line) for line in response.iter_lines()] == three_orders


def test_reading_the_first_line_of_an_export(
    client: Client, admin: Headers, three_orders: list[dict[str, object]]
) -> None:
    with client.stream("GET", "/orders/export", headers=admin) as response:
        first = json.loads(next(response.iter_lines()))
    assert first == three_orders[0]
    assert len(client.get("/orders/export", headers=admin).text.splitlines()) == 3


def test_an_empty_export(client: Client, admin: Headers) -> None:
    response = client.get("/orders/export", headers=admin)
    assert (response.status_code, response.text) == (200, "")
