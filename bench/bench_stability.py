"""How fast and how safely each way of deciding "stable" captures a truck.

Run: ``python bench/bench_stability.py``. Prints figures; asserts nothing.

For every test trace (``tests/data/traces``) it compares four capture rules:

* ``detector``: our :class:`StabilityDetector`, ignoring the indicator's flag;
* ``detector+flag``: the same with the flag as a veto (the shipped default);
* ``flag 2d/10``: take the weight at the first frame whose indicator flag says stable;
* ``flag 1d/10``: the same with a stricter indicator.

The indicator flag is a model, not a measured indicator: 'stable' when the last 10
displayed readings (1 s at 10 Hz) lie within a spread of 2 d (``2d/10``, the flag
stored in the trace files) or 1 d (``1d/10``, recomputed here). Real indicators
differ in window and band and usually filter first. To compare the criteria alone,
the flag rules get the same minimum weighing and light-curtain gate as the detector.

Latency is capture time minus the trace's true settle time (``settle_t_s``);
negative means the rule captured while the load was still changing, and the error
column then shows how wrong that weight was.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from common.stability import StabilityConfig  # noqa: E402
from common.trace import TracePoint, WeightTrace, replay  # noqa: E402

TRACES_DIR = ROOT / "tests" / "data" / "traces"
CONFIG = StabilityConfig()
RATE_ROUNDS = 200

# A rule returns every (time, kg) at which it would capture; the first one counts.
Capture = tuple[float, int]
Rule = Callable[[WeightTrace], list[Capture]]


def detector_rule(config: StabilityConfig) -> Rule:
    def rule(trace: WeightTrace) -> list[Capture]:
        verdicts = zip(trace.points, replay(trace, config), strict=True)
        return [(p.t_s, v.stable_kg) for p, v in verdicts if v.stable_kg is not None]

    return rule


def flag_rule(spread_kg: int | None) -> Rule:
    """First frame flagged stable; ``spread_kg`` None means the trace's own flag."""

    def rule(trace: WeightTrace) -> list[Capture]:
        points = trace.points
        flags: Sequence[bool | None] = [p.stable_flag for p in points]
        if spread_kg is not None:
            flags = indicator_flags(points, spread_kg)
        return [
            (p.t_s, p.weight_kg)
            for p, flag in zip(points, flags, strict=True)
            if flag and p.weight_kg is not None and gate(p)
        ]

    return rule


def indicator_flags(
    points: list[TracePoint], spread_kg: int, n: int = 10
) -> list[bool]:
    weights = [p.weight_kg for p in points]
    flags = []
    for i in range(len(weights)):
        last = weights[max(0, i - n + 1) : i + 1]
        known = [kg for kg in last if kg is not None]
        flags.append(len(known) == n and max(known) - min(known) <= spread_kg)
    return flags


def gate(point: TracePoint) -> bool:
    """The booth rules every capture obeys: minimum weighing, curtains clear."""
    weight = point.weight_kg
    in_range = weight is not None and weight >= CONFIG.min_weight_kg
    return in_range and point.curtain_clear is not False


RULES: dict[str, Rule] = {
    "detector": detector_rule(StabilityConfig(use_indicator_flag=False)),
    "detector+flag": detector_rule(CONFIG),
    "flag 2d/10": flag_rule(None),
    "flag 1d/10": flag_rule(CONFIG.division_kg),
}


def load_traces() -> list[WeightTrace]:
    return [
        WeightTrace.from_csv(path.read_text(encoding="utf-8"))
        for path in sorted(TRACES_DIR.glob("*.csv"))
    ]


def print_latencies(traces: list[WeightTrace]) -> None:
    print("first capture after true settling: latency (s) / error (kg)")
    print_table(traces, first_capture)


def print_false_captures(traces: list[WeightTrace]) -> None:
    print("frames judged stable while the load was still changing")
    print_table(traces, while_moving)


def print_table(
    traces: list[WeightTrace], cell: Callable[[WeightTrace, list[Capture]], str]
) -> None:
    print(f"{'trace':<16}{'settle_t':>9}" + "".join(f"{n:>20}" for n in RULES))
    for trace in traces:
        row = f"{trace.meta['name']:<16}{float(trace.meta['settle_t_s']):>9.2f}"
        row += "".join(f"{cell(trace, rule(trace)):>20}" for rule in RULES.values())
        print(row)


def first_capture(trace: WeightTrace, captures: list[Capture]) -> str:
    if not captures:
        return "never"
    t, kg = captures[0]
    latency = t - float(trace.meta["settle_t_s"])
    return f"{latency:+.2f} / {kg - int(trace.meta['settled_kg']):+d}"


def while_moving(trace: WeightTrace, captures: list[Capture]) -> str:
    # Moving: before the true settle time, or once the truck pulls away.
    settle_t = float(trace.meta["settle_t_s"])
    moves_t = float(trace.meta.get("moves_t_s", "inf"))
    return str(sum(1 for t, _ in captures if t <= settle_t or t > moves_t))


def print_rate(traces: list[WeightTrace]) -> None:
    frames = sum(len(trace) for trace in traces) * RATE_ROUNDS
    started = time.perf_counter()
    for _ in range(RATE_ROUNDS):
        for trace in traces:
            replay(trace, CONFIG)
    elapsed = time.perf_counter() - started
    print(
        f"processing rate: {frames / elapsed:,.0f} updates/s "
        f"({frames} frames in {elapsed:.2f} s, {1e6 * elapsed / frames:.1f} µs each)"
    )


def main() -> None:
    traces = load_traces()
    print(
        f"hold {CONFIG.hold_s} s, band ±{CONFIG.band_divisions} d, d = "
        f"{CONFIG.division_kg} kg, {len(traces)} traces at 10 Hz\n"
    )
    print_latencies(traces)
    print()
    print_false_captures(traces)
    print()
    print_rate(traces)


if __name__ == "__main__":
    main()
