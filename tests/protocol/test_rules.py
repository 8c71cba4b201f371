"""The layering rule: ``unwired._protocol`` is sans-IO.

Its modules may import only the standard library (minus anything that runs an
event loop), ``unwired._types``, ``unwired._exceptions`` and each other. Checked
twice: statically, by reading every module's imports with ``ast``; and at run
time, by importing every module in a bare interpreter (``-I -S``: no
site-packages) and listing what got loaded.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN = frozenset({"anyio", "asyncio", "trio", "httpx", "httpx2", "sniffio", "uvloop"})
INTERNAL = frozenset({"unwired._types", "unwired._exceptions"})
PROTOCOL = "unwired._protocol"


def _package_dir() -> Path:
    # find_spec on the top-level name locates the package without importing it.
    spec = importlib.util.find_spec("unwired")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    return Path(next(iter(spec.submodule_search_locations)))


PROTOCOL_DIR = _package_dir() / "_protocol"
MODULE_FILES = sorted(PROTOCOL_DIR.glob("*.py"))
MODULES = frozenset(
    PROTOCOL if path.stem == "__init__" else f"{PROTOCOL}.{path.stem}" for path in MODULE_FILES
)


def imported_names(source: str, package: str = PROTOCOL) -> list[str]:
    """Absolute names of everything ``source`` (a module of ``package``) imports."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
            else:
                base = ""
            if node.module:
                names.append(f"{base}.{node.module}" if base else node.module)
            else:  # ``from . import x``: each name is a module
                names.extend(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in {"__import__", "import_module"}:
                names.append(f"<dynamic import: {ast.unparse(node)}>")
    return names


def allowed(name: str) -> bool:
    top = name.partition(".")[0]
    if top in FORBIDDEN:
        return False
    if top in sys.stdlib_module_names:
        return True
    return name in INTERNAL or name in MODULES


def test_protocol_modules_are_found() -> None:
    assert {path.name for path in MODULE_FILES} >= {
        "__init__.py",
        "_checks.py",
        "_http.py",
        "_lifespan.py",
        "_scope.py",
    }


@pytest.mark.parametrize("path", MODULE_FILES, ids=lambda path: path.name)
def test_module_imports_only_stdlib_and_allowed_internals(path: Path) -> None:
    names = imported_names(path.read_text(encoding="utf-8"))
    assert [name for name in names if not allowed(name)] == []


@pytest.mark.parametrize(
    ("source", "names", "ok"),
    [
        pytest.param("import enum", ["enum"], True, id="stdlib"),
        pytest.param("from collections.abc import Mapping", ["collections.abc"], True, id="from"),
        pytest.param("from .._types import Scope", ["unwired._types"], True, id="types"),
        pytest.param("from .. import _exceptions", ["unwired._exceptions"], True, id="exceptions"),
        pytest.param("from . import _checks", ["unwired._protocol._checks"], True, id="sibling"),
        pytest.param("from ._scope import Target", ["unwired._protocol._scope"], True, id="sib"),
        pytest.param("import asyncio", ["asyncio"], False, id="asyncio"),
        pytest.param("import anyio.abc", ["anyio.abc"], False, id="anyio"),
        pytest.param("from trio import sleep", ["trio"], False, id="trio"),
        pytest.param("import httpx2", ["httpx2"], False, id="httpx2"),
        pytest.param("import sniffio", ["sniffio"], False, id="sniffio"),
        pytest.param("from .._driver import Driver", ["unwired._driver"], False, id="driver"),
        pytest.param("from .. import _client", ["unwired._client"], False, id="client"),
        pytest.param("import unwired", ["unwired"], False, id="public-package"),
        pytest.param("from ._missing import X", ["unwired._protocol._missing"], False, id="gone"),
        pytest.param(
            "def f():\n    import asyncio\n", ["asyncio"], False, id="function-level-import"
        ),
        pytest.param(
            "__import__('anyio')",
            ["<dynamic import: __import__('anyio')>"],
            False,
            id="dynamic-import",
        ),
        pytest.param(
            "import importlib\nimportlib.import_module('trio')",
            ["importlib", "<dynamic import: importlib.import_module('trio')>"],
            False,
            id="import-module",
        ),
    ],
)
def test_rule_checker(source: str, names: list[str], ok: bool) -> None:
    # The checker must see through relative and nested imports, or the rule is empty.
    found = imported_names(source)
    assert found == names
    assert all(allowed(name) for name in found) is ok


_PROBE = """
import importlib, pkgutil, sys, types

package = types.ModuleType("unwired")  # skip unwired/__init__.py: it imports the client
package.__path__ = [sys.argv[1]]
sys.modules["unwired"] = package
before = set(sys.modules)
protocol = importlib.import_module("unwired._protocol")
for info in pkgutil.iter_modules(protocol.__path__):
    importlib.import_module("unwired._protocol." + info.name)
print("\\n".join(sorted(set(sys.modules) - before)))
"""


def test_importing_protocol_loads_nothing_else() -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _PROBE, str(_package_dir())],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert loaded >= MODULES
    assert loaded & FORBIDDEN == set()
    unwired_loaded = {name for name in loaded if name.partition(".")[0] == "unwired"}
    assert unwired_loaded == MODULES | INTERNAL
    assert [name for name in loaded if not allowed(name)] == []
