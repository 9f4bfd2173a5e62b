"""Which protocol is this indicator speaking, and at which serial settings?

Commissioning a booth often starts with an indicator nobody has the manual for.
:func:`detect_protocol` runs a captured chunk of its output through every
registered decoder (except ``generic_ascii``, which reads anything it is set up
for) and keeps the one that reads it cleanly. :func:`scan_port` does the same
over the serial settings in :func:`serial_settings_to_try`, through an
``open_port`` callable so that it can be tested on captured bytes.

Some captures fit two decoders. Where they read the same weights that costs
nothing: Yaohua tF=0 and Keli D2008F tf=0 are the same frame, and a new-D2+ stream
is A26 format 1 seen one byte later. Where they read different weights the bytes
cannot settle it: ``=0003.000`` is 3.000 in A26 format 2 and, read backwards, a
well-formed format 1 frame of 0.3000. Detection then still picks one (see
:func:`rank_protocols`) but names the others in :attr:`Detection.ambiguous_with`,
and whoever shows the result must say so: the engineer has to choose.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from . import DECODERS, make_decoder
from .base import Reading, Rejected

logger = logging.getLogger(__name__)

NOT_DETECTABLE = frozenset({"generic_ascii"})
# Most likely first: 9600 is the common factory setting, 1200 next in the field.
BAUDS = (9600, 1200, 2400, 4800, 19200, 38400, 57600, 115200)
FRAMINGS = ((8, "N"), (7, "E"))
# How much of a capture file detect_capture reads.
DETECT_HEAD_BYTES = 64 * 1024


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

    @property
    def decimals(self) -> int:
        """The most decimals any reading shows (``0.3000`` shows four)."""
        places = [
            -exponent
            for r in self.readings
            if r.weight is not None
            and isinstance(exponent := r.weight.as_tuple().exponent, int)
        ]
        return max(places, default=0)

    @property
    def frame_bytes(self) -> int:
        """Bytes of the capture that went into good frames."""
        return sum(len(r.raw) for r in self.readings)

    @property
    def last(self) -> Reading | None:
        """The last reading with a weight: what the display showed at the end."""
        weighed = [r for r in self.readings if r.weight is not None]
        return weighed[-1] if weighed else None

    def agrees_with(self, other: Candidate) -> bool:
        """Whether two readings of one capture give the same weights. One may
        lack a frame the other read (a format seen one byte later loses the
        first), so the weights of one only have to be among the other's."""
        mine, theirs = self._weights(), other._weights()
        return mine <= theirs or theirs <= mine

    def _weights(self) -> set[tuple[Decimal, str | None]]:
        return {(r.weight, r.unit) for r in self.readings if r.weight is not None}


@dataclass(frozen=True, slots=True)
class Detection:
    """The protocol detection settled on, and the ones it could not rule out.

    ``rivals`` read the capture as well as ``chosen`` did but give different
    weights; when there are any, the choice is a guess and must be shown as one.
    """

    chosen: Candidate
    rivals: list[Candidate]

    @property
    def label(self) -> str:
        return self.chosen.label

    @property
    def readings(self) -> list[Reading]:
        return self.chosen.readings

    @property
    def ambiguous_with(self) -> list[str]:
        """Labels of the rivals; empty when the capture reads only one way."""
        return [c.label for c in self.rivals]


def _try(label: str, data: bytes, unit: str | None) -> Candidate | None:
    decoder = make_decoder(label, unit=unit)
    decoder.quiet = True
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
    readings of one ``=`` frame can both be clean (:func:`detect_protocol` then
    reports the capture as ambiguous); the order between them is a guess:

    - fewer decimals first. Read backwards, a field with d decimals shows 7 - d
      (``=0003.000`` is 3.000 or 0.3000), so a point makes one reading show 3
      and the other 4; 4 decimals in seven characters means a scale of about
      one unit at the 10 000 divisions allowed for trade, not a truck scale.
    - then the smaller median weight, since reading a zero-padded field backwards
      turns its padding into low digits (``=00031580`` is 31580, or 8513000).

    Registry order settles what is still tied.
    """
    order = [lb for lb in (labels or DECODERS) if lb not in NOT_DETECTABLE]
    tried = [c for lb in order if (c := _try(lb, data, unit)) is not None]
    position = {c.label: i for i, c in enumerate(tried)}

    def score(c: Candidate) -> tuple[bool, float, int, int, int, Decimal, int]:
        return (
            c.rejected == 0,
            c.ratio,
            c.weighed,
            -c.skipped,
            -c.decimals,
            -c.median_magnitude,
            -position[c.label],
        )

    return sorted(tried, key=score, reverse=True)


def _reads_short_capture(c: Candidate, size: int, min_frames: int) -> bool:
    """Whether ``c`` reads a capture too short to hold ``min_frames`` of its
    frames, cleanly: every frame good, and no more noise than one cut frame."""
    if c.rejected or not c.weighed:
        return False
    frame_len = c.frame_bytes / len(c.readings)
    return size < min_frames * frame_len and c.skipped < frame_len


def detect_protocol(
    data: bytes,
    unit: str | None = None,
    *,
    min_frames: int = 3,
    min_ratio: float = 0.9,
    allow_short: bool = False,
) -> Detection | None:
    """The protocol that reads ``data`` consistently, with its readings, or None.

    Consistently means at least ``min_frames`` frames that carry a weight (or an
    over/under flag) and at least ``min_ratio`` of all frames good; the best of
    those by :func:`rank_protocols` is chosen. With ``allow_short``, a capture
    too short to hold ``min_frames`` frames is read too, but only when it is
    nothing but good frames (a cut one at either end aside).

    Every other protocol that reads the capture as consistently, with no more
    rejects, but gives different weights is a rival: the detection is ambiguous.
    """
    ranked = rank_protocols(data, unit)
    readers = [c for c in ranked if c.weighed >= min_frames and c.ratio >= min_ratio]
    if not readers and allow_short:
        readers = [c for c in ranked if _reads_short_capture(c, len(data), min_frames)]
    if not readers:
        return None

    chosen = readers[0]
    rivals = [
        c
        for c in readers[1:]
        if c.rejected <= chosen.rejected and not c.agrees_with(chosen)
    ]
    return Detection(chosen, rivals)


def detect_capture(
    data: bytes,
    unit: str | None = None,
    *,
    head_bytes: int = DETECT_HEAD_BYTES,
    min_frames: int = 3,
) -> Detection | None:
    """:func:`detect_protocol` for a capture file of any length, short ones
    included. Every protocol's decoder reads what detection is given, so only the
    capture's head is tried (thousands of frames of any protocol); the whole
    capture only when the head says nothing."""
    found = detect_protocol(
        data[:head_bytes], unit, min_frames=min_frames, allow_short=True
    )
    if found is None and len(data) > head_bytes:
        found = detect_protocol(data, unit, min_frames=min_frames, allow_short=True)
    return found


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
    # Other protocols that read the capture as well, with other weights (see
    # Detection.ambiguous_with); the engineer must confirm on the display.
    ambiguous_with: list[str] = field(default_factory=list)


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
            logger.info("%s speaks %s at %s", url, found.label, setting)
            if found.ambiguous_with:
                logger.warning(
                    "%s at %s reads as %s but also as %s, with other weights",
                    url,
                    setting,
                    found.label,
                    ", ".join(found.ambiguous_with),
                )
            return ScanResult(
                setting, found.label, found.readings, found.ambiguous_with
            )
    if not opened:
        raise ScanError(f"cannot open {url}: {last_error}") from last_error
    logger.info("no known protocol on %s at any setting tried", url)
    return None
