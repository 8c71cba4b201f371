"""A FastAPI shop, the kind of app a suite of a few hundred tests exercises.

Its data lives in memory so that the suite needs no services; the rest is what
production FastAPI apps have:

- **Lifespan with state** (``app.py``). Startup seeds users and products in a new
  ``Store`` and hands it, with the WebSocket ``Hub``, to requests as
  ``request.state.store`` and ``request.state.hub``: each ``with TestClient(app)``
  starts from the same seed. ``store.events`` records startup and shutdown.
- **Dependencies** (``dependencies.py``): the store and hub from the lifespan state;
  ``transaction``, a dependency with ``yield`` that undoes a failed request's changes as a
  database session rolls back; pagination; the product or order a path names.
- **OAuth2 password flow** (``auth.py``, ``tokens.py``, ``dependencies.py``).
  ``POST /auth/token`` (form fields ``username``, ``password``) issues an HMAC-signed
  bearer token; the ``current_user`` dependency answers 401 for a missing, forged or
  expired token and 403 for a disabled account, ``admin_user`` 403 to customers.
- **Routers with prefixes and tags.** ``/products`` (``products.py``): list with
  pagination, search and sort (``X-Total-Count``), read, create, update and delete
  (admins), a bulk NDJSON import read from the streamed request body, image upload
  (multipart) and download (``ETag``, 304), and ``/products/feed``, the catalogue as
  server-sent events, resumable with ``Last-Event-ID``. ``/orders`` (``orders.py``):
  place (stock checked and reserved), list, read, cancel, ship (admins), and
  ``/orders/export``, streamed NDJSON (admins). ``/admin`` (``admin.py``): the outbox
  and the sales figures.
- **Middleware** (``app.py``): CORS, GZip, a request id (plain ASGI) and a timing
  header (``@app.middleware("http")``).
- **Exception handlers**: a domain error (``store.ShopError``) answers
  ``{"error": code, "detail": message, ...}`` with its status code.
- **Background tasks**: placing, cancelling or shipping an order emails the customer
  (``store.outbox``) and notifies their open WebSockets, after the response.
- **WebSockets** (``realtime.py``): ``/ws/notifications?token=...`` pushes a user's
  order events and answers pings; ``/ws/chat/{room}?token=...`` is a chat room with
  join and leave notices; the ``staff`` room turns customers away with an HTTP 403.

Run it with ``uvicorn examples.shop.app:app``. Its tests (``tests/``) run with
unwired's TestClient or Starlette's, as ``DEMO_CLIENT`` says (see ``tests/support.py``).
"""
