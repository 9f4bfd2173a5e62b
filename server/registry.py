"""Master data the centre owns: stations (磅房) with their credentials, vehicles.

A booth's API token is random, so its SHA-256 is enough to store (no slow hash);
the token itself is shown once, when the station is added. The booth's Ed25519
public key is registered by the booth itself and only an admin may replace it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from common.models import Base, Station, Vehicle
from common.plates import normalise_plate, plate_problem
from common.wire import to_wire

from .errors import AlreadyExists, InvalidBody, KeyConflict, NotFound
from .journal import Journal

log = logging.getLogger(__name__)

PURPOSES = ("tare", "gross", "both")
ADMIN = "admin"
# Station numbers are painted on the bridges and printed in ticket numbers.
FIRST_STATION, LAST_STATION = 1, 99
MIN_TOKEN_LENGTH = 16


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def station_id_problem(station_id: int) -> str | None:
    """Why ``station_id`` cannot be a station number, in Chinese; None if it can."""
    if FIRST_STATION <= station_id <= LAST_STATION:
        return None
    return f"磅号应在 {FIRST_STATION}–{LAST_STATION} 之间，而不是 {station_id}"


def token_problem(token: str) -> str | None:
    """Why ``token`` is no good as a booth credential; None if it will do.

    It travels in an HTTP header and is typed into the booth's settings, so it is
    printable ASCII without spaces, and long enough not to be guessed.
    """
    if len(token) < MIN_TOKEN_LENGTH:
        return f"凭据至少 {MIN_TOKEN_LENGTH} 个字符"
    if not all("!" <= ch <= "~" for ch in token):
        return "凭据只能由字母、数字和符号组成（不含空格和中文）"
    return None


def station_name_problem(name: str) -> str | None:
    if not name.strip():
        return "磅房名称不能为空"
    return None


def station_for_token(session: Session, token: str) -> Station | None:
    query = select(Station).where(Station.token_hash == hash_token(token))
    return session.scalars(query).first()


def add_station(
    session: Session, station_id: int, name: str, purpose: str, token: str
) -> Station:
    """Register a new station whose booth will authenticate with ``token``."""
    for problem in (
        station_id_problem(station_id),
        station_name_problem(name),
        token_problem(token),
    ):
        if problem:
            raise InvalidBody(problem)
    name = name.strip()
    _check_lengths(Station, {"name": name})
    if session.get(Station, station_id) is not None:
        raise AlreadyExists(f"{station_id} 号磅房已存在")
    if purpose not in PURPOSES:
        raise InvalidBody(f"用途应为 {'/'.join(PURPOSES)}，而不是 {purpose!r}")

    journal = Journal(session, actor=ADMIN)
    station = Station(
        id=station_id,
        name=name,
        purpose=purpose,
        token_hash=hash_token(token),
        rev=journal.stamp(),
    )
    session.add(station)
    journal.record(
        "create", "station", str(station_id), {"name": name, "purpose": purpose}
    )
    log.info("station %s (%s, %s) added", station_id, name, purpose)
    return station


def register_key(session: Session, station: Station, public_key: str) -> bool:
    """Store the booth's public key; False if it was already the registered one."""
    public_key = public_key.lower()
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
    except ValueError as err:
        raise InvalidBody("public_key 应为 32 字节 Ed25519 公钥的十六进制") from err
    if station.public_key == public_key:
        return False
    if station.public_key:
        raise KeyConflict(
            f"{station.id} 号磅房已登记了另一把签名密钥；更换密钥须由管理员先重置"
        )

    journal = Journal(session, actor=f"station:{station.id}")
    station.public_key = public_key
    station.rev = journal.stamp()
    journal.record(
        "register_key", "station", str(station.id), {"public_key": public_key}
    )
    log.info("station %s registered its signing key", station.id)
    return True


def reset_key(session: Session, station_id: int) -> None:
    """Forget a station's public key so its booth can register a new one."""
    problem = station_id_problem(station_id)
    if problem:
        raise NotFound(f"没有 {station_id} 号磅房：{problem}")
    station = session.get(Station, station_id)
    if station is None:
        raise NotFound(f"没有 {station_id} 号磅房")
    journal = Journal(session, actor=ADMIN)
    station.public_key = None
    station.rev = journal.stamp()
    journal.record("reset_key", "station", str(station_id), {})
    log.info("station %s signing key reset", station_id)


def add_vehicle(session: Session, plate: str, **fields: Any) -> Vehicle:
    """Register a vehicle (车辆登记) under its normalised plate; ``fields`` are
    Vehicle columns."""
    problem = plate_problem(plate)
    if problem:
        raise InvalidBody(problem)
    plate = normalise_plate(plate)
    _check_lengths(Vehicle, {"plate": plate, **fields})
    if session.scalars(select(Vehicle).where(Vehicle.plate == plate)).first():
        raise AlreadyExists(f"车号 {plate} 已登记")

    journal = Journal(session, actor=ADMIN)
    given = {key: value for key, value in fields.items() if value is not None}
    vehicle = Vehicle(plate=plate, **given, rev=journal.stamp())
    session.add(vehicle)
    session.flush()  # fills in the id and the column defaults
    journal.record("create", "vehicle", vehicle.id, to_wire(vehicle))
    log.info("vehicle %s registered", plate)
    return vehicle


def _check_lengths(model: type[Base], values: dict[str, Any]) -> None:
    columns = inspect(model).columns
    for key, value in values.items():
        length = getattr(columns[key].type, "length", None)
        if isinstance(value, str) and length and len(value) > length:
            raise InvalidBody(f"{key} 不能超过 {length} 个字符")
