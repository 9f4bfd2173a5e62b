"""The printed weighing ticket (磅单) with its verification QR code (一票一码, R7).

The booth prints on 241 × 140 mm continuous form, the usual paper of dot-matrix
ticket printers at Chinese weighbridges. Everything is drawn as vectors in one
embedded CJK font, so the PDF needs nothing but that font to look the same on any
printer, and the QR code stays sharp at the printer's own resolution.

Times arrive as UTC and are printed in China Standard Time.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

import qrcode
import qrcode.constants
from reportlab.lib.colors import Color, black, white
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from common.resources import CJK_FONT, resource_path
from common.units import tonnes

logger = logging.getLogger(__name__)

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is
# exact for every ticket and spares Windows booths the tzdata package.
CHINA_TZ = timezone(timedelta(hours=8), "CST")

PAGE_WIDTH = 241 * mm
PAGE_HEIGHT = 140 * mm

# Layout, in mm from the lower left corner of the form. The tables take the left
# part, the QR code the right, both hanging from TOP.
POINT = 25.4 / 72
MARGIN = 12.0
RIGHT = PAGE_WIDTH / mm - MARGIN
TOP = 113.0
TABLE_WIDTH = 166.0
PARTICULARS_ROW = 10.0
TABLE_GAP = 4.0
WEIGHT_ROWS = (8.0, 11.0, 11.0, 13.0)  # header, 毛重, 皮重, 净重
QR_LEFT = 186.0
QR_SIZE = 42.0

FONT_NAME = "WenQuanYiMicroHei"

INK = black
MUTED = Color(0.35, 0.35, 0.35)
SERIAL_RED = Color(0.70, 0.05, 0.05)
# Translucent, like a stamp's ink: the figures under it stay legible for audit.
VOID_RED = Color(0.85, 0.05, 0.05, alpha=0.6)
GRID = Color(0.25, 0.25, 0.25)
SHADE = Color(0.93, 0.93, 0.93)

Align = Literal["left", "center", "right"]
_ALIGN_SHIFT: dict[Align, float] = {"left": 0.0, "center": 0.5, "right": 1.0}


class TicketError(Exception):
    """A ticket that could not be produced."""


class TicketWriteError(TicketError):
    """The ticket file could not be written: the folder or the disk is at fault."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"无法保存磅单文件 {path}：{reason}")
        self.path = path


@dataclass(frozen=True)
class TicketData:
    """Everything printed on one ticket; weights in kg, times timezone-aware."""

    mine: str
    ticket_no: str
    plate: str
    product: str
    customer: str
    tare_kg: int
    gross_kg: int
    net_kg: int
    tare_at: datetime
    gross_at: datetime
    tare_station: int
    gross_station: int
    tare_operator: str
    gross_operator: str
    verify_url: str
    division_kg: int = 20
    voided: bool = False

    def __post_init__(self) -> None:
        # A naive time would print as whatever the booth PC's clock zone says.
        for name in ("tare_at", "gross_at"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware, got {value!r}")
        if not self.verify_url:
            raise ValueError("verify_url must not be empty: every ticket has a code")


def render_ticket_pdf(
    data: TicketData, path: Path, *, printed_at: datetime | None = None
) -> Path:
    """Draw the ticket and write it to ``path`` atomically; returns ``path``.

    Either the whole new file appears or nothing changes: a reprint never leaves a
    half-written PDF for the print spooler. ``printed_at`` defaults to now.
    """
    when = printed_at if printed_at is not None else datetime.now(UTC)
    pdf = _draw(data, when)
    _write_atomically(pdf, path)
    logger.info("ticket %s written to %s", data.ticket_no, path)
    return path


# --- drawing ---------------------------------------------------------------------


@functools.cache
def _register_font() -> str:
    """Register the CJK font with reportlab once per process; returns its name."""
    font_file = resource_path(CJK_FONT)
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(font_file), subfontIndex=0))
    return FONT_NAME


def _local_time(moment: datetime) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _draw(data: TicketData, printed_at: datetime) -> bytes:
    font = _register_font()
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        pageCompression=1,
        initialFontName=font,
    )
    canvas.setTitle(f"{data.mine} 过磅单 {data.ticket_no}")
    canvas.setAuthor(data.mine)
    canvas.setSubject("磅单")
    canvas.setCreator("weighbridge")

    pen = _Pen(canvas, font)
    _draw_heading(pen, data)
    _draw_particulars(pen, data)
    _draw_weights(pen, data)
    _draw_qr(pen, data.verify_url)
    _draw_footer(pen, printed_at)
    if data.voided:
        _draw_void_stamp(pen)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@dataclass(frozen=True)
class _Cell:
    """One framed cell of a table row; sizes in mm, font size in points."""

    width: float
    text: str
    size: float
    align: Align = "center"
    bold: bool = False
    color: Color = INK
    shade: bool = False


class _Pen:
    """Text, rules and table rows in millimetres, in the one embedded font."""

    def __init__(self, canvas: Canvas, font: str) -> None:
        self.canvas = canvas
        self.font = font

    def width(self, text: str, size: float) -> float:
        """Width of ``text`` in mm at ``size`` points."""
        return float(pdfmetrics.stringWidth(text, self.font, size) / mm)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        align: Align = "left",
        bold: bool = False,
        color: Color = INK,
    ) -> None:
        """Draw ``text`` with its baseline at ``y``; ``x`` is its left edge, centre
        or right edge according to ``align``."""
        left = x - self.width(text, size) * _ALIGN_SHIFT[align]

        canvas = self.canvas
        canvas.saveState()
        obj = canvas.beginText(left * mm, y * mm)
        obj.setFont(self.font, size)
        obj.setFillColor(color)
        if bold:
            # The font has no bold face: bold is the glyphs filled and outlined.
            canvas.setStrokeColor(color)
            canvas.setLineWidth(size * 0.035)
            obj.setTextRenderMode(2)
        obj.textOut(text)
        canvas.drawText(obj)
        canvas.restoreState()

    def rule(
        self, x1: float, x2: float, y: float, weight: float, color: Color = INK
    ) -> None:
        """A horizontal line ``weight`` points thick."""
        self.canvas.setStrokeColor(color)
        self.canvas.setLineWidth(weight)
        self.canvas.line(x1 * mm, y * mm, x2 * mm, y * mm)

    def row(self, x: float, y: float, height: float, cells: list[_Cell]) -> None:
        """Framed cells side by side from ``(x, y)``, their lower left corner."""
        for cell in cells:
            self._cell(x, y, height, cell)
            x += cell.width

    def _cell(self, x: float, y: float, height: float, cell: _Cell) -> None:
        canvas = self.canvas
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.6)
        canvas.setFillColor(SHADE if cell.shade else white)
        canvas.rect(x * mm, y * mm, cell.width * mm, height * mm, stroke=1, fill=1)
        if not cell.text:
            return

        # Text too long for the cell is set smaller, never cut: it is a record.
        padding = 2.0
        room = cell.width - 2 * padding
        size = cell.size
        natural = self.width(cell.text, size)
        if natural > room:
            size *= room / natural

        # Centre the glyphs' visible body, about 0.7 em for CJK, in the cell.
        baseline = y + (height - size * 0.7 * POINT) / 2
        anchor = x + padding + room * _ALIGN_SHIFT[cell.align]
        self.text(
            anchor,
            baseline,
            cell.text,
            size,
            align=cell.align,
            bold=cell.bold,
            color=cell.color,
        )


def _draw_heading(pen: _Pen, data: TicketData) -> None:
    pen.text(
        PAGE_WIDTH / mm / 2, 122.0, f"{data.mine} 过磅单", 22, align="center", bold=True
    )
    pen.rule(MARGIN, RIGHT, 118.0, 1.2)
    pen.rule(MARGIN, RIGHT, 117.0, 0.4)


def _draw_particulars(pen: _Pen, data: TicketData) -> None:
    """磅单号, 车号, 品种, 客户: two rows of label and value pairs."""

    def label(text: str) -> _Cell:
        return _Cell(18.0, text, 11, shade=True)

    def value(width: float, text: str, color: Color = INK) -> _Cell:
        return _Cell(width, text, 13, align="left", bold=True, color=color)

    rows = [
        [
            label("磅单号"),
            value(56.0, data.ticket_no, SERIAL_RED),
            label("车号"),
            value(74.0, data.plate),
        ],
        [
            label("品种"),
            value(56.0, data.product),
            label("客户"),
            value(74.0, data.customer),
        ],
    ]
    for i, cells in enumerate(rows):
        pen.row(MARGIN, TOP - (i + 1) * PARTICULARS_ROW, PARTICULARS_ROW, cells)


def _draw_weights(pen: _Pen, data: TicketData) -> None:
    """毛重, 皮重 and 净重 in tonnes, with when, where and by whom each was taken."""
    widths = [22.0, 38.0, 50.0, 24.0, 32.0]

    def weighing(
        label: str, kg: int, at: datetime, station: int, operator: str
    ) -> list[_Cell]:
        return [
            _Cell(widths[0], label, 11.5, shade=True),
            _Cell(widths[1], tonnes(kg, data.division_kg), 14, bold=True),
            _Cell(widths[2], _local_time(at), 11.5),
            _Cell(widths[3], f"{station}号磅", 11.5),
            _Cell(widths[4], operator, 11.5),
        ]

    titles = ["项目", "重量", "称重时间", "磅房", "司磅员"]
    header = [
        _Cell(w, title, 10.5, shade=True)
        for w, title in zip(widths, titles, strict=True)
    ]
    gross = weighing(
        "毛重", data.gross_kg, data.gross_at, data.gross_station, data.gross_operator
    )
    tare = weighing(
        "皮重", data.tare_kg, data.tare_at, data.tare_station, data.tare_operator
    )
    # The net is what the customer pays for: larger, and alone on its row.
    net = [
        _Cell(widths[0], "净重", 13, bold=True, shade=True),
        _Cell(widths[1], tonnes(data.net_kg, data.division_kg), 18, bold=True),
        _Cell(sum(widths[2:]), "净重 = 毛重 − 皮重", 10, align="left", color=MUTED),
    ]

    y = TOP - 2 * PARTICULARS_ROW - TABLE_GAP
    for height, cells in zip(WEIGHT_ROWS, (header, gross, tare, net), strict=True):
        y -= height
        pen.row(MARGIN, y, height, cells)


def _draw_qr(pen: _Pen, url: str) -> None:
    """The verification code, as filled vector squares, with its caption below."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()

    canvas = pen.canvas
    count = len(matrix)
    unit = QR_SIZE / count * mm
    left, top = QR_LEFT * mm, TOP * mm
    canvas.setFillColor(white)
    canvas.rect(left, top - QR_SIZE * mm, QR_SIZE * mm, QR_SIZE * mm, stroke=0, fill=1)

    # One path for the whole symbol, each run of dark modules in a row a rectangle:
    # filled together, neighbouring rows leave no hairline seams when rasterised.
    path = canvas.beginPath()
    for r, modules in enumerate(matrix):
        bottom = top - (r + 1) * unit
        for start, length in _dark_runs(modules):
            path.rect(left + start * unit, bottom, length * unit, unit)
    canvas.setFillColor(INK)
    canvas.drawPath(path, stroke=0, fill=1)

    centre = QR_LEFT + QR_SIZE / 2
    below = TOP - QR_SIZE
    pen.text(centre, below - 6.0, "扫码验真", 12, align="center", bold=True)
    pen.text(
        centre,
        below - 11.0,
        "手机扫码查看本单称重记录",
        7.5,
        align="center",
        color=MUTED,
    )


def _dark_runs(modules: list[bool]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in one row of the symbol."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i, dark in enumerate([*modules, False]):
        if dark and start is None:
            start = i
        elif not dark and start is not None:
            runs.append((start, i - start))
            start = None
    return runs


def _draw_footer(pen: _Pen, printed_at: datetime) -> None:
    y = 30.0
    for x, label in ((MARGIN, "司机签字："), (MARGIN + 88.0, "收货单位签字：")):
        pen.text(x, y, label, 11)
        start = x + pen.width(label, 11) + 1.0
        pen.rule(start, start + 48.0, y - 1.0, 0.5)

    pen.rule(MARGIN, RIGHT, 19.0, 0.3, MUTED)
    pen.text(MARGIN, 14.0, f"打印时间：{_local_time(printed_at)}", 9, color=MUTED)
    pen.text(
        RIGHT,
        14.0,
        "一票一码，涂改无效；真伪以扫码结果为准",
        9,
        align="right",
        color=MUTED,
    )


def _draw_void_stamp(pen: _Pen) -> None:
    """A large red 作废 stamp across the weights, clear of the QR code, so a voided
    ticket still scans and the check page can say why it is void."""
    weights_top = TOP - 2 * PARTICULARS_ROW - TABLE_GAP
    centre_y = weights_top - sum(WEIGHT_ROWS) / 2

    canvas = pen.canvas
    canvas.saveState()
    canvas.translate((MARGIN + TABLE_WIDTH / 2) * mm, centre_y * mm)
    canvas.rotate(14)
    canvas.setStrokeColor(VOID_RED)
    canvas.setLineWidth(3.0)
    canvas.roundRect(-42 * mm, -17 * mm, 84 * mm, 34 * mm, 4 * mm, stroke=1, fill=0)
    canvas.setLineWidth(1.0)
    canvas.roundRect(-39.5 * mm, -14.5 * mm, 79 * mm, 29 * mm, 3 * mm, stroke=1, fill=0)
    # Not bold: translucent fill and outline would overlap into a darker rim.
    pen.text(0.0, -9.5, "作废", 80, align="center", color=VOID_RED)
    canvas.restoreState()


# --- writing ---------------------------------------------------------------------


def _write_atomically(content: bytes, path: Path) -> None:
    """Write ``content`` beside ``path`` under a temporary name, then rename it.

    Any failure removes the temporary file and leaves an existing ``path`` as it
    was; it is reported as TicketWriteError carrying the system's reason.
    """
    try:
        fd, tmp_name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as err:
        raise TicketWriteError(path, err.strerror or str(err)) from err

    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp makes the file private; the print spooler may run as another user.
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise TicketWriteError(path, err.strerror or str(err)) from err
