"""Licence plates (车号): one written form, so that one truck is one vehicle.

Operators type plates with spaces, a middle dot (晋A·12345), a full-width space or
full-width letters from a Chinese input method, and in either case. The booth and
the server both keep the normalised form: no spaces or dots, ASCII letters and
digits, letters in upper case.
"""

from __future__ import annotations

MAX_PLATE_LENGTH = 16

# The one-character abbreviations of the provinces, regions and municipalities.
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Characters a plate may carry besides its province: trailer, driving school,
# police, Hong Kong / Macao, embassy, consulate, emergency vehicles.
SUFFIXES = "挂学警港澳使领应急"

# Middle dots as they come out of different input methods and fonts.
_DOTS = "·‧・･•"
_FULL_WIDTH_OFFSET = ord("Ａ") - ord("A")
_ALLOWED_CJK = frozenset(PROVINCES + SUFFIXES)


def normalise_plate(text: str) -> str:
    """``text`` without whitespace or middle dots, letters as upper-case ASCII.

    '晋a 88888', '晋A·88888' and '晋Ａ８８８８８' all become '晋A88888'.
    """
    kept = (ch for ch in text if not ch.isspace() and ch not in _DOTS)
    return "".join(_ascii_upper(ch) for ch in kept)


def _ascii_upper(ch: str) -> str:
    # Full-width letters and digits (Ａ, ８) come from a Chinese input method.
    if "！" <= ch <= "～" and (ch.isalnum()):
        ch = chr(ord(ch) - _FULL_WIDTH_OFFSET)
    if "a" <= ch <= "z":
        return ch.upper()
    return ch


def plate_problem(text: str) -> str | None:
    """Why ``text`` cannot be a plate once normalised, in Chinese; None if it can."""
    plate = normalise_plate(text)
    if not plate:
        return "车号不能为空"
    if len(plate) > MAX_PLATE_LENGTH:
        return f"车号不能超过 {MAX_PLATE_LENGTH} 个字符"
    bad = [ch for ch in plate if not _allowed(ch)]
    if bad:
        shown = "、".join(dict.fromkeys(repr(ch) for ch in bad))
        return f"车号含有不允许的字符：{shown}"
    return None


def _allowed(ch: str) -> bool:
    ascii_alnum = ch.isascii() and ch.isalnum()
    return ascii_alnum or ch in _ALLOWED_CJK
