"""WebSockets: ``/ws/notifications`` (a user's order events) and ``/ws/chat/{room}``.

Both authenticate with ``?token=...`` (browsers cannot set headers on a WebSocket) and
close with 1008 (policy violation), before accepting, when the token is no good.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, WebSocket, WebSocketDisconnect, status
from fastapi.responses import JSONResponse

from .dependencies import HubDep, StoreDep
from .store import Hub, Member, Store, User
from .tokens import InvalidToken, authenticate

router = APIRouter(tags=["realtime"])

Room = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,20}$")]
MAX_MESSAGE = 500


async def admit(websocket: WebSocket, store: Store, token: str) -> User | None:
    """The token's user; or ``None``, having closed the socket with the reason."""
    try:
        user = authenticate(store, token)
    except InvalidToken as exc:
        reason = str(exc)
    else:
        if not user.disabled:
            return user
        reason = "account disabled"
    await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=reason)
    return None


def answer(text: str) -> dict[str, Any]:
    try:
        message = json.loads(text)
    except ValueError:
        return {"event": "error", "detail": "messages are JSON"}
    if isinstance(message, dict) and message.get("type") == "ping":
        return {"event": "pong", "id": message.get("id")}
    return {"event": "error", "detail": f"unknown message: {text}"}


@router.websocket("/ws/notifications")
async def notifications(
    websocket: WebSocket, store: StoreDep, hub: HubDep, token: str = ""
) -> None:
    """Says hello, answers pings, and pushes the user's order events until they leave."""
    user = await admit(websocket, store, token)
    if user is None:
        return
    await websocket.accept()
    member = Member(websocket, user.username)
    hub.subscribers.append(member)
    try:
        await hub.send(member, {"event": "hello", "user": user.username})
        while member.connected:
            await hub.send(member, answer(await websocket.receive_text()))
    except WebSocketDisconnect:
        pass
    finally:
        hub.forget(member)


@router.websocket("/ws/chat/{room}")
async def chat(
    websocket: WebSocket, room: Room, store: StoreDep, hub: HubDep, token: str = ""
) -> None:
    """Relays each member's text to the whole room, with join and leave notices."""
    user = await admit(websocket, store, token)
    if user is None:
        return
    if room == "staff" and user.role != "admin":
        denial = JSONResponse({"detail": "the staff room is for admins"}, status_code=403)
        await websocket.send_denial_response(denial)
        return
    await websocket.accept()
    member = Member(websocket, user.username)
    hub.rooms.setdefault(room, []).append(member)
    try:
        notice = {"type": "join", "user": user.username, "members": hub.members(room)}
        await hub.broadcast(room, notice)
        await converse(member, room, hub)
    finally:
        hub.forget(member)
    notice = {"type": "leave", "user": user.username, "members": hub.members(room)}
    await hub.broadcast(room, notice)


async def converse(member: Member, room: str, hub: Hub) -> None:
    """Relay the member's messages until they send ``/quit`` or their client goes.

    A client can go while a message is on its way to it; the send then fails (on a
    real server and with unwired's TestClient, not with Starlette's) and the socket
    counts as closed: hence ``member.connected`` and ``hub.send``.
    """
    try:
        while member.connected:
            text = (await member.websocket.receive_text()).strip()
            if text == "/quit":
                if member.connected:  # else a send found it gone while we waited
                    await member.websocket.close(reason="bye")
                return
            if not 0 < len(text) <= MAX_MESSAGE:
                detail = f"a message is 1 to {MAX_MESSAGE} characters"
                await hub.send(member, {"type": "error", "detail": detail})
                continue
            message = {"type": "message", "user": member.username, "text": text}
            await hub.broadcast(room, message)
    except WebSocketDisconnect:
        return
