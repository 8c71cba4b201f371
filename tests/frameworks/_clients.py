"""One test body, two clients: ``AsyncTestClient`` itself, and ``TestClient`` behind awaits.

A checklist scenario is written once, as async test code against
``AsyncTestClient``'s API. For the sync variant it gets ``SyncClient``: the same
calls, each an ``async def`` that calls ``TestClient`` directly and never
suspends. Such a coroutine runs to its end on one ``send(None)`` (``drive``),
outside any event loop, exactly as a plain sync test would call ``TestClient``.

Only what the scenarios use is wrapped; ``SyncClient.client`` is the real
``TestClient`` for anything else.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Coroutine, Generator
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self, TypeVar, cast

import httpx2

from unwired import AsyncTestClient, TestClient

if TYPE_CHECKING:
    from unwired._websocket import WebSocketSession

T = TypeVar("T")


class Connect(Protocol):
    """``connect(app, **kwargs)``: a client for ``app``, to enter with ``async with``."""

    def __call__(self, app: Any, **kwargs: Any) -> AsyncTestClient | SyncClient: ...


def drive(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends, with no event loop, and return its result.

    Raises:
        RuntimeError: the coroutine suspended, i.e. awaited something other than
            a ``SyncClient`` call (a sleep, an event): a sync test cannot do that.
    """
    try:
        coroutine.send(None)
    except StopIteration as stop:
        result: T = stop.value
        return result
    coroutine.close()
    msg = (
        "a scenario run with the sync client suspended: await only the client's own "
        "calls in a checklist scenario (no sleeps or events)"
    )
    raise RuntimeError(msg)


class SyncClient:
    """``TestClient`` with ``AsyncTestClient``'s (awaitable) API, for shared scenarios."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    @property
    def cookies(self) -> httpx2.Cookies:
        return self.client.cookies

    @property
    def app_state(self) -> dict[str, Any]:
        return self.client.app_state

    async def __aenter__(self) -> Self:
        self.client.__enter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.client.__exit__(*exc_info)

    async def aclose(self) -> None:
        self.client.close()

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        return self.client.request(method, url, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx2.Response:
        return self.client.get(url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx2.Response:
        return self.client.post(url, **kwargs)

    @contextlib.asynccontextmanager
    async def stream(self, method: str, url: str, **kwargs: Any) -> AsyncIterator[SyncStream]:
        with self.client.stream(method, url, **kwargs) as response:
            yield SyncStream(response)

    @contextlib.asynccontextmanager
    async def websocket_connect(self, url: str, **kwargs: Any) -> AsyncIterator[SyncWebSocket]:
        with self.client.websocket_connect(url, **kwargs) as session:
            yield SyncWebSocket(session)


class SyncStream:
    """A streamed sync response; ``aiter_raw()`` reads it through the sync iterator."""

    def __init__(self, response: httpx2.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        chunks = cast("Generator[bytes, None, None]", self.response.iter_raw())
        try:
            for chunk in chunks:
                yield chunk
        finally:
            chunks.close()  # closing this iterator closes httpx2's, as in the async client


class SyncWebSocket:
    """A sync WebSocket session behind awaitable methods."""

    def __init__(self, session: WebSocketSession) -> None:
        self.session = session

    @property
    def accepted_subprotocol(self) -> str | None:
        return self.session.accepted_subprotocol

    async def send_text(self, data: str) -> None:
        self.session.send_text(data)

    async def send_bytes(self, data: bytes) -> None:
        self.session.send_bytes(data)

    async def send_json(self, data: Any) -> None:
        self.session.send_json(data)

    async def receive_text(self, timeout: float | None = None) -> str:
        return self.session.receive_text(timeout=timeout)

    async def receive_bytes(self, timeout: float | None = None) -> bytes:
        return self.session.receive_bytes(timeout=timeout)

    async def receive_json(self, timeout: float | None = None) -> Any:
        return self.session.receive_json(timeout=timeout)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.session.close(code, reason)


def sync_connect(backend: Literal["asyncio", "trio"], options: dict[str, Any]) -> Connect:
    """``connect`` for the sync variant: ``TestClient`` on the given event loop."""

    def connect(app: Any, **kwargs: Any) -> SyncClient:
        return SyncClient(TestClient(app, backend=backend, backend_options=options, **kwargs))

    return connect


def async_connect(app: Any, **kwargs: Any) -> AsyncTestClient:
    """``connect`` for the async variant: ``AsyncTestClient`` on the test's loop."""
    return AsyncTestClient(app, **kwargs)
