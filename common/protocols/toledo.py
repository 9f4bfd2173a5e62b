"""Mettler Toledo "standard continuous output" (the 8142 / 8530 format).

Sources: the IND245 firmware file ``IND245/scale/ContOut.c`` and the WILDCAT
technical manual, Appendix 2, Tables 6-8 to 6-11; Cardinal 225 manual for the
short variant (shared/PROTOCOLS.md §8). Many Chinese indicators (顶松 H610, …)
send the same frame::

    STX  A B C  w w w w w w  t t t t t t  CR  [K]
         status  displayed weight: six     tare: six characters (blank allowed)
         words   characters, digits        optional checksum K
                 right-aligned, no sign
                 and no point

Cardinal's SHORT variant leaves out the tare (11 bytes, 12 with K). Leading
zeros come as blanks (MT standard) or as ``0`` (IND245 "8142" mode); both are
read.

Status word A: bits 0–2 the decimal or dummy-zero code (``000`` ×100, ``001``
×10, ``010`` ×1, ``011`` ×0.1 … ``111`` ×0.00001), bits 3–4 the display
increment (1, 2, 5). Word B: bit 0 net, bit 1 negative, bit 2 over or under
range, bit 3 motion, bit 4 kg (else lb), bit 6 power-up. Word C: bits 0–2 a unit
other than kg/lb (IND245: 1 g, 2 t, 3 oz, 6 ton, 7 N). Bit 5 of every status
word is always 1, which we check. Bit 7 is parity on 7-bit terminals, so every
byte is read with bit 7 masked.

The checksum K is the two's complement of the low seven bits of the sum of all
bytes from STX to CR: ``(-sum) & 0x7F`` (not an XOR, whatever some readers do).

What the check can and cannot catch: any single flipped bit in bits 0–6 of a
covered byte, and any error that changes the sum modulo 128. It cannot see
swapped characters or two errors that cancel in the sum, and it does not cover
bit 7 (parity, masked here anyway). Without K only the layout protects the frame.

Whether K is sent is a setting of the indicator. ``checksum=None`` (the default)
works it out: a byte after CR equal to K means "with", an STX right after CR
means "without". Until it knows, a frame whose CR is the last byte read is taken
unchecked (it may be the only frame there is); once it knows frames carry K it
waits for K and refuses a frame without it. A byte after CR that is neither K
nor STX refuses the frame, since it may be a damaged K; a clone that ends its
frames CR LF therefore needs ``checksum=False``. Set ``checksum`` on site to
remove the guess.

FIXME(protocols): without K, a full frame that lost six of its weight and tare
bytes reads as a SHORT frame, with a wrong weight unless exactly the tare was
lost; the frame length is not yet locked to the first frames seen.

FIXME(protocols): LIDEN LUW2001's "MT format" sets word C bit 0 for lb (Toledo:
grams); such an indicator reads here as grams.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import Decimal

from .base import Decoder, Reading, Result
from .framing import reject, scaled_int

logger = logging.getLogger(__name__)

STX, CR = 0x02, 0x0D
LONG_LEN = 17  # STX, 3 status, 6 weight, 6 tare, CR
SHORT_LEN = 11  # STX, 3 status, 6 weight, CR
MASK7 = bytes(b & 0x7F for b in range(256))
# STX with bit 7 clear or set (parity). One search for both: finding each byte on
# its own would scan to the end of the buffer whenever one of them is absent.
STX_ANY_PARITY = re.compile(rb"[\x02\x82]")
# A frame, its K and the byte after K: all that deciding on one frame reads.
WINDOW = LONG_LEN + 2
BLANK_OR_DIGIT = frozenset(b" 0123456789")
INCREMENTS = {1: 1, 2: 2, 3: 5}
# Word C bits 0-2 (IND245); 0 means "kg or lb, per word B bit 4".
UNIT_CODES = {1: "g", 2: "t", 3: "oz", 6: "ton", 7: "N"}
# After a frame, this many STX-right-after-CR misses make a checksum stream
# forget what it learned (the indicator was reconfigured).
RELEARN_AFTER = 3


def toledo_checksum(frame: bytes) -> int:
    """The K byte for ``frame`` (STX through CR)."""
    return -sum(frame) & 0x7F


@dataclass(frozen=True, slots=True)
class ToledoStatus:
    """The three status words, decoded."""

    decimals: int  # -2 (×100) … 5; the value is digits × 10**-decimals
    increment: int | None  # 1, 2, 5, or None when bits 3-4 are 00
    net: bool
    negative: bool
    over_under: bool
    motion: bool
    unit: str | None  # None: a unit code we do not know
    power_up: bool
    print_request: bool
    expanded: bool


def decode_status(a: int, b: int, c: int) -> ToledoStatus | None:
    """Status words A, B, C (bit 7 already masked), or None if bit 5 is missing."""
    if not (a & b & c & 0x20):
        return None
    unit_code = c & 0x07
    if unit_code == 0:
        unit: str | None = "kg" if b & 0x10 else "lb"
    else:
        unit = UNIT_CODES.get(unit_code)
    return ToledoStatus(
        decimals=(a & 0x07) - 2,
        increment=INCREMENTS.get((a >> 3) & 0x03),
        net=bool(b & 0x01),
        negative=bool(b & 0x02),
        over_under=bool(b & 0x04),
        motion=bool(b & 0x08),
        unit=unit,
        power_up=bool(b & 0x40),
        print_request=bool(c & 0x08),
        expanded=bool(c & 0x10),
    )


def _status_words(
    decimals: int,
    increment: int,
    unit: str,
    net: bool,
    negative: bool,
    over_under: bool,
    motion: bool,
    power_up: bool,
) -> bytes:
    if not -2 <= decimals <= 5:
        raise ValueError(f"decimals must be -2..5, not {decimals}")
    inc = {v: k for k, v in INCREMENTS.items()}[increment]
    a = 0x20 | (decimals + 2) | inc << 3
    b = 0x20 | net | negative << 1 | over_under << 2 | motion << 3
    b |= (unit == "kg") << 4 | power_up << 6
    codes = {v: k for k, v in UNIT_CODES.items()}
    c = 0x20 | codes.get(unit, 0)
    return bytes([a, b, c])


def _digits(value: int, pad: bytes) -> bytes:
    if not 0 <= value <= 999_999:
        raise ValueError(f"{value} does not fit six digits")
    return b"%6d" % value if pad == b" " else b"%06d" % value


def encode_toledo(
    weight: Decimal | int | float | str,
    *,
    decimals: int = 0,
    unit: str = "kg",
    net: bool = False,
    motion: bool = False,
    over_under: bool = False,
    power_up: bool = False,
    increment: int = 1,
    tare: Decimal | int | float | str = 0,
    checksum: bool = True,
    pad: bytes = b" ",
    short: bool = False,
) -> bytes:
    """A continuous-output frame. ``decimals`` -1 and -2 are the dummy-zero codes
    (×10, ×100); ``pad`` is ``b" "`` (MT standard) or ``b"0"`` (8142 mode)."""
    scaled = scaled_int(weight, decimals)
    words = _status_words(
        decimals, increment, unit, net, scaled < 0, over_under, motion, power_up
    )
    frame = bytes([STX]) + words + _digits(abs(scaled), pad)
    if not short:
        frame += _digits(abs(scaled_int(tare, decimals)), pad)
    frame += bytes([CR])
    return frame + bytes([toledo_checksum(frame)]) if checksum else frame


def _displayed(digits: int, decimals: int) -> Decimal:
    # Dummy zeros multiply in whole numbers, so 200 x10 prints as 2000, not 2.00E+3.
    if decimals < 0:
        return Decimal(digits * 10**-decimals)
    return Decimal(digits).scaleb(-decimals)


class ToledoContinuousDecoder(Decoder):
    label = "toledo_continuous"

    def __init__(self, unit: str | None = None, checksum: bool | None = None) -> None:
        super().__init__(unit)
        self.checksum = checksum
        self._learned: bool | None = checksum
        self._stx_misses = 0
        # K of a frame taken before the byte after its CR was seen: that byte
        # says whether the stream carries K.
        self._after_frame: int | None = None

    def reset(self) -> None:
        super().reset()
        self._after_frame = None

    def _decode_buffer(self, buf: bytearray) -> list[Result]:
        out: list[Result] = []
        while True:
            if self._after_frame is not None and not self._settle_after_frame(buf):
                return out
            found = STX_ANY_PARITY.search(buf)
            if found is None:
                self.counters.bytes_skipped += len(buf)
                buf.clear()
                return out
            if found.start():
                self.counters.bytes_skipped += found.start()
                del buf[: found.start()]

            # Mask only what one frame can look at: masking the whole buffer on
            # every frame made a long capture take quadratic time.
            masked = buf[:WINDOW].translate(MASK7)
            step = self._frame_at_start(buf, masked)
            if step is None:
                return out
            result, consumed = step
            del buf[:consumed]
            if result is not None:
                out.append(result)

    def _settle_after_frame(self, buf: bytearray) -> bool:
        """Learn from the byte after a frame already taken; False: wait for it."""
        if not buf:
            return False
        check, nxt = self._after_frame, buf[0] & 0x7F
        if nxt == STX and check == STX:
            # K equal to STX, or the next frame? Two STX in a row tell.
            if len(buf) < 2:
                return False
            if buf[1] & 0x7F == STX:
                self._learned = True
                del buf[:1]
        elif nxt == STX:
            self._learned = False
        elif nxt == check:
            self._learned = True
            del buf[:1]
        # Anything else is noise or a bad K on a frame already given out.
        self._after_frame = None
        return True

    def _frame_at_start(
        self, buf: bytearray, masked: bytes | bytearray
    ) -> tuple[Result | None, int] | None:
        """Decode the frame at buf[0]: (result, bytes consumed), or None to wait."""
        if len(masked) < SHORT_LEN:
            return self._early_resync(buf, masked)
        if masked[SHORT_LEN - 1] == CR:
            length = SHORT_LEN
        elif len(masked) < LONG_LEN:
            return self._early_resync(buf, masked)
        elif masked[LONG_LEN - 1] == CR:
            length = LONG_LEN
        else:
            return self._bad_framing(buf, masked)

        frame = bytes(masked[:length])
        if STX in frame[1:] or not self._layout_ok(frame):
            return self._bad_framing(buf, masked)

        verdict = self._trailer(masked, length, toledo_checksum(frame))
        if verdict is None:
            return None
        status, consumed = verdict
        raw = bytes(buf[:consumed])
        if status == "bad":
            return reject(self, raw, "checksum mismatch"), consumed
        return self._decode_frame(frame, raw), consumed

    def _early_resync(
        self, buf: bytearray, masked: bytes | bytearray
    ) -> tuple[Result | None, int] | None:
        # A second STX in a short buffer: the frame in front lost bytes.
        nxt = masked.find(STX, 1)
        if nxt > 0:
            return reject(self, bytes(buf[:nxt]), "truncated frame"), nxt
        return None

    def _bad_framing(
        self, buf: bytearray, masked: bytes | bytearray
    ) -> tuple[Result | None, int]:
        nxt = masked.find(STX, 1, LONG_LEN)
        cut = nxt if nxt > 0 else 1
        return reject(self, bytes(buf[:cut]), "bad framing"), cut

    @staticmethod
    def _layout_ok(frame: bytes) -> bool:
        if not frame[1] & frame[2] & frame[3] & 0x20:
            return False
        weight = frame[4:10]
        tare = frame[10:16] if len(frame) == LONG_LEN else b""
        if not BLANK_OR_DIGIT.issuperset(weight + tare):
            return False
        # Digits right-aligned: once a digit, no more blanks; at least one digit.
        return weight.lstrip(b" ").isdigit() and b" " not in tare.lstrip(b" ")

    def _trailer(
        self, masked: bytes | bytearray, length: int, check: int
    ) -> tuple[str, int] | None:
        """How the byte after CR settles the frame: ("ok" | "bad" | "unchecked",
        bytes to consume), or None to wait for it."""
        if self.checksum is False:
            return "unchecked", length
        if len(masked) == length:
            if self._learned:
                return None
            self._after_frame = check
            return "unchecked", length

        nxt = masked[length]
        after = masked[length + 1] if len(masked) > length + 1 else None
        unsure = self.checksum is None and self._learned is not True
        if nxt == check:
            if nxt == STX and unsure:
                # K happens to equal STX: is it K, or the next frame's STX? The
                # frame is good either way; the next byte settles the STX.
                if after is None:
                    self._after_frame = check
                    return "ok", length
                if after != STX:
                    return "ok", length
            self._learned, self._stx_misses = True, 0
            return "ok", length + 1
        if nxt != STX:
            return "bad", length + 1

        # No K where one may belong: STX STX means it was a bad K equal to STX.
        if after is None and unsure:
            return None
        if after == STX:
            return "bad", length + 1
        if unsure:
            self._learned = False
            return "unchecked", length
        return self._missing_check(length)

    def _missing_check(self, length: int) -> tuple[str, int]:
        # The stream carried K until now; several frames without it in a row mean
        # the indicator was reconfigured, so learn again.
        self._stx_misses += 1
        if self.checksum is None and self._stx_misses >= RELEARN_AFTER:
            if not self.quiet:
                logger.info("%s: frames stopped carrying a checksum", self.label)
            self._learned, self._stx_misses = None, 0
        return "bad", length

    def _decode_frame(self, frame: bytes, raw: bytes) -> Result:
        status = decode_status(frame[1], frame[2], frame[3])
        if status is None:
            return reject(self, raw, "bad status words")
        if status.unit is None:
            return reject(self, raw, "unknown unit code")
        if status.over_under:
            return Reading(
                self.label,
                None,
                status.unit,
                stable=None,
                overload=not status.negative,
                underload=status.negative,
                net=status.net,
                raw=raw,
            )

        value = _displayed(int(frame[4:10]), status.decimals)
        weight = -value if status.negative else value
        return Reading(
            self.label,
            weight,
            status.unit,
            stable=not status.motion,
            net=status.net,
            raw=raw,
        )
