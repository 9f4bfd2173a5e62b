"""Tare readings are marked, so the booth never takes one for the load."""

from __future__ import annotations

from common.protocols import make_decoder
from common.protocols.yaohua_cmd import encode_response


def test_an_a12_wt_line_is_a_tare_reading_and_ww_is_not() -> None:
    decoder = make_decoder("yaohua_a12_ww")
    # 'wt000.000kg' and 'ww00015.000kg' from the vectors (PROTOCOLS.md §4).
    [tare] = decoder.feed(bytes.fromhex("77743030302E3030306B670A"))
    [gross] = decoder.feed(bytes.fromhex("777730303031352E3030306B670D0A"))
    assert tare.tare and not tare.net  # type: ignore[union-attr]
    assert not gross.tare  # type: ignore[union-attr]


def test_a_reply_to_read_tare_is_marked_tare_and_read_gross_is_not() -> None:
    decoder = make_decoder("yaohua_cmd")
    [tare] = decoder.feed(encode_response(15_000, 0, command="C"))
    [gross] = decoder.feed(encode_response(49_000, 0, command="B"))
    assert tare.tare and tare.weight_kg == 15_000  # type: ignore[union-attr]
    assert not gross.tare and gross.weight_kg == 49_000  # type: ignore[union-attr]
