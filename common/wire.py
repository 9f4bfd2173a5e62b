"""Records as JSON for sync messages: ints stay ints, times are ISO 8601 UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect

from .models import LOCAL_ONLY, WIRE_KINDS, Base


class WireError(ValueError):
    """A sync message that does not describe a valid record."""


def to_wire(obj: Base) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in inspect(type(obj)).columns:
        if col.key in LOCAL_ONLY:
            continue
        value = getattr(obj, col.key)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()
        out[col.key] = value
    return out


def from_wire(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate a wire dict and return column values ready for the model.

    Unknown fields are refused, not ignored: a booth running newer code than the
    server should hear about it rather than lose data silently.
    """
    try:
        model = WIRE_KINDS[kind]
    except KeyError:
        raise WireError(f"unknown record kind {kind!r}") from None
    if not isinstance(data, dict):
        raise WireError(f"{kind}: record must be an object")

    columns = {c.key: c for c in inspect(model).columns if c.key not in LOCAL_ONLY}
    unknown = set(data) - set(columns)
    if unknown:
        raise WireError(f"{kind}: unknown fields {sorted(unknown)}")

    values: dict[str, Any] = {}
    for key, col in columns.items():
        if key not in data:
            if not col.nullable and col.default is None and not col.primary_key:
                raise WireError(f"{kind}: missing field {key!r}")
            continue
        values[key] = _coerce(kind, key, col, data[key])
    if "id" in columns and not values.get("id"):
        raise WireError(f"{kind}: missing id")
    return values


def _coerce(kind: str, key: str, col: Any, value: Any) -> Any:
    if value is None:
        if not col.nullable:
            raise WireError(f"{kind}.{key}: must not be null")
        return None
    py = col.type.python_type
    if py is datetime:
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise WireError(f"{kind}.{key}: not an ISO time: {value!r}") from None
        if parsed.tzinfo is None:
            raise WireError(f"{kind}.{key}: time without a UTC offset")
        return parsed.astimezone(UTC)
    if py is int:
        # Weights are integer kilograms: refuse floats and bools outright.
        if isinstance(value, bool) or not isinstance(value, int):
            raise WireError(f"{kind}.{key}: must be an integer")
        return value
    if py is bool:
        if not isinstance(value, bool):
            raise WireError(f"{kind}.{key}: must be true or false")
        return value
    if not isinstance(value, str):
        raise WireError(f"{kind}.{key}: must be a string")
    length = getattr(col.type, "length", None)
    if length and len(value) > length:
        raise WireError(f"{kind}.{key}: longer than {length} characters")
    return value
