"""Small hand-written ASGI apps for the client tests, each recording what it saw."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from unwired._types import Message, Receive, Scope, Send

Messages = list[Message]


def text_app(body: bytes = b"hi", status: int = 200) -> Callable[..., Any]:
    """Answers every HTTP request with ``body``; ignores other scopes by returning."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError("only http")
        await send({"type": "http.response.start", "status": status, "headers": [(b"x-app", b"1")]})
        await send({"type": "http.response.body", "body": body})

    return app


def scripted_app(*messages: Message) -> Callable[..., Any]:
    """Sends exactly ``messages``, in order, then returns."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in messages:
            await send(message)

    return app


class Recorder:
    """An app that echoes the request body and logs every message it receives."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []
        self.received: Messages = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError("only http")
        self.scopes.append(scope)
        body = b""
        while True:
            message = await receive()
            self.received.append(message)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
        self.received.append(await receive())
