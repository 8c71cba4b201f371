"""The sans-IO core: what ASGI says, with no event loop in it.

Rule: modules here import only the standard library and ``unwired._types`` /
``unwired._exceptions``. They build scopes, check every message an app sends
against the spec, and report what happened as small event objects; waiting,
tasks and timeouts belong to the driver. A test enforces the import rule.
"""
