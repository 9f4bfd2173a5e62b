"""Booth settings: one declarative table, read from command line > environment >
file (TOML) > default. Every setting has a type, a default, a unit and help text;
a test checks that each one is documented in the README."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A booth config that cannot be used, with what to fix."""


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    unit: str = ""

    @property
    def env_var(self) -> str:
        return "WB_BOOTH_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("station_id", int, 1, "本磅房编号 (1–99) / this weighbridge's number"),
    Setting("station_name", str, "", "磅房名称, e.g. 1号磅 (default: '<id>号磅')"),
    Setting("purpose", str, "both", "用途: tare (回皮) / gross (过重) / both"),
    Setting("mine_name", str, "大阳煤矿", "矿名, printed on tickets"),
    Setting("server_url", str, "http://127.0.0.1:8470", "中心服务器地址 / server URL"),
    Setting("token", str, "", "本磅房的接口凭证 (from `weighbridge server add-station`)"),
    Setting("data_dir", str, "", "本地数据目录 (local DB, key, tickets); default per user"),
    Setting("operator", str, "司磅员", "当班司磅员 / operator on duty"),
    Setting("scale_port", str, "", "称重仪表串口: /dev/ttyUSB0, COM3, or a pyserial URL"),
    Setting("scale_baud", int, 9600, "仪表波特率", "baud"),
    Setting("scale_bytesize", int, 8, "数据位 (8 for 8N1, 7 for 7E1)", "bits"),
    Setting("scale_parity", str, "N", "校验位: N, E or O"),
    Setting("scale_protocol", str, "yaohua_tf0", "仪表协议 label (see `weighbridge scale decode --help`)"),
    Setting("scale_unit", str, "kg", "仪表显示单位 for formats without a unit (kg / t)"),
    Setting("division_kg", int, 20, "分度值 d", "kg"),
    Setting("band_divisions", int, 1, "稳定判定: 读数波动范围 ±n·d", "d"),
    Setting("hold_s", float, 1.5, "稳定判定: 保持时间", "s"),
    Setting("min_weight_kg", int, 400, "最小称量; below it the platform counts as empty", "kg"),
    Setting("max_capacity_kg", int, 100_000, "最大称量", "kg"),
    Setting("sync_interval_s", float, 2.0, "同步间隔 / how often to push and pull", "s"),
)


@dataclass(frozen=True)
class BoothConfig:
    station_id: int
    station_name: str
    purpose: str
    mine_name: str
    server_url: str
    token: str
    data_dir: str
    operator: str
    scale_port: str
    scale_baud: int
    scale_bytesize: int
    scale_parity: str
    scale_protocol: str
    scale_unit: str
    division_kg: int
    band_divisions: int
    hold_s: float
    min_weight_kg: int
    max_capacity_kg: int
    sync_interval_s: float

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def does_tare(self) -> bool:
        return self.purpose in ("tare", "both")

    @property
    def does_gross(self) -> bool:
        return self.purpose in ("gross", "both")


def _convert(setting: Setting, raw: Any, origin: str) -> Any:
    if isinstance(raw, setting.type) and not (setting.type is int and isinstance(raw, bool)):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        try:
            if setting.type is bool:
                if text.lower() in ("1", "true", "yes", "on"):
                    return True
                if text.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError(text)
            return setting.type(text)
        except ValueError:
            pass
    if setting.type is float and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    raise ConfigError(f"{origin}: {setting.name} 应为 {setting.type.__name__}，得到 {raw!r}")


def load_config(path: Path | None = None, overrides: dict[str, Any] | None = None,
                environ: dict[str, str] | None = None) -> BoothConfig:
    """Merge the layers; raise ConfigError naming the file and key on bad input."""
    env = os.environ if environ is None else environ
    file_values: dict[str, Any] = {}
    if path is not None:
        try:
            # utf-8-sig: Windows Notepad may start the file with a byte-order mark.
            file_values = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise ConfigError(f"配置文件不存在: {path}") from None
        except IsADirectoryError:
            raise ConfigError(f"配置文件路径是一个文件夹: {path}") from None
        except OSError as err:
            raise ConfigError(f"配置文件无法读取 {path}: {err.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"配置文件格式错误 {path}: {err}") from None
        known = {s.name for s in SETTINGS}
        unknown = set(file_values) - known
        if unknown:
            raise ConfigError(f"{path}: 未知设置 {sorted(unknown)}")

    values: dict[str, Any] = {}
    for s in SETTINGS:
        if overrides and overrides.get(s.name) is not None:
            values[s.name] = _convert(s, overrides[s.name], "命令行")
        elif s.env_var in env:
            values[s.name] = _convert(s, env[s.env_var], s.env_var)
        elif s.name in file_values:
            values[s.name] = _convert(s, file_values[s.name], str(path))
        else:
            values[s.name] = s.default

    return _finish(values)


def _finish(values: dict[str, Any]) -> BoothConfig:
    for problem in _problems(values):
        raise ConfigError(problem)
    if not values["station_name"]:
        values["station_name"] = f"{values['station_id']}号磅"
    if not values["data_dir"]:
        import platformdirs

        base = platformdirs.user_data_dir("weighbridge")
        values["data_dir"] = str(Path(base) / f"booth{values['station_id']}")
    names = {f.name for f in fields(BoothConfig)}
    return BoothConfig(**{k: v for k, v in values.items() if k in names})


def _problems(v: dict[str, Any]) -> list[str]:
    """Every rule a booth config must meet, each with the setting's name."""
    from common.protocols import DECODERS

    rules = [
        (v["purpose"] in ("tare", "gross", "both"),
         f"purpose 应为 tare / gross / both，得到 {v['purpose']!r}"),
        (1 <= v["station_id"] <= 99, "station_id 应在 1–99 之间"),
        (v["scale_protocol"] in DECODERS,
         f"scale_protocol 未知: {v['scale_protocol']!r}；可用: {', '.join(sorted(DECODERS))}"),
        (v["scale_parity"] in ("N", "E", "O"), "scale_parity 应为 N、E 或 O"),
        (v["scale_bytesize"] in (7, 8), "scale_bytesize 应为 7 或 8"),
        (300 <= v["scale_baud"] <= 230_400, "scale_baud 应在 300–230400 之间"),
        (v["scale_unit"] in ("kg", "t", "lb", "g"), "scale_unit 应为 kg、t、lb 或 g"),
        (v["division_kg"] > 0, "division_kg 必须为正数"),
        (v["band_divisions"] >= 1, "band_divisions 至少为 1"),
        (v["hold_s"] > 0, "hold_s 必须大于 0"),
        (0 <= v["min_weight_kg"] < v["max_capacity_kg"],
         "min_weight_kg 必须不小于 0 且小于 max_capacity_kg"),
        (v["sync_interval_s"] >= 0.5, "sync_interval_s 不能小于 0.5 秒"),
        (str(v["server_url"]).startswith(("http://", "https://")),
         f"server_url 应以 http:// 或 https:// 开头，得到 {v['server_url']!r}"),
        (0 < len(v["operator"].strip()) <= 40, "operator 不能为空，最多 40 个字"),
        (len(v["station_name"]) <= 40 and len(v["mine_name"]) <= 40,
         "station_name 和 mine_name 最多 40 个字"),
    ]
    return [message for ok, message in rules if not ok]
