"""Robustness: apps sending arbitrary ASGI messages never break the client.

Hypothesis writes a script for the app (send a message, well-formed or not,
in turn or not; receive; raise; hang; return) for the HTTP, WebSocket and
lifespan scopes, and varies what the test does: a plain request, a stream read
in part and closed, WebSocket traffic, a lifespan block. Each example must end
in an outcome the contract allows:

- a response, or a lifespan block that runs;
- ``WebSocketDisconnect`` / ``WebSocketDenialResponse``;
- the app's own exception (``AppError``; a group of several, as raised);
- ``ASGIProtocolError``, ``LifespanFailed``;
- a timeout (``httpx2.TimeoutException``; builtin ``TimeoutError`` for
  WebSocket sessions), only for a script that can block (hang or receive);
- an ``OSError`` from opening the file of an ``http.response.pathsend`` whose
  path is not a readable file (raised by ``send()``, so the app's own);
- the documented ``TypeError`` of ``receive_text()``/``receive_bytes()`` given
  the other kind of message.

Anything else fails with the script: an internal error from unwired, a hang
(``watchdog``), an app task left running, a leaked thread, a client that no
longer answers a well-behaved request, or an exception of the app's that the
test never saw. (An exception raised after 'lifespan.shutdown.complete' is
dropped, as Starlette's client drops it: the lifespan is over.)

1,200 examples in all, derandomized: every run of a given version of this file
tries the same ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import signal
import threading
import time
import types
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, NamedTuple

import anyio
import anyio.lowlevel
import httpx2
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from unwired import (
    ASGIProtocolError,
    AsyncTestClient,
    ClientDisconnected,
    LifespanFailed,
    TestClient,
    WebSocketDisconnect,
)
from unwired._types import Message, Receive, Scope, Send

#: The clients' timeout: what a hanging app costs, plus unwired's 0.1 s grace.
TIMEOUT = 0.1
#: A WebSocket ``receive(timeout=...)`` in the test.
RECEIVE_TIMEOUT = 0.02
#: Longer than any allowed outcome takes (the longest: a lifespan failure's 1 s grace).
WATCHDOG = 4.0
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    # The one function-scoped fixture only counts threads around the whole test.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# -- the apps -------------------------------------------------------------------------


class AppError(Exception):
    """What the fuzzed apps raise on purpose."""


RAISES: dict[str, Callable[[], Exception]] = {
    "error": lambda: AppError("raised by the app"),
    "group": lambda: ExceptionGroup("one", [AppError("in a group")]),
    "nested": lambda: ExceptionGroup("outer", [ExceptionGroup("inner", [AppError("deep")])]),
    "pair": lambda: ExceptionGroup("two", [AppError("first"), AppError("second")]),
}


class OpenFile:
    """Stands for a real open file, opened when the app sends the message."""

    def __repr__(self) -> str:
        return "OpenFile()"


OPEN_FILE = OpenFile()
Action = tuple[Any, ...]
Script = list[Action]


class FuzzApp:
    """Plays ``script`` on the fuzzed scope; answers ``/ok`` (and lifespan, unless fuzzed) well.

    ``log`` records what the script did: each message ``send()`` took, and "raised".
    """

    def __init__(self, script: Script, fuzz_lifespan: bool = False) -> None:
        self.script = script
        self.fuzz_lifespan = fuzz_lifespan
        self.log: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            if self.fuzz_lifespan:
                await self.play(receive, send)
                return
            for phase in ("startup", "shutdown"):
                await receive()
                await send({"type": f"lifespan.{phase}.complete"})
        elif scope["path"] != "/ok":
            await self.play(receive, send)
        elif scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
        else:
            await receive()
            await send({"type": "websocket.accept"})
            message = await receive()
            await send({"type": "websocket.send", "text": message["text"]})
            await receive()

    async def play(self, receive: Receive, send: Send) -> None:
        """Do what the script says, in order; return at its end."""
        files: list[Any] = []
        try:
            for action, *args in self.script:
                if action in ("send", "send, ignoring errors"):
                    await self._send(send, args[0], files, ignore_errors=action != "send")
                elif action == "receive":
                    await receive()
                elif action == "checkpoint":
                    await anyio.lowlevel.checkpoint()
                elif action == "raise":
                    self.log.append("raised")
                    raise RAISES[args[0]]()
                elif action == "hang":
                    await anyio.sleep_forever()
                else:
                    return
        finally:
            for file in files:
                file.close()

    async def _send(self, send: Send, message: Any, files: list[Any], ignore_errors: bool) -> None:
        if isinstance(message, dict) and message.get("file") is OPEN_FILE:
            files.append(open(__file__, "rb"))  # noqa: SIM115 - closed by play()
            message = {**message, "file": files[-1]}
        try:
            await send(message)
        except Exception:
            if not ignore_errors:
                raise
        else:
            self.log.append(f"sent {message.get('type') if isinstance(message, Mapping) else '?'}")


# -- the strategies -------------------------------------------------------------------


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, drawn in proportion to its weight."""
    return st.sampled_from([s for weight, s in choices for _ in range(weight)]).flatmap(
        lambda strategy: strategy
    )


def message(kind: str, **required: st.SearchStrategy[Any]) -> st.SearchStrategy[Message]:
    """A well-formed message: ``required`` keys always there."""
    return st.fixed_dictionaries({"type": st.just(kind), **required})


def fuzzed(kind: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Message]:
    """A message of ``kind`` with any of ``fields`` missing, and maybe an unknown key."""
    return st.fixed_dictionaries(
        {"type": st.just(kind)}, optional={**fields, "x-extra": st.just("ignored")}
    )


JUNK: st.SearchStrategy[Any] = st.sampled_from([None, 7, 2.5, True, "text", b"bytes", [], {}])
FLAG = st.one_of(st.booleans(), st.sampled_from([0, 1, "yes", None]))
TEXT = st.one_of(st.text(max_size=4), JUNK)
BODY = st.one_of(
    st.binary(max_size=12), st.sampled_from([bytearray(b"array"), memoryview(b"view"), "text", 7])
)
STATUS = st.one_of(st.sampled_from([200, 204, 404, 500]), st.integers(-5, 1005), JUNK)
HEADER_NAME = st.sampled_from([b"x-fuzz", b"content-type", b"X-Mixed-Case"])
GOOD_HEADERS = st.lists(st.tuples(HEADER_NAME, st.binary(max_size=6)), max_size=3)
BAD_HEADER = st.one_of(
    st.tuples(st.sampled_from([b":status", b"", "x-str", 7]), st.binary(max_size=3)),
    st.tuples(HEADER_NAME, st.sampled_from(["str", None, 7])),
    st.lists(HEADER_NAME, max_size=3),
    JUNK,
)
HEADERS = st.one_of(
    GOOD_HEADERS,
    st.lists(st.one_of(st.tuples(HEADER_NAME, st.binary(max_size=3)), BAD_HEADER), max_size=3),
    JUNK,
)
#: Paths an ``http.response.pathsend`` may name; all but the first are not readable files.
PATHS = [__file__, os.path.dirname(__file__), "/nonexistent/unwired-fuzz"]
STRAY = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                [
                    "http.request",
                    "http.disconnect",
                    "http.response.nope",
                    "websocket.connect",
                    "websocket.send",
                    "lifespan.startup",
                    "lifespan.startup.complete",
                    "",
                ]
            )
        }
    ),
    st.sampled_from([None, 7, "http.response.start", [("type", "x")], {}, {"type": None}]),
    st.just({"type": b"http.response.start", "status": 200}),
)


def proxied(messages: st.SearchStrategy[Message]) -> st.SearchStrategy[Any]:
    """The same messages as read-only mappings that are not dicts."""
    return messages.map(types.MappingProxyType)


HTTP_VALID = st.one_of(
    message("http.response.start", status=st.sampled_from([200, 404]), headers=GOOD_HEADERS),
    message("http.response.start", status=st.just(200), trailers=st.booleans()),
    message("http.response.body", body=st.binary(max_size=12), more_body=st.booleans()),
    message("http.response.trailers", headers=GOOD_HEADERS, more_trailers=st.booleans()),
)
HTTP_FUZZED = st.one_of(
    fuzzed("http.response.start", status=STATUS, headers=HEADERS, trailers=FLAG),
    fuzzed("http.response.body", body=BODY, more_body=FLAG),
    fuzzed("http.response.trailers", headers=HEADERS, more_trailers=FLAG),
    fuzzed(
        "http.response.debug",
        info=st.one_of(
            st.fixed_dictionaries(
                {}, optional={"template": st.just("page.html"), "context": st.just({"n": 1})}
            ),
            JUNK,
        ),
    ),
    fuzzed("http.response.pathsend", path=st.one_of(st.sampled_from(PATHS), JUNK)),
    fuzzed(
        "http.response.zerocopysend",
        file=st.sampled_from([OPEN_FILE, io.BytesIO(b"no file descriptor"), None]),
        offset=st.one_of(st.integers(-2, 50_000), JUNK),
        count=st.one_of(st.integers(-2, 50_000), JUNK),
        more_body=FLAG,
    ),
    fuzzed("http.response.early_hint", links=st.one_of(st.lists(st.binary(max_size=8)), JUNK)),
    fuzzed("http.response.push", path=st.one_of(st.just("/pushed"), JUNK), headers=HEADERS),
)

WS_VALID = st.one_of(
    message("websocket.accept"),
    message("websocket.accept", subprotocol=st.just("chat"), headers=GOOD_HEADERS),
    message("websocket.send", text=st.text(max_size=4)),
    message("websocket.send", bytes=st.binary(max_size=4)),
    message("websocket.close", code=st.sampled_from([1000, 4001]), reason=st.text(max_size=4)),
    message("websocket.http.response.start", status=st.just(403), headers=GOOD_HEADERS),
    message("websocket.http.response.body", body=st.binary(max_size=4), more_body=st.booleans()),
)
WS_FUZZED = st.one_of(
    fuzzed("websocket.accept", subprotocol=TEXT, headers=HEADERS),
    fuzzed("websocket.send", text=TEXT, bytes=BODY),
    fuzzed("websocket.close", code=st.one_of(st.integers(-1, 70_000), JUNK), reason=TEXT),
    fuzzed("websocket.http.response.start", status=STATUS, headers=HEADERS),
    fuzzed("websocket.http.response.body", body=BODY, more_body=FLAG),
)

LIFESPAN_ANSWERS = [
    f"lifespan.{p}.{a}" for p in ("startup", "shutdown") for a in ("complete", "failed")
]
LIFESPAN_VALID = st.one_of(
    *(message(kind) for kind in LIFESPAN_ANSWERS),
    message("lifespan.startup.failed", message=st.text(max_size=4)),
)
LIFESPAN_FUZZED = st.one_of(*(fuzzed(kind, message=TEXT) for kind in LIFESPAN_ANSWERS))


def noise(valid: Any, fuzzed_: Any) -> st.SearchStrategy[Action]:
    """One action of any kind; messages well-formed or not, of this scope or not."""
    messages = weighted(
        (4, valid), (3, fuzzed_), (1, STRAY), (1, proxied(st.one_of(valid, fuzzed_)))
    )
    return weighted(
        (10, st.tuples(st.just("send"), messages)),
        (2, st.tuples(st.just("send, ignoring errors"), messages)),
        (2, st.just(("receive",))),
        (1, st.just(("checkpoint",))),
        (2, st.tuples(st.just("raise"), st.sampled_from(sorted(RAISES)))),
        (1, st.just(("return",))),
        (1, st.just(("hang",))),
    )


@st.composite
def corrupted(draw: st.DrawFn, step: Action) -> Action:
    """``step``, if it sends a dict, with one field removed or given a wrong value; and
    maybe an app that ignores the error its ``send()`` raises for that."""
    if step[0] != "send" or not isinstance(step[1], dict) or len(step[1]) < 2:
        return step
    message = dict(step[1])
    key = draw(st.sampled_from(sorted(k for k in message if k != "type")))
    if draw(st.booleans()):
        del message[key]
    else:
        message[key] = draw(st.one_of(JUNK, BODY, FLAG, STATUS, HEADERS, TEXT))
    return (draw(st.sampled_from(["send", "send", "send, ignoring errors"])), message)


@st.composite
def mutated(
    draw: st.DrawFn, conversation: st.SearchStrategy[Script], noise_: st.SearchStrategy[Action]
) -> Script:
    """A well-behaved conversation with steps dropped, corrupted or replaced, and noise
    anywhere. Shrinking leads back to the conversation: to the fewest changes that fail.
    """
    script: Script = []
    for step in [*draw(conversation), None]:
        script += draw(weighted((3, st.just([])), (1, st.lists(noise_, min_size=1, max_size=2))))
        if step is None:
            break
        change = draw(st.sampled_from(["keep"] * 6 + ["corrupt"] * 2 + ["drop", "replace"]))
        if change == "keep":
            script.append(step)
        elif change == "corrupt":
            script.append(draw(corrupted(step)))
        elif change == "replace":
            script.append(draw(noise_))
    return script


def scripts(
    conversation: st.SearchStrategy[Script], valid: Any, fuzzed_: Any
) -> st.SearchStrategy[Script]:
    """Mostly mutated conversations, which get deep into the protocol; some pure noise."""
    noise_ = noise(valid, fuzzed_)
    return weighted((3, mutated(conversation, noise_)), (1, st.lists(noise_, max_size=6)))


def send(message: Message) -> Action:
    return ("send", message)


@st.composite
def http_conversations(draw: st.DrawFn) -> Script:
    """What a well-behaved HTTP app does, in one of its shapes."""
    script: Script = [("receive",)] if draw(st.booleans()) else []
    script += [send(m) for m in draw(st.lists(st.sampled_from(BEFORE_START), max_size=1))]
    trailers = draw(st.booleans())
    start = {"type": "http.response.start", "status": draw(st.sampled_from([200, 404]))}
    script.append(send({**start, "headers": draw(GOOD_HEADERS), "trailers": trailers}))
    parts = draw(st.lists(st.binary(max_size=8), max_size=3))
    script += [send({"type": "http.response.body", "body": p, "more_body": True}) for p in parts]
    end = draw(st.sampled_from(["body", "zerocopysend"] + ([] if parts else ["pathsend"])))
    if end == "body":
        script.append(send({"type": "http.response.body", "body": draw(st.binary(max_size=8))}))
    elif end == "pathsend":
        script.append(send({"type": "http.response.pathsend", "path": __file__}))
    else:
        script.append(send(draw(ZEROCOPYSEND)))
    if trailers:
        script.append(send({"type": "http.response.trailers", "headers": draw(GOOD_HEADERS)}))
    if draw(st.booleans()):
        script.append(("receive",))  # 'http.disconnect', once the response is complete
    return script


BEFORE_START: list[Message] = [
    {"type": "http.response.debug", "info": {"template": "page.html", "context": {"n": 1}}},
    {"type": "http.response.early_hint", "links": [b"</style.css>; rel=preload"]},
    {"type": "http.response.push", "path": "/pushed", "headers": []},
]
ZEROCOPYSEND = st.fixed_dictionaries(
    {"type": st.just("http.response.zerocopysend"), "file": st.just(OPEN_FILE)},
    optional={"offset": st.integers(0, 100), "count": st.integers(0, 100)},
)


@st.composite
def websocket_conversations(draw: st.DrawFn) -> Script:
    """What a well-behaved WebSocket app does: accept and talk, close, or deny."""
    script: Script = [("receive",)]  # 'websocket.connect'
    answer = draw(st.sampled_from(["accept", "accept", "accept", "close", "deny"]))
    if answer == "close":
        return [*script, send({"type": "websocket.close", "code": 4003, "reason": "no"})]
    if answer == "deny":
        start = {"type": "websocket.http.response.start", "status": 403, "headers": []}
        parts = draw(st.lists(st.binary(max_size=4), min_size=1, max_size=3))
        bodies = [
            {"type": "websocket.http.response.body", "body": part, "more_body": True}
            for part in parts
        ]
        bodies[-1]["more_body"] = False
        return [*script, send(start), *map(send, bodies)]
    subprotocol = draw(st.sampled_from([{}, {"subprotocol": "chat"}]))
    script.append(send({"type": "websocket.accept", **subprotocol, "headers": []}))
    for op in draw(st.lists(st.sampled_from(["receive", "text", "bytes"]), max_size=4)):
        if op == "receive":
            script.append(("receive",))
        elif op == "text":
            script.append(send({"type": "websocket.send", "text": "from the app"}))
        else:
            script.append(send({"type": "websocket.send", "bytes": b"\x01\x02"}))
    if draw(st.booleans()):
        script.append(send({"type": "websocket.close", "code": 1000}))
    return script


@st.composite
def lifespan_conversations(draw: st.DrawFn) -> Script:
    """What a well-behaved app does on the lifespan scope; after a failure it may raise."""
    script: Script = []
    for phase in ("startup", "shutdown"):
        outcome = draw(st.sampled_from(["complete", "complete", "failed"]))
        message: Message = {"type": f"lifespan.{phase}.{outcome}"}
        if outcome == "failed" and draw(st.booleans()):
            message["message"] = "went wrong"
        script += [("receive",), send(message)]
        if outcome == "failed":
            # Ending here keeps noise off the 1 s unwired allows a failed app to raise in.
            return [*script, draw(st.sampled_from([("raise", "error"), ("return",)]))]
    return script


class HTTPCall(NamedTuple):
    """What the test does: ``read`` None is a plain request; n >= 0 streams and reads n
    chunks before closing; -1 streams and reads it all."""

    method: str
    body: str
    read: int | None
    raise_server_exceptions: bool


HTTP_CALLS = st.builds(
    HTTPCall,
    method=st.sampled_from(["GET", "POST", "HEAD"]),
    body=st.sampled_from(["none", "bytes", "chunks"]),
    read=st.one_of(st.none(), st.integers(-1, 3)),
    raise_server_exceptions=st.booleans(),
)
WS_STEPS = st.lists(
    st.sampled_from(
        [
            ("receive",),
            ("receive_text",),
            ("receive_bytes",),
            ("send_text", "hi"),
            ("send_bytes", b"\x00"),
            ("close", 1000),
            ("close", 4000),
        ]
    ),
    max_size=5,
)
SUBPROTOCOLS = st.sampled_from([None, ["chat"]])

# -- judging an outcome ---------------------------------------------------------------


def can_block(script: Script) -> bool:
    return any(action[0] in ("hang", "receive") for action in script)


def sends_unreadable_path(script: Script) -> bool:
    return any(
        action[0].startswith("send")
        and isinstance(action[1], dict)
        and action[1].get("type") == "http.response.pathsend"
        and action[1].get("path") in PATHS[1:]
        for action in script
    )


def allowed(
    exc: Exception,
    script: Script,
    timeout: type[Exception],
    *others: type[Exception],
    app_errors: bool = True,
) -> bool:
    """Is ``exc`` an outcome the contract allows for an app playing ``script``?"""
    event(f"raised {type(exc).__name__}")
    raised = {action[1] for action in script if action[0] == "raise"}
    if isinstance(exc, timeout):
        return can_block(script)
    if not app_errors or isinstance(exc, ClientDisconnected):
        return False
    if isinstance(exc, ASGIProtocolError | AppError | ExceptionGroup | OSError):
        return (
            isinstance(exc, ASGIProtocolError)
            or (isinstance(exc, AppError) and bool(raised - {"pair"}))
            or (isinstance(exc, ExceptionGroup) and "pair" in raised and len(exc.exceptions) == 2)
            or (isinstance(exc, OSError) and sends_unreadable_path(script))
        )
    return isinstance(exc, others)


class Hang(Exception):
    """An example ran longer than any allowed outcome takes."""


@contextlib.contextmanager
def watchdog() -> Iterator[None]:
    """Raise ``Hang`` in the test once the block has run for ``WATCHDOG`` seconds.

    pytest-timeout would end a hang too, but without the example; its alarm (the
    same signal) is put back afterwards.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def hang(signum: int, frame: Any) -> None:
        signal.setitimer(signal.ITIMER_REAL, 1.0)  # again, should this one be swallowed
        raise Hang(f"the example ran for more than {WATCHDOG}s")

    previous = signal.signal(signal.SIGALRM, hang)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, WATCHDOG)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.01))


async def other_tasks() -> list[str]:
    """The tasks on the loop but this one: the idle client's, plus any the app left running."""
    return sorted(repr(task) for task in asyncio.all_tasks() - {asyncio.current_task()})


def assert_reported(app: FuzzApp, seen: bool) -> None:
    """The app's own exception is never lost: if it raised, the test saw an exception."""
    assert seen or "raised" not in app.log, f"the app raised, the test saw nothing: {app.log}"


def request_body(call: HTTPCall, sync: bool = True) -> Any:
    if call.body == "bytes":
        return b"payload"
    if call.body != "chunks":
        return None
    if sync:
        return iter([b"pay", b"load"])

    async def chunks() -> AsyncIterator[bytes]:
        yield b"pay"
        yield b"load"

    return chunks()


def sent_before_raising(app: FuzzApp, message_type: str) -> bool:
    log = app.log
    return "raised" in log and f"sent {message_type}" in log[: log.index("raised")]


def raised_after_shutdown(app: FuzzApp) -> bool:
    """NOTE-1, not a bug by the contract's letter: an exception raised after the app
    answered 'lifespan.shutdown.complete' is dropped, as Starlette's client drops it."""
    return sent_before_raising(app, "lifespan.shutdown.complete")


# -- sync client ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Around each whole test (not each example): every client it made let go of its threads."""
    before = set(threading.enumerate())
    yield
    assert set(threading.enumerate()) - before == set()


def http_exchange(client: TestClient, call: HTTPCall) -> None:
    """What the test does with the fuzzed endpoint."""
    if call.read is None:
        response = client.request(call.method, "/", content=request_body(call))
        event(f"response {response.status_code}")
        return
    with client.stream(call.method, "/", content=request_body(call)) as response:
        event(f"response {response.status_code}")
        if call.read < 0:
            response.read()
            return
        for _ in zip(range(call.read), response.iter_raw(), strict=False):
            pass


@settings(FUZZ, max_examples=400)
@given(script=scripts(http_conversations(), HTTP_VALID, HTTP_FUZZED), call=HTTP_CALLS)
def test_http_scripts(script: Script, call: HTTPCall) -> None:
    app = FuzzApp(script)
    client = TestClient(
        app,
        raise_server_exceptions=call.raise_server_exceptions,
        lifespan="off",
        timeout=TIMEOUT,
        follow_redirects=False,
    )
    with watchdog(), contextlib.closing(client):
        idle = client.run(other_tasks)
        seen = not call.raise_server_exceptions
        try:
            http_exchange(client, call)
        except Exception as exc:
            seen = True
            if not allowed(
                exc, script, httpx2.TimeoutException, app_errors=call.raise_server_exceptions
            ):
                raise
        assert_reported(app, seen)
        assert client.run(other_tasks) == idle
        response = client.get("/ok", timeout=5)
        assert (response.status_code, response.content) == (200, b"ok")


def websocket_step_failed(exc: Exception, script: Script) -> bool:
    """Is ``exc``, raised by a session method, allowed? The session stays usable after it."""
    if isinstance(exc, TypeError):
        event("raised TypeError")
        return (
            re.match(r"receive_(text|bytes)\(\) got a (text|binary) message", str(exc)) is not None
        )
    return allowed(exc, script, TimeoutError, WebSocketDisconnect)


def websocket_steps(ws: Any, steps: list[Action], script: Script) -> bool:
    """Run the test's steps, going on after each allowed failure; return if there was one."""
    seen = False
    for step, *args in steps:
        try:
            if step.startswith("receive"):
                getattr(ws, step)(timeout=RECEIVE_TIMEOUT)
            else:
                getattr(ws, step)(*args)
        except Exception as exc:
            seen = True
            if not websocket_step_failed(exc, script):
                raise
    return seen


@settings(FUZZ, max_examples=300)
@given(
    script=scripts(websocket_conversations(), WS_VALID, WS_FUZZED),
    subprotocols=SUBPROTOCOLS,
    steps=WS_STEPS,
)
def test_websocket_scripts(
    script: Script, subprotocols: list[str] | None, steps: list[Action]
) -> None:
    app = FuzzApp(script)
    client = TestClient(app, lifespan="off", timeout=TIMEOUT)
    with watchdog(), contextlib.closing(client):
        idle = client.run(other_tasks)
        seen = False
        try:
            with client.websocket_connect("/", subprotocols) as ws:
                event("session opened")
                seen = websocket_steps(ws, steps, script)
        except Exception as exc:
            seen = True
            if not allowed(exc, script, TimeoutError, WebSocketDisconnect):
                raise
        assert_reported(app, seen)
        tasks = client.run(other_tasks)
        assert tasks == idle
        with client.websocket_connect("/ok", timeout=5) as ws:
            ws.send_text("ping")
            assert ws.receive_text() == "ping"
        response = client.get("/ok", timeout=5)
        assert (response.status_code, response.content) == (200, b"ok")


@settings(FUZZ, max_examples=200)
@given(
    script=scripts(lifespan_conversations(), LIFESPAN_VALID, LIFESPAN_FUZZED),
    mode=st.sampled_from(["auto", "on"]),
    request_inside=st.booleans(),
)
def test_lifespan_scripts(script: Script, mode: Any, request_inside: bool) -> None:
    app = FuzzApp(script, fuzz_lifespan=True)
    client = TestClient(app, lifespan=mode, timeout=TIMEOUT)
    with watchdog(), contextlib.closing(client):
        seen = False
        try:
            with client:
                event("lifespan block entered")
                if request_inside:
                    assert client.get("/ok", timeout=5).content == b"ok"
        except Exception as exc:
            seen = True
            if not allowed(exc, script, httpx2.TimeoutException, LifespanFailed):
                raise
        # Per the spec, an app raising on the lifespan scope before it sent anything does
        # not support lifespan; "auto" goes on without it.
        unsupported = mode == "auto" and app.log[:1] == ["raised"]
        assert_reported(app, seen or unsupported or raised_after_shutdown(app))
        app.fuzz_lifespan = False
        with client:
            assert client.get("/ok", timeout=5).content == b"ok"


# -- async client, on asyncio ---------------------------------------------------------


async def async_http_exchange(client: AsyncTestClient, call: HTTPCall) -> None:
    content = request_body(call, sync=False)
    if call.read is None:
        response = await client.request(call.method, "/", content=content)
        event(f"response {response.status_code}")
        return
    async with client.stream(call.method, "/", content=content) as response:
        event(f"response {response.status_code}")
        if call.read < 0:
            await response.aread()
            return
        chunks = response.aiter_raw()
        try:
            for _ in range(call.read):
                if await anext(chunks, None) is None:
                    break
        finally:
            await chunks.aclose()


async def async_http_example(script: Script, call: HTTPCall) -> None:
    idle = await other_tasks()
    app = FuzzApp(script)
    client = AsyncTestClient(
        app,
        raise_server_exceptions=call.raise_server_exceptions,
        lifespan="off",
        timeout=TIMEOUT,
        follow_redirects=False,
    )
    seen = not call.raise_server_exceptions
    try:
        await async_http_exchange(client, call)
    except Exception as exc:
        seen = True
        if not allowed(
            exc, script, httpx2.TimeoutException, app_errors=call.raise_server_exceptions
        ):
            raise
    assert_reported(app, seen)
    assert await other_tasks() == idle
    response = await client.get("/ok", timeout=5)
    assert (response.status_code, response.content) == (200, b"ok")
    await client.aclose()


@settings(FUZZ, max_examples=150)
@given(script=scripts(http_conversations(), HTTP_VALID, HTTP_FUZZED), call=HTTP_CALLS)
def test_async_http_scripts(script: Script, call: HTTPCall) -> None:
    with watchdog():
        anyio.run(async_http_example, script, call)


async def async_websocket_steps(ws: Any, steps: list[Action], script: Script) -> bool:
    seen = False
    for step, *args in steps:
        try:
            if step.startswith("receive"):
                await getattr(ws, step)(timeout=RECEIVE_TIMEOUT)
            else:
                await getattr(ws, step)(*args)
        except Exception as exc:
            seen = True
            if not websocket_step_failed(exc, script):
                raise
    return seen


async def async_websocket_example(
    script: Script, subprotocols: list[str] | None, steps: list[Action]
) -> None:
    idle = await other_tasks()
    app = FuzzApp(script)
    client = AsyncTestClient(app, lifespan="off", timeout=TIMEOUT)
    seen = False
    try:
        async with client.websocket_connect("/", subprotocols) as ws:
            event("session opened")
            seen = await async_websocket_steps(ws, steps, script)
    except Exception as exc:
        seen = True
        if not allowed(exc, script, TimeoutError, WebSocketDisconnect):
            raise
    assert_reported(app, seen)
    tasks = await other_tasks()
    assert tasks == idle
    async with client.websocket_connect("/ok", timeout=5) as ws:
        await ws.send_text("ping")
        assert await ws.receive_text() == "ping"
    await client.aclose()


@settings(FUZZ, max_examples=150)
@given(
    script=scripts(websocket_conversations(), WS_VALID, WS_FUZZED),
    subprotocols=SUBPROTOCOLS,
    steps=WS_STEPS,
)
def test_async_websocket_scripts(
    script: Script, subprotocols: list[str] | None, steps: list[Action]
) -> None:
    with watchdog():
        anyio.run(async_websocket_example, script, subprotocols, steps)
