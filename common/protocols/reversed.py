"""The ``=`` formats: Yaohua D2+-compatible reversed ASCII and the A26 ``=`` frames.

None of these carries a checksum, a unit or a motion flag; the unit is the one the
indicator is configured for. Facts from shared/PROTOCOLS.md §3.

**D2+ reversed** (Yaohua DS10 manual §5.3(3), TF=2..5; Keli D2008F tf=2/3 and
"3198B/XK3190-D2+" per ``linqiang105/weight2013`` ``MeterUtil.pas``). The weight
is written low digit first, point included, and each frame is followed by ``=``::

    old D2+   5 1 . 0 7 0 0 =        7 characters: 70.15
    new D2+   5 1 . 0 7 0 0 0 =      8 characters; the last one is the sign
                                     position ('0' or '-'), as in A26 format 1

The stream has no start marker, so a frame is only known to be whole when an
``=`` came before it. The first frame after power-up or a dropped byte is taken
only at a documented length (7 or 8). FIXME(protocols): with ``chars`` unset, a
new-format frame that lost exactly its first (lowest) digit looks like a whole
old-format frame, and the very first reading can be one digit short; the decoder
learns the length from the first ``=``-bounded frame and holds to it after that.
Configure ``chars`` on site to remove the doubt.

**A26 format 1 / A23P format 2** (Yaohua A26 manual pp. 10–11, A23P p. 21)::

    =  w w w w w w w  s        seven characters with the point, low digit first,
                               then the sign, '0' positive or '-' negative

``=000.3000`` is 3.000 and ``=00.1000-`` is −1.00. Seen as a stream this is the
new D2+ format started one byte earlier; both decoders read it the same.

**A26 format 2**::

    =  s  w w w w w w w        sign position '0'/'-', then high digit first

``=0003.000`` is 3.000, ``=-0001.00`` is −1.00.

What the layout can and cannot catch: only characters outside digits, point and
sign, a second point, a sign in the wrong place and a wrong length. A flipped bit
that turns one digit into another goes through unseen.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from .base import Decoder, Reading, Result
from .framing import format_fixed, parse_number, reject

logger = logging.getLogger(__name__)

EQ = ord("=")
DIGITS_POINT = frozenset(b"0123456789.")
REVERSED_ALPHABET = frozenset(b"0123456789.-")
SIGN_POSITIONS = b"0-"


def _field(weight: Decimal | int | float | str, decimals: int, width: int) -> str:
    """``width`` characters, high digit first, zero-padded; a leading '-' if
    negative."""
    text = format_fixed(weight, decimals)
    if text.startswith("-"):
        field = "-" + text[1:].rjust(width - 1, "0")
    else:
        field = text.rjust(width, "0")
    if len(field) != width:
        raise ValueError(f"{weight} does not fit a {width}-character field")
    return field


def encode_d2plus(
    weight: Decimal | int | float | str, decimals: int = 0, *, chars: int = 7
) -> bytes:
    """One D2+ frame (``chars`` 7 = old format, 8 = new) followed by its ``=``."""
    return _field(weight, decimals, chars)[::-1].encode("ascii") + b"="


def encode_eq_reversed_signed(
    weight: Decimal | int | float | str, decimals: int = 0
) -> bytes:
    """An A26 format 1 frame: ``=``, seven characters reversed, sign."""
    text = _field(abs(Decimal(str(weight))), decimals, 7)
    sign = b"-" if Decimal(str(weight)) < 0 else b"0"
    return b"=" + text[::-1].encode("ascii") + sign


def encode_eq_forward(weight: Decimal | int | float | str, decimals: int = 0) -> bytes:
    """An A26 format 2 frame: ``=``, sign position, seven characters."""
    text = _field(abs(Decimal(str(weight))), decimals, 7)
    sign = b"-" if Decimal(str(weight)) < 0 else b"0"
    return b"=" + sign + text.encode("ascii")


def _unsigned(chars: bytes) -> Decimal | None:
    """Digits with at most one point, nothing else."""
    if not chars or not DIGITS_POINT.issuperset(chars):
        return None
    return parse_number(chars)


class YaohuaD2plusDecoder(Decoder):
    label = "yaohua_d2plus_reversed"
    lengths = (7, 8)

    def __init__(self, unit: str | None = None, chars: int | None = None) -> None:
        super().__init__(unit)
        if chars is not None and chars not in self.lengths:
            raise ValueError(f"chars must be 7 or 8, not {chars}")
        self.chars = chars
        self._length = chars
        # True once an '=' was seen: the next frame then starts at a boundary.
        self._bounded = False

    def reset(self) -> None:
        super().reset()
        self._bounded = False

    def _decode_buffer(self, buf: bytearray) -> list[Result]:
        out: list[Result] = []
        while True:
            end = buf.find(EQ)
            if end < 0:
                self._drop_overlong(buf)
                return out

            segment = bytes(buf[:end])
            del buf[: end + 1]
            bounded, self._bounded = self._bounded, True
            result = self._decode_segment(segment, bounded)
            if result is not None:
                out.append(result)

    def _drop_overlong(self, buf: bytearray) -> None:
        if len(buf) > 2 * max(self.lengths):
            drop = len(buf) - max(self.lengths)
            del buf[:drop]
            self.counters.bytes_skipped += drop
            self._bounded = False

    def _decode_segment(self, segment: bytes, bounded: bool) -> Result | None:
        # Noise in front of a frame: keep what follows the last foreign byte.
        for i in range(len(segment) - 1, -1, -1):
            if segment[i] not in REVERSED_ALPHABET:
                self.counters.bytes_skipped += i + 1
                segment, bounded = segment[i + 1 :], False
                break

        allowed = self.lengths if self._length is None else (self._length,)
        raw = segment + b"="
        if len(segment) not in allowed:
            if bounded and segment:
                return reject(self, raw, "wrong frame length")
            self.counters.bytes_skipped += len(raw)
            return None

        weight = self._weight(segment[::-1])
        if weight is None:
            return reject(self, raw, "bad weight characters")
        if bounded and self._length is None:
            self._length = len(segment)
        return Reading(self.label, weight, self.unit, stable=None, raw=raw)

    @staticmethod
    def _weight(text: bytes) -> Decimal | None:
        # The new format's first character (after reversing) is the sign position.
        if len(text) == 8 and text[0] not in SIGN_POSITIONS:
            return None
        if text[0] == ord("-"):
            magnitude = _unsigned(text[1:])
            return None if magnitude is None else -magnitude
        return _unsigned(text)


class _EqFrameDecoder(Decoder):
    """Nine-byte frames that start with ``=``."""

    frame_len = 9

    def _decode_buffer(self, buf: bytearray) -> list[Result]:
        out: list[Result] = []
        while True:
            if not self._skip_to(buf, EQ):
                return out

            nxt = buf.find(EQ, 1, self.frame_len)
            if nxt > 0:
                out.append(reject(self, bytes(buf[:nxt]), "truncated frame"))
                del buf[:nxt]
                continue
            if len(buf) < self.frame_len:
                return out

            frame = bytes(buf[: self.frame_len])
            del buf[: self.frame_len]
            out.append(self._decode_frame(frame))

    def _decode_frame(self, frame: bytes) -> Result:
        raise NotImplementedError

    def _signed(self, frame: bytes, sign: int, chars: bytes) -> Result:
        magnitude = _unsigned(chars)
        if sign not in SIGN_POSITIONS or magnitude is None:
            return reject(self, frame, "bad weight characters")
        weight = -magnitude if sign == ord("-") else magnitude
        return Reading(self.label, weight, self.unit, stable=None, raw=frame)


class YaohuaEqReversedSignedDecoder(_EqFrameDecoder):
    label = "yaohua_eq_reversed_signed"

    def _decode_frame(self, frame: bytes) -> Result:
        return self._signed(frame, frame[8], frame[1:8][::-1])


class YaohuaEqForwardDecoder(_EqFrameDecoder):
    label = "yaohua_eq_forward"

    def _decode_frame(self, frame: bytes) -> Result:
        return self._signed(frame, frame[1], frame[2:9])
