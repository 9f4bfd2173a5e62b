"""Yaohua text formats: the A12(E) ``WG`` frame and the ``ww`` line.

**A12(E), 15 bytes** (Yaohua XK3190-A12(E) manual p. 12; shared/PROTOCOLS.md §4)::

    W  G|N  w w w w w w w  k g  X X  CR LF
            seven weight characters with the point; a blank in the last place
            when there are no decimals; '-' in the first place when negative
                           X X: XOR of the eleven bytes before it, uppercase hex

The manual's example is 4.139 kg, ``WG004.139kg3D``. Over capacity sends nine
blanks, ``OL`` and ``23``; under range nine blanks, ``LO`` and its XOR. Neither
carries a unit, so they report the configured one. No motion flag.

What the check can and cannot catch: the XOR sees any single flipped bit in the
first eleven bytes, and misses swapped characters.

**"ww" line** (``pengshulin/mcush`` ``test/mcush/misc/Yaohua.py`` class
XK3190A12; LIDEN LUW2001 manual App. 1 §2, "Continuous output A format")::

    w  w|n|t  [-]weight-with-point  unit  [CR] LF

``ww`` is the gross weight, ``wn`` net, ``wt`` the tare (reported as the weight,
net False, tare True). No checksum and no motion
flag, so the only protection is the strict layout: a line that starts like a frame
but does not parse is rejected, never read as a weight.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from .base import Reading, Result, ascii_hex_nibbles, xor
from .framing import LineDecoder, format_fixed, parse_number, unit_name

logger = logging.getLogger(__name__)

A12E_OVERLOAD = b" " * 9 + b"OL"
A12E_UNDERLOAD = b" " * 9 + b"LO"


def _a12e_frame(body: bytes) -> bytes:
    return body + ascii_hex_nibbles(xor(body)) + b"\r\n"


def encode_a12e(
    weight: Decimal | int | float | str,
    decimals: int = 0,
    *,
    net: bool = False,
    unit: str = "kg",
) -> bytes:
    """An A12(E) frame for ``weight`` shown with ``decimals`` places."""
    text = format_fixed(weight, decimals)
    if decimals == 0:
        text += " "
    if text.startswith("-"):
        field = "-" + text[1:].rjust(6, "0")
    else:
        field = text.rjust(7, "0")
    if len(field) != 7:
        raise ValueError(f"{weight} does not fit the 7-character A12E field")
    head = b"WN" if net else b"WG"
    return _a12e_frame(head + field.encode("ascii") + unit.rjust(2).encode("ascii"))


def encode_a12e_overload(under: bool = False) -> bytes:
    """The over-capacity (or, with ``under``, under-range) frame."""
    return _a12e_frame(A12E_UNDERLOAD if under else A12E_OVERLOAD)


class YaohuaA12eDecoder(LineDecoder):
    label = "yaohua_a12e_wg"
    frame_re = re.compile(rb"(W[GN][ -~]{9}| {9}(?:OL|LO))([ -~]{2})\r\n\Z")
    header_re = re.compile(rb"W[GN]| {9}(?:OL|LO)")

    def _decode_match(self, m: re.Match[bytes], raw: bytes) -> Result:
        body, check = m.group(1), m.group(2)
        if check != ascii_hex_nibbles(xor(body)):
            return self.reject(raw, "checksum mismatch")
        if body == A12E_OVERLOAD:
            return self.no_weight(raw, self.unit, overload=True)
        if body == A12E_UNDERLOAD:
            return self.no_weight(raw, self.unit, underload=True)

        unit = unit_name(body[9:11])
        weight = parse_number(body[2:9])
        if unit is None or weight is None:
            return self.reject(raw, "bad weight or unit field")
        net = body[1] == ord("N")
        return Reading(self.label, weight, unit, stable=None, net=net, raw=raw)


def encode_ww(
    weight: Decimal | int | float | str,
    decimals: int = 3,
    *,
    kind: str = "w",
    unit: str = "kg",
    width: int = 9,
    crlf: bool = True,
) -> bytes:
    """A ``ww``/``wn``/``wt`` line; ``kind`` is ``w``, ``n`` or ``t``."""
    text = format_fixed(weight, decimals)
    if text.startswith("-"):
        text = "-" + text[1:].rjust(width - 1, "0")
    else:
        text = text.rjust(width, "0")
    end = b"\r\n" if crlf else b"\n"
    return b"w" + kind.encode("ascii") + text.encode("ascii") + unit.encode() + end


class YaohuaA12WwDecoder(LineDecoder):
    label = "yaohua_a12_ww"
    frame_re = re.compile(rb"w([wnt])([-+0-9. ]{1,12}?)(kg|lb|t|g)\r?\n\Z")
    header_re = re.compile(rb"w[wnt][-+0-9]")

    def _decode_match(self, m: re.Match[bytes], raw: bytes) -> Result:
        weight = parse_number(m.group(2))
        unit = unit_name(m.group(3))
        if weight is None or unit is None:
            return self.reject(raw, "bad weight field")
        net, tare = m.group(1) == b"n", m.group(1) == b"t"
        return Reading(self.label, weight, unit, stable=None, net=net, raw=raw,
                       tare=tare)
