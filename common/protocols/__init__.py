"""Weight-indicator protocol decoders, by the labels used in booth configs."""

from __future__ import annotations

from typing import Any

from .ascii_lines import AsciiStGsDecoder
from .base import TRAFFIC, Decoder, Reading, Rejected, Result
from .generic import GenericAsciiDecoder
from .keli import KeliXk3118t1Decoder
from .reversed import (
    YaohuaD2plusDecoder,
    YaohuaEqForwardDecoder,
    YaohuaEqReversedSignedDecoder,
)
from .ricelake import RiceLakeIq355Decoder
from .sics import MtSicsDecoder
from .sma import SmaScpDecoder
from .toledo import ToledoContinuousDecoder
from .yaohua import KeliD2008fTf0Decoder, YaohuaTf0Decoder
from .yaohua_cmd import YaohuaCmdDecoder
from .yaohua_text import YaohuaA12eDecoder, YaohuaA12WwDecoder

# Order matters to detection: when two protocols read a capture equally well, the
# one listed first wins.
DECODERS: dict[str, type[Decoder]] = {
    cls.label: cls
    for cls in (
        YaohuaTf0Decoder,
        KeliD2008fTf0Decoder,
        YaohuaCmdDecoder,
        YaohuaA12eDecoder,
        YaohuaA12WwDecoder,
        YaohuaD2plusDecoder,
        YaohuaEqReversedSignedDecoder,
        YaohuaEqForwardDecoder,
        KeliXk3118t1Decoder,
        ToledoContinuousDecoder,
        MtSicsDecoder,
        SmaScpDecoder,
        AsciiStGsDecoder,
        RiceLakeIq355Decoder,
        GenericAsciiDecoder,
    )
}


def make_decoder(label: str, unit: str | None = None, **options: Any) -> Decoder:
    """A fresh decoder for ``label``; KeyError names the known labels.

    ``options`` go to the decoder's constructor (``checksum`` for Toledo,
    ``chars`` for D2+, the framing settings of ``generic_ascii``).
    """
    try:
        cls = DECODERS[label]
    except KeyError:
        known = ", ".join(sorted(DECODERS))
        raise KeyError(
            f"unknown indicator protocol {label!r}; known: {known}"
        ) from None
    return cls(unit=unit, **options)


__all__ = [
    "DECODERS",
    "TRAFFIC",
    "Decoder",
    "Reading",
    "Rejected",
    "Result",
    "make_decoder",
]
