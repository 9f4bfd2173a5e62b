"""The vehicle-stability algorithm (R14), on recorded-style traces and by rule."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.stability import (
    TIME_SLACK_S,
    Stability,
    StabilityConfig,
    StabilityDetector,
    StabilityState,
    round_to_division,
)
from common.trace import TracePoint, WeightTrace, replay

TRACES_DIR = Path(__file__).resolve().parents[1] / "data" / "traces"
CONFIG = StabilityConfig()
D = CONFIG.division_kg
TICK_S = 0.1


def load_trace(name: str) -> WeightTrace:
    (path,) = TRACES_DIR.glob(f"*_{name}.csv")
    return WeightTrace.from_csv(path.read_text(encoding="utf-8"))


def verdicts(
    trace: WeightTrace, config: StabilityConfig = CONFIG
) -> list[tuple[TracePoint, Stability]]:
    return list(zip(trace.points, replay(trace, config), strict=True))


def stable_times(trace: WeightTrace, config: StabilityConfig = CONFIG) -> list[float]:
    return [p.t_s for p, v in verdicts(trace, config) if v.is_stable]


def with_timer(
    trace: WeightTrace, config: StabilityConfig = CONFIG
) -> list[tuple[float, Stability]]:
    """Frames as they come, plus a console timer polling every 0.1 s between them."""
    detector = StabilityDetector(config)
    out: list[tuple[float, Stability]] = []
    tick = 0
    for p in trace.points:
        while (tick_t := tick * TICK_S + TICK_S / 2) < p.t_s:
            out.append((tick_t, detector.poll(tick_t)))
            tick += 1
        verdict = detector.update(
            p.t_s,
            p.weight_kg,
            stable_flag=p.stable_flag,
            curtain_clear=p.curtain_clear,
        )
        out.append((p.t_s, verdict))
    return out


def feed(
    detector: StabilityDetector,
    weights: list[int],
    *,
    start_s: float = 0.0,
    period_s: float = 0.1,
    stable_flag: bool | None = None,
    curtain_clear: bool | None = None,
) -> list[Stability]:
    return [
        detector.update(
            start_s + i * period_s,
            kg,
            stable_flag=stable_flag,
            curtain_clear=curtain_clear,
        )
        for i, kg in enumerate(weights)
    ]


def meta_float(trace: WeightTrace, key: str) -> float:
    return float(trace.meta[key])


def creep_span(trace: WeightTrace) -> tuple[float, float]:
    return meta_float(trace, "creep_from_s"), meta_float(trace, "creep_until_s")


ALL_TRACES = ["bounce", "creep", "half_on", "wind", "stop_then_move", "dropout"]


# -- the traces ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_TRACES)
@pytest.mark.parametrize("use_flag", [True, False])
def test_every_trace_is_captured_within_one_division_of_the_settled_load(
    name: str, use_flag: bool
) -> None:
    trace = load_trace(name)
    config = StabilityConfig(use_indicator_flag=use_flag)
    settled = int(trace.meta["settled_kg"])

    captured = [v.stable_kg for _, v in verdicts(trace, config) if v.is_stable]

    assert captured, "the truck was never captured"
    assert all(kg is not None and abs(kg - settled) <= D for kg in captured)


@pytest.mark.parametrize("name", ALL_TRACES)
def test_no_trace_is_stable_before_the_truck_has_settled(name: str) -> None:
    trace = load_trace(name)

    first = stable_times(trace)[0]

    assert first > meta_float(trace, "settle_t_s")


@pytest.mark.parametrize("name", ALL_TRACES)
def test_capture_comes_within_two_seconds_of_settling(name: str) -> None:
    trace = load_trace(name)

    first = stable_times(trace)[0]

    assert first - meta_float(trace, "settle_t_s") < 2.0


@pytest.mark.parametrize("use_flag", [True, False])
def test_creeping_truck_is_never_captured(use_flag: bool) -> None:
    trace = load_trace("creep")
    config = StabilityConfig(use_indicator_flag=use_flag)
    creep_from, creep_until = creep_span(trace)

    while_creeping = [
        t for t in stable_times(trace, config) if creep_from <= t <= creep_until
    ]

    assert while_creeping == []


def test_creep_trace_would_fool_a_ten_reading_motion_flag() -> None:
    # Shows the creep trace is a fair test: the modelled indicator flag alone says
    # 'stable' now and then while the truck is still creeping.
    trace = load_trace("creep")
    creep_from, creep_until = creep_span(trace)

    flagged = [
        p for p in trace.points if creep_from <= p.t_s <= creep_until and p.stable_flag
    ]

    assert flagged


def test_half_on_truck_is_not_captured_until_the_curtain_clears() -> None:
    trace = load_trace("half_on")
    cleared = meta_float(trace, "blocked_until_s")

    results = verdicts(trace)

    blocked = [v for p, v in results if p.curtain_clear is False]
    assert all(v.state is not StabilityState.STABLE for v in blocked)
    heavy = [v for v in blocked if v.weight_kg and v.weight_kg >= CONFIG.min_weight_kg]
    assert all(v.state is StabilityState.CURTAIN_BLOCKED for v in heavy)
    assert all(v.message == "车辆未完全上磅" for v in heavy)
    assert stable_times(trace)[0] >= cleared + CONFIG.hold_s


def test_half_on_truck_would_be_captured_short_if_curtains_were_ignored() -> None:
    trace = load_trace("half_on")
    config = StabilityConfig(require_curtain_clear=False)

    captured = {v.stable_kg for _, v in verdicts(trace, config) if v.is_stable}

    assert int(trace.meta["blocked_kg"]) in captured


def test_wind_noise_within_one_division_is_captured_within_one_division() -> None:
    trace = load_trace("wind")
    settled = int(trace.meta["settled_kg"])
    after = [p.weight_kg for p in trace.points if p.t_s > 8.0]
    assert {kg - settled for kg in after if kg is not None} <= {-D, 0, D}

    captured = [v.stable_kg for _, v in verdicts(trace) if v.is_stable]

    assert captured
    assert all(kg is not None and abs(kg - settled) <= D for kg in captured)


def test_truck_that_pulls_away_is_stable_only_while_standing() -> None:
    trace = load_trace("stop_then_move")
    moves = meta_float(trace, "moves_t_s")

    times = stable_times(trace)

    assert any(t < moves for t in times)
    assert [t for t in times if t > moves + 0.15] == []


def test_signal_dropout_goes_offline_within_freshness() -> None:
    trace = load_trace("dropout")
    gap_from = meta_float(trace, "dropout_from_s")
    last_frame = max(p.t_s for p in trace.points if p.t_s < gap_from)
    first_back = min(p.t_s for p in trace.points if p.t_s >= gap_from)
    deadline = last_frame + CONFIG.freshness_s

    timeline = with_timer(trace)

    stale = [(t, v) for t, v in timeline if deadline < t < first_back]
    assert stale, "the timer never ran during the dropout"
    assert all(v.state is StabilityState.OFFLINE for _, v in stale)
    assert all(v.weight_kg is None and v.message == "仪表离线" for _, v in stale)
    assert stale[0][0] <= deadline + TICK_S


def test_after_a_dropout_the_hold_starts_over() -> None:
    trace = load_trace("dropout")
    gap_from = meta_float(trace, "dropout_from_s")
    first_back = min(p.t_s for p in trace.points if p.t_s >= gap_from)

    back = [t for t in stable_times(trace) if t >= gap_from]

    assert back[0] >= first_back + CONFIG.hold_s - 0.001


# -- the rules, one at a time ----------------------------------------------------


def test_steady_reading_becomes_stable_only_once_the_hold_is_spanned() -> None:
    detector = StabilityDetector(CONFIG)

    results = feed(detector, [12_340] * 16)

    states = [v.state for v in results]
    assert states[0] is StabilityState.MOVING
    assert set(states[1:15]) == {StabilityState.SETTLING}
    assert states[15] is StabilityState.STABLE
    assert results[15].stable_kg == 12_340
    assert results[15].message == "称重稳定"
    assert results[15].settled_for_s == pytest.approx(1.5)


def test_two_readings_further_apart_than_freshness_do_not_make_a_hold() -> None:
    detector = StabilityDetector(CONFIG)

    results = feed(detector, [12_340, 12_340], period_s=1.6)

    assert not results[-1].is_stable
    assert results[-1].settled_for_s == 0.0


def test_a_gap_longer_than_freshness_restarts_the_hold() -> None:
    detector = StabilityDetector(CONFIG)
    feed(detector, [12_340] * 10)

    after_gap = feed(detector, [12_340] * 15, start_s=2.2)

    assert all(not v.is_stable for v in after_gap)


def test_a_jump_out_of_band_resets_the_settled_time() -> None:
    detector = StabilityDetector(CONFIG)
    feed(detector, [12_340] * 20)

    jump = detector.update(2.0, 12_340 + 2 * D + 1)

    assert jump.state is StabilityState.MOVING
    assert jump.settled_for_s == 0.0
    assert jump.message == "重量波动"


def test_indicator_motion_flag_vetoes_capture() -> None:
    detector = StabilityDetector(CONFIG)

    results = feed(detector, [12_340] * 30, stable_flag=False)

    assert {v.state for v in results} == {StabilityState.MOVING}
    assert results[-1].settled_for_s > CONFIG.hold_s


def test_motion_flag_is_ignored_when_configured_off() -> None:
    detector = StabilityDetector(StabilityConfig(use_indicator_flag=False))

    results = feed(detector, [12_340] * 30, stable_flag=False)

    assert results[-1].is_stable


def test_indicator_stable_flag_does_not_make_a_moving_reading_stable() -> None:
    detector = StabilityDetector(CONFIG)

    results = feed(detector, [12_000 + 30 * i for i in range(30)], stable_flag=True)

    assert not any(v.is_stable for v in results)


def test_blocked_curtain_restarts_the_hold_when_it_clears() -> None:
    detector = StabilityDetector(CONFIG)
    feed(detector, [12_340] * 20, curtain_clear=False)

    cleared = feed(detector, [12_340] * 16, start_s=2.0, curtain_clear=True)

    assert [v.is_stable for v in cleared] == [False] * 15 + [True]


def test_curtains_are_ignored_when_configured_off() -> None:
    detector = StabilityDetector(StabilityConfig(require_curtain_clear=False))

    results = feed(detector, [12_340] * 16, curtain_clear=False)

    assert results[-1].is_stable


def test_overload_is_never_stable_and_shows_no_weight() -> None:
    detector = StabilityDetector(CONFIG)
    feed(detector, [12_340] * 20)

    verdict = detector.update(2.0, None, overload=True)

    assert verdict.state is StabilityState.OVERLOAD
    assert verdict.weight_kg is None and verdict.stable_kg is None


def test_overload_frame_restarts_the_hold() -> None:
    detector = StabilityDetector(CONFIG)
    feed(detector, [12_340] * 20)
    detector.update(2.0, 12_340, overload=True)

    after = feed(detector, [12_340] * 15, start_s=2.1)

    assert not any(v.is_stable for v in after)


def test_frame_without_a_usable_weight_restarts_the_hold() -> None:
    detector = StabilityDetector(CONFIG)
    feed(detector, [12_340] * 20)

    verdict = detector.update(2.0, None)
    after = feed(detector, [12_340] * 15, start_s=2.1)

    assert verdict.state is StabilityState.OUT_OF_RANGE
    assert verdict.weight_kg is None
    assert not any(v.is_stable for v in after)


def test_weight_above_maximum_capacity_is_out_of_range() -> None:
    config = StabilityConfig(max_capacity_kg=60_000)
    detector = StabilityDetector(config)

    results = feed(detector, [60_020] * 30)

    assert {v.state for v in results} == {StabilityState.OUT_OF_RANGE}
    assert results[-1].weight_kg == 60_020
    assert results[-1].message == "超出最大称量"


def test_weight_at_maximum_capacity_can_be_captured() -> None:
    detector = StabilityDetector(StabilityConfig(max_capacity_kg=60_000))

    results = feed(detector, [60_000] * 16)

    assert results[-1].stable_kg == 60_000


def test_weight_below_minimum_weighing_is_empty() -> None:
    detector = StabilityDetector(CONFIG)

    results = feed(detector, [380] * 30)

    assert {v.state for v in results} == {StabilityState.EMPTY}
    assert results[-1].message == "低于最小称量"


def test_empty_platform_says_so() -> None:
    detector = StabilityDetector(CONFIG)

    results = feed(detector, [0, 20, 0, -20, 0])

    assert {v.message for v in results} == {"空磅"}


def test_weight_at_minimum_weighing_can_be_captured() -> None:
    detector = StabilityDetector(CONFIG)

    results = feed(detector, [400] * 16)

    assert results[-1].stable_kg == 400


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ([49_300, 49_320, 49_320, 49_340, 49_320], 49_320),
        ([49_300, 49_300, 49_320, 49_320], 49_320),  # median 49 310: half up
        ([49_305, 49_305, 49_305, 49_305], 49_300),
        ([49_331, 49_331, 49_331, 49_331], 49_340),
    ],
)
def test_stable_value_is_the_window_median_rounded_half_up_to_the_division(
    window: list[int], expected: int
) -> None:
    detector = StabilityDetector(StabilityConfig(hold_s=0.3))

    results = feed(detector, window)

    assert results[-1].stable_kg == expected


def test_round_to_division_rounds_halves_upwards() -> None:
    assert round_to_division(10, 20) == 20
    assert round_to_division(9, 20) == 0
    assert round_to_division(-10, 20) == 0
    assert round_to_division(30, 20) == 40


def test_poll_shows_the_last_verdict_while_frames_are_fresh() -> None:
    detector = StabilityDetector(CONFIG)
    last = feed(detector, [12_340] * 16)[-1]

    assert detector.poll(1.5 + CONFIG.freshness_s - 0.01) == last
    assert detector.poll(1.5 + CONFIG.freshness_s + 0.01).state is (
        StabilityState.OFFLINE
    )


def test_poll_before_any_frame_is_offline() -> None:
    assert StabilityDetector(CONFIG).poll(0.0).state is StabilityState.OFFLINE


def test_time_going_backwards_restarts_the_hold() -> None:
    detector = StabilityDetector(CONFIG)
    feed(detector, [12_340] * 20, start_s=100.0)

    after = feed(detector, [12_340] * 15, start_s=50.0)

    assert not any(v.is_stable for v in after)


def test_reset_forgets_the_window_and_the_link() -> None:
    detector = StabilityDetector(CONFIG)
    feed(detector, [12_340] * 20)

    detector.reset()

    assert detector.poll(2.0).state is StabilityState.OFFLINE
    assert not detector.update(2.0, 12_340).is_stable


def test_nonsense_configuration_raises() -> None:
    with pytest.raises(ValueError):
        StabilityConfig(division_kg=0)
    with pytest.raises(ValueError):
        StabilityConfig(hold_s=0.0)
    with pytest.raises(ValueError):
        StabilityConfig(min_weight_kg=1_000, max_capacity_kg=500)


# -- properties ----------------------------------------------------------------------


@st.composite
def ramp_configs(draw: st.DrawFn) -> StabilityConfig:
    return StabilityConfig(
        division_kg=draw(st.sampled_from([1, 2, 5, 10, 20, 50])),
        band_divisions=draw(st.integers(1, 3)),
        hold_s=draw(st.floats(0.3, 3.0)),
        min_weight_kg=0,
        max_capacity_kg=10**9,
        freshness_s=1.0,
    )


@given(
    config=ramp_configs(),
    period_s=st.floats(0.02, 0.5),
    start_kg=st.integers(200_000, 400_000),
    excess_kg=st.floats(0.01, 500.0),
    rising=st.booleans(),
    flag=st.sampled_from([None, True]),
)
def test_a_ramp_rising_more_than_the_band_over_the_hold_is_never_stable(
    config: StabilityConfig,
    period_s: float,
    start_kg: int,
    excess_kg: float,
    rising: bool,
    flag: bool | None,
) -> None:
    # Rounding each reading to whole kilograms can hide up to 1 kg of the rise.
    rise_per_hold = config.tolerance_kg + 1 + excess_kg
    rate = (1 if rising else -1) * rise_per_hold / config.hold_s
    frames = math.ceil(4 * config.hold_s / period_s) + 1
    detector = StabilityDetector(config)

    for i in range(frames):
        t = i * period_s
        verdict = detector.update(t, round(start_kg + rate * t), stable_flag=flag)
        assert not verdict.is_stable, f"stable at {t:.3f} s"


@given(
    config=ramp_configs(),
    period_s=st.floats(0.02, 0.5),
    weight_kg=st.integers(0, 200_000),
)
def test_a_constant_reading_is_stable_from_the_first_frame_spanning_the_hold(
    config: StabilityConfig, period_s: float, weight_kg: int
) -> None:
    detector = StabilityDetector(config)
    first = next(
        i for i in itertools.count() if i * period_s >= config.hold_s - TIME_SLACK_S
    )

    results = feed(detector, [weight_kg] * (first + 3), period_s=period_s)

    assert [v.is_stable for v in results] == [False] * first + [True] * 3
    expected = round_to_division(weight_kg, config.division_kg)
    assert {v.stable_kg for v in results[first:]} == {expected}
