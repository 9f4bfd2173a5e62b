"""The central server as an ASGI app: JSON API for booths, web pages for people.

Every API error leaves as ``{"error": {"code": <stable number>, "message": ...}}``
(see ``server.errors``); the pages show the same errors as a small Chinese page.
Bad input of any kind is the caller's fault and answered with a 4xx: a 500 means
a bug or a database failure, and its traceback is logged once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from .api import booth, public
from .db import Database
from .errors import (
    ClientError,
    ConfigurationError,
    InvalidBody,
    InvalidParameter,
    MethodNotAllowed,
    NotFound,
    RequestTooLarge,
    ServerError,
    UnreadableBody,
)
from .middleware import BodyLimit, BodyOverLimit, ErrorGuard, too_large
from .pages import make_templates, render
from .pages import router as pages_router
from .sync import MAX_PUSH_BYTES

log = logging.getLogger(__name__)

SITE_TIMEZONE = "Asia/Shanghai"
PUSH_PATH = "/api/v1/sync/push"
# Every other route takes a key or nothing at all.
MAX_BODY_BYTES = 64 * 1024


def create_app(
    database_url: str,
    public_url: str,
    *,
    site_timezone: str = SITE_TIMEZONE,
    max_push_bytes: int = MAX_PUSH_BYTES,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The server for the (already upgraded) database at ``database_url``.

    ``public_url`` is where people reach the server, as printed in ticket QR codes.
    A push body may have ``max_push_bytes``, any other body ``max_body_bytes``.
    """
    try:
        site_tz = ZoneInfo(site_timezone)
    except ZoneInfoNotFoundError as err:
        raise ConfigurationError(f"unknown time zone {site_timezone!r}") from err
    db = Database(database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        db.dispose()

    app = FastAPI(
        title="地磅计量系统 · 中心 (weighbridge server)",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.db = db
    app.state.public_url = public_url.rstrip("/")
    app.state.site_tz = site_tz
    app.state.templates = make_templates(site_tz)

    app.include_router(public.router)
    app.include_router(booth.router)
    app.include_router(pages_router)
    _install_error_handlers(app)

    def limit_for(path: str) -> int:
        return max_push_bytes if path == PUSH_PATH else max_body_bytes

    # The last added is the outermost: sizes are checked before anything else.
    app.add_middleware(ErrorGuard, respond=_respond)
    app.add_middleware(BodyLimit, limit_for=limit_for)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServerError, _server_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _server_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServerError)
    if exc.status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc.message)
    return await _respond(request, exc)


async def _respond(request: Request, exc: ServerError) -> Response:
    """The error as JSON for the API, as a Chinese page for people."""
    if _is_api(request):
        return JSONResponse(
            exc.body(), status_code=exc.status, headers=_extra_headers(exc)
        )
    return render(
        request,
        "error.html",
        {"message": exc.message, "code": exc.code},
        status_code=exc.status,
    )


def _extra_headers(exc: ServerError) -> dict[str, str] | None:
    if exc.status == 401:
        return {"WWW-Authenticate": "Bearer"}
    return None


async def _http_error(request: Request, exc: Exception) -> Response:
    # Starlette's and FastAPI's own errors: no such route, wrong method, a body
    # that is not JSON at all, one over the size limit.
    assert isinstance(exc, HTTPException)
    error: ServerError
    if isinstance(exc, BodyOverLimit):
        error = too_large(exc.limit)
    elif exc.status_code == 405:
        error = MethodNotAllowed("不支持这种请求方法")
    elif exc.status_code == 404:
        error = NotFound("没有这个地址")
    elif exc.status_code == 400:
        # FastAPI's word for a body that is not even JSON: bad UTF-8, nesting
        # deep enough to exhaust the parser.
        error = UnreadableBody("请求内容无法解析：应为 UTF-8 编码、层次合理的 JSON")
    elif exc.status_code == 413:
        error = RequestTooLarge("请求内容过大")
    elif exc.status_code < 500:
        error = ClientError(str(exc.detail))
        error.status = exc.status_code
    else:
        error = ServerError(str(exc.detail))
        error.status = exc.status_code
    return await _server_error(request, error)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [_describe(problem) for problem in exc.errors()]
    message = "；".join(problems) or "请求无效"
    in_query = any(
        problem.get("loc", ("",))[0] in ("query", "path") for problem in exc.errors()
    )
    error = InvalidParameter(message) if in_query else InvalidBody(message)
    return await _server_error(request, error)


def _describe(problem: dict[str, object]) -> str:
    loc = problem.get("loc", ())
    where = ".".join(_shown(part) for part in loc) if isinstance(loc, tuple) else ""
    return f"{where}: {problem.get('msg', '')}"


def _shown(part: object) -> str:
    # A key from the body can be anything JSON allows, a lone surrogate included,
    # which no response could encode.
    text = str(part)[:40]
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
