"""What the shop's tests share: the TestClient class ``DEMO_CLIENT`` picks, and types.

DEMO_CLIENT=unwired   pytest examples    # unwired.TestClient (the default)
DEMO_CLIENT=starlette pytest examples    # starlette.testclient.TestClient
"""

from __future__ import annotations

import os

import starlette.testclient

import unwired

# The type the tests annotate a client with. Starlette's TestClient has the same API
# (unwired's is a drop-in for it), though neither class derives from the other.
Client = unwired.TestClient
Headers = dict[str, str]

CLIENTS: dict[str, type[Client]] = {
    "unwired": unwired.TestClient,
    "starlette": starlette.testclient.TestClient,  # type: ignore[dict-item]
}
CLIENT = os.environ.get("DEMO_CLIENT", "unwired")
if CLIENT not in CLIENTS:
    raise RuntimeError(f"DEMO_CLIENT must be one of {sorted(CLIENTS)}, not {CLIENT!r}")
TestClient = CLIENTS[CLIENT]
