"""unwired: test ASGI applications in-process, fast, streaming-correct and hang-proof.

The implementation lives in private modules; this file is the public namespace::

    _protocol/   sans-IO: scopes and the HTTP / lifespan state machines
    _backends, _ops, _driver      the client's event loop, waits and deadlines
    _exchange, _lifespan          the app's tasks on that loop
    _transport, _client, _portal  thin httpx2 adapters and the clients
"""

from typing import TYPE_CHECKING, Any

from . import _exceptions
from ._exceptions import ASGIProtocolError as ASGIProtocolError
from ._exceptions import ClientDisconnected as ClientDisconnected
from ._exceptions import LifespanFailed as LifespanFailed
from ._exceptions import UnwiredError as UnwiredError

if TYPE_CHECKING:
    from ._client import AsyncTestClient as AsyncTestClient
    from ._client import TestClient as TestClient
    from ._exceptions import WebSocketDenialResponse as WebSocketDenialResponse
    from ._exceptions import WebSocketDisconnect as WebSocketDisconnect

__version__ = "0.1.0"

__all__ = [
    "ASGIProtocolError",
    "AsyncTestClient",
    "ClientDisconnected",
    "LifespanFailed",
    "TestClient",
    "UnwiredError",
    "WebSocketDenialResponse",
    "WebSocketDisconnect",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # The clients are imported on first use, so that loading the pytest plugin
    # (``unwired.pytest_plugin``) in a suite that does not use them costs nothing.
    if name in ("AsyncTestClient", "TestClient"):
        from . import _client

        return getattr(_client, name)
    # Made on first use: they subclass Starlette's classes when Starlette is installed.
    if name == "WebSocketDisconnect":
        return _exceptions.websocket_disconnect_type()
    if name == "WebSocketDenialResponse":
        return _exceptions.websocket_denial_type()
    msg = f"module 'unwired' has no attribute {name!r}"
    raise AttributeError(msg)
