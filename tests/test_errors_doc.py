"""Every example in docs/errors.md ends the way the page says it does.

Each ```python block on the page is a complete program, followed by a ```text
block with what it ends with: the exception it raises, as Python prints the
last line of a traceback (``Type: message``, the type by its public name), or
else what it prints. The programs run here, compiled as ``app.py`` so that the
line numbers in timeout reports are those of the example; ``...`` in a text
block stands for any text.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import unwired
import unwired._app_task

DOC = Path(__file__).resolve().parent.parent / "docs" / "errors.md"

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^#{1,3} (.+)$", re.MULTILINE)

#: How long a cancelled app may take to unwind, here: the page's example of an
#: app that takes too long would otherwise wait the real 5 s.
_CANCEL_WAIT = 0.2


@dataclass(frozen=True)
class Example:
    heading: str
    line: int
    code: str
    expected: str


def load_examples(text: str) -> list[Example]:
    """The (python, text) block pairs of the page, under their headings."""
    blocks = list(_FENCE.finditer(text))
    inside = [range(block.start(), block.end()) for block in blocks]
    headings = [h for h in _HEADING.finditer(text) if not any(h.start() in r for r in inside)]
    examples = []
    for index, block in enumerate(blocks):
        if block.group(1) != "python":
            continue
        line = text.count("\n", 0, block.start()) + 1
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if following is None or following.group(1) != "text":
            raise ValueError(f"errors.md:{line}: a python block must be followed by a text block")
        heading = [h.group(1) for h in headings if h.start() < block.start()][-1]
        expected = following.group(2).rstrip("\n")
        examples.append(Example(heading, line, block.group(2), expected))
    return examples


def run_example(code: str) -> tuple[Exception | None, str]:
    """Run one example; return the exception it raised (if any) and what it printed."""
    namespace: dict[str, Any] = {"__name__": "app"}
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            exec(compile(code, "app.py", "exec"), namespace)
    except Exception as exc:
        return exc, output.getvalue()
    finally:
        for value in namespace.values():
            if isinstance(value, unwired.TestClient):
                value.close()
    return None, output.getvalue()


def public_name(kind: type[BaseException]) -> str:
    """The name the page uses for an exception class: the one it is imported by."""
    module = kind.__module__
    if module == "builtins":
        return kind.__qualname__
    if module.startswith("unwired"):
        return f"unwired.{kind.__qualname__}"
    return f"{module.split('.')[0]}.{kind.__qualname__}"


def _resolve(name: str) -> type[BaseException]:
    module, _, attribute = name.rpartition(".")
    found = getattr(importlib.import_module(module) if module else builtins, attribute, None)
    assert isinstance(found, type), f"{name!r} is not an exception class"
    assert issubclass(found, BaseException), f"{name!r} is not an exception class"
    return found


def _matches(expected: str, actual: str) -> bool:
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual, re.DOTALL) is not None


def outcome(exc: Exception | None, printed: str) -> str:
    """What a run ends with, written the way the page writes it."""
    if exc is None:
        return printed.rstrip("\n")
    text = str(exc)
    return f"{public_name(type(exc))}: {text}" if text else public_name(type(exc))


EXAMPLES = load_examples(DOC.read_text(encoding="utf-8"))


def _params(examples: list[Example]) -> list[Any]:
    """One param per example, named after its heading (and its number under it)."""
    seen: dict[str, int] = {}
    params = []
    for example in examples:
        name = re.sub(r"\W+", "-", example.heading.lower()).strip("-")
        seen[name] = seen.get(name, 0) + 1
        params.append(pytest.param(example, id=f"{name}-{seen[name]}"))
    return params


@pytest.mark.parametrize("example", _params(EXAMPLES))
def test_example_ends_as_documented(example: Example, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = example.expected
    real_wait = f"after {unwired._app_task.CANCEL_WAIT:g}s"
    if f"{real_wait} waiting for the app to exit after cancellation" in expected:
        monkeypatch.setattr(unwired._app_task, "CANCEL_WAIT", _CANCEL_WAIT)
        expected = expected.replace(real_wait, f"after {_CANCEL_WAIT:g}s")

    exc, printed = run_example(example.code)

    where = f"the example at docs/errors.md:{example.line}"
    if exc is None:
        assert _matches(expected, printed.rstrip("\n")), (
            f"{where} printed:\n{printed}\nthe page shows:\n{expected}"
        )
        return
    first_line = expected.partition("\n")[0]
    name = first_line.partition(": ")[0]
    message = expected[len(name) + 2 :] if ": " in first_line else ""
    assert isinstance(exc, _resolve(name)), (
        f"{where} raised {public_name(type(exc))}, the page shows {name}"
    )
    assert _matches(message, str(exc)), (
        f"{where} ended with:\n{outcome(exc, printed)}\nthe page shows:\n{expected}"
    )


def test_every_entry_has_an_example() -> None:
    text = DOC.read_text(encoding="utf-8")
    entries = re.findall(r"^### (.+)$", _FENCE.sub("", text), re.MULTILINE)
    tested = {example.heading for example in EXAMPLES}
    assert [entry for entry in entries if entry not in tested] == []
    assert [example.line for example in EXAMPLES if example.expected in ("", "TODO")] == []
