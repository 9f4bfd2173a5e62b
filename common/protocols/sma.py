"""SMA SCP-0499 (Scale Manufacturers Association) standard weight reply.

Sources: Sartorius PR 5210/5220 manuals, SMA chapter; Fairbanks FB2550 App. III;
BTEK T419S §7.1; Avery ZM400 §7.1; Minebea PR 5215 §8 (shared/PROTOCOLS.md §10).
Used by Cardinal, Avery Weigh-Tronix, Fairbanks, Sartorius/Minebea and BTEK.

The host sends ``LF cmd CR`` (``W`` weight, ``Z`` zero, ``T`` tare, …); the
standard reply is twenty bytes::

    LF  s r n m f  w w w w w w w w w w  u u u  CR
        s: ' ' ok, Z centre of zero, O over capacity, U under capacity,
           E zero error, I initial-zero error, T tare error
        r: range digit;  n: G gross, N net, T tare, g/n high-resolution
        m: M in motion, else blank;  f: reserved
        weight: ten characters, sign and point included (dashes with E/I/T)
        unit: three characters, e.g. 'lb ', 'kg '

``LF ? CR`` answers an unknown command. Over and under capacity carry the unit
but no usable weight; the error states carry no weight either. A tare reply
(``n`` = T) is the tare, reported as the weight (marked tare).

What the layout can and cannot catch: no checksum; the fixed length, the
documented letters in each status place and a numeric field keep noise and cut
frames out, but a changed digit goes through.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from .base import Reading, Result
from .framing import LineDecoder, format_fixed, parse_number, unit_name

logger = logging.getLogger(__name__)

WEIGHT_WIDTH = 10
ERROR_STATES = b"EIT"


def build_sma_request(command: str = "W") -> bytes:
    """A host command, e.g. ``LF W CR``."""
    return b"\n" + command.encode("ascii") + b"\r"


def encode_sma(
    weight: Decimal | int | float | str,
    decimals: int = 0,
    *,
    unit: str = "kg",
    status: str = " ",
    mode: str = "G",
    motion: bool = False,
) -> bytes:
    """A standard reply; ``status`` is one of `` ZOUEIT``, ``mode`` G/N/T/g/n."""
    if status in ("E", "I", "T"):
        field = "-" * WEIGHT_WIDTH
    else:
        field = format_fixed(weight, decimals).rjust(WEIGHT_WIDTH)
    flags = f"{status}1{mode}{'M' if motion else ' '} "
    return f"\n{flags}{field}{unit:<3}\r".encode("ascii")


def _unit(field: bytes) -> str | None:
    text = field.strip()
    if not text.isalpha():
        return None
    return unit_name(text) or text.decode("ascii").lower()


class SmaScpDecoder(LineDecoder):
    label = "sma_scp"
    terminator = b"\r"
    frame_re = re.compile(
        rb"\n(?:([ ZOUEIT])([0-9])([GTNgn])([M ])([ -~])([ -~]{10})([ -~]{3})|(\?))"
        rb"\r\Z"
    )
    header_re = re.compile(rb"\n[ ZOUEIT][0-9][GTNgn]")

    def _decode_match(self, m: re.Match[bytes], raw: bytes) -> Result:
        state, _rng, mode, motion, _res, field, unit_field, unknown = m.groups()
        if unknown is not None:
            return self.no_weight(raw, None)
        unit = _unit(unit_field)
        net = mode in (b"N", b"n")

        # Over/under capacity and the error states: no weight to use.
        if state == b"O":
            return self.no_weight(raw, unit, overload=True, net=net)
        if state == b"U":
            return self.no_weight(raw, unit, underload=True, net=net)
        if state in ERROR_STATES:
            return self.no_weight(raw, unit, net=net)

        weight = parse_number(field)
        if weight is None or unit is None:
            return self.reject(raw, "bad weight or unit field")
        return Reading(
            self.label, weight, unit, stable=motion != b"M", net=net, raw=raw,
            tare=mode == b"T",
        )
