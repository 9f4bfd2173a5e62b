"""Every frame in shared/cases/indicator_vectors.jsonl decodes as the file says.

The vectors come from manuals, firmware and public code (their sources are in
each line and in shared/PROTOCOLS.md); the file is read as it is, never edited.
``WB_CASES_DIR`` points the tests at another copy of the cases folder.
"""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from common.protocols import DECODERS, Reading, Rejected, Result, make_decoder


def cases_dir() -> Path:
    override = os.environ.get("WB_CASES_DIR")
    if override:
        return Path(override)
    # tests/common/protocols/<this file> -> the repo -> ../shared/cases
    return Path(__file__).resolve().parents[3] / ".." / "shared" / "cases"


VECTOR_FILE = cases_dir() / "indicator_vectors.jsonl"


def load_vectors() -> list[dict[str, Any]]:
    if not VECTOR_FILE.is_file():
        return []
    lines = VECTOR_FILE.read_text(encoding="utf-8").splitlines()
    vectors = [json.loads(line) for line in lines if line.strip()]
    for number, vector in enumerate(vectors, start=1):
        vector["_id"] = f"line{number:02d}-{vector['protocol']}"
    return vectors


VECTORS = load_vectors()
IDS = [v["_id"] for v in VECTORS]
SINGLE_VALID = [v for v in VECTORS if v["valid"] and "[stream]" not in v["note"]]


def split_points(note: str) -> list[int]:
    m = re.search(r"\[split_at=([0-9, ]+)\]", note)
    return [int(x) for x in m.group(1).split(",")] if m else []


def deliver(label: str, unit: str | None, data: bytes, cuts: list[int]) -> list[Result]:
    decoder = make_decoder(label, unit=unit)
    results: list[Result] = []
    bounds = [0, *cuts, len(data)]
    for first, stop in zip(bounds, bounds[1:], strict=False):
        results += decoder.feed(data[first:stop])
    return results


def check_against_vector(vector: dict[str, Any], results: list[Result]) -> None:
    readings = [r for r in results if isinstance(r, Reading)]
    rejected = [r for r in results if isinstance(r, Rejected)]

    if not vector["valid"]:
        assert rejected, "an invalid frame must be rejected"
        assert all(r.weight is None for r in readings), "no weight from a bad frame"
        return

    assert not rejected, f"valid frame rejected: {rejected}"
    assert readings, "no reading from a valid frame"
    if "[stream]" not in vector["note"]:
        assert len(readings) == 1, readings
    last = readings[-1]

    if vector["weight"] is None:
        assert last.weight is None
    else:
        assert last.weight == Decimal(str(vector["weight"]))
        assert (last.weight < 0) == vector["negative"]
    assert last.unit == vector["unit"]
    assert last.stable == vector["stable"]


def test_vector_file_is_present_and_names_only_known_protocols() -> None:
    assert VECTORS, f"no vectors at {VECTOR_FILE}; set WB_CASES_DIR"
    assert {v["protocol"] for v in VECTORS} <= set(DECODERS)


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_vector_decodes_as_documented(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["hex"])
    cuts = split_points(vector["note"])
    check_against_vector(
        vector, deliver(vector["protocol"], vector["unit"], data, cuts)
    )


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_vector_decodes_the_same_fed_one_byte_at_a_time(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["hex"])
    cuts = list(range(1, len(data)))
    check_against_vector(
        vector, deliver(vector["protocol"], vector["unit"], data, cuts)
    )


@pytest.mark.parametrize("vector", SINGLE_VALID, ids=[v["_id"] for v in SINGLE_VALID])
def test_vector_decodes_after_noise_and_a_partial_frame(vector: dict[str, Any]) -> None:
    # What a reader that opens the port mid-stream sees: line noise, then the tail
    # of a frame, then the vector's bytes. The tail must not become a reading.
    data = bytes.fromhex(vector["hex"])
    tail = data[len(data) // 2 :]
    results = deliver(vector["protocol"], vector["unit"], b"\xfe\xff" + tail + data, [])
    readings = [r for r in results if isinstance(r, Reading)]
    assert readings, "the whole frame after the partial one was lost"
    last = readings[-1]
    expected = None if vector["weight"] is None else Decimal(str(vector["weight"]))
    assert last.weight == expected
    assert all(r.weight in (None, expected) for r in readings)
