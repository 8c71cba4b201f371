"""The dependencies the routers share: the store and hub from the lifespan state, the
authenticated user, pagination, and the product or order a path names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Query, Response, status
from fastapi.security import OAuth2PasswordBearer
from starlette.requests import HTTPConnection

from .models import Order, Product
from .store import Hub, NotFound, Store, User
from .tokens import InvalidToken, authenticate

T = TypeVar("T")


def get_store(connection: HTTPConnection) -> Store:  # HTTP requests and WebSockets alike
    return connection.state.store  # type: ignore[no-any-return]


def get_hub(connection: HTTPConnection) -> Hub:
    return connection.state.hub  # type: ignore[no-any-return]


StoreDep = Annotated[Store, Depends(get_store)]
HubDep = Annotated[Hub, Depends(get_hub)]


async def transaction(store: StoreDep) -> AsyncIterator[Store]:
    """The store, for a request that changes it: if the request fails, what it changed is
    undone, as a database session rolls back."""
    saved = store.snapshot()
    try:
        yield store
    except Exception:
        store.restore(saved)
        raise


TransactionDep = Annotated[Store, Depends(transaction)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token")


def current_user(token: Annotated[str, Depends(oauth2_scheme)], store: StoreDep) -> User:
    try:
        user = authenticate(store, token)
    except InvalidToken as exc:
        headers = {"WWW-Authenticate": "Bearer"}
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), headers) from None
    if user.disabled:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "account disabled")
    return user


UserDep = Annotated[User, Depends(current_user)]


def admin_user(user: UserDep) -> User:
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only")
    return user


AdminDep = Annotated[User, Depends(admin_user)]


@dataclass
class Page:
    offset: int
    limit: int

    def of(self, items: list[T], response: Response) -> list[T]:
        """The page of ``items``; the ``X-Total-Count`` header says how many there are."""
        response.headers["X-Total-Count"] = str(len(items))
        return items[self.offset : self.offset + self.limit]


def page(
    offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> Page:
    return Page(offset, limit)


PageDep = Annotated[Page, Depends(page)]


def product_or_404(product_id: int, store: StoreDep) -> Product:
    return store.product(product_id)


ProductDep = Annotated[Product, Depends(product_or_404)]


def visible_order(order_id: int, store: StoreDep, user: UserDep) -> Order:
    order = store.orders.get(order_id)
    if order is None or (order.owner != user.username and user.role != "admin"):
        raise NotFound(f"order {order_id} not found")  # someone else's does not exist for you
    return order


OrderDep = Annotated[Order, Depends(visible_order)]
