"""Every Python example in docs/ runs, so the docs cannot rot.

The rules a page follows:

- Every ```python block runs, in page order, and the blocks of one page share
  one module: a block may use what an earlier block on the page defined. Each
  page starts from an empty module.
- The page is a pytest test module. Its top-level code runs when it is
  imported; every ``test_*`` function it defines then runs as a test, with
  fixtures (the page's own and those of unwired's plugin), markers and
  warnings as errors, and must pass. All pages run in one pytest run in a
  fresh interpreter, so nothing of this run (options, patched modules) leaks
  into them.
- A ```text block titled "Output" (```text title="Output") right after a
  python block is what that block prints; ``...`` in it stands for any text.
- A python block titled with a file name (```python title="test_report.py")
  is compiled under that name, so the line numbers in its tracebacks and
  timeout reports are the block's own, as shown. Other blocks are compiled as
  the page itself: tracebacks point at lines of the page.
- A block that must not run has ``<!-- not-run: why -->`` on the line before
  its fence. Keep them rare: code that needs a package unwired replaces.
- A framework page needs its framework, a test dependency: if it is missing,
  the page fails; nothing is skipped.
- docs/errors.md is not run here: tests/test_errors_doc.py checks each of its
  examples against the error the page says it ends with.

When loaded as a pytest plugin (``-p tests.test_docs``), this module collects
the pages given on the command line; that is how the inner run uses it.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import linecache
import os
import re
import subprocess
import sys
import textwrap
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _pytest.assertion.rewrite import rewrite_asserts

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: Checked by tests/test_errors_doc.py, example by example.
EXCLUDED = {DOCS / "errors.md"}
#: Where the inner run writes what happened to each page (one JSON object a line).
REPORT_ENV = "UNWIRED_DOCS_REPORT"

_FENCE = re.compile(
    r"^(?P<indent>[ ]*)```(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ ]*$",
    re.MULTILINE | re.DOTALL,
)
_TITLE = re.compile(r'\btitle="(?P<title>[^"]*)"')
_NOT_RUN = re.compile(r"^\s*<!--\s*not-run\b:?\s*(?P<reason>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One ```python block of a page."""

    page: str  # relative to the repository, e.g. "docs/streaming.md"
    number: int  # 1 for the page's first python block
    line: int  # the line of the page its code starts on
    code: str
    title: str | None
    output: str | None  # what the block prints, from the "Output" block after it
    not_run: str | None  # why it is not run, from <!-- not-run: ... -->

    def __str__(self) -> str:
        return f"{self.page}, block {self.number} (line {self.line})"

    @property
    def last_line(self) -> int:
        return self.line + self.code.count("\n")


def load_blocks(path: Path) -> list[Block]:
    """The python blocks of a page, checked against the rules above."""
    text = path.read_text(encoding="utf-8")
    page = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    fences = list(_FENCE.finditer(text))
    blocks: list[Block] = []
    for index, fence in enumerate(fences):
        language, title = _info(fence)
        line = text.count("\n", 0, fence.start()) + 2
        follows_python = index > 0 and _info(fences[index - 1])[0] == "python"
        adjacent = index > 0 and not text[fences[index - 1].end() : fence.start()].strip()
        if language != "python":
            if language.startswith("py"):
                raise ValueError(f"{page}:{line - 1}: write ```python, not ```{language}")
            if title == "Output" and not (follows_python and adjacent):
                raise ValueError(f"{page}:{line - 1}: an Output block must follow a python block")
            continue
        before = text[: fence.start()].rstrip("\n").rpartition("\n")[2]
        not_run = _NOT_RUN.match(before)
        if not_run is not None and not not_run.group("reason"):
            raise ValueError(f"{page}:{line - 1}: say why: <!-- not-run: the reason -->")
        following = fences[index + 1] if index + 1 < len(fences) else None
        output = None
        if following is not None and _info(following)[1] == "Output":
            output = textwrap.dedent(following.group("body")).rstrip("\n")
        blocks.append(
            Block(
                page=page,
                number=len(blocks) + 1,
                line=line,
                code=textwrap.dedent(fence.group("body")),
                title=title,
                output=output,
                not_run=not_run.group("reason") if not_run else None,
            )
        )
    return blocks


def _info(fence: re.Match[str]) -> tuple[str, str | None]:
    """A fence's language and title: ```python title="app.py" is ("python", "app.py")."""
    language, _, options = fence.group("info").strip().partition(" ")
    title = _TITLE.search(options)
    return language, title.group("title") if title else None


def _matches(expected: str, actual: str) -> bool:
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual, re.DOTALL) is not None


def _compile(block: Block, path: Path) -> types.CodeType:
    """The block's code, with pytest's assertion messages; its lines as the page shows them."""
    if block.title is not None:
        filename, source = block.title, block.code
        lines = source.splitlines(keepends=True)
        linecache.cache[filename] = (len(source), None, lines, filename)
    else:  # padded, so that line numbers are the page's
        filename, source = str(path), "\n" * (block.line - 1) + block.code
    tree = ast.parse(source, filename)
    rewrite_asserts(tree, source.encode(), filename)
    return compile(tree, filename, "exec", dont_inherit=True)


def run_blocks(path: Path, namespace: dict[str, Any]) -> None:
    """Run a page's blocks in order in ``namespace``; check what they print."""
    for block in load_blocks(path):
        if block.not_run is not None:
            continue
        code = _compile(block, path)
        printed = io.StringIO()
        capture = contextlib.redirect_stdout(printed) if block.output is not None else None
        try:
            with capture or contextlib.nullcontext():
                exec(code, namespace)
        except BaseException as exc:
            exc.add_note(f"in {block}")
            raise
        if block.output is not None and not _matches(block.output, printed.getvalue().rstrip()):
            msg = f"{block} printed:\n{printed.getvalue()}\nthe page shows:\n{block.output}"
            raise AssertionError(msg)


# -- the inner run: this module as a plugin (-p tests.test_docs) -------------------------


class DocsPage(pytest.Module):
    """A page of the docs, collected as a test module made from its python blocks."""

    def _getobj(self) -> types.ModuleType:
        relative = self.path.relative_to(ROOT).with_suffix("")
        module = types.ModuleType("_".join(relative.parts))
        module.__file__ = str(self.path)
        sys.modules[module.__name__] = module  # frameworks look their handlers' modules up
        run_blocks(self.path, module.__dict__)
        return module


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> DocsPage | None:
    if file_path.suffix == ".md":
        return DocsPage.from_parent(parent, path=file_path)
    return None


def _record(report: pytest.CollectReport | pytest.TestReport) -> None:
    destination = os.environ.get(REPORT_ENV)
    if destination is None:
        return
    entry = {
        "nodeid": report.nodeid,
        "outcome": report.outcome,
        "when": getattr(report, "when", "collect"),
        "location": list(getattr(report, "location", None) or ()),
        "text": report.longreprtext if report.failed or report.skipped else "",
    }
    with open(destination, "a", encoding="utf-8") as file:
        file.write(json.dumps(entry) + "\n")


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.nodeid.endswith(".md"):
        _record(report)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or not report.passed:
        _record(report)


# -- the tests -------------------------------------------------------------------------


PAGES = sorted(path for path in DOCS.rglob("*.md") if path not in EXCLUDED)

_INI = """\
[pytest]
addopts = -p tests.test_docs -p no:cacheprovider --strict-markers
filterwarnings = error
asyncio_default_fixture_loop_scope = function
timeout = 60
"""


_TEST_FUNCTION = re.compile(r"^(?:async )?def (test_\w+)\(", re.MULTILINE)


@dataclass
class PageRun:
    """What happened to one page in the inner run."""

    collected: bool = False
    passed: set[str] = field(default_factory=set)  # names of the tests that passed
    problems: list[str] = field(default_factory=list)
    output: str = ""  # what the inner run printed, for a page that was not run


@pytest.fixture(scope="module")
def docs_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PageRun]:
    """Run every page in one pytest run, in a fresh interpreter; what happened to each."""
    directory = tmp_path_factory.mktemp("docs")
    ini, report = directory / "pytest.ini", directory / "report.jsonl"
    ini.write_text(_INI, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-c", str(ini), f"--rootdir={ROOT}", "-q"]
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    completed = subprocess.run(
        [*command, *map(str, PAGES)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path, REPORT_ENV: str(report)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = f"{completed.stdout}\n{completed.stderr}"
    runs = {page.relative_to(ROOT).as_posix(): PageRun(output=output) for page in PAGES}
    lines = report.read_text(encoding="utf-8").splitlines() if report.exists() else []
    for entry in map(json.loads, lines):
        page, _, test = entry["nodeid"].partition("::")
        run = runs[page]
        if entry["when"] == "collect":
            run.collected = entry["outcome"] == "passed"
        if entry["outcome"] == "passed":
            if entry["when"] == "call":
                run.passed.add(test.partition("[")[0])
            continue
        where = _where(page, entry["location"])
        run.problems.append(f"{entry['nodeid']} {entry['outcome']} ({where}):\n{entry['text']}")
    return runs


def _where(page: str, location: list[Any]) -> str:
    """The block a failing test is defined in, from its location (file, 0-based line)."""
    if len(location) < 2 or location[1] is None:
        return page
    filename, line = location[0], location[1] + 1
    for block in load_blocks(ROOT / page):
        if block.title == Path(filename).name or (
            block.title is None and block.line <= line <= block.last_line
        ):
            return str(block)
    return page


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.relative_to(DOCS).as_posix())
def test_page_examples_run(page: Path, docs_run: dict[str, PageRun]) -> None:
    run = docs_run[page.relative_to(ROOT).as_posix()]
    if run.problems:
        pytest.fail("\n\n".join(run.problems), pytrace=False)
    assert run.collected, f"{page} was not run; the run printed:\n{run.output}"
    defined = {
        name
        for block in load_blocks(page)
        if block.not_run is None
        for name in _TEST_FUNCTION.findall(block.code)
    }
    assert sorted(defined - run.passed) == [], "tests the page defines that did not run"


def test_every_page_has_examples_that_run() -> None:
    runnable = {
        path.relative_to(DOCS).as_posix(): sum(b.not_run is None for b in load_blocks(path))
        for path in PAGES
    }
    assert [page for page, count in runnable.items() if not count] == []


def test_not_run_blocks_are_rare() -> None:
    skipped = [str(block) for path in PAGES for block in load_blocks(path) if block.not_run]
    assert len(skipped) <= 3, skipped


PAGE = """\
# A page

```python
answer = 42
```

```python title="app.py"
print(answer)
```
```text title="Output"
4...
```

<!-- not-run: needs a real server -->
```python
import uvicorn
```
"""


def test_a_page_is_read_as_the_rules_say(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE, encoding="utf-8")
    blocks = load_blocks(page)
    assert [(b.number, b.line, b.title, b.output, b.not_run) for b in blocks] == [
        (1, 4, None, None, None),
        (2, 8, "app.py", "4...", None),
        (3, 16, None, None, "needs a real server"),
    ]
    namespace: dict[str, Any] = {}
    run_blocks(page, namespace)  # the third block would fail: it is not run
    assert namespace["answer"] == 42


def test_a_block_that_prints_something_else_fails(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE.replace("4...", "43"), encoding="utf-8")
    with pytest.raises(AssertionError, match=r"block 2 \(line 8\) printed:\n42\n"):
        run_blocks(page, {})


def test_an_error_names_the_block(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE.replace("answer = 42", "answer = 1 / 0"), encoding="utf-8")
    with pytest.raises(ZeroDivisionError) as info:
        run_blocks(page, {})
    assert info.value.__notes__ == [f"in {page}, block 1 (line 4)"]
    assert info.traceback[-1].lineno + 1 == 4  # the page's own line


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("```python\nanswer", "```py\nanswer"), "write ```python, not ```py"),
        (("```python title", "```text title"), "an Output block must follow a python block"),
        (("not-run: needs a real server", "not-run"), "say why"),
    ],
)
def test_a_page_breaking_the_rules_is_refused(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE.replace(*change), encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(message)):
        load_blocks(page)
