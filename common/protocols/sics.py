"""MT-SICS, the Mettler Toledo Standard Interface Command Set (weight replies).

Sources: Mettler Toledo operating instructions, "S – Send stable weight value"
(AT balances p. 87, AL-IC p. 72, JS series p. 30) and ``instrumentkit/
InstrumentKit`` ``tests/test_mettler_toledo/test_mt_sics.py`` (shared/
PROTOCOLS.md §9). Truck terminals (IND570, IND780) speak it too.

The host sends ``S`` (stable weight), ``SI`` (immediate), ``SIR`` (repeat) and so
on, each ending in CR LF; the replies end in CR LF::

    S S <weight> <unit>     stable weight          S +    overload
    S D <weight> <unit>     dynamic (SI only)      S -    underload
    S I                     not executable now     ES/ET/EL  syntax, transmission,
                                                             logical error

The weight sits right-aligned in a fixed field in the reference, but public code
uses single blanks, so the reply is split on blanks rather than on columns.
``S I``, ``S +``/``S -`` and the error replies are Readings without a weight and
without a unit (the reply does not say one). Other replies (``Z A``, ``T S …``)
are not weights and are skipped.

What the layout can and cannot catch: there is no checksum; a reply is taken only
when it has the command, status, number and unit in that order, so noise and cut
lines are refused, but a digit changed in transit is not seen.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from .base import Reading, Result
from .framing import LineDecoder, format_fixed, parse_number, unit_name

logger = logging.getLogger(__name__)


def build_sics_request(command: str = "SI") -> bytes:
    """A host command line, e.g. ``SI`` CR LF."""
    return command.encode("ascii") + b"\r\n"


def encode_sics(
    weight: Decimal | int | float | str | None,
    decimals: int = 2,
    *,
    unit: str = "kg",
    stable: bool = True,
    status: str | None = None,
) -> bytes:
    """A reply to S/SI; ``status`` ``"+"``, ``"-"`` or ``"I"`` (or ``weight`` None
    with status ``"I"``) gives the short replies."""
    if status is not None or weight is None:
        return b"S " + (status or "I").encode("ascii") + b"\r\n"
    field = format_fixed(weight, decimals).rjust(10)
    kind = "S" if stable else "D"
    return f"S {kind} {field} {unit}\r\n".encode("ascii")


class MtSicsDecoder(LineDecoder):
    label = "mt_sics"
    frame_re = re.compile(
        rb"(?<![A-Za-z0-9])"
        rb"(?:S +([SD]) +([-+]? *[0-9.]+) +([A-Za-z]{1,3})|S +([-+I])|E([STL]))"
        rb" *\r?\n\Z"
    )
    header_re = re.compile(rb"(?<![A-Za-z0-9])S +[SD] ")

    def _decode_match(self, m: re.Match[bytes], raw: bytes) -> Result:
        kind, number, unit_text, short, error = m.groups()
        if error is not None:
            return self.no_weight(raw, None)
        if short is not None:
            return self.no_weight(
                raw, None, overload=short == b"+", underload=short == b"-"
            )

        weight = parse_number(number)
        if weight is None:
            return self.reject(raw, "bad weight field")
        unit = unit_name(unit_text) or unit_text.decode("ascii")
        return Reading(self.label, weight, unit, stable=kind == b"S", raw=raw)
