"""Plates (车号) in one written form: what the booth and the server both keep."""

from __future__ import annotations

import pytest

from common.plates import normalise_plate, plate_problem


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("晋A88888", "晋A88888"),
        ("晋a 88888", "晋A88888"),
        (" 晋A\u300088888\t", "晋A88888"),
        ("晋A·88888", "晋A88888"),
        ("晋Ａ８８８８８", "晋A88888"),
        ("晋a1234挂", "晋A1234挂"),
        ("", ""),
    ],
)
def test_a_plate_is_normalised_without_spaces_or_dots_in_upper_case(
    typed: str, stored: str
) -> None:
    assert normalise_plate(typed) == stored


@pytest.mark.parametrize(
    "plate",
    ["晋A88888", "晋a 88888", "晋A1234挂", "粤Z1234港", "京A1234警", "使123456"],
)
def test_real_plates_have_no_problem(plate: str) -> None:
    assert plate_problem(plate) is None


@pytest.mark.parametrize(
    ("plate", "reason"),
    [
        ("", "车号不能为空"),
        (" \u3000·", "车号不能为空"),
        ("晋A" + "1" * 15, "不能超过 16 个字符"),
        ("晋A-88888", "不允许的字符"),
        ("晋A8888ß", "不允许的字符"),
        ("火A88888", "不允许的字符"),
        ("晋A\x0088888", "不允许的字符"),
    ],
)
def test_a_plate_that_cannot_be_gets_a_chinese_reason(plate: str, reason: str) -> None:
    problem = plate_problem(plate)

    assert problem is not None and reason in problem
