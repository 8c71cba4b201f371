"""httpx2 transports over the exchanges: the only place requests become scopes.

Rule: a transport translates — httpx2 request to scope and body, exchange
events to an httpx2 response, ``TimeoutError`` to ``httpx2.ReadTimeout`` — and
decides nothing about the protocol.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import httpx2

from ._app_task import AppTask, unwrap
from ._backends import Backend
from ._driver import Driver
from ._exchange import HTTPExchange, RequestBody
from ._ops import Deadline, Op, check_timeout, drive_async
from ._protocol._http import ResponseStart
from ._protocol._scope import ScopeConfig, Target, http_scope, websocket_scope
from ._types import ASGIApp
from ._ws_exchange import WebSocketExchange

T = TypeVar("T")


#: Set in the extensions of a request whose response httpx2 will read whole.
WHOLE_BODY = "unwired.whole_body"


def read_timeout(request: httpx2.Request) -> float | None:
    """The request's read timeout in seconds (``None``: no limit), checked.

    Raises:
        TypeError, ValueError: not a number of seconds > 0 (the request's ``timeout=``).
    """
    timeout: dict[str, object] = request.extensions.get("timeout", {})
    return check_timeout(timeout.get("read"))


def new_exchange(
    app: ASGIApp, request: httpx2.Request, config: ScopeConfig, backend: Backend, sync: bool
) -> HTTPExchange:
    """The exchange for one request; a streamed body is read as the app asks for it.

    A sync stream (an iterator, a file, a multipart upload) is read in a worker
    thread, so that it never blocks the app's loop (a file read there would,
    and an iterator that waits for the app would never see it answer).
    """
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


def new_websocket_exchange(
    app: ASGIApp,
    request: httpx2.Request,
    subprotocols: list[str],
    config: ScopeConfig,
    backend: Backend,
) -> WebSocketExchange:
    """The session for a handshake request built by the client (URL, headers, cookies)."""
    url = request.url
    target = Target(url.scheme, url.host, url.port, url.raw_path)
    headers = [(name.lower(), value) for name, value in request.headers.raw]
    scope = websocket_scope(target, headers, subprotocols, config)
    return WebSocketExchange(app, scope, backend)


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


class _Reply:
    """One request's way back to the test, shared by the sync and async transports.

    It turns the exchange's events into an ``httpx2.Response``, timeouts into
    ``httpx2.ReadTimeout``, and raises the app's failure once, where the test
    should see it.
    """

    def __init__(self, exchange: HTTPExchange, request: httpx2.Request, raise_app: bool) -> None:
        self.exchange = exchange
        self.request = request
        self.raise_app = raise_app
        self.timeout = read_timeout(request)
        self.reported = False
        self.iterating = False  # a body iterator is under way
        # Not streamed (httpx2 reads the body at once): one deadline for all of it.
        self.whole = request.extensions.get(WHOLE_BODY, False)
        self._body_deadline: Deadline | None = None

    def next_chunk(self) -> Op[bytes | None]:
        """The exchange's next chunk, within the chunk's or the whole body's deadline."""
        deadline = self._body_deadline
        if deadline is None:
            deadline = Deadline(self.timeout)
            if self.whole:
                self._body_deadline = deadline
        return self.exchange.next_chunk(deadline, self.whole)

    def check(self) -> None:
        if self.reported or not self.exchange.app_done:
            return
        self.reported = True
        failure = self.exchange.failure()
        if failure is not None and self.raise_app:
            raise unwrap(failure)

    def check_on_close(self, response: httpx2.Response) -> None:
        """``check()`` for a stream being closed, which may be no place to raise.

        httpx2 closes the response from its body iterator's ``finally``; when a
        test stops reading early, that runs as the garbage collector drops the
        iterator, where an exception is lost. Then the failure waits, and the
        client's ``stream()`` block raises it on exit (``raise_deferred``).
        """
        try:
            self.check()
        except BaseException as exc:
            if not self.iterating:
                raise
            _DEFERRED[response] = exc

    def drive(self, driver: Driver, op: Op[T]) -> T:
        try:
            return driver.drive(op)
        except TimeoutError as exc:
            raise httpx2.ReadTimeout(str(exc), request=self.request) from None

    async def adrive(self, backend: Backend, op: Op[T]) -> T:
        try:
            return await drive_async(op, backend)
        except TimeoutError as exc:
            raise httpx2.ReadTimeout(str(exc), request=self.request) from None

    def respond(
        self, start: ResponseStart | None, stream: Callable[[], _ReplyStream]
    ) -> httpx2.Response:
        """The response once the app has started it (``None``: it ended first)."""
        if start is None:
            self.check()
            return httpx2.Response(500, stream=httpx2.ByteStream(b""), request=self.request)
        body = self.exchange.drain()
        if body is not None:  # the usual case: the app has finished already
            self.check()
            return build_response(self.request, self.exchange, start, httpx2.ByteStream(body))
        body_stream = stream()
        response = build_response(self.request, self.exchange, start, body_stream)
        body_stream.response = response
        return response


#: Failures held back by ``_Reply.check_on_close``, until ``raise_deferred``.
_DEFERRED: weakref.WeakKeyDictionary[httpx2.Response, BaseException] = weakref.WeakKeyDictionary()


def raise_deferred(response: httpx2.Response) -> None:
    """Raise the app's failure held back when this response was closed early."""
    failure = _DEFERRED.pop(response, None)
    if failure is not None:
        raise failure


class _ReplyStream:
    response: httpx2.Response | None = None

    def __init__(self, reply: _Reply) -> None:
        self._reply = reply
        self._closed = False


class SyncResponseStream(_ReplyStream, httpx2.SyncByteStream):
    def __init__(self, reply: _Reply, driver: Driver) -> None:
        super().__init__(reply)
        self._driver = driver

    def __iter__(self) -> Iterator[bytes]:
        reply = self._reply
        reply.iterating = True
        while (chunk := reply.drive(self._driver, reply.next_chunk())) is not None:
            yield chunk
        reply.iterating = False
        reply.check()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            reply = self._reply
            if not reply.exchange.app_done:  # the client may be closed by now
                reply.drive(self._driver, reply.exchange.finish(reply.timeout))
            assert self.response is not None
            reply.check_on_close(self.response)


class AsyncResponseStream(_ReplyStream, httpx2.AsyncByteStream):
    def __init__(self, reply: _Reply, backend: Backend) -> None:
        super().__init__(reply)
        self._backend = backend

    async def __aiter__(self) -> AsyncIterator[bytes]:
        reply, backend = self._reply, self._backend
        reply.iterating = True
        while (chunk := await reply.adrive(backend, reply.next_chunk())) is not None:
            yield chunk
        reply.iterating = False
        reply.check()

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            reply = self._reply
            if not reply.exchange.app_done:
                await reply.adrive(self._backend, reply.exchange.finish(reply.timeout))
            assert self.response is not None
            reply.check_on_close(self.response)


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
        driver = self.driver
        exchange = new_exchange(self.app, request, self.config, driver.backend, sync=True)
        reply = _Reply(exchange, request, self.raise_server_exceptions)
        start = reply.drive(driver, exchange.open(reply.timeout))
        return reply.respond(start, lambda: SyncResponseStream(reply, driver))


class AsyncTransport(httpx2.AsyncBaseTransport):
    """Sends each request straight into the app, on the caller's own loop."""

    def __init__(
        self,
        app: ASGIApp,
        backend: Callable[[], Backend],
        config: ScopeConfig,
        raise_server_exceptions: bool,
        live: weakref.WeakSet[AppTask],
    ) -> None:
        self.app = app
        self.backend = backend
        self.config = config
        self.raise_server_exceptions = raise_server_exceptions
        self.live = live  # apps still running behind a response: the client ends them

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        backend = self.backend()
        exchange = new_exchange(self.app, request, self.config, backend, sync=False)
        reply = _Reply(exchange, request, self.raise_server_exceptions)
        start = await reply.adrive(backend, exchange.open(reply.timeout))
        response = reply.respond(start, lambda: AsyncResponseStream(reply, backend))
        if not exchange.app_done:
            self.live.add(exchange)
        return response
