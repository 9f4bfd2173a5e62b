"""Which protocol is this indicator speaking, and at which serial settings?

Commissioning a booth often starts with an indicator nobody has the manual for.
:func:`detect_protocol` runs a captured chunk of its output through every
registered decoder (except ``generic_ascii``, which reads anything it is set up
for) and keeps the one that reads it cleanly. :func:`scan_port` does the same
over the serial settings in :func:`serial_settings_to_try`, through an
``open_port`` callable so that it can be tested on captured bytes.

Some captures fit two decoders: Yaohua tF=0 and Keli D2008F tf=0 are the same
frame, and a new-D2+ stream is A26 format 1 seen one byte later. The first
registered wins a tie, and the engineer confirms the reading on the display.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from . import DECODERS, make_decoder
from .base import Reading, Rejected

logger = logging.getLogger(__name__)

NOT_DETECTABLE = frozenset({"generic_ascii"})
# Most likely first: 9600 is the common factory setting, 1200 next in the field.
BAUDS = (9600, 1200, 2400, 4800, 19200, 38400, 57600, 115200)
FRAMINGS = ((8, "N"), (7, "E"))


class ScanError(Exception):
    """The port could not be opened at any setting (the world's fault)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """How well one protocol read a capture."""

    label: str
    readings: list[Reading]
    rejected: int
    skipped: int

    @property
    def weighed(self) -> int:
        """Readings that say something about the load (weight or over/under)."""
        return sum(
            1
            for r in self.readings
            if r.weight is not None or r.overload or r.underload
        )

    @property
    def ratio(self) -> float:
        total = len(self.readings) + self.rejected
        return len(self.readings) / total if total else 0.0

    @property
    def median_magnitude(self) -> Decimal:
        """The middle |weight|: the tie-breaker between readings of one capture
        that differ only in direction (see :func:`rank_protocols`)."""
        values = sorted(abs(r.weight) for r in self.readings if r.weight is not None)
        return values[len(values) // 2] if values else Decimal(0)


def _try(label: str, data: bytes, unit: str | None) -> Candidate | None:
    decoder = make_decoder(label, unit=unit)
    try:
        results = decoder.feed(data)
    except Exception:  # a decoder must never raise: our bug, but keep scanning
        logger.exception("decoder %s raised on a capture", label)
        return None
    readings = [r for r in results if isinstance(r, Reading)]
    rejected = sum(1 for r in results if isinstance(r, Rejected))
    return Candidate(label, readings, rejected, decoder.counters.bytes_skipped)


def rank_protocols(
    data: bytes, unit: str | None = None, labels: Iterable[str] | None = None
) -> list[Candidate]:
    """Every protocol's reading of ``data``, best first.

    Best is fewest rejects, then the best share of good frames, then most frames
    with a weight, then fewest skipped bytes. Left to right and right to left
    readings of a zero-padded field can both be clean (``=0031580`` is 31580 in
    A26 format 2 and 8513000 read backwards as format 1); the smaller median
    weight wins then, since reading a padded field backwards turns its padding
    into low digits and its low digits into high ones. Registry order settles
    what is still tied.
    """
    order = [lb for lb in (labels or DECODERS) if lb not in NOT_DETECTABLE]
    tried = [c for lb in order if (c := _try(lb, data, unit)) is not None]
    position = {c.label: i for i, c in enumerate(tried)}

    def score(c: Candidate) -> tuple[bool, float, int, int, Decimal, int]:
        return (
            c.rejected == 0,
            c.ratio,
            c.weighed,
            -c.skipped,
            -c.median_magnitude,
            -position[c.label],
        )

    return sorted(tried, key=score, reverse=True)


def detect_protocol(
    data: bytes,
    unit: str | None = None,
    *,
    min_frames: int = 3,
    min_ratio: float = 0.9,
) -> tuple[str, list[Reading]] | None:
    """The protocol that reads ``data`` consistently, with its readings, or None.

    Consistently means at least ``min_frames`` frames that carry a weight (or an
    over/under flag) and at least ``min_ratio`` of all frames good; among those,
    fewest rejects, then most frames, then fewest skipped bytes.
    """
    for c in rank_protocols(data, unit):
        if c.weighed >= min_frames and c.ratio >= min_ratio:
            return c.label, c.readings
    return None


@dataclass(frozen=True, slots=True)
class SerialSetting:
    baud: int
    bytesize: int
    parity: str
    stopbits: int = 1

    def __str__(self) -> str:
        return f"{self.baud} {self.bytesize}{self.parity}{self.stopbits}"


def serial_settings_to_try(
    bauds: Iterable[int] = BAUDS,
    framings: Iterable[tuple[int, str]] = FRAMINGS,
) -> list[SerialSetting]:
    """Baud rates × character framings (8N1, 7E1), most likely first."""
    framings = list(framings)
    return [SerialSetting(b, size, parity) for b in bauds for size, parity in framings]


class PortReader(Protocol):
    """What :func:`scan_port` needs of an open port (a pyserial Serial fits)."""

    def read(self, size: int = 1) -> bytes: ...

    def close(self) -> None: ...


OpenPort = Callable[[str, int, int, str], PortReader]


@dataclass(frozen=True, slots=True)
class ScanResult:
    setting: SerialSetting
    label: str
    readings: list[Reading]


def open_serial(url: str, baud: int, bytesize: int, parity: str) -> PortReader:
    """Open ``url`` with pyserial (``COM3``, ``/dev/ttyUSB0``, ``loop://``...)."""
    import serial  # pyserial; imported here so decoding needs no serial stack

    port: PortReader = serial.serial_for_url(
        url, baudrate=baud, bytesize=bytesize, parity=parity, stopbits=1, timeout=0.25
    )
    return port


def _capture(port: PortReader, capture_bytes: int, max_reads: int) -> bytes:
    data = bytearray()
    for _ in range(max_reads):
        data += port.read(min(64, capture_bytes - len(data)))
        if len(data) >= capture_bytes:
            break
    return bytes(data)


def scan_port(
    url: str,
    open_port: OpenPort = open_serial,
    *,
    settings: Iterable[SerialSetting] | None = None,
    unit: str | None = None,
    capture_bytes: int = 256,
    max_reads: int = 16,
) -> ScanResult | None:
    """Try each serial setting on ``url`` until a protocol is detected.

    Returns None when the port opened but nothing decoded; raises
    :class:`ScanError` when it could not be opened at any setting.
    """
    opened, last_error = False, None
    for setting in settings or serial_settings_to_try():
        try:
            port = open_port(url, setting.baud, setting.bytesize, setting.parity)
        except OSError as err:  # pyserial's SerialException is an OSError
            logger.debug("cannot open %s at %s: %s", url, setting, err)
            last_error = err
            continue
        opened = True
        try:
            data = _capture(port, capture_bytes, max_reads)
        finally:
            port.close()

        found = detect_protocol(data, unit)
        if found is not None:
            logger.info("%s speaks %s at %s", url, found[0], setting)
            return ScanResult(setting, found[0], found[1])
    if not opened:
        raise ScanError(f"cannot open {url}: {last_error}") from last_error
    logger.info("no known protocol on %s at any setting tried", url)
    return None
