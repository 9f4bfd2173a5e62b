"""A failure nobody planned for: the error shape, a Chinese page, one traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from server.app import create_app
from server.db import upgrade


class Boom(RuntimeError):
    """Stands for a bug in a route."""


@pytest.fixture
def app(fresh_db_url: str) -> Iterator[FastAPI]:
    upgrade(fresh_db_url)
    app = create_app(fresh_db_url, "http://centre.example")

    @app.get("/api/v1/boom")
    def api_boom() -> None:
        raise Boom("a bug in an API route")

    @app.get("/boom")
    def page_boom() -> None:
        raise Boom("a bug in a page")

    yield app
    app.state.db.dispose()


def _get(app: FastAPI, path: str) -> httpx.Response:
    # An exception the app lets out would be raised here and fail the test.
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://centre.example"
        ) as client:
            return await client.get(path)

    return asyncio.run(get())


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.exc_info]


def test_an_unexpected_error_is_a_500_in_the_error_shape_logged_once(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    response = _get(app, "/api/v1/boom")

    assert response.status_code == 500
    assert response.json() == {"error": {"code": 999, "message": "服务器内部错误"}}
    [logged] = _tracebacks(caplog)
    assert logged.levelno == logging.ERROR and "/api/v1/boom" in logged.getMessage()


def test_an_unexpected_error_on_a_page_is_a_chinese_500_page_logged_once(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    response = _get(app, "/boom")

    assert response.status_code == 500
    assert "服务器内部错误" in response.text and "错误编号 999" in response.text
    assert len(_tracebacks(caplog)) == 1
