"""The pytest plugin: factories, ``--unwired-timeout``, ``--unwired-patch-starlette``.

Small suites run under ``pytester``: in-process where that is enough (so
coverage sees the plugin), in a fresh interpreter where the point is that
Starlette is patched before anything imports it.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import fastapi.testclient
import httpx2
import pytest
import starlette.testclient  # imported here, so in-process runs share the module

import unwired
from unwired import pytest_plugin
from unwired.pytest_plugin import _Run

pytest_plugins = ["pytester"]

INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
{extra}
"""

EVENTS_APP = """
events = []

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            events.append(message["type"])
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    try:
        while True:  # an endless stream; only closing the client ends it
            await send({"type": "http.response.body", "body": b"tick", "more_body": True})
    finally:
        events.append("stream ended")
"""

FAILING_TESTS = """
import pytest
from app_module import app, events

def test_sync(unwired_client_factory):
    client = unwired_client_factory(app)
    global response
    response = client.send(client.build_request("GET", "/"), stream=True)
    raise RuntimeError("the test fails")

@pytest.mark.anyio
async def test_anyio(unwired_async_client_factory):
    client = await unwired_async_client_factory(app)
    raise RuntimeError("the test fails")

@pytest.mark.asyncio
async def test_asyncio(unwired_async_client_factory):
    client = await unwired_async_client_factory(app, lifespan="on")
    raise RuntimeError("the test fails")

@pytest.mark.asyncio(loop_scope="module")
async def test_asyncio_module_loop(unwired_async_client_factory):
    first = await unwired_async_client_factory(app)
    second = await unwired_async_client_factory(app)
    assert first is not second
    raise RuntimeError("the test fails")

def test_zz_every_client_was_shut_down_and_closed():
    # sync, anyio on asyncio, anyio on trio, asyncio, asyncio (two clients)
    assert events.count("lifespan.startup") == events.count("lifespan.shutdown") == 6
    assert events.count("stream ended") == 1  # closing the sync client cancelled the app
"""

STARLETTE_APP = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute

async def closes(websocket):
    await websocket.accept()
    await websocket.close(code=4001)

async def denies(websocket):
    await websocket.send_denial_response(Response("nope", status_code=403))

app = Starlette(routes=[
    Route("/", lambda request: PlainTextResponse("hi")),
    WebSocketRoute("/closes", closes),
    WebSocketRoute("/denies", denies),
])
"""

PATCHED_CONFTEST = """
from starlette.testclient import TestClient
from app_module import app

conftest_client = TestClient(app)  # at import time, before any test runs
"""

PATCHED_TESTS = """
import pytest
import starlette.testclient
import starlette.websockets
import unwired
from fastapi.testclient import TestClient as FastAPITestClient
from starlette.testclient import TestClient
from app_module import app
from conftest import conftest_client

client = TestClient(app)

class SuiteClient(TestClient):
    def get_home(self):
        return self.get("/").text

def test_module_level_clients_are_unwired():
    assert isinstance(client, unwired.TestClient)
    assert isinstance(conftest_client, unwired.TestClient)
    assert FastAPITestClient is TestClient
    assert client.get("/").text == conftest_client.get("/").text == "hi"

def test_subclasses_are_unwired():
    with SuiteClient(app) as suite_client:
        assert isinstance(suite_client, unwired.TestClient)
        assert suite_client.get_home() == "hi"

def test_starlette_exceptions_still_catch():
    with pytest.raises(starlette.websockets.WebSocketDisconnect) as closed:
        with client.websocket_connect("/closes") as websocket:
            websocket.receive_text()
    assert closed.value.code == 4001
    with pytest.raises(starlette.testclient.WebSocketDenialResponse) as denied:
        with client.websocket_connect("/denies"):
            pass
    assert denied.value.status_code == 403
    assert isinstance(denied.value, unwired.WebSocketDenialResponse)
"""


#: Hypothesis's plugin imports its reporting modules at the end of every run: an
#: in-process run forgets them (pytester restores ``sys.modules``) and pays again.
QUIET = ("-p", "no:hypothesispytest")


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*args, *QUIET)


def _suite(pytester: pytest.Pytester, files: dict[str, str], ini: str = "") -> None:
    pytester.makeini(INI.format(extra=ini))
    pytester.makepyfile(**files)


# -- the factories ----------------------------------------------------------------------


def test_factories_shut_down_and_close_clients_when_the_test_fails(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, {"app_module": EVENTS_APP, "test_failing": FAILING_TESTS})
    result = _run(pytester, "-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(failed=5, passed=1, warnings=0)
    result.stdout.no_fnmatch_line("*unwired:*")  # no summary without the patch


def test_async_factory_in_a_sync_test_says_what_to_do(pytester: pytest.Pytester) -> None:
    _suite(pytester, {"test_sync": "def test_it(unwired_async_client_factory):\n    pass\n"})
    result = _run(
        pytester,
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_it uses unwired_async_client_factory*mark it*"])


def test_default_loop_scope_before_pytest_asyncio_had_the_option() -> None:
    def getini(name: str) -> str:
        raise ValueError(name)

    request: Any = types.SimpleNamespace(config=types.SimpleNamespace(getini=getini))
    assert pytest_plugin._default_loop_scope(request) == "function"


# -- --unwired-timeout ------------------------------------------------------------------

TIMEOUT_TESTS = """
import httpx2
import pytest
import unwired

async def app(scope, receive, send):
    if scope["type"] != "http":
        raise RuntimeError("no lifespan here")
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body"})

def test_sync(unwired_client_factory):
    assert unwired.TestClient(app).timeout == httpx2.Timeout({expected})
    assert unwired_client_factory(app).timeout == httpx2.Timeout({expected})
    assert unwired.TestClient(app, timeout=7).timeout == httpx2.Timeout(7)  # explicit wins

@pytest.mark.anyio
async def test_async(unwired_async_client_factory):
    assert unwired.AsyncTestClient(app).timeout == httpx2.Timeout({expected})
    assert (await unwired_async_client_factory(app)).timeout == httpx2.Timeout({expected})
    assert unwired.AsyncTestClient(app, timeout=None).timeout == httpx2.Timeout(None)
"""


@pytest.mark.parametrize(
    ("args", "ini", "expected"),
    [
        pytest.param(["--unwired-timeout=2.5"], "", "2.5", id="option"),
        pytest.param([], "unwired_timeout = 4", "4.0", id="ini"),
        pytest.param(["--unwired-timeout=1"], "unwired_timeout = 4", "1.0", id="option-wins"),
        pytest.param(["--unwired-timeout=None"], "", "None", id="none"),
        pytest.param([], "", "30.0", id="unset"),
    ],
)
def test_timeout_option_reaches_every_client(
    pytester: pytest.Pytester, args: list[str], ini: str, expected: str
) -> None:
    _suite(pytester, {"test_timeout": TIMEOUT_TESTS.replace("{expected}", expected)}, ini)
    result = _run(pytester, *args)
    result.assert_outcomes(passed=3)
    assert unwired.TestClient(_no_app).timeout == httpx2.Timeout(30.0)  # restored


async def _no_app(scope: Any, receive: Any, send: Any) -> None:
    raise NotImplementedError


@pytest.mark.parametrize("value", ["soon", "0", "-1", "inf", "nan"])
def test_a_bad_timeout_is_a_usage_error(pytester: pytest.Pytester, value: str) -> None:
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = _run(pytester, f"--unwired-timeout={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*--unwired-timeout='{value}' is not a timeout; give a number of seconds*"]
    )


def test_a_bad_ini_timeout_names_the_ini_option(pytester: pytest.Pytester) -> None:
    _suite(pytester, {"test_nothing": "def test_nothing():\n    pass\n"}, "unwired_timeout = 5s")
    result = _run(
        pytester,
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini option unwired_timeout='5s' is not a timeout*"])


def test_plugin_loaded_from_a_conftest_still_applies_the_timeout(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeini("[pytest]\nunwired_timeout = 3\n")
    pytester.makepyfile(
        conftest='pytest_plugins = ["unwired.pytest_plugin"]\n',
        test_late=TIMEOUT_TESTS.replace("{expected}", "3"),
    )
    result = _run(pytester, "-p", "anyio")
    result.assert_outcomes(passed=3)


# -- --unwired-patch-starlette ----------------------------------------------------------


def _patched_suite(pytester: pytest.Pytester, ini: str = "") -> None:
    files = {"app_module": STARLETTE_APP, "conftest": PATCHED_CONFTEST}
    _suite(pytester, {**files, "test_patched": PATCHED_TESTS}, ini)


@pytest.mark.parametrize(
    ("args", "ini"),
    [
        pytest.param(["--unwired-patch-starlette"], "", id="option"),
        pytest.param([], "unwired_patch_starlette = true", id="ini"),
    ],
)
def test_patch_makes_starlette_and_fastapi_test_clients_unwired(
    pytester: pytest.Pytester, args: list[str], ini: str
) -> None:
    original = starlette.testclient.TestClient, starlette.testclient.WebSocketDenialResponse
    _patched_suite(pytester, ini)
    result = _run(pytester, *args)
    result.assert_outcomes(passed=3)
    # conftest, test module, subclass instance
    result.stdout.fnmatch_lines(
        ["unwired: 3 TestClient instances created in place of Starlette's TestClient"]
    )
    restored = starlette.testclient.TestClient, starlette.testclient.WebSocketDenialResponse
    assert restored == original
    assert fastapi.testclient.TestClient is starlette.testclient.TestClient


def test_patch_in_a_fresh_interpreter_with_warnings_as_errors(pytester: pytest.Pytester) -> None:
    _patched_suite(pytester)
    result = pytester.runpytest_subprocess(
        "--unwired-patch-starlette", "-W", "error", "-p", "no:cacheprovider", *QUIET
    )
    result.assert_outcomes(passed=3, warnings=0)
    result.stdout.fnmatch_lines(["unwired: 3 TestClient instances created*"])


def test_patch_under_xdist_counts_every_worker(pytester: pytest.Pytester) -> None:
    _patched_suite(pytester)
    result = _run(pytester, "--unwired-patch-starlette", "-n", "2", "-W", "error")
    result.assert_outcomes(passed=3)
    # the controller's conftest client; each worker's conftest and module clients; the subclass
    result.stdout.fnmatch_lines(
        [
            "unwired: 6 TestClient instances created in place of Starlette's TestClient, "
            "counted in 2 xdist workers and the controller"
        ]
    )


def test_patch_without_starlette_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "starlette.testclient", None)  # import fails
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = _run(pytester, "--unwired-patch-starlette")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*Starlette is not installed; install it or drop the option*"])


def test_patch_reaches_fastapi_testclient_imported_later(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "fastapi.testclient")
    run = _Run()
    undo = pytest_plugin._patch_starlette(run)
    try:
        import fastapi.testclient as later

        assert later.TestClient is starlette.testclient.TestClient
        assert issubclass(later.TestClient, unwired.TestClient)
    finally:
        undo()
    assert later.TestClient is fastapi.testclient.TestClient  # the original again
    assert not issubclass(later.TestClient, unwired.TestClient)


def test_undo_leaves_a_fastapi_testclient_it_did_not_patch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "fastapi.testclient")
    pytest_plugin._patch_starlette(_Run())()
    assert "fastapi.testclient" not in sys.modules
    assert not issubclass(starlette.testclient.TestClient, unwired.TestClient)


def test_signature_shows_the_default_timeout_in_force() -> None:
    import inspect

    assert "timeout: 'TimeoutTypes | _DefaultTimeout' = <default: 30.0>" in str(
        inspect.signature(unwired.TestClient)
    )


def test_patched_client_keeps_unwired_signature_and_name() -> None:
    import inspect

    client = pytest_plugin._counting_client(_Run())
    assert client.__name__ == "TestClient"
    assert inspect.signature(client) == inspect.signature(unwired.TestClient)


# -- the summary under xdist --------------------------------------------------------------


def test_worker_hands_its_count_to_the_controller() -> None:
    config: Any = types.SimpleNamespace(stash=pytest.Stash(), workeroutput={})
    config.stash[pytest_plugin._RUN] = _Run(patched=True, created=4)
    pytest_plugin.pytest_sessionfinish(types.SimpleNamespace(config=config))  # type: ignore[arg-type]
    assert config.workeroutput == {"unwired_clients_created": 4}


def test_controller_sums_workers_and_owns_up_to_silent_ones() -> None:
    config: Any = types.SimpleNamespace(stash=pytest.Stash())
    run = config.stash[pytest_plugin._RUN] = _Run(patched=True)
    pytest_plugin.pytest_testnodedown(
        types.SimpleNamespace(config=config, workeroutput={"unwired_clients_created": 1}), None
    )
    pytest_plugin.pytest_testnodedown(types.SimpleNamespace(config=config), None)  # crashed
    assert run.summary() == (
        "unwired: 1 TestClient instance created in place of Starlette's TestClient, "
        "counted in 1 xdist worker (1 more did not report)"
    )


def test_unpatched_runs_keep_no_counts() -> None:
    config: Any = types.SimpleNamespace(stash=pytest.Stash(), workeroutput={})
    config.stash[pytest_plugin._RUN] = _Run()
    pytest_plugin.pytest_sessionfinish(types.SimpleNamespace(config=config))  # type: ignore[arg-type]
    pytest_plugin.pytest_testnodedown(types.SimpleNamespace(config=config), None)
    assert config.workeroutput == {}
    assert config.stash[pytest_plugin._RUN].workers_silent == 0


# -- the cost of loading the plugin -------------------------------------------------------


def test_plugin_module_imports_only_pytest_and_the_standard_library() -> None:
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(pytest_plugin))
    imported = set()
    for node in tree.body:  # module level; TYPE_CHECKING blocks are not nodes of this kind
        if isinstance(node, ast.Import):
            imported |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(str(node.module).partition(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"pytest"}


def test_loading_the_plugin_imports_no_client(pytester: pytest.Pytester) -> None:
    code = (
        "import sys, unwired.pytest_plugin; print({'httpx2', 'unwired._client'} & set(sys.modules))"
    )
    result = pytester.run(sys.executable, "-c", code)
    assert result.stdout.lines == ["set()"]
