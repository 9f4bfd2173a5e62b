"""The ticket check and report pages in a real browser (headless Chromium), as a
phone or an office PC shows them: the DOM after rendering, and a screenshot.

Chromium comes from Debian's `chromium` package; .ci/run installs it and sets
WB_REQUIRE_BROWSER=1 so these tests cannot skip silently in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.server.server_site import Site, tare_record, weighing_record, wire

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if CHROMIUM is None:
    if os.environ.get("WB_REQUIRE_BROWSER"):
        raise RuntimeError("WB_REQUIRE_BROWSER is set but chromium is not installed")
    pytest.skip(
        "chromium is not installed (apt-get install chromium)", allow_module_level=True
    )


def browse(url: str, tmp_path: Path, *, width: int = 420) -> tuple[str, Path]:
    """The rendered DOM of ``url`` and a screenshot of it."""
    assert CHROMIUM is not None
    profile = tmp_path / "chromium-profile"
    base = [
        CHROMIUM,
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={width},900",
    ]
    dom = subprocess.run(
        [*base, "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    shot = tmp_path / "page.png"
    subprocess.run(
        [*base, f"--screenshot={shot}", url],
        capture_output=True,
        timeout=60,
        check=True,
    )
    return dom, shot


def stored_weighing(site: Site) -> dict[str, object]:
    tare = tare_record(plate="晋K77001", tare_kg=15_260)
    weighing = weighing_record(tare, gross_kg=48_880)
    site.tare.push(wire("tare", tare)).raise_for_status()
    response = site.gross.push(wire("weighing", weighing))
    assert response.status_code == 200, response.text
    return weighing


def test_a_phone_scanning_a_genuine_ticket_sees_valid_and_the_weights(
    site: Site, tmp_path: Path
) -> None:
    weighing = stored_weighing(site)
    token = site.gross.sign(weighing)
    dom, shot = browse(f"{site.server.url}/v/{token}", tmp_path)
    assert "真实有效" in dom and "晋K77001" in dom and "33.62 t" in dom
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000


def test_a_phone_scanning_a_forged_ticket_sees_invalid(
    site: Site, tmp_path: Path
) -> None:
    weighing = stored_weighing(site)
    payload, sig = site.gross.sign(weighing).split(".")
    dom, _shot = browse(f"{site.server.url}/v/{payload}.{sig[::-1]}", tmp_path)
    assert "无效" in dom and "真实有效" not in dom


def _red_pixels(shot: Path) -> int:
    """How many pixels of a screenshot are the 'invalid' red (#c62828)."""
    image = cv2.imread(str(shot))
    assert image is not None
    red = np.array([0x28, 0x28, 0xC6])  # BGR
    return int(np.count_nonzero(np.all(np.abs(image - red) <= 12, axis=2)))


def test_a_phone_with_a_cut_off_scan_is_asked_to_rescan_without_red(
    site: Site, tmp_path: Path
) -> None:
    token = site.gross.sign(stored_weighing(site))
    payload, sig = token.split(".")

    cut_dom, cut_shot = browse(f"{site.server.url}/v/{token[:-10]}", tmp_path)
    (tmp_path / "forged").mkdir()
    forged_dom, forged_shot = browse(
        f"{site.server.url}/v/{payload}.{sig[::-1]}", tmp_path / "forged"
    )

    assert "二维码不完整或无法识别，请重新扫描" in cut_dom
    assert "假磅单" not in cut_dom and "伪造" not in cut_dom
    assert _red_pixels(cut_shot) == 0
    assert "假磅单" in forged_dom and _red_pixels(forged_shot) > 1000


def test_the_daily_report_lists_the_ticket_with_totals(
    site: Site, tmp_path: Path
) -> None:
    weighing = stored_weighing(site)
    day = datetime.fromisoformat(str(weighing["gross_at"])).astimezone(UTC)
    local_day = day.timestamp() + 8 * 3600
    date = datetime.fromtimestamp(local_day, UTC).strftime("%Y-%m-%d")
    dom, _shot = browse(
        f"{site.server.url}/weighings?date={date}", tmp_path, width=1200
    )
    assert str(weighing["ticket_no"]) in dom and "晋K77001" in dom and "合计" in dom
