"""A sync request body: read in a worker thread, ahead of the app, but never far ahead."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from unwired import TestClient
from unwired._body import READ_AHEAD
from unwired._types import Receive, Scope, Send

BACKENDS = pytest.mark.parametrize("backend", ["asyncio", "trio"])


async def _count_body(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body; answers with its size."""
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message["body"])
        more = message["more_body"]
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body", "body": b"%d" % size})


@BACKENDS
def test_a_body_that_waits_for_the_app_gets_its_answer(backend: str) -> None:
    # the generator yields its second chunk only once the app has the first
    app_has_first = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["body"] == b"first"
        app_has_first.set()
        await _count_body(scope, receive, send)

    def body() -> Iterator[bytes]:
        yield b"first"
        assert app_has_first.wait(5), "the app never got the first chunk"
        yield b"second"

    with TestClient(app, backend=backend, lifespan="off", timeout=10) as client:  # type: ignore[arg-type]
        assert client.post("/", content=body()).text == "6"


@BACKENDS
def test_the_reader_stays_close_behind_the_app_and_stops_with_it(backend: str) -> None:
    chunk = b"x" * 65536
    pulled: list[int] = []
    taken: list[int] = []

    def endless() -> Iterator[bytes]:
        while True:
            pulled.append(1)
            yield chunk

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for _ in range(40 if scope["method"] == "POST" else 0):  # 2.5 MiB of an endless body
            await receive()
            taken.append(len(pulled))
        await send({"type": "http.response.start", "status": 204})
        await send({"type": "http.response.body"})

    with TestClient(app, backend=backend, lifespan="off") as client:  # type: ignore[arg-type]
        assert client.post("/", content=endless()).status_code == 204
        ahead = max(pulled_then - index - 1 for index, pulled_then in enumerate(taken))
        assert ahead <= READ_AHEAD // len(chunk) + 1  # never more than READ_AHEAD ahead
        settled = len(pulled)
        client.get("/")  # the reader has stopped: nothing more is pulled
        assert len(pulled) <= settled + 1


class BodyFailed(Exception):
    pass


@BACKENDS
def test_an_iterator_that_fails_fails_the_request(backend: str) -> None:
    def body() -> Iterator[bytes]:
        yield b"first"
        raise BodyFailed("the file went away")

    with TestClient(_count_body, backend=backend, lifespan="off") as client:  # type: ignore[arg-type]
        with pytest.raises(BodyFailed, match="went away"):
            client.post("/", content=body())
        assert client.post("/", content=iter([b"ab", b"c"])).text == "3"
