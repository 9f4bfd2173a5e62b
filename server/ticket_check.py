"""Checking a ticket's QR token (一票一码, R7): is this 磅单 genuine?

The booth signs the ticket's main fields with its own key, so the signature is
checked first, against the public key the booth registered. Only then does the
server's record count: it may not have arrived yet (the booth was offline), it may
have been voided since, or it may disagree with what the ticket says.

A token that cannot even be read (cut short, garbled by a bad scan) says nothing
about the ticket either way: it is ``unreadable``, and the person is asked to scan
again rather than told the ticket is forged. A token that reads but whose
signature fails is ``forged``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from common.models import Station, Weighing
from common.signing import TicketClaims, TokenError, read_token, verify_token

from .journal import utc_iso
from .registry import station_id_problem

log = logging.getLogger(__name__)

UNREADABLE_REASON = "二维码不完整或无法识别，请重新扫描"


class Verdict(StrEnum):
    GENUINE = "genuine"
    GENUINE_PENDING = "genuine_pending"
    VOIDED = "voided"
    MISMATCH = "mismatch"
    FORGED = "forged"
    UNREADABLE = "unreadable"

    @property
    def valid(self) -> bool:
        """Whether the ticket may be trusted (真实有效) or not (无效)."""
        return self in (Verdict.GENUINE, Verdict.GENUINE_PENDING)


@dataclass(frozen=True)
class TicketCheck:
    verdict: Verdict
    reason: str
    claims: TicketClaims | None = None
    weighing: Weighing | None = None
    malformed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "valid": self.verdict.valid,
            "reason": self.reason,
            "claims": _claims_json(self.claims),
            "weighing": _weighing_json(self.weighing),
        }


def check_ticket(session: Session, token: str) -> TicketCheck:
    """The verdict on ``token``; never raises for a bad token."""
    try:
        claims, _payload, _sig = read_token(token)
    except TokenError as err:
        log.debug("unreadable ticket token (%s): %.80s", err, token)
        return TicketCheck(Verdict.UNREADABLE, UNREADABLE_REASON, malformed=True)

    # A station number no bridge can have is not looked up at all.
    known = station_id_problem(claims.station) is None
    station = session.get(Station, claims.station) if known else None
    if station is None or not station.public_key:
        why = "未知的磅房" if station is None else "该磅房尚未登记签名密钥"
        return TicketCheck(Verdict.FORGED, f"{why}（{claims.station} 号）", claims)
    try:
        verify_token(token, station.public_key)
    except TokenError as err:
        log.warning("ticket %s: signature does not verify", claims.ticket_no)
        return TicketCheck(Verdict.FORGED, str(err), claims)

    return _against_record(claims, session.get(Weighing, claims.weighing_id))


def _against_record(claims: TicketClaims, record: Weighing | None) -> TicketCheck:
    if record is None:
        return TicketCheck(
            Verdict.GENUINE_PENDING, "签名有效；记录尚未同步到中心", claims
        )

    differing = _differences(claims, record)
    if differing:
        log.warning(
            "ticket %s differs from the record in %s", claims.ticket_no, differing
        )
        return TicketCheck(
            Verdict.MISMATCH,
            f"磅单内容与中心记录不符（{'、'.join(differing)}）",
            claims,
            record,
        )
    if record.voided:
        reason = (
            f"此磅单已作废：{record.void_reason}"
            if record.void_reason
            else "此磅单已作废"
        )
        return TicketCheck(Verdict.VOIDED, reason, claims, record)
    return TicketCheck(Verdict.GENUINE, "签名有效，与中心记录一致", claims, record)


def _differences(claims: TicketClaims, record: Weighing) -> list[str]:
    pairs = {
        "磅单号": (claims.ticket_no, record.ticket_no),
        "车号": (claims.plate, record.plate),
        "皮重": (claims.tare_kg, record.tare_kg),
        "毛重": (claims.gross_kg, record.gross_kg),
        "净重": (claims.net_kg, record.net_kg),
        "过重磅房": (claims.station, record.gross_station),
    }
    differing = [name for name, (said, stored) in pairs.items() if said != stored]
    # The ticket carries whole seconds; the record may keep the fraction.
    if abs(record.gross_at.timestamp() - claims.gross_at) >= 1:
        differing.append("过重时间")
    return differing


def _claims_json(claims: TicketClaims | None) -> dict[str, Any] | None:
    return None if claims is None else asdict(claims)


def _weighing_json(record: Weighing | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "id": record.id,
        "ticket_no": record.ticket_no,
        "plate": record.plate,
        "product": record.product,
        "customer": record.customer,
        "tare_kg": record.tare_kg,
        "gross_kg": record.gross_kg,
        "net_kg": record.net_kg,
        "tare_station": record.tare_station,
        "gross_station": record.gross_station,
        "tare_at": utc_iso(record.tare_at),
        "gross_at": utc_iso(record.gross_at),
        "voided": record.voided,
        "void_reason": record.void_reason,
    }
