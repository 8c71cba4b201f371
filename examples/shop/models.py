"""The shop's request and response bodies, validated by pydantic."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

TOKEN_TTL = 3600  # seconds


def unique_tags(tags: list[str]) -> list[str]:
    normalized = [tag.strip().lower() for tag in tags]
    if len(set(normalized)) != len(normalized):
        raise ValueError("tags must be unique")
    return normalized


Tags = Annotated[list[str], Field(max_length=5), AfterValidator(unique_tags)]
Sku = Annotated[str, Field(pattern=r"^[A-Z]{3}-\d{3}$")]
Name = Annotated[str, Field(min_length=1, max_length=80)]
Price = Annotated[int, Field(gt=0, le=1_000_000)]
Stock = Annotated[int, Field(ge=0)]


class ProductIn(BaseModel):
    sku: Sku
    name: Name
    price_cents: Price
    stock: Stock = 0
    tags: Tags = []


class ProductPatch(BaseModel):
    name: Name | None = None
    price_cents: Price | None = None
    stock: Stock | None = None
    tags: Tags | None = None


class Product(ProductIn):
    id: int
    has_image: bool = False


class ImageInfo(BaseModel):
    product_id: int
    content_type: str
    size: int
    etag: str
    alt: str


class ImportReport(BaseModel):
    created: list[int]
    errors: list[dict[str, int | str]]


class OrderLine(BaseModel):
    product_id: int
    quantity: int = Field(ge=1, le=10)


class OrderIn(BaseModel):
    items: list[OrderLine] = Field(min_length=1, max_length=20)
    note: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def one_line_per_product(self) -> OrderIn:
        ids = [line.product_id for line in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("each product may appear on one line only")
        return self


class OrderItem(BaseModel):
    product_id: int
    name: str
    quantity: int
    unit_price_cents: int


OrderStatus = Literal["placed", "cancelled", "shipped"]


class Order(BaseModel):
    id: int
    owner: str
    items: list[OrderItem]
    total_cents: int
    note: str
    status: OrderStatus = "placed"


class UserOut(BaseModel):
    username: str
    full_name: str
    role: Literal["customer", "admin"]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = TOKEN_TTL


class EmailOut(BaseModel):
    to: str
    subject: str


class Stats(BaseModel):
    orders: int
    revenue_cents: int
    units_sold: int
    low_stock: list[str]
