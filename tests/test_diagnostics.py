"""Where-is-the-app-stuck reports."""

from __future__ import annotations

import asyncio

from unwired._diagnostics import where_suspended


async def _inner(event: asyncio.Event) -> None:
    await event.wait()


async def _outer(event: asyncio.Event) -> None:
    await _inner(event)


def test_stack_lists_app_frames_innermost_last_and_hides_asyncio() -> None:
    async def main() -> str:
        event = asyncio.Event()
        task = asyncio.get_running_loop().create_task(_outer(event))
        await asyncio.sleep(0)
        report = where_suspended(task)
        event.set()
        await task
        return report

    report = asyncio.run(main())
    lines = report.splitlines()
    assert lines[1] == "the app is suspended at (innermost last):"
    assert [line.rsplit(" in ", 1)[1] for line in lines[2:]] == ["_outer", "_inner"]
    assert all(__file__ in line for line in lines[2:])
    assert "asyncio" not in report


def test_nothing_to_show_gives_an_empty_report() -> None:
    assert where_suspended(None) == ""
