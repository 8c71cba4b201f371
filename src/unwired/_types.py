"""The ASGI vocabulary unwired speaks, as type aliases.

Messages and scopes are plain dicts, as the spec says; these aliases only give
them names. Nothing here runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]
ASGI2Instance: TypeAlias = Callable[[Receive, Send], Awaitable[None]]
ASGI2App: TypeAlias = Callable[[Scope], ASGI2Instance]
Headers: TypeAlias = list[tuple[bytes, bytes]]
