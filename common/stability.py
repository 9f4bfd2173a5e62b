"""When may a weight be taken: the vehicle-stability algorithm (车辆稳定算法, R14).

The detector is fed every decoded indicator frame and answers, frame by frame, whether
the truck on the platform may be weighed now and at what value. It is pure logic with
no clock of its own: the caller passes monotonic seconds, so a recorded trace replays
exactly as it happened.

The rules, and why each one exists:

* **Total spread over a hold window.** A weight is taken only when every reading of
  the last ``hold_s`` seconds lies within ``2 * band_divisions * division_kg`` of every
  other (max - min). Comparing each reading with the one before is not enough: a truck
  creeping onto the platform, or a driver easing off the brake, changes the weight by
  less than a division per frame while the total keeps growing. The spread over the
  whole window catches that drift; a per-frame difference never would.
* **The window must really span the hold time.** Two frames a second apart are not
  "a second and a half of steady readings". The window counts only when its frames
  cover ``hold_s`` and no two consecutive frames are more than ``freshness_s`` apart;
  a gap empties the window and the hold starts over.
* **Light curtains must be clear** (R13, 压磅 / 不完全上磅). A steady reading with an
  axle off the platform is steady and wrong. While a curtain is blocked nothing is
  captured, and readings taken then are dropped from the window: the vehicle must be
  wholly on for the whole hold.
* **The indicator's own motion flag vetoes.** Where the frame carries one, the
  indicator has seen its own filtered signal; if it says "moving" we believe it. It
  only vetoes: it never makes a reading stable that our window does not.
* **Minimum weighing (最小称量).** Below ``min_weight_kg`` the platform is empty, or
  the load is too small to weigh with the stated accuracy: no capture.
* **Maximum capacity (最大称量) and overload.** Above ``max_capacity_kg`` the scale is
  outside its verified range; an overload frame has no weight at all. Neither is ever
  captured, and an overload or a frame without a usable weight empties the window,
  since we do not know what the load did meanwhile.
* **Freshness.** When frames stop (cable pulled, indicator off), :meth:`poll` reports
  OFFLINE after ``freshness_s`` with no weight, so the console never shows the last
  number as if it were live.
* **The captured value** is the median of the window rounded half up to the division:
  the median ignores a single spike that stayed inside the band, the rounding gives a
  value the indicator could display.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from statistics import median_high, median_low

log = logging.getLogger(__name__)

# Frame times are floats (0.1 s steps do not add up exactly); comparisons against
# the hold and freshness times allow this much slack.
TIME_SLACK_S = 1e-6


@dataclass(frozen=True)
class StabilityConfig:
    division_kg: int = 20
    band_divisions: int = 1
    hold_s: float = 1.5
    min_weight_kg: int = 400
    max_capacity_kg: int = 100_000
    freshness_s: float = 1.0
    use_indicator_flag: bool = True
    require_curtain_clear: bool = True

    def __post_init__(self) -> None:
        if self.division_kg <= 0 or self.band_divisions <= 0:
            raise ValueError("division and band must be positive")
        if self.hold_s <= 0 or self.freshness_s <= 0:
            raise ValueError("hold and freshness times must be positive")
        if self.max_capacity_kg < self.min_weight_kg:
            raise ValueError("maximum capacity is below the minimum weighing")

    @property
    def tolerance_kg(self) -> int:
        """The largest max - min spread that still counts as steady (± band)."""
        return 2 * self.band_divisions * self.division_kg


class StabilityState(StrEnum):
    OFFLINE = "offline"
    EMPTY = "empty"
    MOVING = "moving"
    SETTLING = "settling"
    STABLE = "stable"
    CURTAIN_BLOCKED = "curtain_blocked"
    OVERLOAD = "overload"
    OUT_OF_RANGE = "out_of_range"


@dataclass(frozen=True)
class Stability:
    """The verdict on one frame.

    ``weight_kg`` is the live reading, None when offline or when the frame had no
    usable weight. ``stable_kg`` is set only in the STABLE state. ``settled_for_s`` is
    how long the live reading has stayed within the band, 0 when the latest reading
    left it; the indicator's motion flag does not stop this clock, it only keeps
    the state from becoming STABLE (a blocked curtain does stop it).

    SETTLING means "within band so far, not yet for the whole hold". A truck
    creeping just under the band per frame stays SETTLING with a ``settled_for_s``
    that never reaches ``hold_s``: the display shows it waiting, never capturing.
    """

    state: StabilityState
    weight_kg: int | None
    stable_kg: int | None
    settled_for_s: float
    message: str

    @property
    def is_stable(self) -> bool:
        return self.state is StabilityState.STABLE


OFFLINE = Stability(StabilityState.OFFLINE, None, None, 0.0, "仪表离线")


def round_to_division(value: Fraction | int, division_kg: int) -> int:
    """Round to a multiple of the division, halves upwards (toward +∞)."""
    steps = math.floor(Fraction(value) / division_kg + Fraction(1, 2))
    return steps * division_kg


def window_median(values: list[int]) -> Fraction:
    """The median, exact: an even count gives the midpoint of the middle two."""
    return Fraction(median_low(values) + median_high(values), 2)


class StabilityDetector:
    """Judges each frame against :class:`StabilityConfig`; see the module docstring."""

    def __init__(self, config: StabilityConfig) -> None:
        self.config = config
        self._window: deque[tuple[float, int]] = deque()
        self._last_frame_t: float | None = None
        self._last: Stability = OFFLINE
        # The run: readings since ``_run_start`` all lie within the tolerance.
        self._run_start: float | None = None
        self._run_lo = 0
        self._run_hi = 0

    def reset(self) -> None:
        """Forget everything, as after a reconnect or a new booth configuration."""
        self._forget_window()
        self._last_frame_t = None
        self._last = OFFLINE

    def update(
        self,
        t: float,
        weight_kg: int | None,
        *,
        stable_flag: bool | None = None,
        overload: bool = False,
        curtain_clear: bool | None = None,
    ) -> Stability:
        """Judge one decoded frame received at monotonic time ``t``."""
        self._note_frame_time(t)
        verdict = self._judge(t, weight_kg, stable_flag, overload, curtain_clear)
        return self._publish(verdict)

    def poll(self, t: float) -> Stability:
        """The verdict at ``t`` when no frame came: OFFLINE once frames are stale."""
        last = self._last_frame_t
        if last is None or t - last > self.config.freshness_s + TIME_SLACK_S:
            self._forget_window()
            return self._publish(OFFLINE)
        return self._last

    # -- one frame ---------------------------------------------------------------

    def _note_frame_time(self, t: float) -> None:
        last = self._last_frame_t
        if last is not None and t < last:
            log.warning("frame time went backwards (%.3f s < %.3f s)", t, last)
            self._forget_window()
        elif last is not None and t - last > self.config.freshness_s + TIME_SLACK_S:
            # A gap: the hold must be covered by frames, so start it over.
            self._forget_window()
        self._last_frame_t = t

    def _judge(
        self,
        t: float,
        weight_kg: int | None,
        stable_flag: bool | None,
        overload: bool,
        curtain_clear: bool | None,
    ) -> Stability:
        cfg = self.config
        if overload or weight_kg is None:
            return self._no_weight(overload)

        # Frames taken with the vehicle not wholly on are no evidence of its weight.
        blocked = cfg.require_curtain_clear and curtain_clear is False
        if blocked:
            self._forget_window()
        else:
            self._add(t, weight_kg)
        settled = 0.0 if self._run_start is None else t - self._run_start

        if weight_kg > cfg.max_capacity_kg:
            return self._verdict(StabilityState.OUT_OF_RANGE, weight_kg, settled)
        if weight_kg < cfg.min_weight_kg:
            return self._verdict(StabilityState.EMPTY, weight_kg, settled)
        if blocked:
            return self._verdict(StabilityState.CURTAIN_BLOCKED, weight_kg, settled)
        if cfg.use_indicator_flag and stable_flag is False:
            return Stability(
                StabilityState.MOVING, weight_kg, None, settled, "仪表显示动态"
            )
        return self._judge_window(t, weight_kg, settled)

    def _no_weight(self, overload: bool) -> Stability:
        # We cannot know what the load did meanwhile: the hold starts over.
        self._forget_window()
        if overload:
            return Stability(StabilityState.OVERLOAD, None, None, 0.0, "仪表超载")
        return Stability(StabilityState.OUT_OF_RANGE, None, None, 0.0, "仪表无有效读数")

    def _judge_window(self, t: float, weight_kg: int, settled: float) -> Stability:
        cfg = self.config
        values = [kg for _, kg in self._window]
        spans_hold = t - self._window[0][0] >= cfg.hold_s - TIME_SLACK_S
        steady = max(values) - min(values) <= cfg.tolerance_kg

        if steady and spans_hold:
            stable_kg = round_to_division(window_median(values), cfg.division_kg)
            return Stability(
                StabilityState.STABLE, weight_kg, stable_kg, settled, "称重稳定"
            )
        if settled > 0:
            return self._verdict(StabilityState.SETTLING, weight_kg, settled)
        return self._verdict(StabilityState.MOVING, weight_kg, settled)

    def _verdict(
        self, state: StabilityState, weight_kg: int, settled: float
    ) -> Stability:
        return Stability(
            state, weight_kg, None, settled, self._message(state, weight_kg)
        )

    def _message(self, state: StabilityState, weight_kg: int) -> str:
        if state is StabilityState.EMPTY:
            near_zero = abs(weight_kg) <= self.config.tolerance_kg
            return "空磅" if near_zero else "低于最小称量"
        return {
            StabilityState.OUT_OF_RANGE: "超出最大称量",
            StabilityState.CURTAIN_BLOCKED: "车辆未完全上磅",
            StabilityState.SETTLING: "等待稳定",
            StabilityState.MOVING: "重量波动",
        }[state]

    # -- the window and the run ----------------------------------------------------

    def _add(self, t: float, weight_kg: int) -> None:
        self._window.append((t, weight_kg))

        # Keep one frame at or before t - hold_s, so the window covers the hold.
        horizon = t - self.config.hold_s + TIME_SLACK_S
        while len(self._window) >= 2 and self._window[1][0] <= horizon:
            self._window.popleft()

        self._extend_run(t, weight_kg)

    def _extend_run(self, t: float, weight_kg: int) -> None:
        lo, hi = min(self._run_lo, weight_kg), max(self._run_hi, weight_kg)
        if self._run_start is not None and hi - lo <= self.config.tolerance_kg:
            self._run_lo, self._run_hi = lo, hi
            return

        # The run broke: find the longest tail of the window still within band.
        start, lo, hi = t, weight_kg, weight_kg
        for frame_t, kg in reversed(self._window):
            if max(hi, kg) - min(lo, kg) > self.config.tolerance_kg:
                break
            start, lo, hi = frame_t, min(lo, kg), max(hi, kg)
        self._run_start, self._run_lo, self._run_hi = start, lo, hi

    def _forget_window(self) -> None:
        self._window.clear()
        self._run_start = None
        self._run_lo = self._run_hi = 0

    def _publish(self, verdict: Stability) -> Stability:
        previous = self._last.state
        if verdict.state is not previous:
            # Going offline or coming back matters to an engineer; the rest is chatter.
            link = StabilityState.OFFLINE in (verdict.state, previous)
            log.log(
                logging.INFO if link else logging.DEBUG,
                "stability %s -> %s at %s kg",
                previous.value,
                verdict.state.value,
                verdict.weight_kg,
            )
        self._last = verdict
        return verdict
