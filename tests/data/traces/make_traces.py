"""Write the stability test traces: ``python tests/data/traces/make_traces.py``.

Each trace is what a 10 Hz indicator would send while one truck is weighed. The
truck is modelled as axle loads that come onto the platform over a short ramp, plus
the bounce of the suspension after braking (an overshoot and a damped oscillation).
The indicator adds electronic noise, rounds to the division, and sets its own motion
flag (the model in :func:`indicator_flags`). Frame times jitter by a few
milliseconds, as serial frames do.

Every file starts with ``# key: value`` lines giving the truth the tests check
against: ``settled_kg`` (the load once the truck is still) and ``settle_t_s`` (the
last moment the noise-free load was more than half a division away from it). The
random generator is seeded, so the files are the same on every run.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 2023
DIVISION_KG = 20
RATE_HZ = 10
NOISE_SIGMA_KG = 5.0
JITTER_S = 0.003

# The indicator's own motion detection, as modelled here: 'stable' when the last
# 10 displayed readings (1 s) lie within ±1 d of each other (max - min <= 2 d).
FLAG_READINGS = 10
FLAG_SPREAD_KG = 2 * DIVISION_KG

Load = Callable[[float], float]


@dataclass
class Scenario:
    name: str
    description: str
    duration_s: float
    load: Load
    settled_kg: int
    # Curtain state at time t: True clear, False blocked, None for a booth without.
    curtain: Callable[[float], bool | None] = lambda t: None
    # Extra disturbance added to the load before rounding (wind, for example).
    disturbance: Callable[[float, random.Random], float] | None = None
    # Times at which the indicator's frames do not reach us: [(from, to)].
    dropouts: list[tuple[float, float]] = field(default_factory=list)
    # The truth is judged up to this time (the truck drives off later).
    settle_until_s: float | None = None
    extra_meta: dict[str, str] = field(default_factory=dict)


# -- the truck -----------------------------------------------------------------------


def smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def axles_on(entries: list[tuple[float, int]], ramp_s: float = 0.35) -> Load:
    """Axle loads (time the axle reaches the platform, kg) coming on over a ramp."""
    return lambda t: sum(kg * smoothstep((t - t0) / ramp_s) for t0, kg in entries)


def axles_off(exits: list[tuple[float, int]], ramp_s: float = 0.35) -> Load:
    return lambda t: -sum(kg * smoothstep((t - t0) / ramp_s) for t0, kg in exits)


def bounce(t0: float, amplitude_kg: float, decay_s: float, freq_hz: float) -> Load:
    """Suspension bounce from ``t0``: overshoot first, then a damped oscillation."""

    def load(t: float) -> float:
        if t < t0:
            return 0.0
        dt = t - t0
        return (
            amplitude_kg
            * math.exp(-dt / decay_s)
            * math.sin(2 * math.pi * freq_hz * dt)
        )

    return load


def ramp(t0: float, t1: float, kg_per_s: float) -> Load:
    """A steady drift between two times (a truck creeping), then held."""
    return lambda t: kg_per_s * (min(max(t, t0), t1) - t0)


def total(*parts: Load) -> Load:
    return lambda t: sum(part(t) for part in parts)


def between(t0: float, t1: float) -> Callable[[float], bool]:
    """Curtain clear except while a vehicle passes it, from t0 to t1."""
    return lambda t: not (t0 <= t < t1)


# -- the scenarios -----------------------------------------------------------------


def bounce_scenario() -> Scenario:
    axles = [(1.0, 6_800), (1.6, 9_420), (2.0, 9_420), (3.4, 11_840), (3.8, 11_840)]
    return Scenario(
        "bounce",
        "five-axle truck drives on, brakes hard: overshoot and damped bounce",
        14.0,
        total(axles_on(axles), bounce(4.6, 900, 0.7, 1.4)),
        49_320,
        curtain=between(0.8, 4.4),
    )


def creep_scenario() -> Scenario:
    axles = [(1.0, 6_800), (1.6, 9_400), (2.0, 9_400)]
    creep = ramp(3.5, 28.5, 60.0)  # 6 kg a frame: 0.3 d
    return Scenario(
        "creep",
        "booth without curtains; the last axles are eased on at a crawl, "
        "weight rising 0.3 d a frame for 25 s, then the truck stops",
        36.0,
        total(axles_on(axles), bounce(2.6, 300, 0.5, 1.6), creep),
        25_600 + 1_500,
        extra_meta={"creep_from_s": "3.5", "creep_until_s": "28.5"},
    )


def half_on_scenario() -> Scenario:
    front = [(1.0, 6_760), (1.5, 9_420), (1.9, 9_420), (3.0, 7_100), (3.4, 7_100)]
    return Scenario(
        "half_on",
        "truck stops with its last axle off the platform (rear curtain blocked, "
        "reading steady at 39 800 kg), then pulls fully on at 13 s",
        22.0,
        total(
            axles_on([*front, (13.2, 7_080)]),
            bounce(4.2, 400, 0.5, 1.5),
            bounce(14.0, 600, 0.6, 1.4),
        ),
        46_880,
        curtain=between(0.8, 13.6),
        extra_meta={"blocked_until_s": "13.6", "blocked_kg": "39800"},
    )


def wind_disturbance() -> Callable[[float, random.Random], float]:
    """Gusts on the cab and trailer sides: a slow random wander within ±1 d."""
    state = {"gust": 0.0}

    def gust(t: float, rng: random.Random) -> float:
        state["gust"] = 0.8 * state["gust"] + rng.gauss(0.0, 9.0)
        state["gust"] = max(-DIVISION_KG * 0.9, min(DIVISION_KG * 0.9, state["gust"]))
        return state["gust"]

    return gust


def wind_scenario() -> Scenario:
    axles = [(1.0, 6_540), (1.6, 8_000), (2.0, 8_000), (3.2, 8_000), (3.6, 8_000)]
    return Scenario(
        "wind",
        "truck settled at 38 540 kg in a crosswind: readings wander ±1 d",
        16.0,
        total(axles_on(axles), bounce(4.4, 500, 0.6, 1.3)),
        38_540,
        curtain=between(0.8, 4.2),
        disturbance=wind_disturbance(),
    )


def stop_then_move_scenario() -> Scenario:
    on = axles_on([(1.0, 6_500), (1.6, 10_400), (2.0, 10_400)])
    off = axles_off([(11.5, 6_500), (12.6, 10_400), (13.0, 10_400)])
    return Scenario(
        "stop_then_move",
        "truck settles at 27 300 kg, waits, then pulls away at 10 s",
        15.0,
        total(on, bounce(3.0, 400, 0.5, 1.5), bounce(10.0, 300, 0.6, 1.5), off),
        27_300,
        curtain=between(10.8, 99.0),
        settle_until_s=10.0,
        extra_meta={"moves_t_s": "10.0"},
    )


def dropout_scenario() -> Scenario:
    axles = [(1.0, 6_580), (1.6, 13_300), (2.0, 13_300)]
    return Scenario(
        "dropout",
        "truck settled at 33 180 kg; the indicator's frames stop for 3 s (cable)",
        16.0,
        total(axles_on(axles), bounce(3.0, 500, 0.5, 1.5)),
        33_180,
        dropouts=[(9.0, 12.0)],
        extra_meta={"dropout_from_s": "9.0", "dropout_until_s": "12.0"},
    )


SCENARIOS = [
    bounce_scenario,
    creep_scenario,
    half_on_scenario,
    wind_scenario,
    stop_then_move_scenario,
    dropout_scenario,
]


# -- the indicator -----------------------------------------------------------------


def displayed(kg: float) -> int:
    return round(kg / DIVISION_KG) * DIVISION_KG


def indicator_flags(readings: list[int]) -> list[bool]:
    """The modelled motion flag: stable when the last 10 readings span <= 2 d."""
    flags = []
    for i in range(len(readings)):
        last = readings[max(0, i - FLAG_READINGS + 1) : i + 1]
        full = len(last) == FLAG_READINGS
        flags.append(full and max(last) - min(last) <= FLAG_SPREAD_KG)
    return flags


def settle_time(scenario: Scenario) -> float:
    """The last moment the noise-free load is more than ½ d from its settled value."""
    until = scenario.settle_until_s or scenario.duration_s
    last_off = 0.0
    for step in range(round(until * 1000) + 1):
        t = step / 1000
        if abs(scenario.load(t) - scenario.settled_kg) > DIVISION_KG / 2:
            last_off = t
    return last_off


def frames(scenario: Scenario, rng: random.Random) -> list[list[str]]:
    times = [
        round(k / RATE_HZ + rng.uniform(-JITTER_S, JITTER_S), 3)
        for k in range(round(scenario.duration_s * RATE_HZ) + 1)
    ]
    times[0] = 0.0
    readings = []
    for t in times:
        kg = scenario.load(t) + rng.gauss(0.0, NOISE_SIGMA_KG)
        if scenario.disturbance is not None:
            kg += scenario.disturbance(t, rng)
        readings.append(displayed(kg))

    # The indicator keeps judging motion while its frames are lost on the way.
    rows = []
    for t, kg, flag in zip(times, readings, indicator_flags(readings), strict=True):
        if any(start <= t < end for start, end in scenario.dropouts):
            continue
        curtain = scenario.curtain(t)
        curtain_cell = "" if curtain is None else str(int(curtain))
        rows.append([f"{t:.3f}", str(kg), str(int(flag)), curtain_cell])
    return rows


def write(scenario: Scenario, index: int) -> Path:
    rng = random.Random(SEED * 100 + index)
    path = HERE / f"{index:02d}_{scenario.name}.csv"
    meta = {
        "name": scenario.name,
        "description": scenario.description,
        "rate_hz": str(RATE_HZ),
        "division_kg": str(DIVISION_KG),
        "settled_kg": str(scenario.settled_kg),
        "settle_t_s": f"{settle_time(scenario):.3f}",
        "stable_flag_model": "last 10 readings within 2 d (max - min)",
        "seed": str(SEED * 100 + index),
        **scenario.extra_meta,
    }
    with path.open("w", newline="", encoding="utf-8") as out:
        for key, value in meta.items():
            out.write(f"# {key}: {value}\n")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["t_s", "weight_kg", "stable_flag", "curtain_clear"])
        writer.writerows(frames(scenario, rng))
    return path


def main() -> None:
    for index, make in enumerate(SCENARIOS, start=1):
        path = write(make(), index)
        print(f"wrote {path.relative_to(HERE)}")


if __name__ == "__main__":
    main()
