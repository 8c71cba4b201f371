"""unwired's pytest plugin (entry point ``pytest11``, name ``unwired``).

What it gives a test run:

- fixtures ``unwired_client_factory`` and ``unwired_async_client_factory``;
- ``--unwired-timeout=SECONDS`` (ini ``unwired_timeout``): the default timeout
  of every unwired client created in the run;
- ``--unwired-patch-starlette`` (ini ``unwired_patch_starlette = true``):
  ``starlette.testclient.TestClient`` (and so FastAPI's re-export) and
  ``starlette.testclient.WebSocketDenialResponse`` are unwired's for the run,
  and a summary line counts the clients created in their place.

Rule 1: loading the plugin costs nothing. This module imports pytest and the
standard library only; unwired's clients (with httpx2 and anyio), Starlette
and pytest-asyncio are imported inside the hooks and fixtures that use them,
when they use them.

Rule 2: everything the plugin changes outside itself — the default timeout,
Starlette's module attributes — is changed in ``pytest_load_initial_conftests``,
before any conftest or test module is imported (suites build ``TestClient(app)``
at import time), and undone by a cleanup registered with the config at the
same moment, so an in-process run (``pytester``) leaves the process as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import sys
import types
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from ._client import AsyncTestClient, TestClient

__all__ = ["AsyncClientFactory", "ClientFactory"]

_PATCH_HELP = (
    "run the suite's starlette.testclient.TestClient (and fastapi.testclient's) "
    "as unwired.TestClient"
)
_TIMEOUT_HELP = (
    "default timeout of every unwired client created in the run: seconds, "
    "or 'none' to wait forever (unwired's default: 30)"
)
#: pytest-asyncio's loop scopes; one asyncio factory fixture per scope.
_LOOP_SCOPES = ("function", "class", "module", "package", "session")
_WORKER_COUNT_KEY = "unwired_clients_created"


class ClientFactory(Protocol):
    """The ``unwired_client_factory`` fixture: ``factory(app, **keywords)``."""

    def __call__(self, app: Any, **kwargs: Any) -> TestClient: ...


class AsyncClientFactory(Protocol):
    """The ``unwired_async_client_factory`` fixture: ``await factory(app, **keywords)``."""

    async def __call__(self, app: Any, **kwargs: Any) -> AsyncTestClient: ...


@dataclasses.dataclass
class _Run:
    """This process's share of the run: is Starlette patched, how many clients were made."""

    patched: bool = False
    created: int = 0
    worker_counts: list[int] = dataclasses.field(default_factory=list)
    workers_silent: int = 0

    def summary(self) -> str:
        total = self.created + sum(self.worker_counts)
        noun = "instance" if total == 1 else "instances"
        line = f"unwired: {total} TestClient {noun} created in place of Starlette's TestClient"
        if self.worker_counts or self.workers_silent:
            workers = len(self.worker_counts)
            line += f", counted in {workers} xdist worker{'' if workers == 1 else 's'}"
            if self.created:
                line += " and the controller"
            if self.workers_silent:
                line += f" ({self.workers_silent} more did not report)"
        return line


_RUN = pytest.StashKey[_Run]()


# -- options and setup -----------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("unwired", "unwired (in-process ASGI test clients)")
    group.addoption(
        "--unwired-timeout", metavar="SECONDS", dest="unwired_timeout", help=_TIMEOUT_HELP
    )
    group.addoption(
        "--unwired-patch-starlette",
        action="store_true",
        dest="unwired_patch_starlette",
        help=_PATCH_HELP,
    )
    parser.addini("unwired_timeout", _TIMEOUT_HELP, type="string", default="")
    parser.addini("unwired_patch_starlette", _PATCH_HELP, type="bool", default=False)


def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    _start(early_config, early_config.known_args_namespace)


def pytest_configure(config: pytest.Config) -> None:
    if _RUN not in config.stash:  # registered after the initial conftests (from a conftest)
        _start(config, config.option)
    if config.pluginmanager.has_plugin("asyncio"):
        config.pluginmanager.register(_asyncio_fixtures(), "unwired-asyncio-fixtures")


def _start(config: pytest.Config, options: Any) -> None:
    run = config.stash[_RUN] = _Run()
    timeout = _timeout_setting(config, options)
    if timeout is not None:
        from ._client import set_default_timeout

        previous = set_default_timeout(_parse_timeout(*timeout))

        def restore_timeout() -> None:
            set_default_timeout(previous)

        config.add_cleanup(restore_timeout)
    if options.unwired_patch_starlette or config.getini("unwired_patch_starlette"):
        config.add_cleanup(_patch_starlette(run))
        run.patched = True


def _timeout_setting(config: pytest.Config, options: Any) -> tuple[str, str] | None:
    """The run's timeout setting and where it comes from; the option wins over the ini."""
    if options.unwired_timeout is not None:
        return options.unwired_timeout, "--unwired-timeout"
    text = config.getini("unwired_timeout")
    return (text, "ini option unwired_timeout") if text else None


def _parse_timeout(text: str, source: str) -> float | None:
    text = text.strip()
    if text.lower() == "none":
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (0 < seconds < math.inf):
        msg = (
            f"{source}={text!r} is not a timeout; give a number of seconds greater than 0 "
            "(e.g. 5 or 0.5), or 'none' to let clients wait forever"
        )
        raise pytest.UsageError(msg)
    return seconds


# -- --unwired-patch-starlette ---------------------------------------------------------


def _patch_starlette(run: _Run) -> Callable[[], None]:
    """Put unwired's classes in ``starlette.testclient``; return the function undoing it.

    ``fastapi.testclient`` re-exports Starlette's class: imported later, it
    picks up unwired's; imported already, its attribute is replaced too.
    """
    try:
        import starlette.testclient as starlette_testclient
    except ImportError:
        msg = (
            "--unwired-patch-starlette (or unwired_patch_starlette = true) replaces "
            "starlette.testclient.TestClient, but Starlette is not installed; "
            "install it or drop the option"
        )
        raise pytest.UsageError(msg) from None
    import unwired

    client = _counting_client(run)
    # unwired's WebSocketDenialResponse subclasses Starlette's: resolved before the swap.
    replacements = {
        "TestClient": client,
        "WebSocketDenialResponse": unwired.WebSocketDenialResponse,
    }
    originals = {name: getattr(starlette_testclient, name) for name in replacements}
    for name, value in replacements.items():
        setattr(starlette_testclient, name, value)
    fastapi_testclient = sys.modules.get("fastapi.testclient")
    if fastapi_testclient is not None:
        fastapi_testclient.TestClient = client  # type: ignore[attr-defined]

    def undo() -> None:
        for name, value in originals.items():
            setattr(starlette_testclient, name, value)
        fastapi_testclient = sys.modules.get("fastapi.testclient")
        if getattr(fastapi_testclient, "TestClient", None) is client:
            fastapi_testclient.TestClient = originals["TestClient"]  # type: ignore[union-attr]

    return undo


def _counting_client(run: _Run) -> type[TestClient]:
    """``unwired.TestClient``, counting its instances: Starlette's TestClient for this run."""
    from ._client import TestClient

    class PatchedTestClient(TestClient):
        __doc__ = TestClient.__doc__

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            run.created += 1

    functools.update_wrapper(PatchedTestClient.__init__, TestClient.__init__)  # its signature
    PatchedTestClient.__name__ = PatchedTestClient.__qualname__ = "TestClient"
    return PatchedTestClient


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under xdist, a worker hands its count to the controller."""
    run = session.config.stash.get(_RUN, None)
    workeroutput = getattr(session.config, "workeroutput", None)
    if run is not None and run.patched and workeroutput is not None:
        workeroutput[_WORKER_COUNT_KEY] = run.created


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Under xdist, the controller adds up what each worker created."""
    run = node.config.stash.get(_RUN, None)
    if run is None or not run.patched:
        return
    count = getattr(node, "workeroutput", {}).get(_WORKER_COUNT_KEY)
    if count is None:  # the worker crashed before reporting
        run.workers_silent += 1
    else:
        run.worker_counts.append(count)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    run = config.stash.get(_RUN, None)
    if run is not None and run.patched and not hasattr(config, "workerinput"):
        terminalreporter.write_line(run.summary())


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture
def unwired_client_factory() -> Iterator[ClientFactory]:
    """Make ``unwired.TestClient`` instances, shut down and closed when the test ends.

    Call it with an app and any ``TestClient`` keywords. The client comes back
    inside ``with`` (lifespan started); at teardown, whether the test passed or
    failed, its lifespan is shut down and it is closed, releasing its loop and
    anything the app left running. Do not use ``with`` on it again.

    Example:
        ```python
        def test_home(unwired_client_factory):
            client = unwired_client_factory(app, raise_server_exceptions=False)
            assert client.get("/").status_code == 200
        ```
    """
    from ._client import TestClient

    with contextlib.ExitStack() as stack:

        def create(app: Any, **kwargs: Any) -> TestClient:
            client = TestClient(app, **kwargs)
            stack.callback(client.close)
            return stack.enter_context(client)

        yield create


@pytest.fixture
def unwired_async_client_factory(request: pytest.FixtureRequest) -> AsyncClientFactory:
    """Make ``unwired.AsyncTestClient`` instances, shut down and closed when the test ends.

    ``await`` it with an app and any ``AsyncTestClient`` keywords, in an async
    test run by anyio's pytest plugin (``@pytest.mark.anyio``) or pytest-asyncio
    (``@pytest.mark.asyncio``, any ``loop_scope``). The client comes back inside
    ``async with`` (lifespan started); at teardown, whether the test passed or
    failed, its lifespan is shut down and it is closed, on the test's loop.

    Example:
        ```python
        @pytest.mark.anyio
        async def test_home(unwired_async_client_factory):
            client = await unwired_async_client_factory(app)
            assert (await client.get("/")).status_code == 200
        ```
    """
    factory: AsyncClientFactory = request.getfixturevalue(_async_fixture_name(request))
    return factory


def _async_fixture_name(request: pytest.FixtureRequest) -> str:
    """The async fixture that runs on the test's loop, for the plugin that runs the test."""
    if "anyio_backend" in request.fixturenames:
        return "_unwired_async_client_factory_anyio"
    marker = request.node.get_closest_marker("asyncio")
    if marker is not None and request.config.pluginmanager.has_plugin("asyncio"):
        scope = marker.kwargs.get("loop_scope") or marker.kwargs.get("scope")
        return f"_unwired_async_client_factory_asyncio_{scope or _default_loop_scope(request)}"
    msg = (
        f"{request.node.name} uses unwired_async_client_factory, which needs an async test "
        "run by an async plugin: mark it @pytest.mark.anyio (anyio's plugin) or "
        "@pytest.mark.asyncio (pytest-asyncio); sync tests use unwired_client_factory"
    )
    pytest.fail(msg, pytrace=False)


def _default_loop_scope(request: pytest.FixtureRequest) -> str:
    try:
        scope = request.config.getini("asyncio_default_test_loop_scope")
    except ValueError:  # pytest-asyncio before 0.24
        return "function"
    return str(scope or "function")


@contextlib.asynccontextmanager
async def _async_clients() -> AsyncIterator[AsyncClientFactory]:
    from ._client import AsyncTestClient

    async with contextlib.AsyncExitStack() as stack:

        async def create(app: Any, **kwargs: Any) -> AsyncTestClient:
            client = AsyncTestClient(app, **kwargs)
            stack.push_async_callback(client.aclose)
            return await stack.enter_async_context(client)

        yield create


@pytest.fixture
async def _unwired_async_client_factory_anyio() -> AsyncIterator[AsyncClientFactory]:
    """Run by anyio's plugin, on the test's backend, because the test uses ``anyio_backend``."""
    async with _async_clients() as create:
        yield create


def _asyncio_fixtures() -> types.ModuleType:
    """One pytest-asyncio fixture per loop scope, so the factory shares the test's loop."""
    import pytest_asyncio

    fixtures = types.ModuleType("unwired._asyncio_fixtures")
    for scope in _LOOP_SCOPES:

        async def factory() -> AsyncIterator[AsyncClientFactory]:
            async with _async_clients() as create:
                yield create

        name = f"_unwired_async_client_factory_asyncio_{scope}"
        fixture = pytest_asyncio.fixture(factory, loop_scope=scope, name=name)  # type: ignore[call-overload]
        setattr(fixtures, name, fixture)
    return fixtures
