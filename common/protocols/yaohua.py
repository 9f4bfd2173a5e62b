"""Yaohua (耀华) XK3190 continuous output, "tF=0" (A9, A9+, DS1, DS3, DS10, D9…).

Layout, from the Yaohua DS10 manual §5.3 and the A9+ manual pp. 9–10 (facts in
shared/PROTOCOLS.md §1). Twelve bytes, all ASCII but the framing bytes::

    02  sign  d d d d d d  n  X X  03
        '+'/'-'  six digits, most significant first, no decimal point
                          n: how many of the digits are decimals ('0'…'4')
                             X X: XOR of sign, digits and n, as two uppercase
                                  hex characters

The frame carries no unit (the indicator's display unit is configured on the
booth), no motion flag and no overload code. Keli D2008F sends the same frame
with tf=0.

What the check can and cannot catch: the XOR sees any single flipped bit in the
sign, digits or decimal count, and any odd number of flips in one bit position.
It cannot see two digits swapped (1560 and 1650 carry the same check, 0x19), nor
two flips in the same bit position of two bytes.
"""

from __future__ import annotations

from decimal import Decimal

from .base import Decoder, Reading, Rejected, Result, ascii_hex_nibbles, xor

STX, ETX = 0x02, 0x03
FRAME_LEN = 12


def encode_tf0(weight: Decimal | int, decimals: int = 0) -> bytes:
    """Build a tF=0 frame (used by the simulator and tests)."""
    scaled = int((Decimal(weight) * (10**decimals)).to_integral_value())
    sign = b"-" if scaled < 0 else b"+"
    digits = b"%06d" % min(abs(scaled), 999_999)
    body = sign + digits + b"%d" % decimals
    return bytes([STX]) + body + ascii_hex_nibbles(xor(body)) + bytes([ETX])


def parse_signed_digits(sign: int, digits: bytes, decimals: int) -> Decimal | None:
    """The displayed value from a sign byte, ASCII digits and a decimal count."""
    if sign not in b"+-" or not digits.isdigit():
        return None
    value = Decimal(int(digits)).scaleb(-decimals)
    return -value if sign == ord("-") else value


class YaohuaTf0Decoder(Decoder):
    label = "yaohua_tf0"

    def _decode_buffer(self, buf: bytearray) -> list[Result]:
        out: list[Result] = []
        while True:
            if not self._skip_to(buf, STX):
                return out
            if len(buf) < FRAME_LEN:
                # A second STX inside a short buffer means the first frame lost
                # bytes: resynchronise on the later one.
                nxt = buf.find(STX, 1)
                if nxt > 0:
                    out.append(
                        Rejected(self.label, bytes(buf[:nxt]), "truncated frame")
                    )
                    del buf[:nxt]
                    continue
                return out
            frame = bytes(buf[:FRAME_LEN])
            if frame[-1] != ETX or STX in frame[1:]:
                nxt = buf.find(STX, 1, FRAME_LEN)
                cut = nxt if nxt > 0 else 1
                out.append(Rejected(self.label, bytes(buf[:cut]), "bad framing"))
                del buf[:cut]
                continue
            del buf[:FRAME_LEN]
            out.append(self._decode_frame(frame))

    def _decode_frame(self, frame: bytes) -> Result:
        body, check = frame[1:9], frame[9:11]
        if check != ascii_hex_nibbles(xor(body)):
            return Rejected(self.label, frame, "checksum mismatch")
        dec = frame[8] - 0x30
        if not 0 <= dec <= 4:
            return Rejected(self.label, frame, "decimal count out of range")
        weight = parse_signed_digits(frame[1], frame[2:8], dec)
        if weight is None:
            return Rejected(self.label, frame, "non-digit in weight field")
        return Reading(self.label, weight, self.unit, stable=None, raw=frame)


class KeliD2008fTf0Decoder(YaohuaTf0Decoder):
    label = "keli_d2008f_tf0"
