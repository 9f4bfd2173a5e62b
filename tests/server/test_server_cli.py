"""``weighbridge server`` commands for stations and vehicles, run in-process."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from common.models import AuditEntry, Station, Vehicle
from server import cli
from server.db import Database
from tests.support.live_server import add_station, add_vehicle, run_cli


def _station(url: str, station_id: int) -> Station:
    db = Database(url)
    try:
        with db.session() as session:
            return session.get_one(Station, station_id)
    finally:
        db.dispose()


def test_add_station_prints_a_token_and_stores_only_its_hash(fresh_db_url: str) -> None:
    token = add_station(fresh_db_url, 2, purpose="tare")

    station = _station(fresh_db_url, 2)
    assert len(token) >= 40
    assert station.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (station.name, station.purpose, station.public_key) == (
        "2号磅",
        "tare",
        None,
    )


def test_add_station_uses_the_token_it_is_given(fresh_db_url: str) -> None:
    assert add_station(fresh_db_url, 1, token="given-token") == "given-token"
    assert (
        _station(fresh_db_url, 1).token_hash
        == hashlib.sha256(b"given-token").hexdigest()
    )


def test_adding_a_station_twice_fails_with_exit_code_1(
    fresh_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    add_station(fresh_db_url, 1)

    code = cli.main(
        [
            "add-station",
            "--db",
            fresh_db_url,
            "--id",
            "1",
            "--name",
            "1号磅",
            "--purpose",
            "gross",
        ]
    )

    assert code == 1
    assert "已存在" in capsys.readouterr().err


def test_add_vehicle_registers_every_given_field(fresh_db_url: str) -> None:
    vehicle_id = add_vehicle(
        fresh_db_url,
        "晋a99999",
        owner="车主",
        driver="司机",
        phone="139",
        axles=5,
        rated_load_kg=40000,
        ref_tare_kg=14000,
        product="块煤",
        customer="客户",
    )

    db = Database(fresh_db_url)
    try:
        with db.session() as session:
            vehicle = session.scalars(select(Vehicle)).one()
            audit = session.scalars(select(AuditEntry)).one()
    finally:
        db.dispose()
    assert vehicle.id == vehicle_id and vehicle.plate == "晋A99999"
    assert (vehicle.owner, vehicle.driver, vehicle.phone, vehicle.axles) == (
        "车主",
        "司机",
        "139",
        5,
    )
    assert (vehicle.rated_load_kg, vehicle.ref_tare_kg) == (40000, 14000)
    assert (vehicle.default_product, vehicle.default_customer) == ("块煤", "客户")
    assert vehicle.rev > 0
    assert (audit.action, audit.record_kind, audit.actor) == (
        "create",
        "vehicle",
        "admin",
    )


def test_reset_key_forgets_the_stations_public_key(fresh_db_url: str) -> None:
    add_station(fresh_db_url, 1)
    db = Database(fresh_db_url)
    try:
        with db.session(write=True) as session:
            session.get_one(Station, 1).public_key = "ab" * 32
    finally:
        db.dispose()

    run_cli("reset-key", "--db", fresh_db_url, "--id", "1")

    assert _station(fresh_db_url, 1).public_key is None


def test_without_db_the_database_is_a_file_in_the_data_dir(tmp_path: Path) -> None:
    run_cli(
        "add-station",
        "--data-dir",
        str(tmp_path),
        "--id",
        "1",
        "--name",
        "1号磅",
        "--purpose",
        "both",
    )

    assert (tmp_path / "server.db").is_file()


def test_the_database_may_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WB_SERVER_DATA_DIR", str(tmp_path))

    run_cli("add-vehicle", "--plate", "晋A00001")

    assert (tmp_path / "server.db").is_file()


@pytest.mark.parametrize(
    "argv",
    [
        ["add-station", "--id", "1"],
        ["add-station", "--id", "0", "--name", "x", "--purpose", "gross"],
        ["add-station", "--id", "1", "--name", "x", "--purpose", "scale"],
        ["add-vehicle", "--plate", "晋A1", "--axles", "many"],
        ["--port", "not-a-port"],
        ["no-such-command"],
    ],
)
def test_a_wrong_command_line_exits_with_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    assert "usage: weighbridge server" in capsys.readouterr().err


def test_help_is_bilingual_and_exits_with_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    top = capsys.readouterr().out
    assert cli.main(["add-station", "--help"]) == 0
    station = capsys.readouterr().out

    assert "地磅计量系统中心服务" in top and "central server" in top
    for command in cli.COMMANDS:
        assert command in top
    assert "磅号" in station and "station number" in station


def test_every_setting_names_its_environment_variable_in_the_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli.main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())

    for setting in cli.SETTINGS + cli.RUN_SETTINGS:
        assert setting.flag in text and f"[env {setting.env}]" in text
