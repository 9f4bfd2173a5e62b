"""The server keeps vehicles under their normalised plates (common.plates)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from common.models import Vehicle
from server import cli
from server.db import Database
from tests.support.live_server import add_vehicle


def _plates(url: str) -> list[str]:
    db = Database(url)
    try:
        with db.session() as session:
            return list(session.scalars(select(Vehicle.plate)))
    finally:
        db.dispose()


def test_a_vehicle_is_registered_under_its_normalised_plate(fresh_db_url: str) -> None:
    add_vehicle(fresh_db_url, "晋a·88888")

    assert _plates(fresh_db_url) == ["晋A88888"]


def test_a_plate_typed_differently_is_the_same_vehicle_and_refused(
    fresh_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    add_vehicle(fresh_db_url, "晋A88888")

    code = cli.main(["add-vehicle", "--db", fresh_db_url, "--plate", "晋a 88888"])

    assert code == 1
    assert "晋A88888 已登记" in capsys.readouterr().err
    assert _plates(fresh_db_url) == ["晋A88888"]


@pytest.mark.parametrize("plate", ["", "   ", "晋A#8888", "晋A" + "8" * 20])
def test_a_plate_that_cannot_be_is_a_usage_error(
    fresh_db_url: str, plate: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["add-vehicle", "--db", fresh_db_url, "--plate", plate])

    assert code == 2
    assert "车号" in capsys.readouterr().err
