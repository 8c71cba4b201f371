"""The apps the benchmarks drive, and the mock-transport handlers that stand in for them.

Rule: every contender of a comparison talks to the same app (or to a handler giving
the same answer), so a ratio measures the client and nothing else. The raw ASGI apps
complete the lifespan protocol, so clients can enter ``with`` and run it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

TRIVIAL_HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"2")]
CHUNK = 64 * 1024  # the size of each chunk of a streamed body
_SOURCE = memoryview(bytes(range(256)) * 4096)  # 1 MiB the chunks are copied from


async def serve_lifespan(receive: Receive, send: Send) -> None:
    """Complete lifespan startup and shutdown, as a server expects of an app."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def trivial_app(scope: Scope, receive: Receive, send: Send) -> None:
    """200 "hi" to every request."""
    if scope["type"] == "lifespan":
        return await serve_lifespan(receive, send)
    await send({"type": "http.response.start", "status": 200, "headers": TRIVIAL_HEADERS})
    await send({"type": "http.response.body", "body": b"hi"})


def floor_handler(request: httpx2.Request) -> httpx2.Response:
    """The mock transport's answer: the same status, headers and body as ``trivial_app``."""
    return httpx2.Response(200, headers=TRIVIAL_HEADERS, content=b"hi")


def chunks(size: int) -> Iterator[bytes]:
    """``size`` bytes in ``CHUNK``-sized pieces, each a new object (as a file read gives),
    so whoever keeps them pays for them in memory."""
    offset = 0
    for start in range(0, size, CHUNK):
        length = min(CHUNK, size - start)
        yield bytes(_SOURCE[offset : offset + length])
        offset = (offset + length) % (len(_SOURCE) - CHUNK)


async def achunks(size: int) -> AsyncIterator[bytes]:
    """``chunks(size)`` as an async iterator, for the async clients' request bodies."""
    for chunk in chunks(size):
        yield chunk


async def bytes_app(scope: Scope, receive: Receive, send: Send) -> None:
    """POST: reads the whole body chunk by chunk and answers its length, in decimal.
    GET: streams as many bytes as the query string says (``/?1048576``), in ``CHUNK``s."""
    if scope["type"] == "lifespan":
        return await serve_lifespan(receive, send)
    if scope["method"] == "GET":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for chunk in chunks(int(scope["query_string"] or 0)):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    length, more_body = 0, True
    while more_body:
        message = await receive()
        length += len(message.get("body", b""))
        more_body = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"%d" % length})


def length_handler(request: httpx2.Request) -> httpx2.Response:
    """The mock transport's answer to a POST: the body's length, as ``bytes_app`` gives."""
    return httpx2.Response(200, content=b"%d" % len(request.read()))


async def get_item(request: Request) -> JSONResponse:
    item_id = request.path_params["item_id"]
    verbose = request.query_params.get("verbose") == "1"
    item = {"id": item_id, "name": f"item {item_id}", "price": 9.5, "tags": ["a", "b"]}
    if verbose:
        item["user_agent"] = request.headers["user-agent"]
    return JSONResponse(item)


realistic_app = Starlette(routes=[Route("/items/{item_id:int}", get_item)])
REALISTIC_PATH = "/items/42?verbose=1"
REALISTIC_BODY = {
    "id": 42,
    "name": "item 42",
    "price": 9.5,
    "tags": ["a", "b"],
    "user_agent": "testclient",
}


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Accepts a WebSocket and echoes its text frames."""
    if scope["type"] == "lifespan":
        return await serve_lifespan(receive, send)
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message["text"]})


async def echo_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)


starlette_echo_app = Starlette(routes=[WebSocketRoute("/", echo_endpoint)])
