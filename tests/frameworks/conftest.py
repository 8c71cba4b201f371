"""Run every checklist test twice: with ``TestClient`` and with ``AsyncTestClient``.

A test written as ``async def test_...(connect)`` gets ``connect(app, **kwargs)``,
which makes the client to ``async with``. Both variants run on each event loop
of the ``anyio_backend`` fixture (tests/conftest.py; a framework module that
only works on asyncio narrows it):

- ``sync``: ``TestClient(app, backend=...)`` behind awaitable calls; the hook
  below runs the test with no event loop in the test's thread, as a plain sync
  test runs (see _clients.py).
- ``async``: ``AsyncTestClient``; anyio's pytest plugin runs the test on the
  backend's loop, as for any ``@pytest.mark.anyio`` test.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

# Plain asserts in the shared scenarios report their values, as in a test module.
pytest.register_assert_rewrite("tests.frameworks._checklist", "tests.frameworks._clients")

from tests.frameworks._clients import (  # noqa: E402 - after register_assert_rewrite
    Connect,
    async_connect,
    drive,
    sync_connect,
)


@pytest.fixture(params=["sync", "async"])
def connect(request: pytest.FixtureRequest, anyio_backend: Any) -> Connect:
    if request.param == "async":
        return async_connect
    backend, options = anyio_backend
    return sync_connect(backend, options)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run the sync variant of a checklist test; leave the async one to anyio's plugin."""
    connect = pyfuncitem.funcargs.get("connect")
    if (
        connect is None
        or connect is async_connect
        or not inspect.iscoroutinefunction(pyfuncitem.obj)
    ):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    drive(pyfuncitem.obj(**arguments))
    return True
