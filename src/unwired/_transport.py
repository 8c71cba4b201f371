"""httpx2 transports over ``HTTPExchange``: the only place requests become scopes.

Rule: a transport translates — httpx2 request to scope and body, exchange
events to an httpx2 response, ``TimeoutError`` to ``httpx2.ReadTimeout`` — and
decides nothing about the protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2

from ._driver import Driver
from ._exchange import HTTPExchange, RequestBody
from ._lifespan import unwrap
from ._ops import Op
from ._protocol._http import ResponseStart
from ._protocol._scope import ScopeConfig, Target, http_scope
from ._types import ASGIApp


def read_timeout(request: httpx2.Request) -> float | None:
    timeout: dict[str, float | None] = request.extensions.get("timeout", {})
    return timeout.get("read")


def new_exchange(
    app: ASGIApp, request: httpx2.Request, config: ScopeConfig, backend: Any, sync: bool
) -> HTTPExchange:
    url = request.url
    target = Target(url.scheme, url.host, url.port, url.raw_path)
    headers = [(name.lower(), value) for name, value in request.headers.raw]
    body: RequestBody
    try:
        body = request.content
    except httpx2.RequestNotRead:
        stream: Any = request.stream
        body = iter(stream) if sync or isinstance(stream, httpx2.SyncByteStream) else aiter(stream)
    scope = http_scope(request.method, target, headers, config)
    return HTTPExchange(app, scope, body, backend)


def build_response(
    request: httpx2.Request, exchange: HTTPExchange, start: ResponseStart, stream: Any
) -> httpx2.Response:
    extensions: dict[str, Any] = {}
    if start.trailers:
        extensions["http.response.trailers"] = exchange.trailers
    if exchange.early_hints:
        extensions["http.response.early_hints"] = exchange.early_hints
    if exchange.pushes:
        extensions["http.response.push"] = exchange.pushes
    response = httpx2.Response(
        start.status, headers=start.headers, stream=stream, request=request, extensions=extensions
    )
    debug = exchange.debug
    if debug is not None:
        response.extensions["http.response.debug"] = debug
        if "template" in debug:
            response.template = debug["template"]  # type: ignore[attr-defined]
        if "context" in debug:
            response.context = debug["context"]  # type: ignore[attr-defined]
    return response


class _Outcome:
    """Shared by both streams: raising the app's failure once, as the test should see it."""

    def __init__(self, exchange: HTTPExchange, request: httpx2.Request, raise_app: bool) -> None:
        self.exchange = exchange
        self.request = request
        self.raise_app = raise_app
        self.reported = False

    def check(self) -> None:
        if self.reported or not self.exchange.app_done:
            return
        self.reported = True
        failure = self.exchange.failure()
        if failure is not None and self.raise_app:
            raise unwrap(failure)

    def timeout(self, exc: TimeoutError) -> httpx2.ReadTimeout:
        return httpx2.ReadTimeout(str(exc), request=self.request)


class SyncResponseStream(httpx2.SyncByteStream):
    def __init__(self, outcome: _Outcome, driver: Driver, timeout: float | None) -> None:
        self._outcome = outcome
        self._driver = driver
        self._timeout = timeout
        self._closed = False

    def _drive(self, op: Op[Any]) -> Any:
        try:
            return self._driver.drive(op)
        except TimeoutError as exc:
            raise self._outcome.timeout(exc) from None

    def __iter__(self) -> Iterator[bytes]:
        exchange = self._outcome.exchange
        while (chunk := self._drive(exchange.next_chunk(self._timeout))) is not None:
            yield chunk
        self._outcome.check()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._drive(self._outcome.exchange.finish(self._timeout))
            self._outcome.check()


class SyncTransport(httpx2.BaseTransport):
    """Sends each request straight into the app on the client's loop."""

    def __init__(
        self, app: ASGIApp, driver: Driver, config: ScopeConfig, raise_server_exceptions: bool
    ) -> None:
        self.app = app
        self.driver = driver
        self.config = config
        self.raise_server_exceptions = raise_server_exceptions

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        exchange = new_exchange(self.app, request, self.config, self.driver.backend, sync=True)
        outcome = _Outcome(exchange, request, self.raise_server_exceptions)
        timeout = read_timeout(request)
        try:
            start = self.driver.drive(exchange.open(timeout))
        except TimeoutError as exc:
            raise outcome.timeout(exc) from None
        if start is None:
            outcome.check()
            return httpx2.Response(500, request=request)
        body = exchange.drain()
        if body is not None:  # the usual case: the app has finished already
            outcome.check()
            return build_response(request, exchange, start, httpx2.ByteStream(body))
        stream = SyncResponseStream(outcome, self.driver, timeout)
        return build_response(request, exchange, start, stream)
