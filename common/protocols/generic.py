"""A configurable decoder for ASCII indicators that have no decoder of their own.

Field engineers meet indicators whose manual is lost. If the output is a line of
text with the weight in it, this decoder can be set up from what a capture
shows, with constructor arguments (booth config keys of the same names):

``start``
    bytes a frame starts with (``b""``: none; then a frame is a whole line).
``end``
    bytes a frame ends with (default CR LF). With ``end=b""``, ``length`` gives
    a fixed frame length counted from ``start``.
``field`` / ``pattern``
    where the weight is: a ``(first, stop)`` slice of the frame body (between
    start and end), or a regular expression searched in the body whose group
    ``weight`` (or group 1) is the weight; a group ``unit`` gives the unit. With
    neither, the first number in the body is the weight.
``reverse``
    the weight characters come low digit first.
``decimals``
    a weight field without a point carries this many implied decimals.
``negative_marker``
    bytes whose presence in the body makes the weight negative (for formats that
    put the sign away from the digits); a ``-`` in the field works anyway.
``stable_marker`` / ``motion_marker``
    bytes whose presence means stable / in motion; with neither, ``stable`` is
    None.
``overload_marker``
    bytes whose presence means overload (no weight).

This is not a documented protocol, so nothing here comes from a source: it is
our own tool, and it proves nothing about a line it is set up to read. There is
no checksum; the number must parse strictly, so a damaged field is refused, but a
changed digit is not seen. Protocol detection never picks this decoder.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from .base import Decoder, Reading, Result
from .framing import parse_number, reject, unit_name

logger = logging.getLogger(__name__)

DEFAULT_PATTERN = rb"(?P<weight>[-+]? *[0-9]+(?:\.[0-9]+)?) *(?P<unit>kg|lb|t|g)?"


class GenericAsciiDecoder(Decoder):
    label = "generic_ascii"

    def __init__(
        self,
        unit: str | None = None,
        *,
        start: bytes = b"",
        end: bytes = b"\r\n",
        length: int | None = None,
        field: tuple[int, int] | None = None,
        pattern: str | bytes | None = None,
        reverse: bool = False,
        decimals: int | None = None,
        negative_marker: bytes | None = None,
        stable_marker: bytes | None = None,
        motion_marker: bytes | None = None,
        overload_marker: bytes | None = None,
        max_len: int = 128,
    ) -> None:
        super().__init__(unit)
        if not end and not (start and length):
            raise ValueError("give an end marker, or a start marker and a length")
        if field is not None and pattern is not None:
            raise ValueError("give a field slice or a pattern, not both")
        self.start, self.end, self.length = start, end, length
        self.field = field
        text = pattern.encode() if isinstance(pattern, str) else pattern
        self.pattern = re.compile(text or DEFAULT_PATTERN)
        self.reverse, self.decimals = reverse, decimals
        self.negative_marker = negative_marker
        self.stable_marker, self.motion_marker = stable_marker, motion_marker
        self.overload_marker = overload_marker
        self.max_len = max_len

    def _decode_buffer(self, buf: bytearray) -> list[Result]:
        out: list[Result] = []
        while True:
            frame = self._next_frame(buf)
            if frame is None:
                if len(buf) > self.max_len:
                    drop = len(buf) - self.max_len
                    del buf[:drop]
                    self.counters.bytes_skipped += drop
                return out
            if frame:
                out.append(self._decode_frame(frame))

    def _next_frame(self, buf: bytearray) -> bytes | None:
        """Take the next frame off ``buf``; b"" for skipped noise, None to wait."""
        if not self.end:
            return self._next_fixed(buf)
        stop = buf.find(self.end)
        if stop < 0:
            return None
        line = bytes(buf[: stop + len(self.end)])
        del buf[: stop + len(self.end)]

        # With a start marker, noise before its last occurrence is skipped.
        first = line.rfind(self.start, 0, stop) if self.start else 0
        if first < 0:
            self.counters.bytes_skipped += len(line)
            return b""
        self.counters.bytes_skipped += first
        return line[first:]

    def _next_fixed(self, buf: bytearray) -> bytes | None:
        assert self.length is not None
        first = buf.find(self.start)
        if first < 0:
            keep = len(self.start) - 1
            self.counters.bytes_skipped += max(len(buf) - keep, 0)
            del buf[: max(len(buf) - keep, 0)]
            return None
        self.counters.bytes_skipped += first
        del buf[:first]
        if len(buf) < self.length:
            return None
        frame = bytes(buf[: self.length])
        del buf[: self.length]
        return frame

    def _decode_frame(self, frame: bytes) -> Result:
        body = frame[len(self.start) : len(frame) - len(self.end)]
        if self.overload_marker and self.overload_marker in body:
            return Reading(self.label, None, self.unit, overload=True, raw=frame)

        text, unit = self._weight_text(body)
        weight = self._weight(text) if text is not None else None
        if weight is None:
            return reject(self, frame, "no weight in frame")
        if self.negative_marker and self.negative_marker in body:
            weight = -abs(weight)
        return Reading(self.label, weight, unit, stable=self._stable(body), raw=frame)

    def _weight_text(self, body: bytes) -> tuple[bytes | None, str]:
        if self.field is not None:
            return body[self.field[0] : self.field[1]], self.unit
        m = self.pattern.search(body)
        if m is None:
            return None, self.unit
        groups = m.groupdict()
        text = groups.get("weight") or (m.group(1) if m.re.groups else m.group(0))
        unit_text = groups.get("unit")
        unit = unit_name(unit_text) if unit_text else None
        return text, unit or self.unit

    def _weight(self, text: bytes) -> Decimal | None:
        if self.reverse:
            text = text[::-1]
        value = parse_number(text)
        if value is None or self.decimals is None or b"." in text:
            return value
        return value.scaleb(-self.decimals)

    def _stable(self, body: bytes) -> bool | None:
        if self.stable_marker:
            return self.stable_marker in body
        if self.motion_marker:
            return self.motion_marker not in body
        return None
