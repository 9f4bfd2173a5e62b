"""The web pages (B/S): index, 过磅记录 report, 车辆登记 list, ticket check page.

Server-rendered Chinese pages with their own small stylesheet, so that they work on
a phone at a road checkpoint and on an office PC without any outside assets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.models import Vehicle, Weighing
from common.units import tonnes

from .api.deps import DatabaseDep
from .errors import InvalidParameter
from .record_rules import FIRST_YEAR, LAST_YEAR
from .ticket_check import check_ticket

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

router = APIRouter()


def make_templates(site_tz: ZoneInfo) -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"])
    )
    env.filters["t"] = _tonnes_figure
    env.filters["local"] = lambda value, fmt="%Y-%m-%d %H:%M:%S": _local(
        value, site_tz, fmt
    )
    env.filters["unix_local"] = lambda seconds, fmt="%Y-%m-%d %H:%M:%S": (
        datetime.fromtimestamp(seconds, site_tz).strftime(fmt)
    )
    return Jinja2Templates(env=env)


def _tonnes_figure(kg: int | None) -> str:
    return tonnes(kg).removesuffix(" t")


def _local(value: datetime | None, site_tz: ZoneInfo, fmt: str) -> str:
    if value is None:
        return "—"
    return value.astimezone(site_tz).strftime(fmt)


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    context = {"public_url": request.app.state.public_url, **context}
    return templates.TemplateResponse(request, name, context, status_code=status_code)


@dataclass(frozen=True)
class DayTotals:
    trucks: int
    gross_kg: int
    tare_kg: int
    net_kg: int
    voided: int


@router.get("/", response_class=HTMLResponse)
def index(request: Request, db: DatabaseDep) -> HTMLResponse:
    today = datetime.now(_site_tz(request)).date()
    with db.session() as session:
        rows = _weighings_on(session, today, _site_tz(request))
        vehicle_count = session.scalar(select(func.count()).select_from(Vehicle))
    return render(
        request,
        "index.html",
        {
            "today": today,
            "totals": _totals(rows),
            "vehicle_count": vehicle_count or 0,
        },
    )


@router.get("/weighings", response_class=HTMLResponse)
def weighings(
    request: Request, db: DatabaseDep, date: str | None = None
) -> HTMLResponse:
    day = _parse_day(date, _site_tz(request))
    with db.session() as session:
        rows = _weighings_on(session, day, _site_tz(request))
    return render(
        request,
        "weighings.html",
        {
            "day": day,
            "rows": rows,
            "totals": _totals(rows),
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
        },
    )


@router.get("/vehicles", response_class=HTMLResponse)
def vehicles(request: Request, db: DatabaseDep) -> HTMLResponse:
    with db.session() as session:
        rows = session.scalars(select(Vehicle).order_by(Vehicle.plate)).all()
    return render(request, "vehicles.html", {"rows": rows})


@router.get("/v/{token}", response_class=HTMLResponse)
def ticket_page(request: Request, token: str, db: DatabaseDep) -> HTMLResponse:
    # A person scanned this: even a garbled code gets a page, not an error.
    with db.session() as session:
        check = check_ticket(session, token)
    return render(
        request, "verify.html", {"check": check, "verdict": check.verdict.value}
    )


def _site_tz(request: Request) -> ZoneInfo:
    site_tz: ZoneInfo = request.app.state.site_tz
    return site_tz


def _parse_day(text: str | None, site_tz: ZoneInfo) -> date:
    if not text:
        return datetime.now(site_tz).date()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidParameter(f"日期应写成 YYYY-MM-DD，而不是 {text[:20]!r}") from None
    # Beyond these years the day before or after cannot even be computed.
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidParameter(f"日期应在 {FIRST_YEAR}–{LAST_YEAR} 年之间：{text}")
    return day


def _weighings_on(session: Session, day: date, site_tz: ZoneInfo) -> list[Weighing]:
    """Weighings whose gross was taken on ``day`` in the site's local time."""
    # Bounds in UTC: SQLite compares stored UTC text and ignores offsets.
    start = datetime.combine(day, time.min, site_tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, site_tz).astimezone(UTC)
    query = (
        select(Weighing)
        .where(Weighing.gross_at >= start, Weighing.gross_at < end)
        .order_by(Weighing.gross_at, Weighing.ticket_no)
    )
    return list(session.scalars(query))


def _totals(rows: list[Weighing]) -> DayTotals:
    # Voided tickets are listed for the record but never counted.
    valid = [w for w in rows if not w.voided]
    return DayTotals(
        trucks=len(valid),
        gross_kg=sum(w.gross_kg for w in valid),
        tare_kg=sum(w.tare_kg for w in valid),
        net_kg=sum(w.net_kg for w in valid),
        voided=len(rows) - len(valid),
    )
