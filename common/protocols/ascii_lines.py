"""The ``ST,GS`` ASCII line (CAS and the many indicators that imitate it).

Sources: CAS CI-400 p. 103, CI-600D p. 74 and NT-200/PDI manuals; Selleton
SL-7516 p. 16; A&D 18-byte format (shared/PROTOCOLS.md §11)::

    ST|US|OL , GS|NT , [id lamp ,] [sign] weight-with-point [blank] unit CR LF

``ST`` stable, ``US`` unstable, ``OL`` overload; ``GS`` gross, ``NT`` net. CAS's
22-byte variant puts a device-ID byte and a lamp-status byte (bit 7 set) and a
comma before the eight data characters; they are skipped. Examples seen in
public code: ``ST,GS,+0016691kg`` and ``ST,GS,+003015.0kg``. An ``OL`` line is an
overload (an underload when its data has a minus sign) and its data is ignored.

A&D sends this on 7 data bits with parity: open the port 7E1 (or 7O1) for it.

What the layout can and cannot catch: no checksum. Both headers, a number and a
unit must be there, so noise and cut lines are refused; a changed digit is not.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from .base import Reading, Result
from .framing import LineDecoder, format_fixed, parse_number, unit_name

logger = logging.getLogger(__name__)


def encode_st_gs(
    weight: Decimal | int | float | str | None,
    decimals: int = 0,
    *,
    unit: str = "kg",
    stable: bool = True,
    net: bool = False,
    width: int = 8,
) -> bytes:
    """A line such as ``ST,GS,+0016691kg`` CR LF; ``weight`` None gives ``OL``."""
    mode = "NT" if net else "GS"
    if weight is None:
        return f"OL,{mode},{'9' * width}{unit}\r\n".encode("ascii")
    text = format_fixed(weight, decimals)
    sign = "-" if text.startswith("-") else "+"
    field = sign + text.lstrip("-").rjust(width - 1, "0")
    head = "ST" if stable else "US"
    return f"{head},{mode},{field}{unit}\r\n".encode("ascii")


class AsciiStGsDecoder(LineDecoder):
    label = "ascii_st_gs"
    frame_re = re.compile(
        rb"(?<![A-Z])"
        rb"(?:(ST|US),(GS|NT),(?:[\x00-\xff]{2},)?([-+0-9. ]{1,14}?) ?(kg|lb|t|g)"
        rb"|(OL),(GS|NT),([^\r\n]{0,16}?)(kg|lb|t|g)?)"
        rb"\r?\n\Z"
    )
    header_re = re.compile(rb"(?<![A-Z])(?:ST|US|OL),(?:GS|NT),")

    def _decode_match(self, m: re.Match[bytes], raw: bytes) -> Result:
        state, mode, field, unit_text, over, over_mode, over_field, over_unit = (
            m.groups()
        )
        if over is not None:
            unit = unit_name(over_unit) if over_unit else self.unit
            under = b"-" in over_field
            return self.no_weight(
                raw, unit, overload=not under, underload=under, net=over_mode == b"NT"
            )

        weight = parse_number(field)
        if weight is None:
            return self.reject(raw, "bad weight field")
        return Reading(
            self.label,
            weight,
            unit_name(unit_text),
            stable=state == b"ST",
            net=mode == b"NT",
            raw=raw,
        )
