"""Weight traces kept as evidence: recording, storing and replaying them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from common.protocols.base import Reading
from common.stability import StabilityConfig, StabilityState
from common.trace import TraceFormatError, TracePoint, WeightTrace, replay

TRACES_DIR = Path(__file__).resolve().parents[1] / "data" / "traces"
CONFIG = StabilityConfig()


def small_trace() -> WeightTrace:
    trace = WeightTrace(meta={"ticket": "A-0001"})
    trace.add(1000.0, 0, curtain_clear=True)
    trace.add(1000.1, 20_480, stable_flag=False, curtain_clear=False, raw=b"\x02AB")
    trace.add(1000.2, None, overload=True)
    trace.add(1000.3, 49_320, stable_flag=True, curtain_clear=True)
    return trace


def test_points_are_kept_as_offsets_from_the_first_frame() -> None:
    trace = small_trace()

    assert [p.t_s for p in trace.points] == [0.0, 0.1, 0.2, 0.3]
    assert trace.duration_s == pytest.approx(0.3)


def test_json_is_a_compact_list_of_milliseconds_and_kilograms() -> None:
    document = json.loads(small_trace().to_json())

    assert document["points"] == [
        [0, 0, "c"],
        [100, 20_480, "mb"],
        [200, None, "o"],
        [300, 49_320, "sc"],
    ]
    assert document["frames"] == [[100, "024142"]]
    assert document["meta"] == {"ticket": "A-0001"}
    assert " " not in small_trace().to_json()


def test_json_round_trip_keeps_every_point_and_frame() -> None:
    trace = small_trace()

    back = WeightTrace.from_json(trace.to_json())

    assert back.points == trace.points
    assert back.frames == trace.frames
    assert back.meta == trace.meta


@pytest.mark.parametrize("path", sorted(TRACES_DIR.glob("*.csv")), ids=lambda p: p.stem)
def test_a_stored_trace_replays_exactly_as_recorded(path: Path) -> None:
    trace = WeightTrace.from_csv(path.read_text(encoding="utf-8"))

    back = WeightTrace.from_json(trace.to_json())

    assert replay(back, CONFIG) == replay(trace, CONFIG)


def test_csv_round_trip_keeps_points_and_meta() -> None:
    trace = small_trace()

    back = WeightTrace.from_csv(trace.to_csv())

    assert back.points == trace.points
    assert back.meta == trace.meta


def test_recorded_reading_keeps_its_flags_and_raw_frame() -> None:
    trace = WeightTrace()
    reading = Reading("yaohua", Decimal("49.32"), "t", stable=True, raw=b"\x02\x03")

    trace.add_reading(5.0, reading, curtain_clear=True)

    assert trace.points == [TracePoint(0.0, 49_320, True, False, True)]
    assert trace.frames == [(0.0, "0203")]


def test_replay_gives_one_verdict_per_point() -> None:
    verdicts = replay(small_trace(), CONFIG)

    assert [v.state for v in verdicts] == [
        StabilityState.EMPTY,
        StabilityState.CURTAIN_BLOCKED,
        StabilityState.OVERLOAD,
        StabilityState.MOVING,
    ]


def test_a_trace_past_its_limit_drops_the_oldest_points_and_counts_them() -> None:
    trace = WeightTrace(max_points=3)

    for i in range(5):
        trace.add(i * 0.1, 1_000 + i)

    assert [p.weight_kg for p in trace.points] == [1_002, 1_003, 1_004]
    assert trace.dropped == 2
    assert json.loads(trace.to_json())["dropped"] == 2


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"format": "weight-trace", "version": 2}',
        '{"format": "weight-trace", "version": 1, "meta": {}, "dropped": 0,'
        ' "points": [[0]], "frames": []}',
        '{"format": "weight-trace", "version": 1, "meta": {}, "dropped": 0,'
        ' "points": [[0, 10, "sm"]], "frames": []}',
        '{"format": "weight-trace", "version": 1, "meta": {}, "dropped": 0,'
        ' "points": [], "frames": [[0, "zz"]]}',
    ],
    ids=["text", "list", "version", "short-point", "contradiction", "bad-hex"],
)
def test_damaged_json_raises_a_format_error(text: str) -> None:
    with pytest.raises(TraceFormatError):
        WeightTrace.from_json(text)


def test_damaged_csv_raises_a_format_error() -> None:
    with pytest.raises(TraceFormatError):
        WeightTrace.from_csv("t_s,weight_kg,stable_flag\n0.1,abc,\n")
