"""A weight indicator that is not there: the same bytes, on a real pseudo-terminal.

:class:`IndicatorSimulator` opens a pty, sets the side a booth program opens (the
"slave", ``/dev/pts/N``) to raw mode at the configured baud rate, and writes frames
to it the way an indicator does: continuously, about ten a second, never faster
than the line could carry them, byte pace included. A booth program cannot tell it
from an indicator on a USB serial adapter, so the whole reading path is tested
through the kernel's tty layer rather than around it.

The weight follows :class:`WeightModel`: a truck driving on ramps up, overshoots
and rings down before it settles; the display moves in whole divisions; noise and
creep can be added; the indicator can be switched off and on and the line can
carry garbage.

Run it from a shell as ``weighbridge sim indicator`` (see :func:`main`).
"""

from __future__ import annotations

import argparse
import errno
import logging
import math
import os
import random
import select
import signal
import sys
import termios
import threading
import time
import tty
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType

from common.protocols import TRAFFIC
from common.protocols.encoders import ENCODERS as PROTOCOL_ENCODERS
from common.protocols.encoders import POLL_REQUESTS
from common.protocols.yaohua import encode_tf0

logger = logging.getLogger(__name__)

Encoder = Callable[[int, bool], bytes]
"""Builds one frame from the displayed weight in kg and the stable flag."""

# 8N1: a start bit, eight data bits, a stop bit.
BITS_PER_BYTE = 8 + 2
# Bytes are handed to the pty in slices of at least this much line time, so that a
# reader sees frames arrive in pieces, as from a real UART.
SLICE_S = 0.004
# Longest the writer thread sleeps before it looks at its flags again.
IDLE_S = 0.02
BOUNCE_PERIOD_S = 1.0
BOUNCE_FRACTION = 0.06


def yaohua_tf0_encoder(weight_kg: int, stable: bool) -> bytes:
    """Yaohua tF=0 continuous frame, whole kilograms (the frame has no motion flag)."""
    return encode_tf0(weight_kg, 0)


# Every protocol the decoders know can be simulated; request/response ones
# (yaohua_cmd, mt_sics, sma_scp) answer the request in POLL_REQUESTS.
ENCODERS: dict[str, Encoder] = dict(PROTOCOL_ENCODERS)
REQUESTS: dict[str, bytes] = dict(POLL_REQUESTS)


# -- the weight -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Move:
    """The load going from one weight to another, from ``start`` on."""

    start: float
    from_kg: float
    to_kg: float
    ramp_s: float = 0.0
    bounce_kg: float = 0.0
    bounce_s: float = 0.0

    def value_at(self, now: float) -> tuple[float, bool]:
        """(weight, still moving) at ``now``."""
        dt = max(0.0, now - self.start)
        if dt < self.ramp_s:
            # Smoothstep: axles roll on, the last one slowest.
            x = dt / self.ramp_s
            return self.from_kg + (self.to_kg - self.from_kg) * x * x * (
                3 - 2 * x
            ), True

        dt -= self.ramp_s
        if dt < self.bounce_s:
            # The platform rings down around the new load.
            decay = math.exp(-5.0 * dt / self.bounce_s)
            swing = math.sin(2 * math.pi * dt / BOUNCE_PERIOD_S)
            return self.to_kg + self.bounce_kg * decay * swing, True
        return self.to_kg, False


class WeightModel:
    """What is on the platform, as the indicator would display it.

    Times are ``time.monotonic()`` values passed in, so the model can be tested
    without waiting. Not thread-safe by itself; the simulator locks around it.
    """

    def __init__(
        self,
        *,
        division_kg: int = 20,
        noise_divisions: int = 0,
        seed: int | None = None,
    ) -> None:
        self.division_kg = division_kg
        self.noise_divisions = noise_divisions
        self._rng = random.Random(seed)
        self._move = _Move(start=0.0, from_kg=0.0, to_kg=0.0)
        self._creep_base = 0.0
        self._creep_rate = 0.0
        self._creep_start = 0.0
        self._creep_until = math.inf

    def set_target(self, kg: float, now: float) -> None:
        """Put ``kg`` on the platform at once (a test weight, not a truck)."""
        self._move = _Move(start=now, from_kg=kg, to_kg=kg)
        self._stop_creep(reset=True)

    def drive_on(
        self,
        kg: float,
        now: float,
        *,
        bounce: bool = True,
        ramp_s: float = 2.0,
        bounce_s: float = 3.0,
    ) -> None:
        """A truck of ``kg`` drives on: ramp up, overshoot, ring down, settle."""
        start_kg, _ = self._move.value_at(now)
        step = kg - start_kg
        self._move = _Move(
            start=now,
            from_kg=start_kg,
            to_kg=kg,
            ramp_s=ramp_s,
            bounce_kg=BOUNCE_FRACTION * step if bounce else 0.0,
            bounce_s=bounce_s if bounce else 0.0,
        )
        self._stop_creep(reset=True)

    def drive_off(
        self, now: float, *, bounce: bool = False, ramp_s: float = 2.0
    ) -> None:
        """The truck drives off; the platform returns to zero."""
        self.drive_on(0, now, bounce=bounce, ramp_s=ramp_s, bounce_s=1.5)

    def creep(
        self, kg_per_s: float, now: float, duration_s: float | None = None
    ) -> None:
        """Start a slow drift (water draining off coal, a driver stepping down).

        ``creep(0, now)`` stops it and keeps what has drifted so far.
        """
        self._stop_creep(reset=False, now=now)
        self._creep_rate = kg_per_s
        self._creep_start = now
        self._creep_until = math.inf if duration_s is None else now + duration_s

    def weight_at(self, now: float) -> tuple[int, bool]:
        """(displayed kg, stable) at ``now``: whole divisions, noise included."""
        value, moving = self._move.value_at(now)
        value += self._creep_offset(now)
        creeping = self._creep_rate != 0 and now < self._creep_until

        d = self.division_kg
        shown = math.floor(value / d + 0.5) * d
        if self.noise_divisions:
            shown += self._rng.randint(-self.noise_divisions, self.noise_divisions) * d
        return shown, not (moving or creeping)

    def _creep_offset(self, now: float) -> float:
        elapsed = max(0.0, min(now, self._creep_until) - self._creep_start)
        return self._creep_base + self._creep_rate * elapsed

    def _stop_creep(self, *, reset: bool, now: float = 0.0) -> None:
        self._creep_base = 0.0 if reset else self._creep_offset(now)
        self._creep_rate = 0.0
        self._creep_until = math.inf


# -- the line ---------------------------------------------------------------------


def _baud_constant(baud: int) -> int:
    speed = getattr(termios, f"B{baud}", None)
    if not isinstance(speed, int):
        raise ValueError(f"baud rate {baud} is not a standard tty speed")
    return speed


def _open_raw_pty(baud: int) -> tuple[int, int]:
    """(master, slave) fds; the slave is raw 8N1 at ``baud``."""
    speed = _baud_constant(baud)
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        attrs[4] = attrs[5] = speed
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        # A real indicator does not wait for anyone: what nobody reads is lost.
        os.set_blocking(master, False)
    except BaseException:
        os.close(master)
        os.close(slave)
        raise
    return master, slave


def _point_link(link: Path, target: str) -> None:
    """Make ``link`` a symlink to ``target``, replacing an old symlink only."""
    if os.path.lexists(link) and not link.is_symlink():
        raise FileExistsError(f"{link} exists and is not a symlink; not replacing it")
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    tmp.replace(link)


class IndicatorSimulator:
    """A continuously sending indicator on a fresh pseudo-terminal.

    Open ``port_name`` (or ``link``) as the indicator's serial port. The writer
    thread starts at once; the simulator is "switched on" unless ``powered`` is
    False. With ``answer_to`` set it behaves as a request/response indicator and
    sends one frame per request it receives instead of streaming.
    """

    def __init__(
        self,
        *,
        encode: Encoder = yaohua_tf0_encoder,
        baud: int = 9600,
        frames_per_s: float = 10.0,
        link: str | os.PathLike[str] | None = None,
        division_kg: int = 20,
        noise_divisions: int = 0,
        seed: int | None = None,
        powered: bool = True,
        answer_to: bytes | None = None,
    ) -> None:
        self.encode = encode
        self.baud = baud
        self.frames_per_s = frames_per_s
        self.answer_to = answer_to
        self.model = WeightModel(
            division_kg=division_kg, noise_divisions=noise_divisions, seed=seed
        )
        self.frames_sent = 0
        self.bytes_sent = 0
        self.bytes_dropped = 0

        self._lock = threading.Lock()
        self._powered = powered
        self._garbage: list[bytes] = []
        self._received = bytearray()
        self._requests_pending = 0
        self._closed = threading.Event()

        self._master, self._slave = _open_raw_pty(baud)
        self.port_name = os.ttyname(self._slave)
        self.link = Path(link) if link is not None else None
        self._start_writer()
        logger.info(
            "indicator simulator on %s (link %s, %d baud)",
            self.port_name,
            self.link,
            baud,
        )

    def _start_writer(self) -> None:
        try:
            if self.link is not None:
                _point_link(self.link, self.port_name)
            self._thread = threading.Thread(
                target=self._run, name=f"indicator sim {self.port_name}", daemon=True
            )
            self._thread.start()
        except BaseException:
            os.close(self._master)
            os.close(self._slave)
            raise

    # -- the weight, the power and the line --------------------------------------

    @property
    def division_kg(self) -> int:
        return self.model.division_kg

    @division_kg.setter
    def division_kg(self, kg: int) -> None:
        with self._lock:
            self.model.division_kg = kg

    @property
    def noise_divisions(self) -> int:
        return self.model.noise_divisions

    @noise_divisions.setter
    def noise_divisions(self, n: int) -> None:
        with self._lock:
            self.model.noise_divisions = n

    def set_target(self, kg: int) -> None:
        with self._lock:
            self.model.set_target(kg, time.monotonic())

    def drive_on(
        self,
        kg: int,
        bounce: bool = True,
        *,
        ramp_s: float = 2.0,
        bounce_s: float = 3.0,
    ) -> None:
        with self._lock:
            self.model.drive_on(
                kg, time.monotonic(), bounce=bounce, ramp_s=ramp_s, bounce_s=bounce_s
            )

    def drive_off(self, bounce: bool = False, *, ramp_s: float = 2.0) -> None:
        with self._lock:
            self.model.drive_off(time.monotonic(), bounce=bounce, ramp_s=ramp_s)

    def creep(self, kg_per_s: float, duration_s: float | None = None) -> None:
        with self._lock:
            self.model.creep(kg_per_s, time.monotonic(), duration_s)

    def weight_now(self) -> tuple[int, bool]:
        with self._lock:
            return self.model.weight_at(time.monotonic())

    @property
    def powered(self) -> bool:
        return self._powered

    def power_off(self) -> None:
        """Stop sending, as an indicator switched off (after the frame on the line)."""
        self._powered = False

    def power_on(self) -> None:
        self._powered = True

    def inject(self, data: bytes) -> None:
        """Put ``data`` on the line between two frames, powered or not."""
        with self._lock:
            self._garbage.append(bytes(data))

    @property
    def received(self) -> bytes:
        """What the booth program has written to the indicator so far."""
        with self._lock:
            return bytes(self._received)

    # -- lifetime -----------------------------------------------------------------

    def close(self) -> None:
        """Stop the writer, close the pty and remove the link. Idempotent."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._thread.join(2.0)
        os.close(self._master)
        os.close(self._slave)
        self._remove_link()
        logger.info("indicator simulator on %s closed", self.port_name)

    def _remove_link(self) -> None:
        # A newer simulator may have taken the link over; leave it alone then.
        link = self.link
        if (
            link is not None
            and link.is_symlink()
            and os.readlink(link) == self.port_name
        ):
            link.unlink()

    def __enter__(self) -> IndicatorSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the writer thread --------------------------------------------------------

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._closed.is_set():
            self._send_garbage()
            now = time.monotonic()
            if not self._powered:
                self._listen(IDLE_S)
                next_at = now
            elif self.answer_to is not None:
                self._answer_one()
            elif now < next_at:
                self._listen(min(next_at - now, IDLE_S))
            else:
                frame = self._send_frame()
                # Keep the cadence, but do not burst to catch up after a stall.
                next_at = max(next_at + self._frame_period(frame), now)

    def _answer_one(self) -> None:
        with self._lock:
            asked = self._requests_pending > 0
            if asked:
                self._requests_pending -= 1
        if asked:
            self._send_frame()
        else:
            self._listen(IDLE_S)

    def _send_frame(self) -> bytes:
        with self._lock:
            kg, stable = self.model.weight_at(time.monotonic())
        frame = self.encode(kg, stable)
        self._send_paced(frame)
        self.frames_sent += 1
        return frame

    def _frame_period(self, frame: bytes) -> float:
        line_s = len(frame) * BITS_PER_BYTE / self.baud
        return max(1.0 / self.frames_per_s, line_s)

    def _send_garbage(self) -> None:
        with self._lock:
            garbage, self._garbage = self._garbage, []
        for chunk in garbage:
            self._send_paced(chunk)

    def _send_paced(self, data: bytes) -> None:
        """Write ``data`` no faster than the baud rate carries it."""
        byte_s = BITS_PER_BYTE / self.baud
        step = max(1, math.ceil(SLICE_S / byte_s))
        start = time.monotonic()
        for offset in range(0, len(data), step):
            if self._closed.is_set():
                return
            self._write(data[offset : offset + step])
            done_at = start + (offset + step) * byte_s
            self._sleep_until(min(done_at, start + len(data) * byte_s))

    def _write(self, chunk: bytes) -> None:
        if logger.isEnabledFor(TRAFFIC):
            logger.log(TRAFFIC, "sim %s tx %s", self.port_name, chunk.hex(" ").upper())
        try:
            written = os.write(self._master, chunk)
        except BlockingIOError:
            written = 0
        except OSError as err:
            logger.debug("sim %s write failed: %s", self.port_name, err)
            written = 0
        # Nobody is reading and the tty buffer is full: the bytes are lost.
        self.bytes_sent += written
        self.bytes_dropped += len(chunk) - written

    def _sleep_until(self, deadline: float) -> None:
        while (left := deadline - time.monotonic()) > 0:
            self._listen(left)

    def _listen(self, timeout: float) -> None:
        """Wait up to ``timeout`` s, taking in whatever the booth writes to us."""
        readable, _, _ = select.select([self._master], [], [], timeout)
        if not readable:
            return
        try:
            data = os.read(self._master, 4096)
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.EIO):
                logger.debug("sim %s read failed: %s", self.port_name, err)
            # EIO: no one has the port open; do not spin on it.
            time.sleep(timeout)
            return
        self._take_request(data)

    def _take_request(self, data: bytes) -> None:
        if logger.isEnabledFor(TRAFFIC):
            logger.log(TRAFFIC, "sim %s rx %s", self.port_name, data.hex(" ").upper())
        with self._lock:
            self._received += data
            if self.answer_to:
                self._requests_pending += data.count(self.answer_to)


# -- the command line -------------------------------------------------------------


def _parse_trucks(text: str) -> list[list[int]]:
    trucks: list[list[int]] = []
    for part in text.split(";"):
        if not part.strip():
            continue
        weights = [int(w) for w in part.split(",")]
        if any(w < 0 for w in weights):
            raise ValueError("weights must not be negative")
        trucks.append(weights)
    if not trucks:
        raise ValueError("no trucks given")
    return trucks


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="weighbridge sim indicator",
        description=(
            "Simulate a weight indicator on a pseudo-terminal. Point the booth's scale "
            "port at the printed path (or at --link) and it will read trucks driving "
            "on and off, in a loop, until Ctrl-C."
        ),
    )
    parser.add_argument(
        "--protocol",
        choices=sorted(ENCODERS),
        default="yaohua_tf0",
        help="frame format to send (default: %(default)s)",
    )
    parser.add_argument(
        "--baud",
        type=int,
        default=9600,
        help="baud rate; paces the bytes (default: %(default)s)",
    )
    parser.add_argument(
        "--link",
        metavar="PATH",
        help="also make PATH a symlink to the pty, e.g. /tmp/ttyWB1 (removed on exit)",
    )
    parser.add_argument(
        "--trucks",
        default="15000,49000;16000,50000",
        metavar="KG,KG;KG,KG",
        help=(
            "trucks separated by ';', each one's weighings in kg separated by ',' "
            "(e.g. tare then gross); default: %(default)s"
        ),
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds a truck stands still on the platform (default: %(default)s)",
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=3.0,
        metavar="S",
        help="seconds the platform stays empty between trucks (default: %(default)s)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=10.0,
        help="frames per second, at most what the line carries (default: %(default)s)",
    )
    parser.add_argument(
        "--division",
        type=int,
        default=20,
        help="display division in kg (default: %(default)s)",
    )
    parser.add_argument(
        "--noise",
        type=int,
        default=1,
        metavar="D",
        help="random noise of up to ±D divisions (default: %(default)s; 0 for none)",
    )
    parser.add_argument(
        "--cycles", type=int, default=0, help="run the truck list N times (0: forever)"
    )
    parser.add_argument("--seed", type=int, help="random seed, for repeatable noise")
    return parser


def run_script(
    sim: IndicatorSimulator,
    trucks: Sequence[Sequence[int]],
    *,
    settle_s: float,
    pause_s: float,
    stop: threading.Event,
    cycles: int = 0,
) -> None:
    """Empty → truck on → stand still → off → pause, for every weighing, in a loop."""
    ramp_s, bounce_s = 2.0, 3.0
    cycle = 0
    while cycles == 0 or cycle < cycles:
        cycle += 1
        for number, weighings in enumerate(trucks, 1):
            for kg in weighings:
                print(f"车 {number} 上磅 {kg} kg", flush=True)
                sim.drive_on(kg, ramp_s=ramp_s, bounce_s=bounce_s)
                if stop.wait(ramp_s + bounce_s + settle_s):
                    return

                print(f"车 {number} 下磅", flush=True)
                sim.drive_off(ramp_s=ramp_s)
                if stop.wait(ramp_s + pause_s):
                    return


def _stop_on_sigterm(stop: threading.Event) -> Callable[[], None]:
    """Make SIGTERM set ``stop``; returns what puts the old handler back."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:
        # Not the main thread (called from a test): SIGTERM is not ours to take.
        return lambda: None

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        trucks = _parse_trucks(args.trucks)
    except ValueError as err:
        parser.error(f"--trucks: {err}")
    for ok, message in (
        (300 <= args.baud <= 230_400, "--baud 应在 300–230400 之间"),
        (0 < args.rate <= 100, "--rate 应在 0–100 帧/秒之间（不含 0）"),
        (args.settle >= 0 and args.pause >= 0, "--settle 和 --pause 不能为负"),
        (args.division > 0 and args.noise >= 0, "--division 必须为正，--noise 不能为负"),
        (args.cycles >= 0, "--cycles 不能为负"),
    ):
        if not ok:
            parser.error(message)

    try:
        sim = IndicatorSimulator(
            encode=ENCODERS[args.protocol],
            baud=args.baud,
            frames_per_s=args.rate,
            link=args.link,
            division_kg=args.division,
            noise_divisions=args.noise,
            seed=args.seed,
            answer_to=REQUESTS.get(args.protocol),
        )
    except (OSError, ValueError) as err:
        print(f"模拟仪表无法启动: {err}", file=sys.stderr)
        return 1

    stop = threading.Event()
    restore_sigterm = _stop_on_sigterm(stop)
    try:
        with sim:
            link = f" (链接 {sim.link})" if sim.link else ""
            print(
                f"模拟仪表 {args.protocol} {args.baud} 波特: {sim.port_name}{link}",
                flush=True,
            )
            run_script(
                sim,
                trucks,
                settle_s=args.settle,
                pause_s=args.pause,
                stop=stop,
                cycles=args.cycles,
            )
    except KeyboardInterrupt:
        pass
    finally:
        restore_sigterm()
    print("模拟仪表已停止", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
