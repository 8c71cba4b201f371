"""Where-is-the-app-stuck reports for timeout messages.

Rule: diagnostics never raise; a report that cannot be built is left out.
Child tasks are found where the app's own stack reaches them: the task groups
its suspended frames are waiting in (asyncio's ``TaskGroup``, anyio's task
groups on asyncio) and, on trio, the nurseries of the app's task. A worker
thread is found when a suspended frame holds it (anyio's ``to_thread`` on
asyncio, which is how Starlette runs sync endpoints).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

_OWN = os.path.dirname(__file__) + os.sep
_HIDDEN = (
    os.path.dirname(asyncio.__file__) + os.sep,
    _OWN,
    threading.__file__,
)
_HIDDEN_PARTS = (f"{os.sep}anyio{os.sep}", f"{os.sep}trio{os.sep}")
#: Child tasks beyond this many are counted, not shown.
MAX_CHILDREN = 8


def _frames(coroutine: Any) -> list[FrameType]:
    frames: list[FrameType] = []
    current = coroutine
    while current is not None and len(frames) < 200:
        frame = getattr(current, "cr_frame", None) or getattr(current, "gi_frame", None)
        if frame is not None:
            frames.append(frame)
        current = getattr(current, "cr_await", None) or getattr(current, "gi_yieldfrom", None)
    return frames


def _shown(filename: str) -> bool:
    return not filename.startswith(_HIDDEN) and not any(p in filename for p in _HIDDEN_PARTS)


def _grouped_tasks(frames: list[FrameType]) -> list[asyncio.Task[Any]]:
    """The tasks of the task groups whose ``__aexit__`` these frames wait in."""
    found: list[asyncio.Task[Any]] = []
    for frame in frames:
        group = frame.f_locals.get("self")
        tasks = getattr(group, "_tasks", None) if frame.f_code.co_name == "__aexit__" else None
        if isinstance(tasks, set):
            found.extend(t for t in tasks if isinstance(t, asyncio.Task))
    return sorted(found, key=asyncio.Task.get_name)


def _worker_threads(frames: list[FrameType]) -> list[threading.Thread]:
    """Threads these frames hold while waiting on them (anyio's ``to_thread`` on asyncio)."""
    found: dict[int, threading.Thread] = {}
    for frame in frames:
        for value in frame.f_locals.values():
            if isinstance(value, threading.Thread) and value.ident is not None:
                found[value.ident] = value
    return list(found.values())


def _thread_frames(thread: threading.Thread) -> list[FrameType]:
    frame = sys._current_frames().get(thread.ident or 0)
    frames: list[FrameType] = []
    while frame is not None and len(frames) < 200:
        frames.append(frame)
        frame = frame.f_back
    return frames[::-1]


def _asyncio_stacks(task: asyncio.Task[Any]) -> Iterator[tuple[str, Any]]:
    frames = _frames(task.get_coro())
    yield f"its child task {task.get_name()!r}", frames
    for thread in _worker_threads(frames):
        yield f"its worker thread {thread.name!r}", _thread_frames(thread)
    for child in _grouped_tasks(frames):  # groups drop their tasks as they end
        yield from _asyncio_stacks(child)


def _trio_stacks(task: Any) -> Iterator[tuple[str, Any]]:
    for nursery in task.child_nurseries:
        for child in sorted(nursery.child_tasks, key=lambda t: t.name):
            yield f"its child task {child.name!r}", _frames(child.coro)
            yield from _trio_stacks(child)


def _stacks(handle: Any) -> Iterator[tuple[str, list[FrameType]]]:
    """(whose, suspended frames): the app's task first, then its child tasks and threads."""
    if isinstance(handle, asyncio.Task):
        yield from _asyncio_stacks(handle)
        return
    yield "", _frames(handle.coroutine)  # an app task on trio (backends._TrioTask)
    yield from _trio_stacks(handle.trio_task)


def _lines(frames: list[FrameType]) -> list[str]:
    return [
        f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        for frame in frames
        if _shown(frame.f_code.co_filename)
    ]


def where_suspended(task: Any) -> str:
    """The app task's suspended stack as ``file:line in function`` lines, innermost last.

    Then the stacks of its child tasks and worker threads, each under its name.
    """
    if task is None:
        return ""
    try:
        sections: list[str] = []
        children = 0
        for index, (whose, frames) in enumerate(_stacks(task)):
            lines = _lines(frames)
            if not lines:
                continue
            if index:
                children += 1
                if children > MAX_CHILDREN:
                    continue
            else:
                whose = "the app"
            sections.append(f"\n{whose} is suspended at (innermost last):\n" + "\n".join(lines))
    except Exception:  # pragma: no cover - best effort only
        return ""
    if children > MAX_CHILDREN:
        sections.append(f"\n(and {children - MAX_CHILDREN} more child tasks)")
    return "".join(sections)


def waiting_in_receive(task: Any) -> bool:
    """Is the app's own task suspended in unwired's ``receive()``, waiting for the test?

    True when the first frame below the app's innermost shown frame (its own
    code, or its framework's) is one of unwired's ``_receive`` functions.
    """
    if task is None:
        return False
    try:
        _, frames = next(_stacks(task))
        shown = [index for index, frame in enumerate(frames) if _shown(frame.f_code.co_filename)]
        if not shown or shown[-1] + 1 == len(frames):
            return False
        code = frames[shown[-1] + 1].f_code
        return code.co_filename.startswith(_OWN) and code.co_name == "_receive"
    except Exception:  # pragma: no cover - best effort only
        return False
