"""`weighbridge demo --headless` is what a new user runs first: it must work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.qr import decode_qr, pdf_to_images

REPO = Path(__file__).resolve().parents[1]


def test_headless_demo_weighs_trucks_and_leaves_tickets_screenshots_summary(
        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "common.cli", "demo", "--trucks", "2", "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(summary) == 2
    for row in summary:
        assert row["net_kg"] == row["gross_kg"] - row["tare_kg"] > 0
        assert (row["tare_station"], row["gross_station"]) == (2, 1)
        assert row["synced"] is True
        ticket = out / "tickets" / f"{row['ticket_no']}.pdf"
        [page] = pdf_to_images(ticket, dpi=150)
        assert decode_qr(page) == row["verify_url"]

    shots = sorted(p.name for p in (out / "screenshots").glob("*.png"))
    for station in (1, 2):
        assert any(n.startswith(f"booth{station}-") and "weighing" in n for n in shots)
        assert any(n.startswith(f"booth{station}-") and "result" in n for n in shots)
    assert not any("failure" in n for n in shots)
