"""Pieces shared by the text-framed indicator protocols.

Most indicators that are not Yaohua tF=0 send ASCII: a weight written out with an
optional sign and decimal point, a unit, and a line ending. This module holds the
strict number reader they share (garbage must never become a weight), the encoder
helpers the simulator uses, and :class:`LineDecoder`, a decoder that cuts the
stream into lines and hands each line to a per-protocol regular expression.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import ClassVar

from .base import Decoder, Reading, Rejected, Result

# Optional sign, blanks allowed between sign and digits (right-aligned fields),
# digits with at most one decimal point, at least one digit.
_NUMBER = re.compile(rb" *([+-]?) *([0-9]+(?:\.[0-9]*)?|\.[0-9]+) *")

# Units as they appear in frames, to the names Reading uses.
UNIT_NAMES: dict[bytes, str] = {
    b"kg": "kg",
    b"t": "t",
    b"g": "g",
    b"lb": "lb",
    b"lbs": "lb",
}


def parse_number(text: bytes, *, comma: bool = False) -> Decimal | None:
    """The displayed value of an ASCII weight field, or None if it is not one.

    Accepts ``"  12.340"``, ``"-0001.00"``, ``"- 12"`` and ``"051200."``; refuses
    anything with a letter, a second point, a sign after a digit, or no digit.
    ``comma`` reads ``,`` as the decimal point (some Keli firmware).
    """
    if comma:
        text = text.replace(b",", b".")
    m = _NUMBER.fullmatch(text)
    if m is None:
        return None
    value = Decimal(m.group(2).decode("ascii"))
    return -value if m.group(1) == b"-" else value


def scaled_int(weight: Decimal | int | float | str, decimals: int) -> int:
    """The weight as an integer count of the last displayed digit."""
    return int((Decimal(str(weight)) * Decimal(10) ** decimals).to_integral_value())


def format_fixed(weight: Decimal | int | float | str, decimals: int) -> str:
    """``12.3, 2`` → ``'12.30'``; ``-1, 1`` → ``'-1.0'`` (no padding)."""
    scaled = scaled_int(weight, decimals)
    digits = str(abs(scaled)).rjust(decimals + 1, "0")
    text = digits if decimals <= 0 else f"{digits[:-decimals]}.{digits[-decimals:]}"
    return f"-{text}" if scaled < 0 else text


def unit_name(raw: bytes) -> str | None:
    """A unit field (any case, blanks around it) to a Reading unit, or None."""
    return UNIT_NAMES.get(raw.strip().lower())


class LineDecoder(Decoder):
    """A decoder for protocols whose frames end in a fixed terminator.

    Each complete line (terminator included) goes to :attr:`frame_re`, searched so
    that noise in front of a frame is skipped; the match must run to the end of
    the line. A line that does not match but contains :attr:`header_re` is a
    damaged frame and is rejected; any other line is noise.
    """

    terminator: ClassVar[bytes] = b"\n"
    frame_re: ClassVar[re.Pattern[bytes]]
    header_re: ClassVar[re.Pattern[bytes] | None] = None
    max_line: ClassVar[int] = 96

    def _decode_buffer(self, buf: bytearray) -> list[Result]:
        out: list[Result] = []
        term = self.terminator
        while True:
            end = buf.find(term)
            if end < 0:
                self._drop_overlong(buf)
                return out

            # A frame ends at its line end, so only the tail of an overlong line
            # can hold one (the same tail _drop_overlong keeps of a line still
            # waiting for its end).
            stop = end + len(term)
            first = max(stop - self.max_line - len(term), 0)
            self.counters.bytes_skipped += first
            line = bytes(buf[first:stop])
            del buf[:stop]
            result = self._decode_line(line)
            if result is not None:
                out.append(result)

    def _drop_overlong(self, buf: bytearray) -> None:
        # A line longer than any frame is noise; keep only a frame's worth of tail.
        if len(buf) > self.max_line:
            drop = len(buf) - self.max_line
            del buf[:drop]
            self.counters.bytes_skipped += drop

    def _decode_line(self, line: bytes) -> Result | None:
        m = self.frame_re.search(line)
        if m is None:
            if self.header_re is not None and self.header_re.search(line):
                return self.reject(line, "malformed frame")
            self.counters.bytes_skipped += len(line)
            return None

        self.counters.bytes_skipped += m.start()
        return self._decode_match(m, m.group(0))

    def _decode_match(self, m: re.Match[bytes], raw: bytes) -> Result:
        raise NotImplementedError

    def reject(self, raw: bytes, error: str) -> Rejected:
        return reject(self, raw, error)

    def no_weight(
        self,
        raw: bytes,
        unit: str | None,
        *,
        overload: bool = False,
        underload: bool = False,
        net: bool = False,
    ) -> Reading:
        """A Reading that carries no usable weight (over/underload, error reply)."""
        return Reading(
            self.label,
            None,
            unit,
            stable=None,
            overload=overload,
            underload=underload,
            net=net,
            raw=raw,
        )


def reject(decoder: Decoder, raw: bytes, error: str) -> Rejected:
    """A Rejected for ``raw``, logged on the decoder module's own logger.

    A checksum failure is a warning (a line problem an engineer should hear
    about); framing trouble is expected whenever a reader starts mid-stream. A
    quiet decoder (one on trial during detection) logs nothing.
    """
    level = logging.WARNING if "checksum" in error else logging.DEBUG
    log = logging.getLogger(type(decoder).__module__)
    if not decoder.quiet and log.isEnabledFor(level):
        log.log(level, "%s: %s (%s)", decoder.label, error, raw.hex(" "))
    return Rejected(decoder.label, raw, error)
