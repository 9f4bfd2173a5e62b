"""The printed ticket (磅单): what it says, its QR code, its font, and how it is saved.

Tickets are read back the way their holders read them: the page is rasterised and
the QR code scanned; the text is extracted from the PDF as a search or an auditor's
tool would.
"""

from __future__ import annotations

import dataclasses
import errno
import math
import os
import stat
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import cv2
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.ticket import TicketData, TicketWriteError, render_ticket_pdf
from common.resources import CJK_FONT, resource_path
from common.signing import TicketClaims, TicketSigner, verify_token
from tests.support.qr import decode_qr, pdf_to_images

DPI = 200
GROSS_AT = datetime(2026, 12, 3, 6, 25, 10, tzinfo=UTC)  # 14:25:10 in Shanxi
TARE_AT = datetime(2026, 12, 3, 5, 50, 2, tzinfo=UTC)
PRINTED_AT = datetime(2026, 12, 3, 6, 26, 0, tzinfo=UTC)

# A fixed key: Ed25519 signatures are deterministic, so the QR code is the same
# on every run and a decoding failure can be reproduced.
SIGNER = TicketSigner(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


def _verify_url() -> str:
    claims = TicketClaims(
        weighing_id="6f1c2a9e-4b7d-4e1a-9c3f-2d8b5e7a1f04",
        ticket_no="1-20261203-0001",
        plate="晋K·A3576",
        tare_kg=17560,
        gross_kg=49320,
        net_kg=31760,
        station=1,
        gross_at=int(GROSS_AT.timestamp()),
    )
    return f"http://127.0.0.1:8470/v/{SIGNER.sign(claims)}"


def _ticket(**changes: object) -> TicketData:
    data = TicketData(
        mine="大阳煤矿",
        ticket_no="1-20261203-0001",
        plate="晋K·A3576",
        product="洗混煤",
        customer="晋城宏达能源贸易有限公司",
        tare_kg=17560,
        gross_kg=49320,
        net_kg=31760,
        tare_at=TARE_AT,
        gross_at=GROSS_AT,
        tare_station=2,
        gross_station=1,
        tare_operator="李秀兰",
        gross_operator="王建国",
        verify_url=_verify_url(),
    )
    return dataclasses.replace(data, **changes)  # type: ignore[arg-type]


def _page_text(path: Path) -> str:
    pdf = pdfium.PdfDocument(path)
    try:
        return "\n".join(page.get_textpage().get_text_bounded() for page in pdf)
    finally:
        pdf.close()


def _text_fonts(path: Path) -> set[tuple[str, bool]]:
    """(base font name, embedded?) of every text object in the document."""
    pdf = pdfium.PdfDocument(path)
    try:
        fonts = set()
        for page in pdf:
            for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]):
                assert isinstance(obj, pdfium.PdfTextObj)
                font = obj.get_font()
                fonts.add((font.get_base_name(), font.is_embedded))
        return fonts
    finally:
        pdf.close()


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tickets") / "1-20261203-0001.pdf"
    return render_ticket_pdf(_ticket(), path, printed_at=PRINTED_AT)


@pytest.fixture(scope="module")
def voided(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tickets") / "1-20261203-0001-void.pdf"
    return render_ticket_pdf(_ticket(voided=True), path, printed_at=PRINTED_AT)


# --- the QR code -------------------------------------------------------------------


def test_verification_url_is_long_enough_to_need_a_large_code() -> None:
    url = _verify_url()

    assert len(url) > 200
    token = url.rsplit("/", 1)[1]
    assert verify_token(token, SIGNER.public_key_hex).plate == "晋K·A3576"


def test_qr_code_on_the_ticket_scans_back_to_the_verification_url(
    printed: Path,
) -> None:
    [page] = pdf_to_images(printed, dpi=DPI)

    assert decode_qr(page) == _verify_url()


def test_qr_code_prints_at_least_30_mm_square(printed: Path) -> None:
    [page] = pdf_to_images(printed, dpi=DPI)

    found, corners = cv2.QRCodeDetectorAruco().detect(page)
    assert found
    points = corners.reshape(-1, 2)
    sides_px = [math.dist(points[i], points[(i + 1) % 4]) for i in range(4)]
    sides_mm = [side / DPI * 25.4 for side in sides_px]
    assert min(sides_mm) >= 30.0


def test_voided_ticket_still_scans_so_the_check_page_can_say_it_is_void(
    voided: Path,
) -> None:
    [page] = pdf_to_images(voided, dpi=DPI)

    assert decode_qr(page) == _verify_url()


# --- what the ticket says ----------------------------------------------------------


def test_ticket_shows_title_number_plate_product_and_customer(printed: Path) -> None:
    text = _page_text(printed)

    assert "大阳煤矿 过磅单" in text
    assert "1-20261203-0001" in text
    assert "晋K·A3576" in text
    assert "洗混煤" in text
    assert "晋城宏达能源贸易有限公司" in text
    assert "扫码验真" in text


def test_weights_are_printed_in_tonnes_to_the_scale_division(printed: Path) -> None:
    text = _page_text(printed)

    for label in ("毛重", "皮重", "净重"):
        assert label in text
    assert "49.32 t" in text
    assert "17.56 t" in text
    assert "31.76 t" in text


def test_times_print_in_china_standard_time_with_station_and_operator(
    printed: Path,
) -> None:
    text = _page_text(printed)

    assert "2026-12-03 14:25:10" in text  # gross, 06:25:10 UTC
    assert "2026-12-03 13:50:02" in text  # tare
    assert "打印时间：2026-12-03 14:26:00" in text
    assert "1号磅" in text and "2号磅" in text
    assert "王建国" in text and "李秀兰" in text


def test_a_time_given_in_another_zone_is_still_printed_in_china(
    tmp_path: Path,
) -> None:
    pacific = timezone(timedelta(hours=-8))
    data = _ticket(gross_at=GROSS_AT.astimezone(pacific))

    text = _page_text(render_ticket_pdf(data, tmp_path / "t.pdf"))

    assert "2026-12-03 14:25:10" in text


def test_every_text_is_set_in_the_embedded_wenquanyi_font(printed: Path) -> None:
    fonts = _text_fonts(printed)

    assert fonts
    for name, embedded in fonts:
        assert "wenquanyi" in name.lower() or "wqy" in name.lower(), name
        assert embedded, name


def test_long_customer_name_is_set_smaller_rather_than_cut(tmp_path: Path) -> None:
    customer = "山西晋城无烟煤矿业集团有限责任公司高平煤炭运销分公司第三销售站"
    data = _ticket(customer=customer)

    text = _page_text(render_ticket_pdf(data, tmp_path / "t.pdf"))

    assert customer in text


def test_voided_ticket_carries_a_void_mark(voided: Path) -> None:
    assert "作废" in _page_text(voided)


def test_valid_ticket_has_no_void_mark(printed: Path) -> None:
    assert "作废" not in _page_text(printed)


def test_naive_times_are_refused_because_the_zone_would_be_guessed() -> None:
    with pytest.raises(ValueError, match="tare_at must be timezone-aware"):
        _ticket(tare_at=TARE_AT.replace(tzinfo=None))


# --- saving --------------------------------------------------------------------------


@pytest.fixture
def read_only_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder the booth may not write to.

    Root ignores permission bits, and CI runs as root; there the refusal the
    kernel would give anyone else is played by ``tempfile.mkstemp``.
    """
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)

    if os.access(folder, os.W_OK):
        real_mkstemp = tempfile.mkstemp

        def refusing_mkstemp(
            suffix: str | None = None,
            prefix: str | None = None,
            dir: Path | None = None,
        ) -> tuple[int, str]:
            if dir is not None and Path(dir) == folder:
                raise PermissionError(errno.EACCES, "Permission denied", str(folder))
            return real_mkstemp(suffix, prefix, dir)

        monkeypatch.setattr(tempfile, "mkstemp", refusing_mkstemp)

    yield folder
    folder.chmod(stat.S_IRWXU)


def test_writing_into_a_read_only_folder_raises_a_clear_error_and_leaves_no_file(
    read_only_dir: Path,
) -> None:
    target = read_only_dir / "1-20261203-0001.pdf"

    with pytest.raises(TicketWriteError) as caught:
        render_ticket_pdf(_ticket(), target)

    assert str(target) in str(caught.value)
    assert "无法保存磅单文件" in str(caught.value)
    assert isinstance(caught.value.__cause__, PermissionError)
    assert list(read_only_dir.iterdir()) == []


def test_a_write_failing_midway_keeps_the_old_ticket_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "1-20261203-0001.pdf"
    target.write_bytes(b"the earlier print")

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(TicketWriteError, match="No space left on device"):
        render_ticket_pdf(_ticket(), target)

    assert target.read_bytes() == b"the earlier print"
    assert list(tmp_path.iterdir()) == [target]


def test_a_reprint_replaces_the_earlier_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "1-20261203-0001.pdf"
    target.write_bytes(b"the earlier print")

    render_ticket_pdf(_ticket(), target)

    assert target.read_bytes().startswith(b"%PDF-")
    assert list(tmp_path.iterdir()) == [target]


def test_missing_resource_is_reported_with_its_full_path() -> None:
    assert resource_path(CJK_FONT).is_file()

    with pytest.raises(FileNotFoundError, match=r"resources.*no-such-font\.ttc"):
        resource_path("fonts/no-such-font.ttc")
