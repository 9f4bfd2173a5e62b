"""What every booth device shares: its status and its errors.

A device is either the world's fault (a cable pulled, an indicator switched off, a
COM port that is not there: tell the operator what to check) or a setting that can
never work (an unknown protocol, a baud rate the port refuses: tell the engineer).
Library errors (pyserial, sockets) are translated into these at the driver, so the
console never sees them raw.
"""

from __future__ import annotations

from enum import StrEnum


class DeviceStatus(StrEnum):
    """What the console shows next to a device."""

    OFFLINE = "offline"
    CONNECTING = "connecting"
    ONLINE = "online"


class DeviceError(Exception):
    """A device problem. ``message_cn`` is what to tell the operator."""

    def __init__(self, message: str, message_cn: str = "") -> None:
        super().__init__(message)
        self.message_cn = message_cn or message


class DeviceOffline(DeviceError):
    """The device cannot be reached now; retrying may help."""


class DeviceConfigError(DeviceError):
    """The device settings can never work; retrying will not help."""
