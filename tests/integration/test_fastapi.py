"""FastAPI applications driven through ``unwired.TestClient``.

Validation, dependencies (with ``yield`` teardown and overrides), background
tasks, streaming, exception handlers, response models, lifespan state,
OAuth2/Bearer auth, uploads and JSON bodies.
"""

import contextlib
import hashlib
import json
import time
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.lowlevel
import httpx2
import pytest
from fastapi import (
    BackgroundTasks,
    Body,
    Depends,
    FastAPI,
    File,
    Form,
    Header,
    HTTPException,
    Query,
    Request,
    UploadFile,
    status,
)
from fastapi import (
    Path as PathParam,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    EventSourceResponse,
    JSONResponse,
    PlainTextResponse,
    StreamingResponse,
)
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
)
from fastapi.sse import ServerSentEvent
from pydantic import BaseModel, Field

from unwired import TestClient

BACKENDS = [
    pytest.param({"backend": "asyncio"}, id="asyncio"),
    pytest.param({"backend": "asyncio", "backend_options": {"use_uvloop": True}}, id="uvloop"),
    pytest.param({"backend": "trio"}, id="trio"),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keyword arguments selecting one event loop implementation for the client."""
    return dict(request.param)


# -- validation and JSON bodies ----------------------------------------------------


class Item(BaseModel):
    name: str = Field(min_length=1)
    price: float = Field(gt=0)
    tags: list[str] = []


class Owner(BaseModel):
    name: str
    email: str


validation_app = FastAPI()


@validation_app.get("/items/{item_id}")
async def read_item(
    item_id: Annotated[int, PathParam(ge=1)],
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    return {"item_id": item_id, "q": q, "limit": limit}


@validation_app.post("/items", status_code=status.HTTP_201_CREATED)
async def create_item(item: Item) -> dict[str, Any]:
    return {"created": item.model_dump(), "total": item.price * 2}


@validation_app.put("/items/{item_id}")
async def replace_item(
    item_id: int, item: Item, owner: Owner, importance: Annotated[int, Body()]
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "item": item.model_dump(),
        "owner": owner.model_dump(),
        "importance": importance,
    }


@validation_app.post("/embedded")
async def embedded(item: Annotated[Item, Body(embed=True)]) -> dict[str, Any]:
    return {"name": item.name}


@validation_app.post("/batch")
async def batch(items: list[Item]) -> dict[str, Any]:
    return {"count": len(items), "names": [item.name for item in items]}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/items/3", {"item_id": 3, "q": None, "limit": 10}),
        ("/items/3?q=hat&limit=100", {"item_id": 3, "q": "hat", "limit": 100}),
    ],
)
def test_valid_path_and_query(url: str, expected: dict[str, Any]) -> None:
    response = TestClient(validation_app).get(url)
    assert response.status_code == 200
    assert response.json() == expected


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "loc", "error_type"),
    [
        ("GET", "/items/abc", {}, ["path", "item_id"], "int_parsing"),
        ("GET", "/items/0", {}, ["path", "item_id"], "greater_than_equal"),
        ("GET", "/items/3?limit=0", {}, ["query", "limit"], "greater_than_equal"),
        ("GET", "/items/3?limit=101", {}, ["query", "limit"], "less_than_equal"),
        ("POST", "/items", {"json": {"name": "hat"}}, ["body", "price"], "missing"),
        (
            "POST",
            "/items",
            {"json": {"name": "hat", "price": "abc"}},
            ["body", "price"],
            "float_parsing",
        ),
        (
            "POST",
            "/items",
            {"json": {"name": "", "price": 1}},
            ["body", "name"],
            "string_too_short",
        ),
        (
            "POST",
            "/items",
            {"json": {"name": "hat", "price": -1}},
            ["body", "price"],
            "greater_than",
        ),
        (
            "POST",
            "/items",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            ["body", 1],
            "json_invalid",
        ),
        ("POST", "/items", {}, ["body"], "missing"),
        ("POST", "/embedded", {"json": {"name": "hat", "price": 1}}, ["body", "item"], "missing"),
        ("POST", "/batch", {"json": {"name": "hat"}}, ["body"], "list_type"),
    ],
)
def test_validation_errors_are_422_with_detail(
    method: str, url: str, kwargs: dict[str, Any], loc: list[Any], error_type: str
) -> None:
    response = TestClient(validation_app).request(method, url, **kwargs)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == loc
    assert error["type"] == error_type


def test_json_bodies() -> None:
    client = TestClient(validation_app)
    created = client.post("/items", json={"name": "hat", "price": 2.5, "tags": ["a"]})
    assert created.status_code == 201
    assert created.json() == {"created": {"name": "hat", "price": 2.5, "tags": ["a"]}, "total": 5.0}

    replaced = client.put(
        "/items/7",
        json={
            "item": {"name": "hat", "price": 1},
            "owner": {"name": "Ada", "email": "ada@example.org"},
            "importance": 5,
        },
    )
    assert replaced.status_code == 200
    assert replaced.json() == {
        "item_id": 7,
        "item": {"name": "hat", "price": 1.0, "tags": []},
        "owner": {"name": "Ada", "email": "ada@example.org"},
        "importance": 5,
    }

    embedded_response = client.post("/embedded", json={"item": {"name": "cap", "price": 3}})
    assert embedded_response.json() == {"name": "cap"}

    batch_response = client.post(
        "/batch", json=[{"name": "a", "price": 1}, {"name": "b", "price": 2}]
    )
    assert batch_response.json() == {"count": 2, "names": ["a", "b"]}


def test_json_body_streamed_from_an_iterator() -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "str'
        yield b'eamed", "price": '
        yield b"4}"

    response = TestClient(validation_app).post(
        "/items", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 201
    assert response.json()["created"] == {"name": "streamed", "price": 4.0, "tags": []}


# -- dependencies ------------------------------------------------------------------


class Database:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.rows = {1: "one", 2: "two"}


def dependency_app(log: list[str]) -> FastAPI:
    app = FastAPI()

    async def get_db() -> AsyncIterator[Database]:
        log.append("db open")
        try:
            yield Database(log)
        except HTTPException as exc:
            log.append(f"db saw HTTPException {exc.status_code}")
            raise
        finally:
            log.append("db close")

    def get_session(db: Annotated[Database, Depends(get_db)]) -> Generator[str, None, None]:
        log.append("session open")
        yield f"session on {type(db).__name__}"
        log.append("session close")

    def get_settings() -> dict[str, str]:
        return {"env": "production"}

    def counter() -> int:
        log.append("counter called")
        return len(log)

    @app.get("/rows/{row_id}")
    async def read_row(
        row_id: int,
        db: Annotated[Database, Depends(get_db)],
        session: Annotated[str, Depends(get_session)],
    ) -> dict[str, str]:
        log.append("handler")
        if row_id not in db.rows:
            raise HTTPException(status_code=404, detail=f"row {row_id} not found")
        return {"row": db.rows[row_id], "session": session}

    @app.get("/settings")
    def read_settings(settings: Annotated[dict[str, str], Depends(get_settings)]) -> dict[str, str]:
        return settings

    @app.get("/cached")
    def cached(
        first: Annotated[int, Depends(counter)],
        second: Annotated[int, Depends(counter)],
        uncached: Annotated[int, Depends(counter, use_cache=False)],
    ) -> list[int]:
        return [first, second, uncached]

    app.state.get_settings = get_settings
    return app


def test_dependencies_with_yield_tear_down_after_the_response() -> None:
    log: list[str] = []
    response = TestClient(dependency_app(log)).get("/rows/1")
    assert response.status_code == 200
    assert response.json() == {"row": "one", "session": "session on Database"}
    assert log == ["db open", "session open", "handler", "session close", "db close"]


def test_dependency_with_yield_sees_the_handler_exception() -> None:
    log: list[str] = []
    response = TestClient(dependency_app(log)).get("/rows/9")
    assert response.status_code == 404
    assert response.json() == {"detail": "row 9 not found"}
    assert log[:3] == ["db open", "session open", "handler"]
    assert log[-2:] == ["db saw HTTPException 404", "db close"]


def test_dependencies_are_cached_per_request() -> None:
    log: list[str] = []
    client = TestClient(dependency_app(log))
    assert client.get("/cached").json() == [1, 1, 2]
    assert log == ["counter called", "counter called"]
    assert client.get("/cached").json() == [3, 3, 4]


def test_dependency_overrides() -> None:
    app = dependency_app([])
    client = TestClient(app)
    assert client.get("/settings").json() == {"env": "production"}
    app.dependency_overrides[app.state.get_settings] = lambda: {"env": "test"}
    assert client.get("/settings").json() == {"env": "test"}
    app.dependency_overrides.clear()
    assert client.get("/settings").json() == {"env": "production"}


# -- background tasks --------------------------------------------------------------


def test_background_tasks_have_run_when_post_returns(backend: dict[str, Any]) -> None:
    log: list[str] = []
    app = FastAPI()

    def write_log(message: str) -> None:
        log.append(f"sync: {message}")

    async def notify(email: str) -> None:
        await anyio.lowlevel.checkpoint()
        log.append(f"async: notified {email}")

    def queue_audit(background_tasks: BackgroundTasks) -> None:
        background_tasks.add_task(write_log, "from dependency")

    @app.post("/send/{email}", dependencies=[Depends(queue_audit)])
    async def send(email: str, background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(notify, email)
        log.append("handler")
        return {"message": "queued"}

    response = TestClient(app, **backend).post("/send/ada@example.org")
    assert response.status_code == 200
    assert response.json() == {"message": "queued"}
    assert log == ["handler", "sync: from dependency", "async: notified ada@example.org"]


# -- streaming ---------------------------------------------------------------------


streaming_app = FastAPI()
STREAM_LOG: list[str] = []


@streaming_app.get("/numbers")
async def numbers(count: int = 3) -> StreamingResponse:
    async def generate() -> AsyncIterator[str]:
        for n in range(count):
            yield f"{n}\n"
            await anyio.lowlevel.checkpoint()

    return StreamingResponse(generate(), media_type="text/plain")


@streaming_app.get("/events", response_class=EventSourceResponse)
async def events() -> AsyncIterator[ServerSentEvent]:
    n = 0
    try:
        while True:
            n += 1
            yield ServerSentEvent(data={"n": n}, event="tick", id=str(n))
    finally:
        STREAM_LOG.append("events closed")


def test_streaming_response() -> None:
    client = TestClient(streaming_app)
    response = client.get("/numbers", params={"count": 5})
    assert response.status_code == 200
    assert response.text == "0\n1\n2\n3\n4\n"
    with client.stream("GET", "/numbers", params={"count": 4}) as streamed:
        assert list(streamed.iter_lines()) == ["0", "1", "2", "3"]


def test_infinite_event_source_read_partially(backend: dict[str, Any]) -> None:
    STREAM_LOG.clear()
    started = time.monotonic()
    with TestClient(streaming_app, timeout=5, **backend) as client:
        with client.stream("GET", "/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events: list[list[str]] = [[]]
            for line in response.iter_lines():
                if line:
                    events[-1].append(line)
                elif len(events) == 3:
                    break
                else:
                    events.append([])
        assert client.get("/numbers").text == "0\n1\n2\n"
    assert time.monotonic() - started < 5
    assert [event[0] for event in events] == ["event: tick"] * 3
    assert [json.loads(event[1].removeprefix("data: ")) for event in events] == [
        {"n": 1},
        {"n": 2},
        {"n": 3},
    ]
    assert [event[2] for event in events] == ["id: 1", "id: 2", "id: 3"]
    assert STREAM_LOG == ["events closed"]


# -- exception handlers ------------------------------------------------------------


class UnicornError(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


errors_app = FastAPI()


@errors_app.exception_handler(UnicornError)
async def unicorn_handler(request: Request, exc: UnicornError) -> JSONResponse:
    return JSONResponse(status_code=418, content={"message": f"Oops! {exc.name} did something."})


@errors_app.exception_handler(RequestValidationError)
async def validation_handler(request: Request, exc: RequestValidationError) -> PlainTextResponse:
    fields = ",".join(str(error["loc"][-1]) for error in exc.errors())
    return PlainTextResponse(f"invalid: {fields}", status_code=400)


@errors_app.get("/items/{item_id}")
async def find_item(item_id: int) -> dict[str, int]:
    if item_id != 1:
        raise HTTPException(
            status_code=404, detail="Item not found", headers={"X-Error": "missing"}
        )
    return {"item_id": item_id}


@errors_app.get("/unicorns/{name}")
async def read_unicorn(name: str) -> dict[str, str]:
    if name == "yolo":
        raise UnicornError(name)
    return {"unicorn_name": name}


@errors_app.get("/crash")
async def crash() -> None:
    raise ZeroDivisionError("crashed on purpose")


@pytest.mark.parametrize(
    ("url", "status_code", "body", "headers"),
    [
        ("/items/1", 200, {"item_id": 1}, {}),
        ("/items/2", 404, {"detail": "Item not found"}, {"x-error": "missing"}),
        ("/unicorns/yolo", 418, {"message": "Oops! yolo did something."}, {}),
        ("/unicorns/sparkle", 200, {"unicorn_name": "sparkle"}, {}),
    ],
)
def test_exception_handlers(
    url: str, status_code: int, body: dict[str, Any], headers: dict[str, str]
) -> None:
    response = TestClient(errors_app).get(url)
    assert response.status_code == status_code
    assert response.json() == body
    for name, value in headers.items():
        assert response.headers[name] == value


def test_custom_validation_error_handler() -> None:
    response = TestClient(errors_app).get("/items/abc")
    assert response.status_code == 400
    assert response.text == "invalid: item_id"


def test_unhandled_exception() -> None:
    with pytest.raises(ZeroDivisionError, match=r"^crashed on purpose$"):
        TestClient(errors_app).get("/crash")
    response = TestClient(errors_app, raise_server_exceptions=False).get("/crash")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_unhandled_exception_through_a_yield_dependency() -> None:
    log: list[str] = []
    app = FastAPI()

    async def resource() -> AsyncIterator[None]:
        log.append("open")
        try:
            yield
        finally:
            log.append("close")

    @app.get("/", dependencies=[Depends(resource)])
    async def fail() -> None:
        raise LookupError("missing key")

    with pytest.raises(LookupError, match=r"^missing key$") as excinfo:
        TestClient(app).get("/")
    assert type(excinfo.value) is LookupError
    assert log == ["open", "close"]


# -- response_model ----------------------------------------------------------------


class UserIn(BaseModel):
    username: str
    password: str
    full_name: str | None = None


class UserOut(BaseModel):
    username: str
    full_name: str | None = None


model_app = FastAPI()


@model_app.post("/users", response_model=UserOut, status_code=201)
async def create_user(user: UserIn) -> Any:
    return user


@model_app.get("/users/{username}", response_model=UserOut, response_model_exclude_unset=True)
async def get_user(username: str) -> Any:
    return {"username": username, "password": "hunter2", "internal": True}


@model_app.get("/broken", response_model=UserOut)
async def broken() -> Any:
    return {"full_name": "no username"}


def test_response_model_filters_output() -> None:
    client = TestClient(model_app)
    created = client.post("/users", json={"username": "ada", "password": "secret"})
    assert created.status_code == 201
    assert created.json() == {"username": "ada", "full_name": None}
    fetched = client.get("/users/grace")
    assert fetched.json() == {"username": "grace"}


def test_invalid_response_model_is_a_server_error() -> None:
    from fastapi.exceptions import ResponseValidationError

    with pytest.raises(ResponseValidationError) as excinfo:
        TestClient(model_app).get("/broken")
    assert excinfo.value.errors()[0]["loc"] == ("response", "username")
    assert TestClient(model_app, raise_server_exceptions=False).get("/broken").status_code == 500


# -- lifespan ----------------------------------------------------------------------


def test_lifespan_state(backend: dict[str, Any]) -> None:
    log: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        log.append("startup")
        app.state.version = "1.2.3"
        yield {"model": {"answer": 42}, "calls": []}
        log.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/predict")
    async def predict(request: Request) -> dict[str, Any]:
        request.state.calls.append("predict")
        return {
            "answer": request.state.model["answer"],
            "version": request.app.state.version,
            "calls": len(request.state.calls),
        }

    with TestClient(app, **backend) as client:
        assert log == ["startup"]
        assert client.get("/predict").json() == {"answer": 42, "version": "1.2.3", "calls": 1}
        assert client.get("/predict").json() == {"answer": 42, "version": "1.2.3", "calls": 2}
        assert client.app_state["calls"] == ["predict", "predict"]
    assert log == ["startup", "shutdown"]


def test_lifespan_startup_failure() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        raise OSError("model file missing")
        yield  # pragma: no cover

    with (
        pytest.raises(OSError, match=r"^model file missing$"),
        TestClient(FastAPI(lifespan=lifespan)),
    ):
        pytest.fail("the with body must not run")


# -- security ----------------------------------------------------------------------

USERS = {"ada": {"password": "secret", "full_name": "Ada Lovelace"}}

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")
bearer_scheme = HTTPBearer()
auth_app = FastAPI()


@auth_app.post("/token")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
    user = USERS.get(form.username)
    if user is None or user["password"] != form.password:
        raise HTTPException(status_code=400, detail="Incorrect username or password")
    return {"access_token": f"token-{form.username}", "token_type": "bearer"}


async def current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> dict[str, str]:
    username = token.removeprefix("token-")
    if not token.startswith("token-") or username not in USERS:
        raise HTTPException(
            status_code=401,
            detail="Invalid authentication credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return {"username": username, "full_name": USERS[username]["full_name"]}


@auth_app.get("/users/me")
async def read_me(user: Annotated[dict[str, str], Depends(current_user)]) -> dict[str, str]:
    return user


@auth_app.get("/bearer")
async def read_bearer(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer_scheme)],
) -> dict[str, str]:
    return {"scheme": credentials.scheme, "token": credentials.credentials}


@auth_app.get("/api-key")
async def read_api_key(x_api_key: Annotated[str, Header()]) -> dict[str, str]:
    return {"key": x_api_key}


def test_oauth2_password_flow() -> None:
    client = TestClient(auth_app)
    wrong = client.post("/token", data={"username": "ada", "password": "nope"})
    assert wrong.status_code == 400
    assert wrong.json() == {"detail": "Incorrect username or password"}

    token = client.post("/token", data={"username": "ada", "password": "secret"})
    assert token.status_code == 200
    assert token.json() == {"access_token": "token-ada", "token_type": "bearer"}

    anonymous = client.get("/users/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json() == {"detail": "Not authenticated"}

    invalid = client.get("/users/me", headers={"Authorization": "Bearer forged"})
    assert invalid.status_code == 401
    assert invalid.json() == {"detail": "Invalid authentication credentials"}

    access_token = token.json()["access_token"]
    me = client.get("/users/me", headers={"Authorization": f"Bearer {access_token}"})
    assert me.status_code == 200
    assert me.json() == {"username": "ada", "full_name": "Ada Lovelace"}


class BearerAuth(httpx2.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


@pytest.mark.parametrize(
    ("client_kwargs", "request_kwargs", "status_code", "body"),
    [
        ({}, {}, 401, {"detail": "Not authenticated"}),
        ({}, {"headers": {"Authorization": "Basic abc"}}, 401, {"detail": "Not authenticated"}),
        ({}, {"headers": {"Authorization": "Bearer t1"}}, 200, {"scheme": "Bearer", "token": "t1"}),
        ({"headers": {"Authorization": "Bearer t2"}}, {}, 200, {"scheme": "Bearer", "token": "t2"}),
        ({}, {"auth": BearerAuth("t3")}, 200, {"scheme": "Bearer", "token": "t3"}),
    ],
    ids=["missing", "wrong-scheme", "request-header", "client-header", "httpx-auth"],
)
def test_http_bearer(
    client_kwargs: dict[str, Any],
    request_kwargs: dict[str, Any],
    status_code: int,
    body: dict[str, str],
) -> None:
    response = TestClient(auth_app, **client_kwargs).get("/bearer", **request_kwargs)
    assert response.status_code == status_code
    assert response.json() == body


def test_header_parameter() -> None:
    client = TestClient(auth_app)
    assert client.get("/api-key", headers={"X-API-Key": "k1"}).json() == {"key": "k1"}
    missing = client.get("/api-key")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["header", "x-api-key"]


# -- uploads -----------------------------------------------------------------------

upload_app = FastAPI()


@upload_app.post("/upload")
async def upload(file: UploadFile, description: Annotated[str, Form()] = "") -> dict[str, Any]:
    content = await file.read()
    return {
        "filename": file.filename,
        "content_type": file.content_type,
        "size": file.size,
        "sha256": hashlib.sha256(content).hexdigest(),
        "description": description,
    }


@upload_app.post("/uploads")
async def uploads(files: Annotated[list[UploadFile], File()]) -> list[dict[str, Any]]:
    return [{"filename": f.filename, "size": len(await f.read())} for f in files]


@upload_app.post("/raw-bytes")
async def raw_bytes(data: Annotated[bytes, File()]) -> dict[str, int]:
    return {"size": len(data)}


def test_upload_file_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    content = b"id,name\n" + b"".join(f"{n},user{n}\n".encode() for n in range(5000))
    path.write_bytes(content)
    with path.open("rb") as f:
        response = TestClient(upload_app).post(
            "/upload", files={"file": f}, data={"description": "monthly report"}
        )
    assert response.status_code == 200
    assert response.json() == {
        "filename": "report.csv",
        "content_type": "text/csv",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "description": "monthly report",
    }


def test_upload_in_memory_and_multiple_files() -> None:
    client = TestClient(upload_app)
    single = client.post("/upload", files={"file": ("hello.txt", b"hello", "text/plain")})
    assert single.json() == {
        "filename": "hello.txt",
        "content_type": "text/plain",
        "size": 5,
        "sha256": hashlib.sha256(b"hello").hexdigest(),
        "description": "",
    }
    several = client.post(
        "/uploads",
        files=[("files", ("a.bin", b"a" * 10)), ("files", ("b.bin", b"b" * 20))],
    )
    assert several.json() == [{"filename": "a.bin", "size": 10}, {"filename": "b.bin", "size": 20}]
    assert client.post("/raw-bytes", files={"data": b"\x00" * 123}).json() == {"size": 123}


def test_upload_missing_file_is_422() -> None:
    response = TestClient(upload_app).post("/upload", data={"description": "no file"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
