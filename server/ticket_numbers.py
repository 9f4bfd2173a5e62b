"""Ticket numbers (磅单号) as the centre holds them: ``<station>-<yyyymmdd>-<seq>``.

Each booth counts its own tickets per site-local day, so booths never collide
while offline. A booth whose PC was reinstalled has lost its counter; it asks the
centre for the highest number already stored for its station and day, and goes on
from there instead of printing 0001 a second time.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.models import Weighing

from .errors import InvalidParameter
from .record_rules import FIRST_YEAR, LAST_YEAR

_DAY = re.compile(r"[0-9]{8}")


def check_day(text: str) -> str:
    """``text`` if it is a ``YYYYMMDD`` day the system can hold, else 400."""
    if _DAY.fullmatch(text) is None:
        raise InvalidParameter(f"day 应写成 YYYYMMDD，而不是 {text[:20]!r}")
    try:
        day = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise InvalidParameter(f"没有这一天：{text}") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidParameter(f"日期应在 {FIRST_YEAR}–{LAST_YEAR} 年之间：{text}")
    return text


def last_seq(session: Session, station_id: int, day: str) -> int:
    """The highest sequence number of the station's tickets on ``day``; 0 if none.

    Voided tickets count: their numbers were printed and are never reused.
    """
    prefix = f"{station_id}-{day}-"
    numbers = session.scalars(
        select(Weighing.ticket_no).where(
            Weighing.gross_station == station_id,
            Weighing.ticket_no.startswith(prefix, autoescape=True),
        )
    )
    seqs = [
        int(rest)
        for rest in (n.removeprefix(prefix) for n in numbers)
        if rest.isascii() and rest.isdigit()
    ]
    return max(seqs, default=0)
