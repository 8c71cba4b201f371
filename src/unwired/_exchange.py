"""One HTTP request on the client's loop: the app task and the test's operations.

Rule: this module moves bytes and wakes waiters; every judgement about a
message is ``HTTPCycle``'s. The app side (``_receive``/``_send``) runs in the
app's task; the test side (``open``/``next_chunk``/``finish``) are operations
(see ``_ops``), so the sync and async clients share all of it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ._app_task import AppTask, is_disconnect_error
from ._backends import Backend
from ._body import END, NOTHING, BodyReader
from ._exceptions import ClientDisconnected
from ._ops import ONE_PASS, Deadline, Op
from ._protocol._http import (
    COMPLETE,
    DISCONNECT,
    READ_BODY,
    SENDING_TRAILERS,
    BodyChunk,
    DebugInfo,
    EarlyHint,
    Event,
    FileBody,
    HTTPCycle,
    PushPromise,
    ResponseStart,
    Trailers,
)
from ._types import ASGIApp, Headers, Message, Scope

FILE_CHUNK = 256 * 1024

RequestBody = bytes | Iterator[bytes] | AsyncIterator[bytes]
_WHOLE_BODY = (
    "the end of the response body; a request that is not streamed must get its whole body "
    "within the timeout: read a response that does not end with client.stream()"
)


def _read_file(file: Any, offset: int | None, count: int) -> bytes:
    if offset is None:
        return file.read(count)  # type: ignore[no-any-return]
    return os.pread(file.fileno(), count, offset)


class HTTPExchange(AppTask):
    """An app task answering one request, and what the test has seen of it."""

    def __init__(self, app: ASGIApp, scope: Scope, body: RequestBody, backend: Backend) -> None:
        super().__init__(backend)
        self._app = app
        self._scope = scope
        self._body = body
        self._reader: BodyReader | None = None  # reads a sync body, once the app asks for it
        self._cycle = HTTPCycle(scope["method"])
        self._chunks: deque[bytes] = deque()
        self.start: ResponseStart | None = None
        self.trailers: Headers = []
        self.early_hints: list[list[bytes]] = []
        self.pushes: list[PushPromise] = []
        self.debug: dict[str, Any] | None = None
        self.body_complete = False  # the test has been handed the whole body
        self.response_complete = False  # ... and the trailers, if any

    @property
    def label(self) -> str:  # type: ignore[override]
        return f"{self._scope['method']} {self._scope['path']}"

    # -- the app's side -------------------------------------------------------

    async def _call_app(self) -> None:
        try:
            await self._app(self._scope, self._receive, self._send)
        finally:
            if self._reader is not None:
                self._reader.stop()
        self._cycle.app_returned()

    async def _receive(self) -> Message:
        cycle = self._cycle
        while True:
            action = cycle.receive_action()
            if action is READ_BODY:
                data, more_body = await self._read_body()
                return cycle.request_body(data, more_body)
            if action is DISCONNECT:
                return {"type": "http.disconnect"}
            await self._app_signal.wait()

    async def _read_body(self) -> tuple[bytes, bool]:
        body = self._body
        if isinstance(body, bytes):
            return body, False
        if isinstance(body, Iterator):
            if self._reader is None:
                self._reader = BodyReader(body, self._backend, self._wake_app)
            while (chunk := self._reader.take()) is NOTHING:
                await self._app_signal.wait()
        else:
            chunk = await anext(body, END)
        if chunk is END:
            return b"", False
        if type(chunk) is not bytes:
            if not isinstance(chunk, bytearray | memoryview):
                # The test's mistake: say so, not bytes()' "string argument without an encoding".
                shown = repr(chunk) if len(repr(chunk)) <= 60 else repr(chunk)[:57] + "..."
                hint = (
                    "encode it (e.g. chunk.encode('utf-8')) or pass bytes (open files in "
                    "binary mode, 'rb')"
                    if isinstance(chunk, str)
                    else "pass bytes"
                )
                got = f"{type(chunk).__name__} {shown}"
                msg = f"request body chunks must be bytes, got {got}; {hint}"
                raise TypeError(msg)
            chunk = bytes(chunk)
        return chunk, True

    async def _send(self, message: Message) -> None:
        event = self._checked(self._cycle.app_sent, message)
        await self._deliver(event)
        state = self._cycle.state
        if state is COMPLETE or state is SENDING_TRAILERS:
            # Only now: a file body is still being read while the cycle already
            # counts it as sent.
            self.body_complete = True
            self.response_complete = state is COMPLETE
            self._wake_test()
            self._wake_app()

    async def _deliver(self, event: Event) -> None:
        if type(event) is BodyChunk:
            await self._push_body(event.data, wait=event.more_body)
        elif type(event) is ResponseStart:
            self.start = event
            self._wake_test()
        elif type(event) is FileBody:
            await self._send_file(event)
        elif type(event) is Trailers:
            self.trailers.extend(event.headers)
        elif type(event) is DebugInfo:
            self.debug = event.info
        elif type(event) is EarlyHint:
            self.early_hints.append(event.links)
        else:
            assert type(event) is PushPromise
            self.pushes.append(event)

    async def _push_body(self, data: bytes, wait: bool) -> None:
        """Hand a chunk to the test; with ``wait``, return once the test has taken it.

        That is the back-pressure: a streaming app is never more than one chunk
        ahead of the test. Empty chunks (and ``HEAD`` bodies) wait too, as with
        Starlette's client; the test skips them.
        """
        if not data and not wait:
            return
        self._chunks.append(data)
        self._wake_test()
        if not wait:
            return
        while self._chunks and not self._cycle.disconnected:
            await self._app_signal.wait()
        if self._chunks:  # the test went away without taking it
            msg = "the test closed the response while the app was sending"
            raise ClientDisconnected(msg)

    async def _send_file(self, event: FileBody) -> None:
        if event.path is not None:
            file = await self._backend.to_thread(open, event.path, "rb")
        else:
            file = event.file
        try:
            offset, remaining = event.offset, event.count
            while remaining is None or remaining > 0:
                size = FILE_CHUNK if remaining is None else min(FILE_CHUNK, remaining)
                data = await self._backend.to_thread(_read_file, file, offset, size)
                if not data:
                    break
                if offset is not None:
                    offset += len(data)
                if remaining is not None:
                    remaining -= len(data)
                await self._push_body(data, wait=True)
        finally:
            if event.path is not None:
                file.close()
        self._wake_test()

    def _wake_app(self) -> None:
        self._app_signal.notify()

    # -- the test's side ------------------------------------------------------

    def _wake_test(self) -> None:
        self._test_signal.notify()

    def failure(self) -> BaseException | None:
        """What went wrong in the app, if anything the test should see.

        An exception the app raised *because* the test closed the response
        early (our ``ClientDisconnected``, or one raised while handling it)
        is not a failure.
        """
        exc = self.app_error
        if self.protocol_error is None and self._cycle.disconnected and is_disconnect_error(exc):
            return None
        return self._failure()

    def drain(self) -> bytes | None:
        """The whole body, if the app has already finished sending it; else ``None``.

        Most responses are complete by the time ``open`` returns; taking them
        whole spares the test a loop run per chunk.
        """
        if not self.app_done or not self.body_complete:
            return None
        data = b"".join(self._chunks)  # the one last chunk, or nothing
        self._chunks.clear()
        return data

    def open(self, timeout: float | None) -> Op[ResponseStart | None]:
        """Start the app; wait for ``http.response.start`` (``None`` if it ended first)."""
        self._start("unwired: http app")
        deadline = Deadline(timeout)
        first = True  # most apps answer within one pass of the loop: no waiter, no timer
        while True:
            try:
                yield ONE_PASS if first else self._wait(deadline)
            except BaseException as exc:
                yield from self._give_up(exc, "the response to start", timeout)
            yield from self._end_if_broken()
            if self.start is not None or self.app_done:
                return self.start
            first = False

    def next_chunk(self, deadline: Deadline, whole: bool) -> Op[bytes | None]:
        """The next body chunk, or ``None`` once the body is over (or the app ended).

        ``whole``: the test reads the whole body at once (a request that is not
        streamed), so ``deadline`` bounds the whole body, not this one chunk.
        """
        while True:
            while not self._chunks:
                yield from self._end_if_broken()
                if self.body_complete or self.app_done or self._cycle.disconnected:
                    return None
                try:
                    yield self._wait(deadline)
                except BaseException as exc:
                    what = _WHOLE_BODY if whole else "the next chunk of the response body"
                    yield from self._give_up(exc, what, deadline.timeout)
            data = self._chunks.popleft()
            self._wake_app()
            if data:
                break
        # One pass of the loop lets the app go on to its next chunk while the
        # test looks at this one, as it would against a server.
        yield ONE_PASS
        return data

    def finish(self, timeout: float | None) -> Op[None]:
        """The test is done with the response: let the app end, or end it.

        A complete response lets the app run to its end (background tasks) for
        up to ``timeout``; an unfinished one is a disconnect: the app gets
        ``http.disconnect`` and a short grace period before it is cancelled.
        """
        if self.app_done:
            return
        if not self.response_complete:
            yield from self._abandon()
            return
        deadline = Deadline(timeout)
        while not self.app_done:
            try:
                yield self._wait(deadline)
            except BaseException as exc:
                yield from self._give_up(exc, "the app to return after its response", timeout)

    def _give_up(self, exc: BaseException, what: str, timeout: float | None) -> Op[None]:
        """End the app after the test's wait failed, then raise why.

        After a timeout the app gets its disconnect and grace period; after an
        interruption (the test task cancelled, Ctrl-C) it is cancelled at once,
        and the test goes on once it has unwound.
        """
        self._cycle.disconnect()
        self._wake_app()
        if isinstance(exc, TimeoutError):
            exc = self._timeout(what, timeout, cancelled=True)
            yield from self._wind_down()
        else:
            yield from self._cancel_and_wait()
        raise exc

    def _abandon(self) -> Op[None]:
        """Disconnect, give the app its grace period, then cancel it."""
        self._cycle.disconnect()
        self._wake_app()
        yield from self._wind_down()
