"""Suite-wide setup: Qt offscreen, and where the shared test data lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]


def cases_dir() -> Path:
    """``../shared/cases`` beside the checkout, or WB_CASES_DIR."""
    override = os.environ.get("WB_CASES_DIR")
    return Path(override) if override else REPO.parent / "shared" / "cases"


@pytest.fixture(scope="session")
def shared_cases() -> Path:
    path = cases_dir()
    if not (path / "indicator_vectors.jsonl").exists():
        pytest.fail(f"shared test data not found at {path}; set WB_CASES_DIR")
    return path
