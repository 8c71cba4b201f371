"""``/admin``: what the shop has sent, and how it is selling. Admins only."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from .dependencies import StoreDep, admin_user
from .models import EmailOut, Stats

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(admin_user)])

LOW_STOCK = 5


@router.get("/outbox")
async def outbox(store: StoreDep) -> list[EmailOut]:
    return [EmailOut(to=email.to, subject=email.subject) for email in store.outbox]


@router.get("/stats")
def stats(store: StoreDep) -> Stats:
    live = [order for order in store.orders.values() if order.status != "cancelled"]
    return Stats(
        orders=len(live),
        revenue_cents=sum(order.total_cents for order in live),
        units_sold=sum(item.quantity for order in live for item in order.items),
        low_stock=sorted(p.sku for p in store.products.values() if p.stock < LOW_STOCK),
    )
