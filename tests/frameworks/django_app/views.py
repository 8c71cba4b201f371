"""Async views for the checklist's routes (tests/frameworks/_checklist.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect

from tests.frameworks._checklist import BoomError, upload_summary

#: What the app saw; test_django.py clears it before each test.
EVENTS: list[str] = []


async def user(request: HttpRequest, user_id: int) -> JsonResponse:
    return JsonResponse(
        {"user_id": user_id, "q": request.GET.get("q"), "tags": request.GET.getlist("tag")}
    )


async def echo(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"received": json.loads(request.body)}, status=201)


async def form(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"name": request.POST["name"], "langs": request.POST.getlist("lang")})


async def upload(request: HttpRequest) -> JsonResponse:
    file = request.FILES["file"]
    return JsonResponse(
        upload_summary(file.name, file.content_type, file.read(), request.POST["description"])
    )


async def set_cookie(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("set")
    response.set_cookie("flavour", request.GET["flavour"])
    return response


async def cookies(request: HttpRequest) -> JsonResponse:
    return JsonResponse(request.COOKIES)


async def session_set(request: HttpRequest) -> JsonResponse:
    request.session.update(request.GET.dict())
    return JsonResponse(dict(request.session.items()))


async def session(request: HttpRequest) -> JsonResponse:
    return JsonResponse(dict(request.session.items()))


async def session_clear(request: HttpRequest) -> JsonResponse:
    request.session.flush()
    return JsonResponse({})


async def to_user(request: HttpRequest) -> HttpResponseRedirect:
    return redirect("/users/7?q=redirected")


async def item(request: HttpRequest, item_id: int) -> HttpResponse:
    raise Http404(f"no item {item_id}")


async def boom(request: HttpRequest) -> HttpResponse:
    raise BoomError("boom")


async def ticks(request: HttpRequest) -> StreamingHttpResponse:
    async def events() -> AsyncIterator[str]:
        try:
            n = 0
            while True:
                n += 1
                yield f"data: {n}\n\n"
                await asyncio.sleep(0)
        except BaseException as exc:
            EVENTS.append(f"ticks ended: {type(exc).__name__}")
            raise

    return StreamingHttpResponse(events(), content_type="text/event-stream")
