"""``/orders``: customers place and cancel their orders; admins see all and ship them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio.lowlevel
from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Response, status
from fastapi.responses import StreamingResponse

from .dependencies import (
    HubDep,
    OrderDep,
    PageDep,
    StoreDep,
    TransactionDep,
    UserDep,
    admin_user,
)
from .models import Order, OrderIn, OrderItem, OrderStatus
from .store import Conflict, Email, Hub, OutOfStock, Store

router = APIRouter(prefix="/orders", tags=["orders"])


async def announce(store: Store, hub: Hub, order: Order, what: str) -> None:
    """Email the customer and notify their open WebSockets; runs after the response."""
    await anyio.lowlevel.checkpoint()  # a real mailer would do I/O here
    store.outbox.append(Email(to=f"{order.owner}@shop.example", subject=f"Order {order.id} {what}"))
    event = {"event": f"order.{what}", "order_id": order.id, "total_cents": order.total_cents}
    await hub.notify(order.owner, event)


@router.post("", status_code=201)
async def place_order(
    order_in: OrderIn,
    user: UserDep,
    store: TransactionDep,
    hub: HubDep,
    background: BackgroundTasks,
    response: Response,
) -> Order:
    items = []
    for line in order_in.items:  # reserve line by line; the transaction undoes a failure
        product = store.product(line.product_id)
        if product.stock < line.quantity:
            raise OutOfStock(
                f"only {product.stock} of {product.name!r} left",
                product_id=product.id,
                available=product.stock,
            )
        store.update_product(product.id, stock=product.stock - line.quantity)
        items.append(
            OrderItem(
                product_id=product.id,
                name=product.name,
                quantity=line.quantity,
                unit_price_cents=product.price_cents,
            )
        )
    order = Order(
        id=store.next_order_id,
        owner=user.username,
        items=items,
        total_cents=sum(item.quantity * item.unit_price_cents for item in items),
        note=order_in.note,
    )
    store.orders[order.id] = order
    store.next_order_id += 1
    response.headers["Location"] = f"/orders/{order.id}"
    background.add_task(announce, store, hub, order, "placed")
    return order


@router.get("")
async def list_orders(
    user: UserDep,
    store: StoreDep,
    page: PageDep,
    response: Response,
    status_is: Annotated[OrderStatus | None, Query(alias="status")] = None,
    everyone: bool = False,
) -> list[Order]:
    """The user's orders, newest first; ``everyone=true`` (admins) lists all users'."""
    if everyone and user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only admins may list everyone's orders")
    orders = [
        order
        for order in store.orders.values()
        if (everyone or order.owner == user.username)
        and (status_is is None or order.status == status_is)
    ]
    orders.sort(key=lambda order: order.id, reverse=True)
    return page.of(orders, response)


# Before /{order_id}, which would take "export" for an id.
@router.get("/export", dependencies=[Depends(admin_user)])
async def export_orders(store: StoreDep) -> StreamingResponse:
    """Every order as NDJSON, streamed a line at a time."""
    orders = sorted(store.orders.values(), key=lambda order: order.id)

    async def lines() -> AsyncIterator[str]:
        for order in orders:
            yield order.model_dump_json() + "\n"
            await anyio.lowlevel.checkpoint()

    headers = {"Content-Disposition": 'attachment; filename="orders.ndjson"'}
    return StreamingResponse(lines(), media_type="application/x-ndjson", headers=headers)


@router.get("/{order_id}")
async def read_order(order: OrderDep) -> Order:
    return order


@router.post("/{order_id}/cancel")
async def cancel_order(
    order: OrderDep, store: TransactionDep, hub: HubDep, background: BackgroundTasks
) -> Order:
    if order.status != "placed":
        raise Conflict(f"order {order.id} is {order.status}", status=order.status)
    for item in order.items:  # back on the shelf, unless the product was deleted since
        if item.product_id in store.products:
            stock = store.products[item.product_id].stock
            store.update_product(item.product_id, stock=stock + item.quantity)
    cancelled = store.orders[order.id] = order.model_copy(update={"status": "cancelled"})
    background.add_task(announce, store, hub, cancelled, "cancelled")
    return cancelled


@router.post("/{order_id}/ship", dependencies=[Depends(admin_user)])
async def ship_order(
    order: OrderDep, store: TransactionDep, hub: HubDep, background: BackgroundTasks
) -> Order:
    if order.status != "placed":
        raise Conflict(f"order {order.id} is {order.status}", status=order.status)
    shipped = store.orders[order.id] = order.model_copy(update={"status": "shipped"})
    background.add_task(announce, store, hub, shipped, "shipped")
    return shipped
