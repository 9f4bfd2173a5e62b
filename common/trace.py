"""A weight trace: the readings from drive-on to capture, kept as evidence (R14).

A weighing record stores the trace beside the captured weight, so anyone can see
later how the reading behaved before it was taken, and :func:`replay` can run it
through the stability detector again (with today's or another configuration).

The JSON form is compact, one short array per frame::

    {"format": "weight-trace", "version": 1, "meta": {...}, "dropped": 0,
     "points": [[0, 0], [100, 1520], [200, null, "o"], [300, 49320, "sc"]],
     "frames": [[0, "02FF..."], ...]}

A point is ``[t_ms, kg]`` with ``t_ms`` counted from the first frame and ``kg`` null
when the frame had no usable weight; a third element, present only when needed,
holds one letter per flag: ``s``/``m`` the indicator's stable/motion flag, ``c``/``b``
light curtains clear/blocked, ``o`` overload. ``frames`` holds the raw bytes of the
frames, hex-encoded, when they were recorded.

The CSV form (:meth:`WeightTrace.to_csv`) is for engineers and test data: ``# key:
value`` comment lines for the metadata, then columns ``t_s, weight_kg, stable_flag,
curtain_clear, overload``, an empty cell meaning "not reported".
"""

from __future__ import annotations

import csv
import io
import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from common.protocols.base import Reading
from common.stability import Stability, StabilityConfig, StabilityDetector

FORMAT = "weight-trace"
VERSION = 1
CSV_COLUMNS = ("t_s", "weight_kg", "stable_flag", "curtain_clear", "overload")

# Ten minutes of a 10 Hz indicator: a truck that is never captured must not grow
# the record without bound. Past this the oldest points are dropped and counted.
DEFAULT_MAX_POINTS = 6000


class TraceError(Exception):
    """Base of this module's errors."""


class TraceFormatError(TraceError, ValueError):
    """A stored trace that cannot be read back (damaged, or another format)."""


@dataclass(frozen=True, slots=True)
class TracePoint:
    """One frame, ``t_s`` seconds after the first one."""

    t_s: float
    weight_kg: int | None
    stable_flag: bool | None = None
    overload: bool = False
    curtain_clear: bool | None = None

    def flag_letters(self) -> str:
        letters = {True: "s", False: "m", None: ""}[self.stable_flag]
        letters += {True: "c", False: "b", None: ""}[self.curtain_clear]
        return letters + ("o" if self.overload else "")

    @classmethod
    def from_letters(
        cls, t_s: float, weight_kg: int | None, letters: str
    ) -> TracePoint:
        if set(letters) - set("smcbo"):
            raise TraceFormatError(f"unknown flags {letters!r} at {t_s} s")
        return cls(
            t_s,
            weight_kg,
            stable_flag=_either(letters, "s", "m", t_s),
            overload="o" in letters,
            curtain_clear=_either(letters, "c", "b", t_s),
        )


def _either(letters: str, yes: str, no: str, t_s: float) -> bool | None:
    if yes in letters and no in letters:
        raise TraceFormatError(f"flags {letters!r} contradict each other at {t_s} s")
    return True if yes in letters else False if no in letters else None


class WeightTrace:
    """Points (and optionally raw frames) recorded from drive-on to capture."""

    def __init__(
        self,
        *,
        meta: dict[str, str] | None = None,
        max_points: int | None = DEFAULT_MAX_POINTS,
    ) -> None:
        self.meta: dict[str, str] = dict(meta or {})
        self.dropped = 0
        self._origin: float | None = None
        self._points: deque[TracePoint] = deque(maxlen=max_points)
        self._frames: deque[tuple[float, str]] = deque(maxlen=max_points)

    def __len__(self) -> int:
        return len(self._points)

    @property
    def points(self) -> list[TracePoint]:
        return list(self._points)

    @property
    def frames(self) -> list[tuple[float, str]]:
        """``(t_s, hex)`` of each recorded raw frame."""
        return list(self._frames)

    @property
    def duration_s(self) -> float:
        return self._points[-1].t_s - self._points[0].t_s if self._points else 0.0

    # -- recording -----------------------------------------------------------------

    def add(
        self,
        t: float,
        weight_kg: int | None,
        *,
        stable_flag: bool | None = None,
        overload: bool = False,
        curtain_clear: bool | None = None,
        raw: bytes = b"",
    ) -> None:
        """Record a frame received at monotonic time ``t``."""
        if self._origin is None:
            self._origin = t
        offset = _to_ms(t - self._origin) / 1000

        if len(self._points) == self._points.maxlen:
            self.dropped += 1
        point = TracePoint(offset, weight_kg, stable_flag, overload, curtain_clear)
        self._points.append(point)
        if raw:
            self._frames.append((offset, raw.hex().upper()))

    def add_reading(
        self, t: float, reading: Reading, *, curtain_clear: bool | None = None
    ) -> None:
        """Record a decoded frame as it came from the indicator decoder."""
        self.add(
            t,
            reading.weight_kg,
            stable_flag=reading.stable,
            overload=reading.overload,
            curtain_clear=curtain_clear,
            raw=reading.raw,
        )

    def _append_point(self, point: TracePoint) -> None:
        # Points read back from storage are already offsets from the first frame.
        self._origin = 0.0
        self._points.append(point)

    # -- JSON ------------------------------------------------------------------------

    def to_json(self) -> str:
        points: list[list[object]] = []
        for p in self._points:
            row: list[object] = [_to_ms(p.t_s), p.weight_kg]
            if letters := p.flag_letters():
                row.append(letters)
            points.append(row)
        document = {
            "format": FORMAT,
            "version": VERSION,
            "meta": self.meta,
            "dropped": self.dropped,
            "points": points,
            "frames": [[_to_ms(t), hex_] for t, hex_ in self._frames],
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> WeightTrace:
        try:
            document = json.loads(text)
            if document.get("format") != FORMAT or document.get("version") != VERSION:
                raise TraceFormatError("not a version 1 weight trace")
            meta = {str(k): str(v) for k, v in document["meta"].items()}
            trace = cls(meta=meta, max_points=None)
            trace.dropped = int(document["dropped"])
            for row in document["points"]:
                trace._append_point(_point_from_row(row))
            for t_ms, hex_ in document["frames"]:
                bytes.fromhex(hex_)  # validates
                trace._frames.append((int(t_ms) / 1000, str(hex_)))
        except TraceFormatError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            raise TraceFormatError(f"damaged weight trace: {err}") from err
        return trace

    # -- CSV ---------------------------------------------------------------------------

    def to_csv(self) -> str:
        out = io.StringIO()
        for key, value in self.meta.items():
            out.write(f"# {key}: {value}\n")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for p in self._points:
            writer.writerow(
                [
                    f"{p.t_s:.3f}",
                    _cell(p.weight_kg),
                    _cell(p.stable_flag),
                    _cell(p.curtain_clear),
                    _cell(p.overload or None),
                ]
            )
        return out.getvalue()

    @classmethod
    def from_csv(cls, text: str) -> WeightTrace:
        lines = text.splitlines()
        comments = [line[1:] for line in lines if line.startswith("#")]
        meta = dict(_meta_line(line) for line in comments if ":" in line)
        trace = cls(meta=meta, max_points=None)

        body = (line for line in lines if line.strip() and not line.startswith("#"))
        try:
            for row in csv.DictReader(body):
                trace._append_point(_point_from_csv(row))
        except (ValueError, KeyError) as err:
            raise TraceFormatError(f"damaged trace CSV: {err}") from err
        return trace


def replay(trace: WeightTrace, config: StabilityConfig) -> list[Stability]:
    """Run a trace through a fresh detector: one verdict per recorded point."""
    return replay_points(trace.points, config)


def replay_points(
    points: Iterable[TracePoint], config: StabilityConfig
) -> list[Stability]:
    detector = StabilityDetector(config)
    return [
        detector.update(
            p.t_s,
            p.weight_kg,
            stable_flag=p.stable_flag,
            overload=p.overload,
            curtain_clear=p.curtain_clear,
        )
        for p in points
    ]


def _to_ms(seconds: float) -> int:
    return round(seconds * 1000)


def _point_from_row(row: object) -> TracePoint:
    if not isinstance(row, list) or len(row) not in (2, 3):
        raise TraceFormatError(f"bad point {row!r}")
    t_ms, kg = row[0], row[1]
    letters = row[2] if len(row) == 3 else ""
    if not isinstance(t_ms, int) or not (kg is None or isinstance(kg, int)):
        raise TraceFormatError(f"bad point {row!r}")
    if not isinstance(letters, str):
        raise TraceFormatError(f"bad point {row!r}")
    return TracePoint.from_letters(t_ms / 1000, kg, letters)


def _cell(value: int | bool | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _flag(cell: str | None) -> bool | None:
    cell = (cell or "").strip()
    if cell == "":
        return None
    if cell in ("1", "0"):
        return cell == "1"
    raise ValueError(f"flag cell {cell!r} is not 1, 0 or empty")


def _point_from_csv(row: dict[str, str | None]) -> TracePoint:
    weight = (row["weight_kg"] or "").strip()
    return TracePoint(
        round(float(row["t_s"] or ""), 3),
        int(weight) if weight else None,
        stable_flag=_flag(row.get("stable_flag")),
        overload=_flag(row.get("overload")) is True,
        curtain_clear=_flag(row.get("curtain_clear")),
    )


def _meta_line(line: str) -> tuple[str, str]:
    key, _, value = line.partition(":")
    return key.strip(), value.strip()
