"""Rice Lake IQ355 continuous output (also the Rice Lake 480/482 stream format).

Sources: Cardinal 200-series manual p. 27 ("Rice Lake IQ355", Cardinal 225 type
3) and the Rice Lake 480 Legend / 482-AG figure ``STX POL wwwwwww UNIT G/N S
TERM`` (shared/PROTOCOLS.md §11)::

    STX  pol  w w w w w w w  unit  G|N  status  CR [LF]
         ' ' or '-'          L lb, K kg, T t, G g, O oz
              seven characters, right-justified, leading zeros as blanks,
              point included when the display has one
                                        status: ' ' valid, I invalid,
                                                M motion, O over/under range

``O`` is an overload, or an underload when the polarity is ``-``; ``I`` is a
Reading with no weight. The ``T`` unit is read as metric tonnes: the sources do
not say short or metric, and our sites are metric (FIXME(protocols): check on a
US-configured indicator).

What the layout can and cannot catch: no checksum; STX, the fixed positions,
the documented letters and the line end refuse noise and cut frames, not a
changed digit.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from .base import Decoder, Reading, Result
from .framing import format_fixed, parse_number, reject

logger = logging.getLogger(__name__)

STX, CR, LF = 0x02, 0x0D, 0x0A
FRAME_LEN = 13  # STX … status, then CR; an LF after it is optional
UNITS = {ord("L"): "lb", ord("K"): "kg", ord("T"): "t", ord("G"): "g", ord("O"): "oz"}
UNIT_LETTERS = {v: k for k, v in UNITS.items()}
WEIGHT_CHARS = frozenset(b" 0123456789.")


def encode_iq355(
    weight: Decimal | int | float | str | None,
    decimals: int = 0,
    *,
    unit: str = "kg",
    net: bool = False,
    status: str = " ",
) -> bytes:
    """A frame; ``weight`` None with status ``O`` is an over-range frame."""
    if weight is None:
        field, negative = "9" * 7, False
    else:
        text = format_fixed(weight, decimals)
        field, negative = text.lstrip("-").rjust(7), text.startswith("-")
    if len(field) != 7:
        raise ValueError(f"{weight} does not fit seven characters")
    frame = bytes([STX]) + (b"-" if negative else b" ") + field.encode("ascii")
    frame += bytes([UNIT_LETTERS[unit]]) + (b"N" if net else b"G")
    return frame + status.encode("ascii") + b"\r\n"


class RiceLakeIq355Decoder(Decoder):
    label = "ricelake_iq355"

    def _decode_buffer(self, buf: bytearray) -> list[Result]:
        out: list[Result] = []
        while True:
            if buf[:1] == b"\n":
                # The optional LF after a frame's CR.
                del buf[:1]
            if not self._skip_to(buf, STX):
                return out

            nxt = buf.find(STX, 1, FRAME_LEN)
            if nxt > 0:
                out.append(reject(self, bytes(buf[:nxt]), "truncated frame"))
                del buf[:nxt]
                continue
            if len(buf) < FRAME_LEN:
                return out

            frame = bytes(buf[:FRAME_LEN])
            del buf[:FRAME_LEN]
            out.append(self._decode_frame(frame))

    def _decode_frame(self, frame: bytes) -> Result:
        pol, field, unit_code, mode, status = (
            frame[1],
            frame[2:9],
            frame[9],
            frame[10],
            frame[11],
        )
        unit = UNITS.get(unit_code)
        if (
            frame[12] not in (CR, LF)
            or pol not in b" +-"
            or unit is None
            or mode not in b"GN"
            or status not in b" IMO"
            or not WEIGHT_CHARS.issuperset(field)
        ):
            return reject(self, frame, "bad frame layout")
        net = mode == ord("N")

        if status == ord("O"):
            under = pol == ord("-")
            return Reading(
                self.label,
                None,
                unit,
                stable=None,
                overload=not under,
                underload=under,
                net=net,
                raw=frame,
            )
        if status == ord("I"):
            return Reading(self.label, None, unit, stable=None, net=net, raw=frame)

        value = parse_number(field)
        if value is None:
            return reject(self, frame, "bad weight field")
        weight = -value if pol == ord("-") else value
        return Reading(
            self.label, weight, unit, stable=status != ord("M"), net=net, raw=frame
        )
