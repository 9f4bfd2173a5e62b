"""Yaohua XK3190 command (request/response) mode, "tF=1".

Sources: Yaohua DS10 manual §5.3(2), A9+ manual p. 10, A23P manual p. 24, DS3
manual p. 6 (shared/PROTOCOLS.md §2). The booth asks, the indicator answers::

    request   02  adr  cmd  X X  03
    response  02  adr  cmd  [data]  X X  03

``adr`` is ``A``…``Z`` (indicator address 1 = ``A``); ``cmd`` is ``A`` handshake,
``B`` gross, ``C`` tare, ``D`` net (``E``/``F`` truck no. and price on A9+/A23P).
For B/C/D the data is the tF=0 weight body: sign, six digits, decimal count. The
request and the handshake answer carry no data. ``X X`` is the XOR of address,
command and data as two uppercase hex characters; the DS10 gives the request for
address 1, command B, as ``02 41 42 30 33 03``.

The decoder reads both directions: a request (or a handshake answer, which looks
the same) is a Reading with no weight and no unit, so a capture of a polled line
decodes cleanly. A reply to C is the tare, reported as the weight with net False
(marked tare). Keli XK3118K9 uses this framing with
the weight "6 digits and one radix point"; data holding a point is read that way
(not verified on hardware).

What the check can and cannot catch: as for tF=0, the XOR sees any single flipped
bit in address, command or data, but not swapped digits. We also accept the
"+30H" nibble encoding (``:``…``?`` for 10–15) that the A22 uses in this mode;
the two encodings never collide, so this costs no detection.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from .base import Decoder, Reading, Result, ascii_hex_nibbles, xor
from .framing import parse_number, reject, scaled_int
from .yaohua import parse_signed_digits

logger = logging.getLogger(__name__)

STX, ETX = 0x02, 0x03
REQUEST_LEN = 6
# 02 adr cmd sign d d d d d d n X X 03
WEIGHT_REPLY_LEN = 14
MAX_FRAME = 32
WEIGHT_COMMANDS = b"BCD"


def _plus30(value: int) -> bytes:
    """The A22 nibble rule: each nibble + 0x30."""
    return bytes([0x30 + (value >> 4), 0x30 + (value & 0x0F)])


def _check_ok(body: bytes, check: bytes) -> bool:
    x = xor(body)
    return check == ascii_hex_nibbles(x) or check == _plus30(x)


def build_request(address: int = 1, command: str = "B") -> bytes:
    """The frame a booth sends to poll indicator ``address`` (1 = ``A``)."""
    if not 1 <= address <= 26:
        raise ValueError(f"address must be 1..26, not {address}")
    if len(command) != 1 or not command.isalpha():
        raise ValueError(f"command must be one letter, not {command!r}")
    body = bytes([0x40 + address]) + command.upper().encode("ascii")
    return bytes([STX]) + body + ascii_hex_nibbles(xor(body)) + bytes([ETX])


def encode_response(
    weight: Decimal | int | float | str | None,
    decimals: int = 0,
    *,
    address: int = 1,
    command: str = "B",
) -> bytes:
    """The indicator's answer (the simulator uses it). ``weight`` None or command A
    gives the data-less handshake answer."""
    head = build_request(address, command)[1:3]
    data = b""
    if weight is not None and command.upper() != "A":
        scaled = scaled_int(weight, decimals)
        sign = b"-" if scaled < 0 else b"+"
        data = sign + b"%06d" % min(abs(scaled), 999_999) + b"%d" % decimals
    body = head + data
    return bytes([STX]) + body + ascii_hex_nibbles(xor(body)) + bytes([ETX])


class YaohuaCmdDecoder(Decoder):
    label = "yaohua_cmd"

    def _decode_buffer(self, buf: bytearray) -> list[Result]:
        out: list[Result] = []
        while True:
            if not self._skip_to(buf, STX):
                return out

            # The frame runs to the first ETX; an STX before it means bytes were lost.
            end = buf.find(ETX, 1, MAX_FRAME)
            nxt = buf.find(STX, 1, end if end > 0 else MAX_FRAME)
            if nxt > 0:
                out.append(reject(self, bytes(buf[:nxt]), "truncated frame"))
                del buf[:nxt]
                continue
            if end < 0:
                if len(buf) < MAX_FRAME:
                    return out
                out.append(reject(self, bytes(buf[:1]), "no end of frame"))
                del buf[:1]
                continue

            frame = bytes(buf[: end + 1])
            del buf[: end + 1]
            out.append(self._decode_frame(frame))

    def _decode_frame(self, frame: bytes) -> Result:
        if len(frame) < REQUEST_LEN:
            return reject(self, frame, "frame too short")
        body, check = frame[1:-3], frame[-3:-1]
        if not _check_ok(body, check):
            return reject(self, frame, "checksum mismatch")
        address, command, data = body[0], body[1], body[2:]
        if not (0x41 <= address <= 0x5A and 0x41 <= command <= 0x5A):
            return reject(self, frame, "bad address or command")

        # A request, or the handshake answer: no weight in it.
        if not data or command not in WEIGHT_COMMANDS:
            return Reading(self.label, None, None, stable=None, raw=frame)

        weight = self._weight(data)
        if weight is None:
            return reject(self, frame, "bad weight data")
        net, tare = command == ord("D"), command == ord("C")
        return Reading(self.label, weight, self.unit, stable=None, net=net, raw=frame,
                       tare=tare)

    @staticmethod
    def _weight(data: bytes) -> Decimal | None:
        if len(data) != 8 or data[0] not in b"+-":
            return None
        if b"." in data:
            # Keli XK3118K9: sign, six digits and a point.
            return parse_number(data)
        decimals = data[7] - 0x30
        if not 0 <= decimals <= 4:
            return None
        return parse_signed_digits(data[0], data[1:7], decimals)
