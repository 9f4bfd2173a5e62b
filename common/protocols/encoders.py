"""One frame builder per protocol label, for the indicator simulator and tests.

Each builder takes the displayed weight in whole kilograms and whether the scale
is stable, and returns one frame as the indicator would send it (kg display, no
decimals, gross; the stable flag is dropped by formats that have none). The
per-module encoders take every option; this table picks the everyday setting.

:data:`POLL_REQUESTS` holds, for protocols the booth has to ask, the request that
reads the weight (indicator address 1 where there is one).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from .ascii_lines import encode_st_gs
from .keli import encode_xk3118t1
from .reversed import encode_d2plus, encode_eq_forward, encode_eq_reversed_signed
from .ricelake import encode_iq355
from .sics import build_sics_request, encode_sics
from .sma import build_sma_request, encode_sma
from .toledo import encode_toledo
from .yaohua import encode_tf0
from .yaohua_cmd import build_request, encode_response
from .yaohua_text import encode_a12e, encode_ww

Weight = Decimal | int
FrameEncoder = Callable[[Weight, bool], bytes]
"""Builds one frame from the displayed weight in kg and the stable flag."""


def _tf0(kg: Weight, stable: bool) -> bytes:
    return encode_tf0(kg, 0)


ENCODERS: dict[str, FrameEncoder] = {
    "yaohua_tf0": _tf0,
    "keli_d2008f_tf0": _tf0,
    "yaohua_cmd": lambda kg, stable: encode_response(kg, 0, command="B"),
    "yaohua_a12e_wg": lambda kg, stable: encode_a12e(kg, 0),
    "yaohua_a12_ww": lambda kg, stable: encode_ww(kg, 0, width=7),
    "yaohua_d2plus_reversed": lambda kg, stable: encode_d2plus(kg, 0, chars=7),
    "yaohua_eq_reversed_signed": lambda kg, stable: encode_eq_reversed_signed(kg, 0),
    "yaohua_eq_forward": lambda kg, stable: encode_eq_forward(kg, 0),
    "keli_xk3118t1_eq": lambda kg, stable: encode_xk3118t1(kg, 0),
    "toledo_continuous": lambda kg, stable: encode_toledo(kg, motion=not stable),
    "mt_sics": lambda kg, stable: encode_sics(kg, 0, stable=stable),
    "sma_scp": lambda kg, stable: encode_sma(kg, 0, motion=not stable),
    "ascii_st_gs": lambda kg, stable: encode_st_gs(kg, 0, stable=stable),
    "ricelake_iq355": lambda kg, stable: encode_iq355(
        kg, 0, status=" " if stable else "M"
    ),
}

POLL_REQUESTS: dict[str, bytes] = {
    "yaohua_cmd": build_request(1, "B"),
    "mt_sics": build_sics_request("SI"),
    "sma_scp": build_sma_request("W"),
}
