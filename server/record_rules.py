"""What a pushed tare (回皮) or weighing (磅单) must be before the centre stores it.

A booth's scale, clock or software can be wrong, and the centre is the last place
an impossible weighing can be stopped before it reaches reports and invoices.
``time_problem`` reads the raw wire times (so that a year 1 or 9999 never reaches
the date arithmetic), ``record_problem`` judges one record on its own, and
``tare_problem`` compares a weighing with the tare it consumes. Each answers with
the reason in Chinese, or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from common.models import Tare
from common.plates import normalise_plate, plate_problem

from .registry import station_id_problem

MAX_WEIGHT_KG = 200_000
# Times outside these years are a wrong clock or a wrong field, never a weighing.
FIRST_YEAR, LAST_YEAR = 2000, 2100
EARLIEST = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
LATEST = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)  # not included

TIME_FIELDS = {"tare": ("weighed_at",), "weighing": ("tare_at", "gross_at")}
WEIGHT_FIELDS = {"tare": ("tare_kg",), "weighing": ("tare_kg", "gross_kg")}
STATION_FIELDS = {
    "tare": ("station_id",),
    "weighing": ("tare_station", "gross_station"),
}
LABELS = {
    "weighed_at": "回皮时间",
    "tare_at": "回皮时间",
    "gross_at": "过重时间",
    "tare_kg": "皮重",
    "gross_kg": "毛重",
    "station_id": "磅号",
    "tare_station": "回皮磅号",
    "gross_station": "过重磅号",
    "plate": "车号",
}
_SHOWN_CHARS = 40


def _label(key: str) -> str:
    return f"{LABELS[key]}（{key}）" if key in LABELS else key


def in_time_range(moment: datetime) -> bool:
    return EARLIEST <= moment < LATEST


def time_problem(kind: str, data: Any) -> str | None:
    """Why one of the record's raw times cannot be stored; None if none."""
    if not isinstance(data, dict):
        return None  # the wire check says what is wrong with the record
    for key in TIME_FIELDS[kind]:
        value = data.get(key)
        if value is None:
            continue
        problem = _one_time_problem(value)
        if problem:
            return f"{_label(key)}{problem}"
    return None


def _one_time_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "应为带 UTC 偏移的 ISO 8601 时间"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return f"不是 ISO 8601 时间：{value[:_SHOWN_CHARS]!r}"
    if parsed.tzinfo is None:
        return "缺少 UTC 偏移（如 +08:00）"
    try:
        in_range = in_time_range(parsed.astimezone(UTC))
    except OverflowError:
        in_range = False  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
    if not in_range:
        return f"不在 {FIRST_YEAR}–{LAST_YEAR} 年之间：{value[:_SHOWN_CHARS]}"
    return None


def record_problem(kind: str, values: dict[str, Any]) -> str | None:
    """Why this tare or weighing (column values) is impossible; None if it is not."""
    return (
        _text_problem(values)
        or _station_problem(kind, values)
        or _weight_problem(kind, values)
        or _plate_problem(values["plate"])
        or (_weighing_problem(values) if kind == "weighing" else None)
    )


def _text_problem(values: dict[str, Any]) -> str | None:
    # Neither database stores NUL, nor a lone surrogate (which is not UTF-8).
    for key, value in values.items():
        if not isinstance(value, str):
            continue
        if "\x00" in value or not _encodes_as_utf8(value):
            return f"{key} 含有无法保存的字符"
    return None


def _encodes_as_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _station_problem(kind: str, values: dict[str, Any]) -> str | None:
    for key in STATION_FIELDS[kind]:
        problem = station_id_problem(values[key])
        if problem:
            return f"{_label(key)}：{problem}"
    return None


def _weight_problem(kind: str, values: dict[str, Any]) -> str | None:
    for key in WEIGHT_FIELDS[kind]:
        kg = values[key]
        if kg < 0:
            return f"{_label(key)}不能为负数（{kg} kg）"
        if kg > MAX_WEIGHT_KG:
            return f"{_label(key)}超过 {MAX_WEIGHT_KG} kg 的上限"
    return None


def _plate_problem(plate: str) -> str | None:
    problem = plate_problem(plate)
    if problem:
        return problem
    normal = normalise_plate(plate)
    if normal != plate:
        return f"车号应写作 {normal}（不含空格和“·”，字母大写），而不是 {plate!r}"
    return None


def _weighing_problem(values: dict[str, Any]) -> str | None:
    # Every ticket's tare is a tare record: the check against it is the point.
    if not values["tare_id"]:
        return "缺少回皮记录（tare_id）"
    gross, tare = values["gross_kg"], values["tare_kg"]
    if gross <= tare:
        return f"毛重 {gross} kg 不大于皮重 {tare} kg"
    if values["net_kg"] != gross - tare:
        return "净重不等于毛重减皮重"
    if values["gross_at"] < values["tare_at"]:
        return "过重时间早于回皮时间"
    return None


@dataclass(frozen=True)
class TareFacts:
    """What a weighing copies from the tare it consumes."""

    id: str
    station_id: int
    plate: str
    tare_kg: int
    weighed_at: datetime

    @classmethod
    def of(cls, tare: Tare) -> TareFacts:
        return cls(tare.id, tare.station_id, tare.plate, tare.tare_kg, tare.weighed_at)

    @classmethod
    def of_values(cls, values: dict[str, Any]) -> TareFacts:
        return cls(
            str(values["id"]),
            values["station_id"],
            values["plate"],
            values["tare_kg"],
            values["weighed_at"],
        )


def tare_problem(weighing: dict[str, Any], tare: TareFacts) -> str | None:
    """Why the weighing does not match the tare it names; None if it does."""
    pairs = {
        "tare_kg": (weighing["tare_kg"], tare.tare_kg),
        "plate": (weighing["plate"], tare.plate),
        "tare_station": (weighing["tare_station"], tare.station_id),
        "tare_at": (weighing["tare_at"], tare.weighed_at),
    }
    differing = [_label(key) for key, (said, held) in pairs.items() if said != held]
    if not differing:
        return None
    return f"与其回皮记录 {tare.id} 不符：{'、'.join(differing)}"
