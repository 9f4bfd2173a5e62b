"""Keli (柯力) XK3118T1 continuous output, the ``=`` line with a unit.

Source: ``WeightScale/XK3118T1WebServer`` ``sketches/XK3118T1.h``/``.cpp``, which
documents ``=5123.45(kg)`` CR LF: a sync ``=``, seven weight characters read in
order (high digit first, point included), the unit in brackets, CR LF. A Perl
driver also notes ``GW:0023,45(kg)`` and ``=0023,45(kg)``, so ``GW:`` is taken as
a sync too and a comma as the decimal point. (shared/PROTOCOLS.md §7; not
confirmed against a Keli manual.) No checksum, no motion flag.

Keli D2008F in tf=0 is the Yaohua tF=0 frame (``yaohua.py``), and in tf=2/3 the
reversed D2+ stream (``reversed.py``).

What the layout can and cannot catch: the sync, the bracketed unit and the line
end must all be in place and the weight must be a number, so noise and cut lines
are refused; a flipped bit that turns one digit into another is not seen.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from .base import Reading, Result
from .framing import LineDecoder, format_fixed, parse_number, unit_name

logger = logging.getLogger(__name__)


def encode_xk3118t1(
    weight: Decimal | int | float | str, decimals: int = 2, *, unit: str = "kg"
) -> bytes:
    """A frame such as ``=5123.45(kg)`` CR LF."""
    text = format_fixed(weight, decimals)
    if text.startswith("-"):
        text = "-" + text[1:].rjust(6, "0")
    else:
        text = text.rjust(7, "0")
    return b"=" + text.encode("ascii") + b"(" + unit.encode("ascii") + b")\r\n"


class KeliXk3118t1Decoder(LineDecoder):
    label = "keli_xk3118t1_eq"
    frame_re = re.compile(rb"(?:=|GW:)([-+0-9., ]{1,9})\(([a-zA-Z]{1,3})\)\r?\n\Z")
    header_re = re.compile(rb"(?:=|GW:)[-+0-9., ]{1,9}\(")

    def _decode_match(self, m: re.Match[bytes], raw: bytes) -> Result:
        weight = parse_number(m.group(1), comma=True)
        unit = unit_name(m.group(2))
        if weight is None or unit is None:
            return self.reject(raw, "bad weight or unit")
        return Reading(self.label, weight, unit, stable=None, raw=raw)
