"""``weighbridge demo``: the whole path, for real, on one machine.

It starts the central server (its own process, embedded SQLite), two booth
consoles — 2号磅 for tare (回皮) and 1号磅 for gross (过重) — each reading a
simulated Yaohua indicator through a real pseudo-terminal, and drives scripted
trucks through them: drive on, bounce, settle, the operator types the plate and
presses F5, drive off. The gross booth finds the tare because the tare booth's
record went to the server and came back by pull.

With a display it opens the windows and keeps sending trucks until they are
closed; without one (or with --headless) it weighs --trucks trucks and exits,
leaving tickets, screenshots and summary.json in --out.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

# Plates, owners and typical weights of the demo's registered trucks (kg).
DEMO_VEHICLES = [
    ("晋K58231", "阳泉运输公司", "张师傅", 15_280, 49_300),
    ("晋K60917", "盂县煤运", "李师傅", 14_860, 48_720),
    ("晋A3Q516", "太原顺达物流", "王师傅", 16_020, 50_140),
    ("冀D77402", "邯郸鑫源贸易", "赵师傅", 15_540, 47_960),
    ("晋C21870", "平定宏达运输", "刘师傅", 13_980, 46_880),
]
PRODUCTS = ["原煤", "洗精煤", "块煤"]
CUSTOMERS = ["山西焦化集团", "河北钢铁集团", "阳泉电厂"]


class DemoError(RuntimeError):
    pass


class _WindowsClosed(Exception):
    """The user closed a console: the interactive demo ends there."""


@dataclass
class ServerProcess:
    url: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db_url: str, port: int, log_path: Path) -> ServerProcess:
    url = f"http://127.0.0.1:{port}"
    out = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "run", "--db", db_url, "--host",
         "127.0.0.1", "--port", str(port), "--public-url", url],
        stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoError(f"服务器启动失败，见日志 {log_path}:\n"
                            + log_path.read_text(errors="replace")[-2000:])
        try:
            if httpx.get(f"{url}/api/v1/heartbeat", timeout=1).status_code == 200:
                return ServerProcess(url, proc, log_path)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise DemoError(f"服务器 30 秒内未就绪，见日志 {log_path}")


def seed_server(db_url: str, tokens: dict[int, str]) -> None:
    from server.cli import main as server_main

    def run(*args: str) -> None:
        if server_main([*args, "--db", db_url]) != 0:
            raise DemoError(f"server {' '.join(args)} failed")

    run("add-station", "--id", "2", "--name", "2号磅", "--purpose", "tare",
        "--token", tokens[2])
    run("add-station", "--id", "1", "--name", "1号磅", "--purpose", "gross",
        "--token", tokens[1])
    for i, (plate, owner, driver, tare, _gross) in enumerate(DEMO_VEHICLES):
        run("add-vehicle", "--plate", plate, "--owner", owner, "--driver", driver,
            "--phone", f"1390351{i:04d}", "--axles", "6", "--rated-load-kg", "49000",
            "--ref-tare-kg", str(tare), "--product", PRODUCTS[i % len(PRODUCTS)],
            "--customer", CUSTOMERS[i % len(CUSTOMERS)])


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="weighbridge demo",
        description="演示：中心服务器 + 2号磅（回皮）+ 1号磅（过重），模拟仪表经真实伪终端"
                    "串口发送耀华 XK3190-A9 数据帧。Runs the server and two booth "
                    "consoles with simulated indicators on real pseudo-terminals.")
    p.add_argument("--headless", action="store_true",
                   help="no windows: weigh --trucks trucks offscreen and exit "
                        "(the default when there is no DISPLAY)")
    p.add_argument("--trucks", type=int, default=3,
                   help="trucks to weigh in headless mode (default 3)")
    p.add_argument("--out", type=Path, default=Path("demo-out"),
                   help="folder for tickets/, screenshots/, summary.json "
                        "(default ./demo-out)")
    p.add_argument("--db", default="",
                   help="server database URL (default: SQLite file in --out)")
    p.add_argument("--port", type=int, default=0, help="server port (default: free)")
    args = p.parse_args(argv)
    if args.trucks < 1:
        p.error("--trucks must be at least 1")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    headless = args.headless or not (os.environ.get("DISPLAY")
                                     or os.environ.get("WAYLAND_DISPLAY"))
    if headless:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        return Demo(args.out, args.db, args.port, headless, args.trucks).run()
    except DemoError as err:
        print(f"演示失败 / demo failed: {err}", file=sys.stderr)
        return 1


class Demo:
    def __init__(self, out: Path, db_url: str, port: int, headless: bool,
                 trucks: int) -> None:
        self.out = out.resolve()
        self.headless = headless
        self.trucks = trucks
        work = self.out / "work"
        if work.exists():
            shutil.rmtree(work)
        for sub in ("tickets", "screenshots"):
            shutil.rmtree(self.out / sub, ignore_errors=True)
            (self.out / sub).mkdir(parents=True)
        work.mkdir(parents=True)
        self.work = work
        self.db_url = db_url or f"sqlite:///{work / 'server.db'}"
        self.port = port or free_port()
        self.summary: list[dict[str, object]] = []
        self.shots: dict[int, set[str]] = {1: set(), 2: set()}

    def run(self) -> int:
        from .booth import Booth
        from .config import load_config
        from .console.app import make_app, open_console
        from .devices.indicator_sim import IndicatorSimulator

        tokens = {1: secrets.token_urlsafe(24), 2: secrets.token_urlsafe(24)}
        seed_server(self.db_url, tokens)
        server = start_server(self.db_url, self.port, self.work / "server.log")
        print(f"中心服务器 / server: {server.url}", flush=True)

        app = make_app()
        sims: dict[int, IndicatorSimulator] = {}
        booths: dict[int, Booth] = {}
        try:
            for station, purpose in ((2, "tare"), (1, "gross")):
                sims[station] = IndicatorSimulator(baud=9600, division_kg=20,
                                                   noise_divisions=0, seed=station)
                cfg_path = self._write_config(station, purpose, tokens[station],
                                              server.url, sims[station].port_name)
                booths[station] = Booth(load_config(cfg_path))
            self.windows = {}
            scales = []
            for station, booth in booths.items():
                window, scale = open_console(booth)
                scales.append(scale)
                window.move(40 + (2 - station) * 660, 40)
                window.show()
                booth.start_sync()
                self.windows[station] = window
            self.app, self.sims, self.booths, self.server = app, sims, booths, server
            return self._drive()
        finally:
            for scale in locals().get("scales", []):
                scale.stop()
            # Delete the windows while Qt is still whole, not in whatever order the
            # interpreter's final garbage collection picks.
            for w in getattr(self, "windows", {}).values():
                w.close()
                w.deleteLater()
            self.windows = {}
            app.processEvents()
            for b in booths.values():
                b.close()
            for sim in sims.values():
                sim.close()
            server.stop()

    def _write_config(self, station: int, purpose: str, token: str, url: str,
                      port: str) -> Path:
        path = self.work / f"booth{station}.toml"
        path.write_text(
            f'station_id = {station}\npurpose = "{purpose}"\n'
            f'server_url = "{url}"\ntoken = "{token}"\n'
            f'data_dir = "{self.work / f"booth{station}"}"\n'
            f'scale_port = "{port}"\nscale_protocol = "yaohua_tf0"\n'
            f'scale_baud = 9600\ndivision_kg = 20\nhold_s = 1.5\n'
            f'sync_interval_s = 1.0\noperator = "{"王芳" if station == 2 else "陈刚"}"\n',
            encoding="utf-8")
        return path

    # -- the script ------------------------------------------------------------

    def _drive(self) -> int:
        try:
            self._trucks()
        except _WindowsClosed:
            return 0
        self._wait(self._all_synced, 30, "记录未能全部同步到中心")
        self._finish_summary()
        print(f"完成：{len(self.summary)} 张磅单，输出在 {self.out}", flush=True)
        return 0

    def _trucks(self) -> None:
        i = 0
        while self.headless is False or i < self.trucks:
            plate, _owner, _driver, tare, gross = DEMO_VEHICLES[i % len(DEMO_VEHICLES)]
            # Each visit weighs a little differently, as real trucks do.
            tare += (i // len(DEMO_VEHICLES)) * 40
            gross += (i * 137) % 900
            self._weigh(2, plate, tare)
            self._wait(lambda p=plate: self.booths[1].store.find_open_tare(p)
                       is not None, 30, f"1号磅未收到 {plate} 的回皮记录（同步）")
            outcome = self._weigh(1, plate, gross)
            self._record(outcome)
            i += 1

    def _weigh(self, station: int, plate: str, kg: int) -> object:
        from PySide6.QtCore import Qt

        from .console.keyboard import press, type_text
        from .workflow import Phase

        window, sim, booth = self.windows[station], self.sims[station], self.booths[station]
        sim.drive_on(kg)
        self._wait(lambda: booth.flow.phase is Phase.ON_SCALE, 15, "车辆上磅未检测到")
        self._pump(0.8)
        self._shot(station, "weighing")
        self._wait(lambda: booth.flow.phase is Phase.READY, 30,
                   f"{station}号磅重量未稳定")
        outcomes: list[object] = []
        refusals: list[str] = []
        window.outcome_ready.connect(outcomes.append)
        window.save_refused.connect(refusals.append)
        # The operator sits at this booth: its window has the keyboard.
        window.activateWindow()
        self._wait(window.isActiveWindow, 5, f"{station}号磅窗口无法获得键盘焦点")
        window.plate_edit.setFocus()
        window.plate_edit.clear()
        type_text(window.plate_edit, plate)
        press(window.plate_edit, Qt.Key.Key_Return)
        self._pump(0.3)
        press(window.plate_edit, Qt.Key.Key_F5)
        self._wait(lambda: bool(outcomes or refusals), 30, f"{station}号磅保存超时")
        window.outcome_ready.disconnect(outcomes.append)
        window.save_refused.disconnect(refusals.append)
        if not outcomes:
            raise DemoError(f"{station}号磅保存失败：{refusals[0]}")
        self._pump(0.3)
        self._shot(station, "result")
        sim.drive_off()
        self._wait(lambda: booth.flow.phase is Phase.IDLE, 20, "车辆未下磅")
        return outcomes[0]

    def _record(self, outcome: object) -> None:
        from .workflow import Outcome

        assert isinstance(outcome, Outcome) and outcome.ticket_path is not None
        w = outcome.record
        shutil.copy2(outcome.ticket_path, self.out / "tickets" / outcome.ticket_path.name)
        self.summary.append({
            "ticket_no": w.ticket_no, "plate": w.plate,  # type: ignore[union-attr]
            "tare_kg": w.tare_kg, "gross_kg": w.gross_kg,  # type: ignore[union-attr]
            "net_kg": w.net_kg, "tare_station": w.tare_station,  # type: ignore[union-attr]
            "gross_station": w.gross_station,  # type: ignore[union-attr]
            "verify_url": outcome.verify_url, "synced": False, "id": w.id})
        print(f"磅单 {w.ticket_no}: {w.plate} 净重 {w.net_kg} kg", flush=True)  # type: ignore[union-attr]

    def _all_synced(self) -> bool:
        for booth in self.booths.values():
            booth.sync.kick()
        return all(b.store.pending_count() == 0 for b in self.booths.values())

    def _finish_summary(self) -> None:
        """``synced`` is true only when the server itself answers for the record."""
        for row in self.summary:
            token = str(row["verify_url"]).rsplit("/v/", 1)[1]
            resp = httpx.get(f"{self.server.url}/api/v1/verify/{token}", timeout=5)
            row["synced"] = (resp.status_code == 200
                             and resp.json().get("verdict") == "genuine")
            row.pop("id")
        path = self.out / "summary.json"
        path.write_text(json.dumps(self.summary, ensure_ascii=False, indent=2),
                        encoding="utf-8")

    # -- Qt helpers ------------------------------------------------------------

    def _windows_open(self) -> bool:
        return self.headless or all(w.isVisible() for w in self.windows.values())

    def _pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)

    def _wait(self, ready: Callable[[], bool], timeout_s: float, what: str) -> None:
        end = time.monotonic() + timeout_s
        while not ready():
            if time.monotonic() > end:
                self._failure_shots()
                raise DemoError(f"{what}（等待 {timeout_s:.0f} 秒），"
                                f"截图见 {self.out / 'screenshots'}")
            if not self._windows_open():
                raise _WindowsClosed
            self._pump(0.05)

    def _failure_shots(self) -> None:
        from PySide6.QtWidgets import QApplication

        log.error("failure: active window %r, popup %r, focus %r",
                  QApplication.activeWindow(), QApplication.activePopupWidget(),
                  QApplication.focusWidget())
        for station, window in getattr(self, "windows", {}).items():
            window.grab().save(str(self.out / "screenshots"
                                   / f"booth{station}-failure.png"))

    def _shot(self, station: int, stage: str) -> None:
        if stage in self.shots[station] and len(self.summary) > 0:
            return
        self.shots[station].add(stage)
        n = len(list((self.out / "screenshots").glob(f"booth{station}-*.png")))
        path = self.out / "screenshots" / f"booth{station}-{n + 1:02d}-{stage}.png"
        self.windows[station].grab().save(str(path))
