"""Weights are whole kilograms everywhere in code; people read tonnes."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def round_to_division(kg: int, division_kg: int) -> int:
    """Round to the scale division, half up (a 20 kg scale shows 49 320, not 49 317)."""
    if division_kg <= 1:
        return kg
    q = Decimal(kg) / Decimal(division_kg)
    return int(q.quantize(Decimal(1), rounding=ROUND_HALF_UP)) * division_kg


def tonnes(kg: int | None, division_kg: int = 10) -> str:
    """``32560`` → ``'32.56 t'``, with as many decimals as the division needs."""
    if kg is None:
        return "—"
    decimals = 3 if division_kg % 10 else 2 if division_kg % 100 else 1
    return f"{Decimal(kg) / 1000:.{decimals}f} t"
