"""The weight indicator on a serial port: read, decode, report, reconnect.

:class:`ScaleReader` is the Qt-free core. It owns one thread that owns the port:
the thread opens the port by URL (a COM port, ``/dev/ttyUSB0``, a pseudo-terminal,
``loop://`` in tests, ``spy://`` for a field engineer), feeds what it reads to the
configured protocol decoder and hands on **every** good frame with the monotonic
time it arrived. Capture logic needs every frame; a screen may repaint at its own
pace, but that is the screen's business.

The reader never gives up by itself: a port that cannot be opened, or that vanishes
(a USB adapter unplugged), is reported offline with what the operator should check,
and reopened every ``retry_s`` until it comes back. An indicator that stops sending
good frames is reported offline after ``offline_after_s``, so a stale weight is
never shown as current.

:class:`QtScale` wraps a reader for the console and re-emits both callbacks as Qt
signals; they are queued to the GUI thread by Qt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType

import serial
from PySide6.QtCore import QObject, Signal

from client.devices.base import (
    DeviceConfigError,
    DeviceError,
    DeviceOffline,
    DeviceStatus,
)
from common.protocols import TRAFFIC, Decoder, Reading, Rejected, make_decoder

logger = logging.getLogger(__name__)

ReadingCallback = Callable[[float, Reading], None]
StatusCallback = Callable[[DeviceStatus, str], None]

# How long one read may block; bounds how late a stop or a freshness check can be.
READ_TIMEOUT_S = 0.05
# A poll request that cannot be written in this time means the port is stuck.
WRITE_TIMEOUT_S = 0.5
JOIN_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class ScaleSettings:
    """How to reach one indicator. Booth configs map onto these fields."""

    url: str
    protocol: str = "yaohua_tf0"
    unit: str | None = None
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    offline_after_s: float = 1.0
    retry_s: float = 1.0
    # Request/response indicators answer only when asked.
    poll_request: bytes | None = None
    poll_interval_s: float = 0.2
    # At most one warning about rejected frames per this many seconds.
    warn_every_s: float = 10.0
    # Passed to the protocol's decoder, e.g. {"checksum": True} for Toledo.
    decoder_options: Mapping[str, object] = field(default_factory=dict)


class _Hex:
    """Hex-encodes bytes only if the log record is actually written."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __str__(self) -> str:
        return self.data.hex(" ").upper()


class _WarningLimiter:
    """Lets one warning through per interval and counts the ones it held back."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self.held_back = 0
        self._last = -float("inf")

    def allow(self, now: float) -> bool:
        if now - self._last < self.every_s:
            self.held_back += 1
            return False
        self._last = now
        return True

    def take_held_back(self) -> int:
        count, self.held_back = self.held_back, 0
        return count


def _decoder_for(settings: ScaleSettings) -> Decoder:
    try:
        return make_decoder(
            settings.protocol, settings.unit, **settings.decoder_options
        )
    except KeyError as err:
        raise DeviceConfigError(
            str(err.args[0]),
            f"未知的仪表协议 {settings.protocol!r}：请检查称重仪表设置",
        ) from err
    except TypeError as err:
        raise DeviceConfigError(
            f"bad options for {settings.protocol}: {err}",
            f"仪表协议 {settings.protocol} 的参数无效：请检查称重仪表设置",
        ) from err


class ScaleReader:
    """Reads one weight indicator in a thread of its own.

    Callbacks run in the reader thread and must be quick; ``on_reading`` gets
    ``(time.monotonic() when the bytes arrived, Reading)`` for every good frame,
    ``on_status`` gets ``(DeviceStatus, Chinese message)`` on every change.
    """

    def __init__(
        self,
        settings: ScaleSettings,
        *,
        on_reading: ReadingCallback | None = None,
        on_status: StatusCallback | None = None,
    ) -> None:
        self.settings = settings
        self.decoder = _decoder_for(settings)
        self.rejected_count = 0
        self.readings_count = 0
        self._on_reading = on_reading
        self._on_status = on_status
        self._status = DeviceStatus.OFFLINE
        self._message = "未启动"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reject_warnings = _WarningLimiter(settings.warn_every_s)
        # Monotonic times, set when the port opens.
        self._last_good = 0.0
        self._next_poll = 0.0

    # -- public -----------------------------------------------------------------

    @property
    def status(self) -> DeviceStatus:
        return self._status

    @property
    def message(self) -> str:
        return self._message

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the reader thread; does nothing if it is running."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"scale {self.settings.url}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the port. Safe to call any number of times."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        if thread is threading.current_thread():
            # Called from a callback: the thread closes the port as it ends.
            return
        thread.join(JOIN_TIMEOUT_S)
        if thread.is_alive():
            logger.error(
                "scale reader %s did not stop in %.1f s",
                self.settings.url,
                JOIN_TIMEOUT_S,
            )

    close = stop

    def __enter__(self) -> ScaleReader:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the thread -------------------------------------------------------------

    def _run(self) -> None:
        port: serial.SerialBase | None = None
        try:
            while not self._stop.is_set():
                if port is None:
                    port = self._open_or_report()
                    if port is None:
                        self._stop.wait(self.settings.retry_s)
                    continue
                if not self._serve(port):
                    self._close_quietly(port)
                    port = None
                    self._stop.wait(self.settings.retry_s)
        finally:
            if port is not None:
                self._close_quietly(port)
            self._set_status(DeviceStatus.OFFLINE, "称重仪表已停止读取")

    def _open_or_report(self) -> serial.SerialBase | None:
        try:
            port = self._open()
        except DeviceError as err:
            self._report_open_failure(err)
            return None

        self._last_good = self._next_poll = time.monotonic()
        self._set_status(
            DeviceStatus.CONNECTING, f"串口 {self.settings.url} 已打开，等待仪表数据"
        )
        return port

    def _open(self) -> serial.SerialBase:
        s = self.settings
        try:
            port = serial.serial_for_url(
                s.url,
                baudrate=s.baudrate,
                bytesize=s.bytesize,
                parity=s.parity,
                stopbits=s.stopbits,
                timeout=READ_TIMEOUT_S,
                write_timeout=WRITE_TIMEOUT_S,
            )
        except ValueError as err:
            raise DeviceConfigError(
                f"bad serial settings for {s.url}: {err}",
                f"串口 {s.url} 参数无效（{err}）：请检查波特率、数据位、校验和停止位",
            ) from err
        except (serial.SerialException, OSError) as err:
            raise DeviceOffline(
                f"cannot open {s.url}: {err}",
                f"串口 {s.url} 打不开：请检查线缆和COM口设置",
            ) from err

        # Whatever sat in the buffer was sent before we listened: it is not the
        # weight now, and half a frame of it must not join the next one.
        port.reset_input_buffer()
        self.decoder.reset()
        logger.info("scale port %s opened (%s, %d baud)", s.url, s.protocol, s.baudrate)
        return port

    def _report_open_failure(self, err: DeviceError) -> None:
        # Retries are every second: warn when the reason changes, not each time.
        if err.message_cn != self._message:
            level = (
                logging.ERROR if isinstance(err, DeviceConfigError) else logging.WARNING
            )
            logger.log(level, "%s; retrying every %.1f s", err, self.settings.retry_s)
        self._set_status(DeviceStatus.OFFLINE, err.message_cn)

    def _serve(self, port: serial.SerialBase) -> bool:
        """One read (and poll) cycle; False when the port has failed."""
        try:
            self._poll_if_due(port)
            data = port.read(max(1, port.in_waiting))
        except (serial.SerialException, OSError) as err:
            logger.warning("scale port %s failed: %s", self.settings.url, err)
            self._set_status(
                DeviceStatus.OFFLINE,
                f"串口 {self.settings.url} 通讯中断：请检查线缆和COM口设置",
            )
            return False

        now = time.monotonic()
        if data:
            self._handle(now, data)
        self._check_fresh(now)
        return True

    def _poll_if_due(self, port: serial.SerialBase) -> None:
        request = self.settings.poll_request
        if request is None or time.monotonic() < self._next_poll:
            return
        self._next_poll = time.monotonic() + self.settings.poll_interval_s
        logger.log(TRAFFIC, "%s tx %s", self.settings.url, _Hex(request))
        port.write(request)

    def _close_quietly(self, port: serial.SerialBase) -> None:
        try:
            port.close()
        except (serial.SerialException, OSError) as err:
            logger.debug("closing %s: %s", self.settings.url, err)

    # -- frames -----------------------------------------------------------------

    def _handle(self, now: float, data: bytes) -> None:
        logger.log(TRAFFIC, "%s rx %s", self.settings.url, _Hex(data))
        for result in self.decoder.feed(data):
            if isinstance(result, Rejected):
                self._count_rejected(now, result)
                continue

            self._last_good = now
            self.readings_count += 1
            if self._status is not DeviceStatus.ONLINE:
                self._set_status(DeviceStatus.ONLINE, "仪表在线")
            self._deliver(now, result)

    def _count_rejected(self, now: float, rejected: Rejected) -> None:
        self.rejected_count += 1
        if not self._reject_warnings.allow(now):
            return
        logger.warning(
            "%s: rejected frame (%s) %s; %d more rejected since the last warning",
            self.settings.url,
            rejected.error,
            _Hex(rejected.raw),
            self._reject_warnings.take_held_back(),
        )

    def _check_fresh(self, now: float) -> None:
        if self._status is DeviceStatus.OFFLINE:
            return
        if now - self._last_good > self.settings.offline_after_s:
            logger.warning(
                "no good frame from %s for %.1f s",
                self.settings.url,
                now - self._last_good,
            )
            self._set_status(
                DeviceStatus.OFFLINE, "仪表无数据：请检查仪表电源、波特率和协议设置"
            )

    # -- callbacks --------------------------------------------------------------

    def _deliver(self, now: float, reading: Reading) -> None:
        if self._on_reading is None:
            return
        try:
            self._on_reading(now, reading)
        except Exception:
            # Our bug, not the indicator's: log it and keep reading.
            logger.exception("on_reading callback failed")

    def _set_status(self, status: DeviceStatus, message: str) -> None:
        if (status, message) == (self._status, self._message):
            return
        if status is not self._status:
            logger.info("scale %s: %s (%s)", self.settings.url, status.value, message)
        self._status, self._message = status, message
        if self._on_status is None:
            return
        try:
            self._on_status(status, message)
        except Exception:
            logger.exception("on_status callback failed")


class QtScale(QObject):
    """A :class:`ScaleReader` for the console: the same callbacks, as signals.

    The signals are emitted from the reader thread; Qt queues them to the thread
    of each receiver, normally the GUI thread. Call :meth:`stop` before the object
    is deleted.
    """

    reading = Signal(float, object)
    status = Signal(str, str)

    def __init__(self, settings: ScaleSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reader = ScaleReader(
            settings, on_reading=self._emit_reading, on_status=self._emit_status
        )

    def start(self) -> None:
        self.reader.start()

    def stop(self) -> None:
        self.reader.stop()

    close = stop

    def __enter__(self) -> QtScale:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _emit_reading(self, t: float, reading: Reading) -> None:
        self.reading.emit(t, reading)

    def _emit_status(self, status: DeviceStatus, message: str) -> None:
        self.status.emit(status.value, message)
