"""The WebSocket side: a Channels consumer."""

from __future__ import annotations

import json

from channels.generic.websocket import AsyncWebsocketConsumer

from tests.frameworks.django_app.views import EVENTS


class EchoConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data == "bye":
            await self.close(code=4001, reason="bye")
        elif text_data is not None and text_data.startswith("{"):
            await self.send(text_data=json.dumps({"echo": json.loads(text_data)}))
        else:
            await self.send(text_data=f"echo: {text_data}")

    async def disconnect(self, code: int) -> None:
        EVENTS.append(f"ws closed {code}")
