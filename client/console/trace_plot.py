"""The live weight trace, drawn with QPainter.

A line against time with two labelled axes is little code; drawing it here keeps
a plotting library (and its history of crashes with new PySide6 releases) out of
the booth console. pyqtgraph was tried first and aborted under PySide6 6.12.0.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 64, 12, 10, 26


class TracePlot(QWidget):
    """Weight (kg) against seconds since drive-on; the band of the stable value
    is shaded green when the flow has one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(160)
        self._points: list[tuple[float, int]] = []
        self._stable_kg: int | None = None
        self._band_kg = 0

    def set_points(self, points: list[tuple[float, int]], stable_kg: int | None = None,
                   band_kg: int = 0) -> None:
        self._points = points
        self._stable_kg = stable_kg
        self._band_kg = band_kg
        self.update()

    def points(self) -> list[tuple[float, int]]:
        return list(self._points)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        area = QRectF(MARGIN_L, MARGIN_T, self.width() - MARGIN_L - MARGIN_R,
                      self.height() - MARGIN_T - MARGIN_B)
        p.setPen(QPen(QColor("#999"), 1))
        p.drawRect(area)

        if not self._points:
            p.setPen(QColor("#888"))
            p.drawText(area, Qt.AlignmentFlag.AlignCenter, "等待车辆上磅")
            p.end()
            return

        t0, t1 = self._points[0][0], max(self._points[-1][0], self._points[0][0] + 5)
        kgs = [kg for _t, kg in self._points]
        lo, hi = 0, max(max(kgs), 1000)
        hi = int(hi * 1.1)

        def at(t: float, kg: float) -> QPointF:
            x = area.left() + (t - t0) / (t1 - t0) * area.width()
            y = area.bottom() - (kg - lo) / (hi - lo) * area.height()
            return QPointF(x, y)

        self._draw_axes(p, area, t0, t1, lo, hi)
        if self._stable_kg is not None:
            top = at(t0, self._stable_kg + self._band_kg)
            bottom = at(t1, self._stable_kg - self._band_kg)
            p.fillRect(QRectF(top, bottom), QColor(27, 138, 58, 60))
        p.setPen(QPen(QColor("#1f77b4"), 2))
        p.drawPolyline(QPolygonF([at(t, kg) for t, kg in self._points]))
        p.end()

    def _draw_axes(self, p: QPainter, area: QRectF, t0: float, t1: float, lo: int,
                   hi: int) -> None:
        p.setPen(QColor("#555"))
        for i in range(5):
            kg = lo + (hi - lo) * i / 4
            y = area.bottom() - area.height() * i / 4
            p.drawText(QRectF(0, y - 8, MARGIN_L - 6, 16),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       f"{kg / 1000:.1f} t")
            p.setPen(QPen(QColor("#eee"), 1))
            p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            p.setPen(QColor("#555"))
        p.drawText(QRectF(area.left(), area.bottom() + 4, area.width(), 18),
                   Qt.AlignmentFlag.AlignRight, f"{t1 - t0:.0f} s")
