"""Two guards around every request: a body size limit, and one 500 per failure.

``BodyLimit`` refuses a body over its route's limit before the route, the JSON
parser or the credential check see it: by its ``Content-Length`` at once, and a
chunked body as soon as the bytes received pass the limit.

``ErrorGuard`` answers an exception nobody planned for with the usual error shape
and logs its traceback once. Starlette's outermost middleware would answer too,
but then re-raises so that the ASGI server logs the same traceback a second time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import RequestTooLarge, ServerError

log = logging.getLogger(__name__)

Responder = Callable[[Request, ServerError], Awaitable[Response]]


class BodyOverLimit(HTTPException):
    """Raised from ``receive`` when a streamed body passes its limit.

    An ``HTTPException`` on purpose: FastAPI turns any other exception raised while
    it reads a body into a 400, but lets these through to the error handlers.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"body over {limit} bytes")
        self.limit = limit


def too_large(limit: int) -> RequestTooLarge:
    return RequestTooLarge(
        f"请求内容超过 {_size(limit)} 的上限，请分批发送", limit_bytes=limit
    )


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} 字节"


class BodyLimit:
    """Refuse request bodies larger than ``limit_for(path)`` bytes, unread."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            log.warning(
                "%s %s: refused a body of %d bytes (limit %d)",
                scope["method"],
                scope["path"],
                declared,
                limit,
            )
            error = too_large(limit)
            response = JSONResponse(
                error.body(), status_code=error.status, headers={"Connection": "close"}
            )
            await response(scope, receive, send)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyOverLimit(limit)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    text = Headers(scope=scope).get("content-length")
    if text is None or not (text.isascii() and text.isdigit()):
        return None  # the HTTP server refuses a malformed one itself
    return int(text)


class ErrorGuard:
    """Answer unexpected exceptions with ``respond`` and log each one once."""

    def __init__(self, app: ASGIApp, respond: Responder) -> None:
        self.app = app
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started:
                raise  # too late to answer: the ASGI server logs it and hangs up
            log.exception("%s %s failed", scope["method"], scope["path"])
            error = ServerError("服务器内部错误")
            response = await self.respond(Request(scope, receive), error)
            await response(scope, receive, send)
