"""``/products``: the catalogue. Anyone may read it; only admins change it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal

import anyio.lowlevel
from fastapi import APIRouter, Depends, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from .dependencies import PageDep, ProductDep, StoreDep, TransactionDep, admin_user
from .models import ImageInfo, ImportReport, Product, ProductIn, ProductPatch
from .store import Conflict, Image, NotFound, ShopError, TooLarge, UnsupportedMediaType

router = APIRouter(prefix="/products", tags=["products"])
admins_only = [Depends(admin_user)]

MAX_IMAGE_BYTES = 64 * 1024
IMAGE_SIGNATURES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
SORT_KEYS: dict[str, Callable[[Product], Any]] = {
    "id": lambda product: product.id,
    "name": lambda product: product.name.lower(),
    "price": lambda product: (product.price_cents, product.id),
    "-price": lambda product: (-product.price_cents, product.id),
}


@router.get("")
async def list_products(
    store: StoreDep,
    page: PageDep,
    response: Response,
    q: Annotated[str | None, Query(min_length=2, max_length=50)] = None,
    tag: str | None = None,
    max_price: Annotated[int | None, Query(gt=0)] = None,
    in_stock: bool = False,
    sort: Literal["id", "name", "price", "-price"] = "id",
) -> list[Product]:
    products = [
        product
        for product in store.products.values()
        if (q is None or q.lower() in product.name.lower())
        and (tag is None or tag in product.tags)
        and (max_price is None or product.price_cents <= max_price)
        and (not in_stock or product.stock > 0)
    ]
    products.sort(key=SORT_KEYS[sort])
    return page.of(products, response)


@router.post("", status_code=201, dependencies=admins_only)
async def create_product(
    product_in: ProductIn, store: TransactionDep, response: Response
) -> Product:
    product = store.add_product(product_in)
    response.headers["Location"] = f"/products/{product.id}"
    return product


# The fixed paths come before /{product_id}, which would take "feed" for an id.
@router.get("/feed")
async def feed(
    store: StoreDep, last_event_id: Annotated[int, Header(ge=0)] = 0
) -> StreamingResponse:
    """The catalogue as server-sent events, one per product, then ``end``."""
    products = sorted(
        (product for product in store.products.values() if product.id > last_event_id),
        key=lambda product: product.id,
    )

    async def events() -> AsyncIterator[str]:
        for product in products:
            yield f"id: {product.id}\nevent: product\ndata: {product.model_dump_json()}\n\n"
            await anyio.lowlevel.checkpoint()  # as if each product came from the database
        yield "event: end\ndata: {}\n\n"

    headers = {"Cache-Control": "no-cache"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


async def ndjson_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    pending = b""
    async for chunk in chunks:
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            yield line
    yield pending


@router.post("/import", dependencies=admins_only)
async def import_products(request: Request, store: TransactionDep) -> ImportReport:
    """Products from an NDJSON body, read as it streams in; bad lines are reported."""
    content_type = request.headers.get("content-type", "").partition(";")[0]
    if content_type != "application/x-ndjson":
        raise UnsupportedMediaType(f"send application/x-ndjson, not {content_type or 'nothing'}")
    report = ImportReport(created=[], errors=[])
    number = 0
    async for line in ndjson_lines(request.stream()):
        number += 1
        if not line.strip():
            continue
        try:
            product = store.add_product(ProductIn.model_validate_json(line))
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(map(str, error["loc"]))
            report.errors.append({"line": number, "error": f"{field}: {error['msg']}".lstrip(": ")})
        except Conflict as exc:
            report.errors.append({"line": number, "error": exc.detail})
        else:
            report.created.append(product.id)
    return report


@router.get("/{product_id}")
async def read_product(product: ProductDep) -> Product:
    return product


@router.patch("/{product_id}", dependencies=admins_only)
async def update_product(
    patch: ProductPatch, product: ProductDep, store: TransactionDep
) -> Product:
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    return store.update_product(product.id, **changes)


@router.delete("/{product_id}", status_code=204, dependencies=admins_only)
async def delete_product(product: ProductDep, store: TransactionDep) -> None:
    open_orders = [
        order.id
        for order in store.orders.values()
        if order.status == "placed" and any(item.product_id == product.id for item in order.items)
    ]
    if open_orders:
        raise Conflict(f"product {product.id} is on open orders", orders=open_orders)
    del store.products[product.id]
    store.images.pop(product.id, None)


@router.put("/{product_id}/image", dependencies=admins_only)
async def upload_image(
    product: ProductDep,
    store: TransactionDep,
    image: UploadFile,
    alt: Annotated[str, Form(max_length=100)] = "",
) -> ImageInfo:
    content_type = image.content_type or ""
    signature = IMAGE_SIGNATURES.get(content_type)
    if signature is None:
        raise UnsupportedMediaType(
            f"{content_type or 'no content type'} is not an image type the shop takes",
            accepted=sorted(IMAGE_SIGNATURES),
        )
    data = await image.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(f"images are limited to {MAX_IMAGE_BYTES} bytes")
    if not data.startswith(signature):
        raise ShopError(f"{image.filename} does not look like {content_type}")
    stored = store.images[product.id] = Image(content_type, data, alt)
    store.update_product(product.id, has_image=True)
    return ImageInfo(
        product_id=product.id, content_type=content_type, size=len(data), etag=stored.etag, alt=alt
    )


# A plain ``def``: FastAPI runs it in a worker thread, as it would a blocking file read.
@router.get("/{product_id}/image")
def download_image(
    product: ProductDep,
    store: StoreDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    image = store.images.get(product.id)
    if image is None:
        raise NotFound(f"product {product.id} has no image")
    headers = {"ETag": image.etag, "Cache-Control": "public, max-age=3600"}
    if if_none_match == image.etag:
        return Response(status_code=304, headers=headers)
    return Response(image.data, media_type=image.content_type, headers=headers)
