"""``TestClient`` and ``AsyncTestClient``: httpx2 clients whose requests go into an ASGI app.

Rule: the clients wire pieces together — app, driver or caller's loop,
transport, lifespan — and hold no protocol logic of their own. What the two
share is in ``_Setup``; each keeps only its outermost calls.
"""

from __future__ import annotations

import contextlib
import inspect
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Sequence
from types import TracebackType
from typing import Any, Literal, NoReturn, Self, TypeVar, cast

import httpx2
from httpx2 import URL
from httpx2._types import CookieTypes, HeaderTypes, TimeoutTypes

from ._app import as_asgi3
from ._app_task import AppTask
from ._backends import Backend, current_backend
from ._driver import Driver, abandon, close_abandoned, create_driver, run
from ._lifespan import Lifespan, LifespanMode
from ._ops import Op, check_timeout, drive_async
from ._portal import DriverPortal
from ._protocol._scope import ScopeConfig
from ._transport import (
    WHOLE_BODY,
    AsyncTransport,
    SyncTransport,
    new_websocket_exchange,
    raise_deferred,
    read_timeout,
)
from ._websocket import AsyncWebSocketSession, WebSocketSession

T = TypeVar("T")
_LIFESPAN_MODES = ("auto", "on", "off")


class _DefaultTimeout:
    """The ``timeout`` of a client whose caller gave none.

    ``None`` cannot mean "not given": it means "wait forever". What it stands
    for is 30 s, unless the run changed it with ``set_default_timeout`` (the
    pytest plugin's ``--unwired-timeout``); a ``timeout=`` the caller gives wins.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<default: {_default_timeout!r}>"


DEFAULT_TIMEOUT = _DefaultTimeout()
_default_timeout: TimeoutTypes = 30.0


def set_default_timeout(timeout: TimeoutTypes) -> TimeoutTypes:
    """Make ``timeout`` the default of the clients created from now on; return the old one."""
    global _default_timeout
    previous, _default_timeout = _default_timeout, timeout
    return previous


def _timeout(timeout: TimeoutTypes | _DefaultTimeout) -> httpx2.Timeout:
    """The client's timeout as httpx2 keeps it; its read timeout, the one honoured, checked."""
    given = _default_timeout if isinstance(timeout, _DefaultTimeout) else timeout
    resolved = httpx2.Timeout(given)
    check_timeout(resolved.read, of_timeout_object=isinstance(given, httpx2.Timeout))
    return resolved


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


async def _call_async(func: Callable[..., Any], *args: Any) -> Any:
    """Await ``func(*args)``: ``client.run`` takes async functions only, and says so."""
    result = func(*args)
    if not inspect.isawaitable(result):
        name = getattr(func, "__qualname__", None) or repr(func)
        msg = (
            f"client.run() runs async functions; {name} returned {type(result).__name__}, "
            "not an awaitable; use client.portal.call() for sync functions"
        )
        raise TypeError(msg)
    return await result


def _headers(headers: HeaderTypes | None) -> httpx2.Headers:
    merged = httpx2.Headers(headers)  # a copy: the caller's mapping is never changed
    merged.setdefault("user-agent", "testclient")
    return merged


def _check_lifespan(lifespan: object) -> LifespanMode:
    if lifespan not in _LIFESPAN_MODES:
        msg = f"lifespan must be one of {', '.join(map(repr, _LIFESPAN_MODES))}, not {lifespan!r}"
        raise ValueError(msg)
    return lifespan  # type: ignore[return-value]


class _Setup:
    """What both clients do the same way: check arguments, hold app, state and lifespan."""

    app: Any
    app_state: dict[str, Any]
    _config: ScopeConfig
    _lifespan: Lifespan | None
    _lifespan_mode: LifespanMode
    timeout: httpx2.Timeout
    #: The statement that enters this client, for the errors that name it.
    _with: str

    def _setup(
        self,
        app: Any,
        root_path: str,
        client: tuple[str, int],
        lifespan: object,
        http_version: str,
    ) -> ScopeConfig:
        self.app = as_asgi3(app, type(self).__name__)
        self._lifespan_mode = _check_lifespan(lifespan)
        self._lifespan = None
        self.app_state = {}
        self._config = ScopeConfig(root_path, client, http_version, self.app_state)
        return self._config

    def _handshake(
        self, url: URL | str, subprotocols: Sequence[str] | None, kwargs: dict[str, Any]
    ) -> tuple[httpx2.Request, list[str]]:
        """The opening request of a WebSocket session, built like any httpx2 request."""
        headers = httpx2.Headers(kwargs.pop("headers", None))
        for name, value in _WEBSOCKET_HEADERS:
            headers.setdefault(name, value)
        protocols = list(subprotocols or ())
        if protocols:
            headers.setdefault("sec-websocket-protocol", ", ".join(protocols))
        auth = kwargs.pop("auth", httpx2.USE_CLIENT_DEFAULT)
        for name in kwargs:
            if name not in _WEBSOCKET_KEYWORDS:
                msg = (
                    f"websocket_connect() got an unexpected keyword argument {name!r}; "
                    "it takes headers, cookies, auth, params, timeout"
                )
                raise TypeError(msg)
        request: httpx2.Request = self.build_request(  # type: ignore[attr-defined]
            "GET", url, headers=headers, **kwargs
        )
        request_auth = self._build_request_auth(request, auth)  # type: ignore[attr-defined]
        return next(request_auth.sync_auth_flow(request)), protocols

    def _new_lifespan(self, closed: bool, backend: Callable[[], Backend]) -> Lifespan:
        if closed:
            msg = (
                "Cannot open a client instance that has been closed; client.close() ends a "
                "client for good: create a new client (leaving 'with client:' does not close it)"
            )
            raise RuntimeError(msg)
        if self._lifespan is not None:
            article = "an" if self._with.startswith("async") else "a"
            msg = (
                f"this client is already inside {article} {self._with!r} block; use the client "
                "of the outer block (to run a second copy of the app, create a second client)"
            )
            raise RuntimeError(msg)
        return Lifespan(self.app, self.app_state, backend(), self._lifespan_mode)


#: The request keywords ``websocket_connect`` passes on (``headers`` and ``auth`` too).
_WEBSOCKET_KEYWORDS = frozenset({"cookies", "params", "timeout"})

_WEBSOCKET_HEADERS = (  # as Starlette's TestClient sends them
    ("connection", "upgrade"),
    ("sec-websocket-key", "testserver=="),
    ("sec-websocket-version", "13"),
)


def _lifespan_timeout(exc: TimeoutError) -> httpx2.ReadTimeout:
    return httpx2.ReadTimeout(str(exc))


class TestClient(_Setup, httpx2.Client):
    """A sync HTTP client that calls an ASGI app in-process, on one event loop.

    A drop-in for ``starlette.testclient.TestClient``: same constructor, plus
    ``lifespan``, ``timeout`` and ``http_version``. ``with client:`` runs the
    app's lifespan startup and, on exit, its shutdown.

    Args:
        app: an ASGI 3 app, or an ASGI 2 app (``app(scope)`` returning the instance).
        base_url: scheme and host of every request; sets the scope's ``server``.
        raise_server_exceptions: re-raise the app's exceptions in the test
            (otherwise a 500 response, or the response as sent so far).
        root_path: the scope's ``root_path`` (not prepended to ``path``).
        backend: ``"asyncio"`` or ``"trio"``.
        backend_options: ``{"use_uvloop": True}``, ``{"loop_factory": f}``, ``{"debug": True}``
            for asyncio; trio's ``trio.run`` keywords for trio.
        cookies: initial cookies.
        headers: default headers; ``user-agent: testclient`` unless given.
        follow_redirects: follow redirects (default ``True``).
        client: the scope's ``client`` (host, port).
        lifespan: ``"auto"`` (run it; an app that raises before answering startup
            does not support it), ``"on"`` (a failure is an error), ``"off"``.
        timeout: bound on every wait for the app, seconds or ``httpx2.Timeout``;
            ``None`` waits forever. Default 30 s (or the run's ``--unwired-timeout``).
            Per-request ``timeout=`` is honoured too.
        http_version: the scope's ``http_version``.

    Example:
        >>> from starlette.applications import Starlette
        >>> from starlette.responses import PlainTextResponse
        >>> from starlette.routing import Route
        >>> app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("hi"))])
        >>> with TestClient(app) as client:
        ...     client.get("/").text
        'hi'
    """

    __test__ = False
    _with = "with client:"

    def __init__(
        self,
        app: Any,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        backend: Literal["asyncio", "trio"] = "asyncio",
        backend_options: dict[str, Any] | None = None,
        cookies: CookieTypes | None = None,
        headers: HeaderTypes | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        *,
        lifespan: LifespanMode = "auto",
        timeout: TimeoutTypes | _DefaultTimeout = DEFAULT_TIMEOUT,
        http_version: str = "1.1",
    ) -> None:
        close_abandoned()
        config = self._setup(app, root_path, client, lifespan, http_version)
        self._driver: Driver = create_driver(backend, backend_options)
        transport = SyncTransport(self.app, self._driver, config, raise_server_exceptions)
        super().__init__(
            base_url=base_url,
            headers=_headers(headers),
            cookies=cookies,
            follow_redirects=follow_redirects,
            timeout=_timeout(timeout),
            transport=transport,
        )
        finalizer = weakref.finalize(self, abandon, self._driver)
        finalizer.atexit = False  # the driver's own exit hook closes it then

    @property
    def portal(self) -> Any:
        """An anyio ``BlockingPortal``-like object running calls on the app's loop."""
        return getattr(self._driver, "portal", None) or DriverPortal(self._driver)

    def run(self, func: Callable[..., Awaitable[T]] | Coroutine[Any, Any, T], *args: Any) -> T:
        """Run async code on the app's event loop and return its result.

        Args:
            func: a coroutine, or an async function to call with ``args``.

        Example:
            ```python
            client.run(engine.dispose)
            ```
        """
        if inspect.iscoroutine(func):
            if args:
                func.close()
                msg = "client.run() got a coroutine and arguments; pass the function instead"
                raise TypeError(msg)
            return cast(T, run(self._driver, _await, func))
        if not callable(func):
            msg = f"client.run() takes a coroutine or an async function, not {func!r:.60}"
            raise TypeError(msg)
        return cast(T, run(self._driver, _call_async, func, *args))

    def websocket_connect(
        self, url: URL | str, subprotocols: Sequence[str] | None = None, **kwargs: Any
    ) -> WebSocketSession:
        """Open a WebSocket session with the app; use it as a context manager.

        Args:
            url: the path (or URL) to connect to, joined with ``base_url``.
            subprotocols: offered in ``sec-websocket-protocol`` and the scope.
            **kwargs: ``headers``, ``cookies``, ``auth``, ``params``, ``timeout``,
                as for any request.

        Example:
            ```python
            with client.websocket_connect("/ws") as ws:
                ws.send_text("hi")
                assert ws.receive_text() == "hi"
            ```
        """
        request, protocols = self._handshake(url, subprotocols, kwargs)
        exchange = new_websocket_exchange(
            self.app, request, protocols, self._config, self._driver.backend
        )
        return WebSocketSession(exchange, self._driver, read_timeout(request))

    def send(
        self, request: httpx2.Request, *, stream: bool = False, **kwargs: Any
    ) -> httpx2.Response:
        """``httpx2.Client.send``; without ``stream``, the whole body gets one timeout."""
        request.extensions[WHOLE_BODY] = not stream
        return super().send(request, stream=stream, **kwargs)

    @contextlib.contextmanager
    def stream(self, method: str, url: URL | str, **kwargs: Any) -> Iterator[httpx2.Response]:
        """``httpx2.Client.stream``; an app failure after an early close is raised on exit."""
        with super().stream(method, url, **kwargs) as response:
            yield response
        raise_deferred(response)

    def __enter__(self) -> Self:
        lifespan = self._new_lifespan(self.is_closed, lambda: self._driver.backend)
        try:
            self._drive_lifespan(lifespan.startup(self.timeout.read))
        except BaseException:
            self._driver.close(final=False)
            raise
        self._lifespan = lifespan
        return self

    def __aenter__(self) -> NoReturn:
        msg = (
            "TestClient is used with 'with client:', not 'async with'; in async tests, use "
            "unwired.AsyncTestClient"
        )
        raise TypeError(msg)

    async def __aexit__(self, *exc_info: object) -> None:  # pragma: no cover - never entered
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        try:
            if lifespan is not None:
                self._drive_lifespan(lifespan.shutdown(self.timeout.read))
        finally:
            self._driver.close(final=False)

    def _drive_lifespan(self, op: Op[None]) -> None:
        try:
            self._driver.drive(op)
        except TimeoutError as exc:
            raise _lifespan_timeout(exc) from None

    def close(self) -> None:
        """Close the client: cancel anything the app left running and release its loop."""
        super().close()
        self._lifespan = None
        self._driver.close()
        close_abandoned()


class AsyncTestClient(_Setup, httpx2.AsyncClient):
    """An async HTTP client that calls an ASGI app in-process, on the caller's event loop.

    The app runs on the loop of the test that awaits the client (asyncio,
    uvloop or trio), so app, fixtures and test share one loop and no thread is
    started. ``async with client:`` runs the app's lifespan. Same arguments as
    ``TestClient`` except ``backend`` and ``backend_options``.

    Example:
        ```python
        async def test_home() -> None:
            async with AsyncTestClient(app) as client:
                assert (await client.get("/")).status_code == 200
        ```
    """

    __test__ = False
    _with = "async with client:"

    def __init__(
        self,
        app: Any,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: CookieTypes | None = None,
        headers: HeaderTypes | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        *,
        lifespan: LifespanMode = "auto",
        timeout: TimeoutTypes | _DefaultTimeout = DEFAULT_TIMEOUT,
        http_version: str = "1.1",
    ) -> None:
        config = self._setup(app, root_path, client, lifespan, http_version)
        self._bound: Backend | None = None  # the loop the lifespan runs on
        self._last: Backend | None = None
        # streamed responses and sessions whose app may still run: aclose() ends them
        self._live: weakref.WeakSet[AppTask] = weakref.WeakSet()
        transport = AsyncTransport(
            self.app, self._backend, config, raise_server_exceptions, self._live
        )
        super().__init__(
            base_url=base_url,
            headers=_headers(headers),
            cookies=cookies,
            follow_redirects=follow_redirects,
            timeout=_timeout(timeout),
            transport=transport,
        )

    def _backend(self) -> Backend:
        """The caller's loop; inside ``async with``, it must be the lifespan's."""
        bound = self._bound
        if bound is not None:
            if not bound.is_current():
                msg = (
                    "this AsyncTestClient's lifespan runs on another event loop than the "
                    "caller's; use the client on the loop that entered 'async with client' "
                    "(e.g. create it in the test, or in a fixture on the same loop)"
                )
                raise RuntimeError(msg)
            return bound
        last = self._last
        if last is None or not last.is_current():
            self._last = last = current_backend()
        return last

    def websocket_connect(
        self, url: URL | str, subprotocols: Sequence[str] | None = None, **kwargs: Any
    ) -> AsyncWebSocketSession:
        """Open a WebSocket session with the app; use it as an async context manager.

        Example:
            ```python
            async with client.websocket_connect("/ws") as ws:
                await ws.send_text("hi")
                assert await ws.receive_text() == "hi"
            ```
        """
        request, protocols = self._handshake(url, subprotocols, kwargs)
        backend = self._backend()
        exchange = new_websocket_exchange(self.app, request, protocols, self._config, backend)
        self._live.add(exchange)
        return AsyncWebSocketSession(exchange, backend, read_timeout(request))

    async def send(
        self, request: httpx2.Request, *, stream: bool = False, **kwargs: Any
    ) -> httpx2.Response:
        """``httpx2.AsyncClient.send``; without ``stream``, the whole body gets one timeout."""
        request.extensions[WHOLE_BODY] = not stream
        return await super().send(request, stream=stream, **kwargs)

    @contextlib.asynccontextmanager
    async def stream(
        self, method: str, url: URL | str, **kwargs: Any
    ) -> AsyncIterator[httpx2.Response]:
        """``httpx2.AsyncClient.stream``; an app failure after an early close is raised on exit."""
        async with super().stream(method, url, **kwargs) as response:
            yield response
        raise_deferred(response)

    def __enter__(self) -> NoReturn:
        msg = (
            "AsyncTestClient is used with 'async with client:', not 'with'; in sync tests, use "
            "unwired.TestClient"
        )
        raise TypeError(msg)

    def __exit__(self, *exc_info: object) -> None:  # pragma: no cover - never entered
        return None

    async def __aenter__(self) -> Self:
        lifespan = self._new_lifespan(self.is_closed, self._backend)
        backend = self._backend()
        await self._drive_lifespan(backend, lifespan.startup(self.timeout.read))
        self._lifespan, self._bound = lifespan, backend
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan = self._lifespan
        if lifespan is None:
            return
        backend = self._backend()
        self._lifespan, self._bound = None, None
        await self._drive_lifespan(backend, lifespan.shutdown(self.timeout.read))

    @staticmethod
    async def _drive_lifespan(backend: Backend, op: Op[None]) -> None:
        try:
            await drive_async(op, backend)
        except TimeoutError as exc:
            raise _lifespan_timeout(exc) from None

    async def aclose(self) -> None:
        """Close the client, and end what its app still runs on the caller's loop.

        Like ``TestClient.close()``: a streamed response or a WebSocket session
        left open, and a lifespan not shut down (that is ``async with``'s job),
        are cancelled, and ``aclose`` returns once they have unwound.
        """
        await super().aclose()
        tasks = [*self._live, self._lifespan]
        self._lifespan, self._bound = None, None
        running = [task for task in tasks if task is not None and not task.app_done]
        if running:
            backend = current_backend()
            for task in running:
                await drive_async(task.end(), backend)
