"""Typing into the console as an operator does: ASCII by key presses, Chinese
characters (the province in a plate, 晋) as an input method commits them. Used by
the demo's scripted operator and by the tests; Qt's key simulation handles ASCII
only."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget


def type_text(widget: QWidget, text: str) -> None:
    for ch in text:
        if ch.isascii():
            QTest.keyClicks(widget, ch)
        else:
            event = QInputMethodEvent()
            event.setCommitString(ch)
            QApplication.sendEvent(widget, event)


def press(widget: QWidget, key: Qt.Key) -> None:
    """Press ``key`` the way a real keyboard delivers it: to an open popup (the
    plate completion list) if there is one, else to ``widget``."""
    target = QApplication.activePopupWidget() or widget
    QTest.keyClick(target, key)
