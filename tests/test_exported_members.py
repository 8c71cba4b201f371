"""The public namespace is exactly what PRODUCT.md promises, sorted."""

from __future__ import annotations

import pytest

import unwired


def test_all_is_sorted_and_complete() -> None:
    assert unwired.__all__ == sorted(unwired.__all__)
    assert set(unwired.__all__) == {
        "ASGIProtocolError",
        "AsyncTestClient",
        "ClientDisconnected",
        "LifespanFailed",
        "TestClient",
        "UnwiredError",
        "WebSocketDenialResponse",
        "WebSocketDisconnect",
        "__version__",
    }
    for name in unwired.__all__:
        assert getattr(unwired, name) is not None


def test_public_classes_belong_to_unwired() -> None:
    for name in unwired.__all__:
        value = getattr(unwired, name)
        if isinstance(value, type):
            assert value.__module__.startswith("unwired"), name


def test_exceptions_are_printed_by_their_public_name() -> None:
    """Tracebacks show ``unwired.ASGIProtocolError``, not the private module it lives in."""
    for name in unwired.__all__:
        value = getattr(unwired, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert value.__module__ == "unwired", name
            assert getattr(unwired, value.__qualname__) is value


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'unwired' has no attribute 'Nope'"):
        unwired.Nope  # type: ignore[attr-defined]  # noqa: B018
