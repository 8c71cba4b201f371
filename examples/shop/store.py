"""The shop's data (in memory, one ``Store`` per lifespan), its domain errors, and the
``Hub`` of open WebSockets."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from .models import Order, Product, ProductIn

HASH_ROUNDS = 1_000  # low, as test settings make it; production would use far more

Role = Literal["customer", "admin"]
SEED_USERS: list[tuple[str, str, Role, str, bool]] = [
    # username, full name, role, password, disabled
    ("alice", "Alice Customer", "customer", "wonderland", False),
    ("bob", "Bob Customer", "customer", "builder-42", False),
    ("carol", "Carol Admin", "admin", "higher-further", False),
    ("dave", "Dave Disabled", "customer", "red-dwarf", True),
]


def hash_password(username: str, password: str) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), username.encode(), HASH_ROUNDS)


# Hashed once, as a database holds hashes: not again at every startup.
SEED_HASHES = {user[0]: hash_password(user[0], user[3]) for user in SEED_USERS}
SEED_PRODUCTS = [  # sku, name, price in cents, stock, tags
    ("COF-001", "Espresso beans", 1290, 40, ["coffee"]),
    ("COF-002", "Filter coffee", 990, 25, ["coffee"]),
    ("TEA-001", "Green tea", 650, 30, ["tea"]),
    ("TEA-002", "Earl Grey", 720, 0, ["tea"]),
    ("MUG-001", "Enamel mug", 1500, 12, ["kitchen", "gift"]),
    ("GRD-001", "Hand grinder", 4900, 5, ["coffee", "kitchen"]),
    ("KET-001", "Gooseneck kettle", 6500, 3, ["kitchen"]),
    ("FIL-001", "Paper filters", 450, 100, ["coffee"]),
    ("CHO-001", "Dark chocolate", 350, 60, ["snack", "gift"]),
    ("BIS-001", "Almond biscotti", 480, 18, ["snack"]),
    ("GFT-001", "Gift card", 2500, 1000, ["gift"]),
    ("SCL-001", "Coffee scale", 3900, 7, ["coffee", "kitchen"]),
]


class ShopError(Exception):
    """A domain error; the app's handler answers ``{"error", "detail", **extra}``."""

    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(ShopError):
    status_code, code = 404, "not_found"


class Conflict(ShopError):
    status_code, code = 409, "conflict"


class OutOfStock(ShopError):
    status_code, code = 409, "out_of_stock"


class TooLarge(ShopError):
    status_code, code = 413, "too_large"


class UnsupportedMediaType(ShopError):
    status_code, code = 415, "unsupported_media_type"


@dataclass
class User:
    username: str
    full_name: str
    role: Role
    password_hash: bytes
    disabled: bool = False


@dataclass
class Image:
    content_type: str
    data: bytes
    alt: str

    @property
    def etag(self) -> str:
        return f'"{hashlib.sha256(self.data).hexdigest()[:16]}"'


@dataclass
class Email:
    to: str
    subject: str


@dataclass
class Store:
    """Everything the shop knows: what a database would hold, fresh for each lifespan."""

    users: dict[str, User] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    images: dict[int, Image] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    outbox: list[Email] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    next_product_id: int = 1
    next_order_id: int = 1

    @classmethod
    def seeded(cls) -> Store:
        store = cls()
        for username, full_name, role, _, disabled in SEED_USERS:
            password_hash = SEED_HASHES[username]
            store.users[username] = User(username, full_name, role, password_hash, disabled)
        for sku, name, price_cents, stock, tags in SEED_PRODUCTS:
            store.add_product(
                ProductIn(sku=sku, name=name, price_cents=price_cents, stock=stock, tags=tags)
            )
        return store

    def add_product(self, product_in: ProductIn) -> Product:
        if any(product.sku == product_in.sku for product in self.products.values()):
            raise Conflict(f"SKU {product_in.sku} is taken")
        product = Product(id=self.next_product_id, **product_in.model_dump())
        self.products[product.id] = product
        self.next_product_id += 1
        return product

    def product(self, product_id: int) -> Product:
        product = self.products.get(product_id)
        if product is None:
            raise NotFound(f"product {product_id} not found")
        return product

    def update_product(self, product_id: int, **changes: Any) -> Product:
        product = self.products[product_id] = self.product(product_id).model_copy(update=changes)
        return product

    def snapshot(self) -> dict[str, Any]:
        """What ``restore`` needs to undo the changes made since (models are replaced, not
        changed in place, so copying the dicts is enough)."""
        names = ["products", "images", "orders", "next_product_id", "next_order_id"]
        return {name: copy.copy(getattr(self, name)) for name in names}

    def restore(self, snapshot: dict[str, Any]) -> None:
        for name, value in snapshot.items():
            setattr(self, name, value)


@dataclass(eq=False)  # compared by identity: a WebSocket compares equal by its scope's contents
class Member:
    websocket: WebSocket
    username: str

    @property
    def connected(self) -> bool:
        """False once a send has found the client gone; Starlette then refuses to receive."""
        return self.websocket.application_state is WebSocketState.CONNECTED


class Hub:
    """The open WebSockets: the users' notification sockets, and the chat rooms'."""

    def __init__(self) -> None:
        self.subscribers: list[Member] = []
        self.rooms: dict[str, list[Member]] = {}

    async def send(self, member: Member, message: dict[str, Any]) -> None:
        """Send to one member; forget them if their client has gone."""
        if member.connected:
            try:
                await member.websocket.send_json(message)
                return
            except WebSocketDisconnect:  # it went while the message was on its way
                pass
        self.forget(member)

    async def notify(self, username: str, event: dict[str, Any]) -> None:
        for member in [member for member in self.subscribers if member.username == username]:
            await self.send(member, event)

    async def broadcast(self, room: str, message: dict[str, Any]) -> None:
        for member in list(self.rooms.get(room, [])):
            await self.send(member, message)

    def members(self, room: str) -> list[str]:
        return sorted(member.username for member in self.rooms.get(room, []))

    def forget(self, member: Member) -> None:
        for group in [self.subscribers, *self.rooms.values()]:
            if member in group:
                group.remove(member)
