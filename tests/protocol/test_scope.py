"""Tests for ``unwired._protocol._scope``: scopes exactly as the ASGI spec says."""

from __future__ import annotations

from typing import Any

import pytest

from unwired._protocol._scope import (
    ScopeConfig,
    Target,
    http_scope,
    lifespan_scope,
    websocket_scope,
)

HOST = [(b"host", b"example.org")]
ALL_HTTP_EXTENSIONS: dict[str, dict[str, Any]] = {
    "http.response.debug": {},
    "http.response.early_hint": {},
    "http.response.pathsend": {},
    "http.response.trailers": {},
    "http.response.zerocopysend": {},
}


def test_http_scope_exact() -> None:
    scope = http_scope(
        "GET", Target("http", "example.org", None, b"/a%20b/c?x=1&y=%20"), HOST, ScopeConfig()
    )
    assert scope == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/a b/c",
        "raw_path": b"/a%20b/c",
        "query_string": b"x=1&y=%20",
        "root_path": "",
        "headers": [(b"host", b"example.org")],
        "client": ("testclient", 50000),
        "server": ("example.org", 80),
        "state": {},
        "extensions": ALL_HTTP_EXTENSIONS,
    }


def test_http_scope_with_config() -> None:
    config = ScopeConfig(root_path="/api", client=None, http_version="2", state={"db": "sqlite://"})
    target = Target("https", "api.example.org", 8443, b"/api/items")
    scope = http_scope("POST", target, [], config)
    assert scope == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "2",
        "method": "POST",
        "scheme": "https",
        "path": "/api/items",
        "raw_path": b"/api/items",
        "query_string": b"",
        "root_path": "/api",
        "headers": [],
        "client": None,
        "server": ("api.example.org", 8443),
        "state": {"db": "sqlite://"},
        "extensions": ALL_HTTP_EXTENSIONS,
    }


def test_websocket_scope_exact() -> None:
    scope = websocket_scope(
        Target("ws", "example.org", None, b"/chat/caf%C3%A9?room=1"),
        HOST,
        ["chat.v2", "chat.v1"],
        ScopeConfig(root_path="/app"),
    )
    assert scope == {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": "/chat/café",
        "raw_path": b"/chat/caf%C3%A9",
        "query_string": b"room=1",
        "root_path": "/app",
        "headers": [(b"host", b"example.org")],
        "client": ("testclient", 50000),
        "server": ("example.org", 80),
        "subprotocols": ["chat.v2", "chat.v1"],
        "state": {},
        "extensions": {"websocket.http.response": {}},
    }


def test_lifespan_scope_exact() -> None:
    state: dict[str, Any] = {"started": False}
    scope = lifespan_scope(state)
    assert scope == {
        "type": "lifespan",
        "asgi": {"version": "3.0", "spec_version": "2.0"},
        "state": {"started": False},
    }
    # Not a copy: what the app puts here during startup is what requests copy.
    assert scope["state"] is state


@pytest.mark.parametrize(
    ("scope_type", "asgi"),
    [
        pytest.param("http", {"version": "3.0", "spec_version": "2.4"}, id="http"),
        pytest.param("websocket", {"version": "3.0", "spec_version": "2.4"}, id="websocket"),
        pytest.param("lifespan", {"version": "3.0", "spec_version": "2.0"}, id="lifespan"),
    ],
)
def test_asgi_version_keys(scope_type: str, asgi: dict[str, str]) -> None:
    target = Target("http", "testserver", None, b"/")
    scopes = {
        "http": lambda: http_scope("GET", target, [], ScopeConfig()),
        "websocket": lambda: websocket_scope(target, [], [], ScopeConfig()),
        "lifespan": lambda: lifespan_scope({}),
    }
    assert scopes[scope_type]()["asgi"] == asgi


# -- server and ports -----------------------------------------------------------

PORTS = [
    pytest.param("http", None, 80, id="http-default"),
    pytest.param("https", None, 443, id="https-default"),
    pytest.param("ws", None, 80, id="ws-default"),
    pytest.param("wss", None, 443, id="wss-default"),
    pytest.param("http", 8000, 8000, id="http-explicit"),
    pytest.param("https", 80, 80, id="https-explicit-80-kept"),
    pytest.param("wss", 8443, 8443, id="wss-explicit"),
    pytest.param("http", 0, 0, id="explicit-zero-kept"),
    pytest.param("ftp", None, 80, id="unknown-scheme-falls-back-to-80"),
]


@pytest.mark.parametrize(("scheme", "port", "expected"), PORTS)
def test_server_port(scheme: str, port: int | None, expected: int) -> None:
    target = Target(scheme, "testserver", port, b"/")
    assert target.server() == ("testserver", expected)
    assert http_scope("GET", target, [], ScopeConfig())["server"] == ("testserver", expected)
    assert websocket_scope(target, [], [], ScopeConfig())["server"] == ("testserver", expected)


# -- path, raw_path, query_string --------------------------------------------------

PATHS = [
    pytest.param(b"/", "/", b"/", b"", id="root"),
    pytest.param(b"/a%20b", "/a b", b"/a%20b", b"", id="space"),
    pytest.param(b"/a%2Fb", "/a/b", b"/a%2Fb", b"", id="encoded-slash-decoded-in-path-only"),
    pytest.param(b"/caf%C3%A9", "/café", b"/caf%C3%A9", b"", id="utf8-sequence"),
    pytest.param(b"/a%3Fb?c=d", "/a?b", b"/a%3Fb", b"c=d", id="encoded-question-mark"),
    pytest.param(
        b"/search?q=a%20b&r=%3F", "/search", b"/search", b"q=a%20b&r=%3F", id="query-kept-encoded"
    ),
    pytest.param(b"/search?q=a+b", "/search", b"/search", b"q=a+b", id="plus-kept"),
    pytest.param(b"/p?", "/p", b"/p", b"", id="empty-query"),
    pytest.param(b"/p?a?b", "/p", b"/p", b"a?b", id="second-question-mark-in-query"),
    pytest.param(b"/100%25", "/100%", b"/100%25", b"", id="encoded-percent"),
]


@pytest.mark.parametrize(("raw", "path", "raw_path", "query_string"), PATHS)
def test_path_split_and_decoding(
    raw: bytes, path: str, raw_path: bytes, query_string: bytes
) -> None:
    target = Target("http", "testserver", None, raw)
    for scope in [
        http_scope("GET", target, [], ScopeConfig()),
        websocket_scope(target, [], [], ScopeConfig()),
    ]:
        assert (scope["path"], scope["raw_path"], scope["query_string"]) == (
            path,
            raw_path,
            query_string,
        )


# -- state and extensions are per scope ------------------------------------------


def _both_scopes(config: ScopeConfig) -> list[Any]:
    target = Target("http", "testserver", None, b"/")
    return [
        http_scope("GET", target, [], config),
        websocket_scope(target, [], [], config),
    ]


@pytest.mark.parametrize("kind", [0, 1], ids=["http", "websocket"])
def test_state_is_a_shallow_copy(kind: int) -> None:
    shared: list[str] = []
    config = ScopeConfig(state={"counter": 0, "items": shared})
    scope = _both_scopes(config)[kind]
    assert scope["state"] == {"counter": 0, "items": []}
    assert scope["state"] is not config.state

    scope["state"]["counter"] = 1
    scope["state"]["new"] = True
    assert config.state == {"counter": 0, "items": []}

    scope["state"]["items"].append("seen by everyone")
    assert scope["state"]["items"] is shared
    assert config.state["items"] == ["seen by everyone"]


@pytest.mark.parametrize("kind", [0, 1], ids=["http", "websocket"])
def test_extensions_are_fresh_per_scope(kind: int) -> None:
    config = ScopeConfig()
    first = _both_scopes(config)[kind]
    pristine = {key: dict(value) for key, value in first["extensions"].items()}
    first["extensions"]["x-added"] = {}
    for value in first["extensions"].values():
        value["mutated"] = True

    second = _both_scopes(config)[kind]
    assert second["extensions"] == pristine
    assert second["extensions"] is not first["extensions"]


def test_scopes_do_not_share_state_with_each_other() -> None:
    config = ScopeConfig(state={"n": 0})
    http, websocket = _both_scopes(config)
    http["state"]["n"] = 1
    assert websocket["state"] == {"n": 0}
    assert config.state == {"n": 0}
