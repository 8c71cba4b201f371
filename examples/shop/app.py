"""The shop's FastAPI app: lifespan, middleware, exception handlers and the routers."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import admin, auth, orders, products, realtime
from .dependencies import StoreDep
from .store import Hub, ShopError, Store

ALLOWED_ORIGINS = ["https://shop.example"]
REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    store = Store.seeded()
    store.events.append("startup")
    yield {"store": store, "hub": Hub()}  # becomes request.state.store, request.state.hub
    store.events.append("shutdown")


class RequestIdMiddleware:
    """Answers every HTTP request with an ``X-Request-ID``: the client's, or a new one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id", "")
        if not REQUEST_ID.fullmatch(request_id):
            request_id = uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        await self.app(scope, receive, send_with_id)


app = FastAPI(title="shop", version="1.0.0", lifespan=lifespan)
for module in (auth, products, orders, admin, realtime):
    app.include_router(module.router)


# Middleware: the last added is the outermost. Requests pass CORS, then the request id,
# then GZip, then the timing middleware, then the routes.
@app.middleware("http")
async def add_process_time(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    start = time.perf_counter()
    response = await call_next(request)
    response.headers["X-Process-Time"] = f"{(time.perf_counter() - start) * 1000:.3f}ms"
    return response


app.add_middleware(GZipMiddleware, minimum_size=1000)
app.add_middleware(RequestIdMiddleware)
app.add_middleware(
    CORSMiddleware,
    allow_origins=ALLOWED_ORIGINS,
    allow_credentials=True,
    allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
    expose_headers=["X-Total-Count", "X-Request-ID", "X-Process-Time"],
    max_age=600,
)


@app.exception_handler(ShopError)
async def shop_error(request: Request, exc: ShopError) -> JSONResponse:
    body = {"error": exc.code, "detail": exc.detail, **exc.extra}
    return JSONResponse(body, status_code=exc.status_code)


@app.get("/health", tags=["meta"])
async def health(store: StoreDep) -> dict[str, Any]:
    return {"status": "ok", "products": len(store.products), "orders": len(store.orders)}
