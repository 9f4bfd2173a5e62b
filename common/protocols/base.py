"""What every weight-indicator decoder promises.

A decoder is fed raw bytes as they come off the serial port, in reads of any size,
and returns what it found: a :class:`Reading` per good frame, a :class:`Rejected`
per frame that failed its checksum or layout. Bytes that are not part of any frame
(noise, the tail of a frame we started reading in the middle) are skipped and
counted. A decoder never raises on bad input.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

# Raw device traffic is logged below DEBUG so that it can be switched on alone.
TRAFFIC = 5
logging.addLevelName(TRAFFIC, "TRAFFIC")

UNIT_TO_KG: dict[str, Decimal] = {
    "kg": Decimal(1),
    "t": Decimal(1000),
    "g": Decimal("0.001"),
    "lb": Decimal("0.45359237"),
}


@dataclass(frozen=True, slots=True)
class Reading:
    """One decoded frame.

    ``weight`` is the value as the indicator displays it, sign applied, or None when
    the frame carries no usable weight (overload, underload, an error reply). None is
    never zero: an empty scale is ``Decimal(0)``.
    """

    protocol: str
    weight: Decimal | None
    unit: str | None
    stable: bool | None = None
    overload: bool = False
    underload: bool = False
    net: bool = False
    raw: bytes = b""
    # A tare reading (an A12 'wt' line, a reply to a read-tare command): never
    # to be taken for the load on the platform.
    tare: bool = False

    @property
    def weight_kg(self) -> int | None:
        """The weight in whole kilograms (half up), or None."""
        if self.weight is None or self.unit not in UNIT_TO_KG:
            return None
        kg = self.weight * UNIT_TO_KG[self.unit]
        return int(kg.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def as_json(self) -> dict[str, object]:
        return {
            "protocol": self.protocol,
            "weight": None if self.weight is None else float(self.weight),
            "unit": self.unit,
            "weight_kg": self.weight_kg,
            "stable": self.stable,
            "overload": self.overload,
            "underload": self.underload,
            "net": self.net,
            "raw_hex": self.raw.hex().upper(),
        }


@dataclass(frozen=True, slots=True)
class Rejected:
    """A frame that looked like one but failed its checksum or layout."""

    protocol: str
    raw: bytes
    error: str

    def as_json(self) -> dict[str, object]:
        return {
            "protocol": self.protocol,
            "raw_hex": self.raw.hex().upper(),
            "error": self.error,
        }


Result = Reading | Rejected


@dataclass(slots=True)
class Counters:
    frames_ok: int = 0
    frames_bad: int = 0
    bytes_skipped: int = 0


class Decoder(ABC):
    """Streaming decoder for one indicator protocol.

    Subclasses set ``label`` (the name used in the test vectors and in booth
    configs) and implement :meth:`_decode_buffer`.
    """

    label: ClassVar[str]
    # Formats that carry no unit report the configured one.
    default_unit: ClassVar[str] = "kg"
    # Longest frame plus slack; a buffer that grows past this without a frame is
    # noise, and its head is dropped.
    max_buffer: ClassVar[int] = 256

    def __init__(self, unit: str | None = None) -> None:
        self.unit = unit or self.default_unit
        self.counters = Counters()
        # Detection runs every decoder over a capture; the ones on trial must not
        # log a warning per frame they refuse, so detection sets this.
        self.quiet = False
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Result]:
        """Add bytes from the port; return the frames they completed."""
        self._buf += data
        results = self._decode_buffer(self._buf)
        if len(self._buf) > self.max_buffer:
            drop = len(self._buf) - self.max_buffer
            del self._buf[:drop]
            self.counters.bytes_skipped += drop
        for r in results:
            if isinstance(r, Reading):
                self.counters.frames_ok += 1
            else:
                self.counters.frames_bad += 1
        return results

    def reset(self) -> None:
        """Forget partial input (after a reconnect, or a flushed port)."""
        self._buf.clear()

    def _skip_to(self, buf: bytearray, marker: int) -> bool:
        """Drop (and count) the bytes before the next ``marker`` byte; False when
        there is none and the whole buffer was noise."""
        start = buf.find(marker)
        if start < 0:
            self.counters.bytes_skipped += len(buf)
            buf.clear()
            return False
        if start:
            self.counters.bytes_skipped += start
            del buf[:start]
        return True

    @abstractmethod
    def _decode_buffer(self, buf: bytearray) -> list[Result]:
        """Take every complete frame off the front of ``buf``.

        Consume (delete) what was decoded and the noise before it; leave an
        incomplete frame in place for the next read.
        """


def ascii_hex_nibbles(value: int) -> bytes:
    """A byte as two uppercase ASCII hex characters (the Yaohua rule: a nibble
    up to 9 gets +0x30, above 9 gets +0x37)."""
    return b"%02X" % (value & 0xFF)


def xor(data: bytes | bytearray) -> int:
    acc = 0
    for b in data:
        acc ^= b
    return acc
