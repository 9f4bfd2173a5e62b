"""The booth as the field runs it: `weighbridge sim indicator` in one process,
`weighbridge booth --config FILE` in another, talking over a real pty."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from client.store import LocalStore

REPO = Path(__file__).resolve().parents[2]


def _spawn(*args: str, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "common.cli", *args], cwd=REPO,
                            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _wait_for(cond, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


def test_booth_reads_a_separate_simulator_and_stops_cleanly_on_sigterm(
        tmp_path: Path) -> None:
    link = tmp_path / "ttyWB1"
    sim = _spawn("sim", "indicator", "--link", str(link), "--trucks", "15000",
                 "--settle", "30", "--pause", "1", log=tmp_path / "sim.log")
    booth = None
    try:
        assert _wait_for(link.exists, 10), (tmp_path / "sim.log").read_text()
        cfg = tmp_path / "booth.toml"
        cfg.write_text(
            f'station_id = 2\npurpose = "tare"\nscale_port = "{link}"\n'
            f'data_dir = "{tmp_path / "data"}"\nserver_url = "http://127.0.0.1:9"\n',
            encoding="utf-8")
        booth = _spawn("booth", "--config", str(cfg), log=tmp_path / "booth.log")
        log_file = tmp_path / "data" / "logs" / "booth.log"
        assert _wait_for(lambda: log_file.exists()
                         and "仪表在线" in log_file.read_text(encoding="utf-8"), 20), \
            (tmp_path / "booth.log").read_text(errors="replace")

        booth.send_signal(signal.SIGTERM)
        assert booth.wait(15) == 0
        # The local store is whole and opens again.
        LocalStore(tmp_path / "data" / "booth.db").close()
    finally:
        for proc in (booth, sim):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    sim_log = (tmp_path / "sim.log").read_text(errors="replace")
    assert "Traceback" not in sim_log


def test_booth_with_a_bad_config_says_which_setting_is_wrong(tmp_path: Path) -> None:
    cfg = tmp_path / "booth.toml"
    cfg.write_text('purpose = "weigh"\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "common.cli", "booth", "--config",
                           str(cfg)], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert proc.returncode == 2
    assert "purpose" in proc.stderr and "Traceback" not in proc.stderr
