"""Building connection scopes exactly as the ASGI spec says a server does.

Rule: every key a server must send is present, with the spec's types: header
names lowercased bytes, ``server``/``client`` as tuples with real ports,
``raw_path`` without the query string, ``path`` percent-decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import unquote

from .._types import Headers, Scope

HTTP_SPEC_VERSION = "2.4"
WEBSOCKET_SPEC_VERSION = "2.4"
LIFESPAN_SPEC_VERSION = "2.0"

_WS_SCHEMES = {"http": "ws", "https": "wss"}

DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


@dataclass(frozen=True, slots=True)
class ScopeConfig:
    """What the client fixes once for every scope it builds."""

    root_path: str = ""
    client: tuple[str, int] | None = ("testclient", 50000)
    http_version: str = "1.1"
    state: dict[str, Any] = field(default_factory=dict)


class Target(NamedTuple):
    """Where a request goes: the parts of its URL a scope needs (made per request)."""

    scheme: str
    host: str
    port: int | None
    raw_path: bytes  # path and query, percent-encoded, as on the wire

    def server(self) -> tuple[str, int]:
        port = self.port if self.port is not None else DEFAULT_PORTS.get(self.scheme, 80)
        return (self.host, port)


def _split_target(raw_path: bytes) -> tuple[bytes, bytes, str]:
    path, _, query = raw_path.partition(b"?")
    return path, query, unquote(path.decode("ascii"))


def http_scope(method: str, target: Target, headers: Headers, config: ScopeConfig) -> Scope:
    """The scope of an HTTP request.

    Args:
        method: the request method, uppercase.
        target: scheme, host, port and raw path of the URL.
        headers: request headers, names lowercased bytes, values bytes.
        config: the client's fixed settings; ``state`` is shallow-copied.
    """
    raw_path, query_string, path = _split_target(target.raw_path)
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": HTTP_SPEC_VERSION},
        "http_version": config.http_version,
        "method": method,
        "scheme": target.scheme,
        "path": path,
        "raw_path": raw_path,
        "query_string": query_string,
        "root_path": config.root_path,
        "headers": headers,
        "client": config.client,
        "server": target.server(),
        "state": config.state.copy(),
        "extensions": {
            "http.response.debug": {},
            "http.response.early_hint": {},
            "http.response.pathsend": {},
            "http.response.trailers": {},
            "http.response.zerocopysend": {},
        },
    }


def websocket_scope(
    target: Target, headers: Headers, subprotocols: list[str], config: ScopeConfig
) -> Scope:
    """The scope of a WebSocket handshake; an ``http``/``https`` URL gives ``ws``/``wss``."""
    target = target._replace(scheme=_WS_SCHEMES.get(target.scheme, target.scheme))
    raw_path, query_string, path = _split_target(target.raw_path)
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": WEBSOCKET_SPEC_VERSION},
        "http_version": config.http_version,
        "scheme": target.scheme,
        "path": path,
        "raw_path": raw_path,
        "query_string": query_string,
        "root_path": config.root_path,
        "headers": headers,
        "client": config.client,
        "server": target.server(),
        "subprotocols": subprotocols,
        "state": config.state.copy(),
        "extensions": {"websocket.http.response": {}},
    }


def lifespan_scope(state: dict[str, Any]) -> Scope:
    """The lifespan scope; ``state`` is the very dict requests get copies of."""
    return {
        "type": "lifespan",
        "asgi": {"version": "3.0", "spec_version": LIFESPAN_SPEC_VERSION},
        "state": state,
    }
