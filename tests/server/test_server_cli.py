"""``weighbridge server`` commands for stations and vehicles, run in-process."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from common.models import AuditEntry, Station, Vehicle
from server import cli
from server.db import Database
from tests.support.live_server import REPO_ROOT, add_station, add_vehicle, run_cli


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
    assert (
        add_station(fresh_db_url, 1, token="given-booth-token-1")
        == "given-booth-token-1"
    )
    assert (
        _station(fresh_db_url, 1).token_hash
        == hashlib.sha256(b"given-booth-token-1").hexdigest()
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


def _station_args(url: str, *extra: str) -> list[str]:
    base = {"--id": "1", "--name": "1号磅", "--purpose": "gross"}
    overrides = dict(zip(extra[::2], extra[1::2], strict=True))
    args = ["add-station", "--db", url]
    for flag, value in (base | overrides).items():
        args += [flag, value]
    return args


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (("--token", "short-token"), "至少 16 个字符"),
        (("--token", "a token with spaces in it"), "不含空格"),
        (("--token", "中文凭据中文凭据中文凭据中文凭据"), "不含空格和中文"),
        (("--name", ""), "名称不能为空"),
        (("--name", "  \u3000 "), "名称不能为空"),
        (("--id", "0"), "1–99"),
        (("--id", "100"), "1–99"),
        (("--id", "-3"), "1–99"),
        (("--id", "99999999999999999999999"), "1–99"),
    ],
)
def test_add_station_refuses_a_weak_token_a_blank_name_or_a_wrong_id(
    fresh_db_url: str,
    extra: tuple[str, str],
    words: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = cli.main(_station_args(fresh_db_url, *extra))

    err = capsys.readouterr().err
    assert code == 2
    assert words in err and "Traceback" not in err


def test_add_station_keeps_the_name_without_surrounding_spaces(
    fresh_db_url: str,
) -> None:
    run_cli(*_station_args(fresh_db_url, "--id", "99", "--name", " 99号磅 "))

    assert _station(fresh_db_url, 99).name == "99号磅"


@pytest.mark.parametrize("port", ["99999", "0", "-1", "65536", "http"])
def test_run_refuses_a_port_that_cannot_be(
    port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["run", "--port", port])

    err = capsys.readouterr().err
    assert code == 2
    assert "端口应为 1–65535" in err and "port must be" in err


def test_a_bare_port_option_runs_the_server_and_is_checked_the_same_way(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["--port", "99999"]) == 2
    assert "端口应为 1–65535" in capsys.readouterr().err


def test_a_bad_port_from_the_environment_is_a_usage_error_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WB_SERVER_PORT", "eighty")

    assert cli.main(["run"]) == 2
    assert "端口应为 1–65535" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["nonsense://x", "not a url", "mysql://u@h/db"])
def test_a_database_url_of_an_unknown_kind_is_a_usage_error(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["upgrade", "--db", url])

    err = capsys.readouterr().err
    assert code == 2
    assert "数据库 URL" in err and "database URL must" in err


def test_a_public_url_that_is_not_http_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["run", "--public-url", "centre.example"]) == 2
    assert "http://" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["a_file", "inside_a_file"])
def test_a_data_dir_that_cannot_be_made_fails_with_one_line(
    tmp_path: Path, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    data_dir = blocker if where == "a_file" else blocker / "server"

    code = cli.main(["run", "--data-dir", str(data_dir), "--port", "8470"])

    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "无法使用数据目录" in err and "cannot use the data folder" in err


def test_a_bad_data_dir_leaves_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")

    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "upgrade", "--data-dir", str(blocker)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "无法使用数据目录" in done.stderr


def test_the_top_help_shows_the_run_options_and_where_they_are_explained(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["--help"]) == 0
    text = capsys.readouterr().out

    for setting in cli.SETTINGS + cli.RUN_SETTINGS:
        assert setting.flag in text
    assert "weighbridge server run --help" in text
    assert "weighbridge server --port 9000" in text
