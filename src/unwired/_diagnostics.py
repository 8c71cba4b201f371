"""Where-is-the-app-stuck reports for timeout messages.

Rule: diagnostics never raise; a report that cannot be built is left out.
"""

from __future__ import annotations

import asyncio
import os
from types import FrameType
from typing import Any

_HIDDEN = (os.path.dirname(asyncio.__file__) + os.sep, os.path.dirname(__file__) + os.sep)
_HIDDEN_PARTS = (f"{os.sep}anyio{os.sep}", f"{os.sep}trio{os.sep}")


def _root_coroutine(task: Any) -> Any:
    if isinstance(task, asyncio.Task):
        return task.get_coro()
    return getattr(task, "coroutine", None)


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


def where_suspended(task: Any) -> str:
    """The app task's suspended stack as ``file:line in function`` lines, innermost last."""
    try:
        lines = [
            f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
            for frame in _frames(_root_coroutine(task))
            if _shown(frame.f_code.co_filename)
        ]
    except Exception:  # pragma: no cover - best effort only
        return ""
    if not lines:
        return ""
    return "\nthe app is suspended at (innermost last):\n" + "\n".join(lines)
