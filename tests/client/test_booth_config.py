"""Booth settings: every one documented, layers in the right order, bad input named."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.config import SETTINGS, ConfigError, load_config

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in text
               or f"`{s.env_var}`" not in text]
    assert missing == []


def test_command_line_beats_environment_beats_file_beats_default(tmp_path: Path) -> None:
    cfg_file = tmp_path / "b.toml"
    cfg_file.write_text('station_id = 3\nscale_baud = 4800\noperator = "甲"\n',
                        encoding="utf-8")
    env = {"WB_BOOTH_STATION_ID": "5", "WB_BOOTH_SCALE_BAUD": "2400"}
    cfg = load_config(cfg_file, {"station_id": "7"}, environ=env)
    assert (cfg.station_id, cfg.scale_baud, cfg.operator) == (7, 2400, "甲")
    assert cfg.division_kg == 20 and cfg.station_name == "7号磅"


def test_unknown_key_in_file_is_refused_with_its_name(tmp_path: Path) -> None:
    cfg_file = tmp_path / "b.toml"
    cfg_file.write_text("scale_buad = 9600\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="scale_buad"):
        load_config(cfg_file, environ={})


@pytest.mark.parametrize("text, needle", [
    ('purpose = "weigh"\n', "purpose"),
    ('scale_baud = "fast"\n', "scale_baud"),
    ("station_id = [\n", "格式错误"),
])
def test_bad_values_say_which_setting_is_wrong(tmp_path: Path, text: str,
                                               needle: str) -> None:
    cfg_file = tmp_path / "b.toml"
    cfg_file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle):
        load_config(cfg_file, environ={})


@pytest.mark.parametrize("line, needle", [
    ('scale_protocol = "nope"\n', "scale_protocol"),
    ('scale_parity = "X"\n', "scale_parity"),
    ("scale_bytesize = 9\n", "scale_bytesize"),
    ("scale_baud = 0\n", "scale_baud"),
    ('scale_unit = "furlong"\n', "scale_unit"),
    ("hold_s = -1\n", "hold_s"),
    ("min_weight_kg = 200000\n", "min_weight_kg"),
    ("sync_interval_s = 0\n", "sync_interval_s"),
    ('server_url = "not a url"\n', "server_url"),
    (f'operator = "{"长" * 41}"\n', "operator"),
    ("station_id = 100\n", "station_id"),
])
def test_values_the_booth_cannot_work_with_are_refused_by_name(
        tmp_path: Path, line: str, needle: str) -> None:
    cfg_file = tmp_path / "b.toml"
    cfg_file.write_text(line, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle):
        load_config(cfg_file, environ={})


def test_a_file_saved_by_windows_notepad_with_a_bom_loads(tmp_path: Path) -> None:
    cfg_file = tmp_path / "b.toml"
    cfg_file.write_bytes("\ufeffoperator = \"王芳\"\n".encode())
    assert load_config(cfg_file, environ={}).operator == "王芳"


def test_a_folder_given_as_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="文件夹"):
        load_config(tmp_path, environ={})
