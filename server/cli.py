"""``weighbridge server``: run the central server and keep its master data.

Exit codes: 0 done, 1 the operation failed (e.g. the station exists, the database
is unreachable, the data folder cannot be made), 2 the command line is wrong. Every
value is checked as it is parsed, so a wrong one is a one-line message, not a
traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from common.plates import normalise_plate, plate_problem

from . import registry
from .db import Database, sqlite_url, upgrade
from .errors import ConfigurationError, ServerError

log = logging.getLogger(__name__)

PROG = "weighbridge server"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
COMMANDS = ("run", "upgrade", "add-station", "add-vehicle", "reset-key")
DATABASES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Setting:
    """One setting of the server process: command line first, then environment."""

    flag: str
    env: str
    type: Callable[[str], Any]
    default: Any
    help: str
    unit: str = ""


def _default_data_dir() -> str:
    return str(Path(user_data_dir("weighbridge")) / "server")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"端口应为 1–65535 的整数 / port must be a number from 1 to 65535: {text}"
        )
    return value


def _database(text: str) -> str:
    try:
        backend = make_url(text).get_backend_name()
    except ArgumentError:
        backend = ""
    if backend not in DATABASES:
        raise argparse.ArgumentTypeError(
            "数据库 URL 应以 sqlite:// 或 postgresql:// 开头 / database URL must "
            f"be sqlite://... or postgresql+psycopg://...: {text}"
        )
    return text


def _public_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(
            f"对外地址应以 http:// 或 https:// 开头 / public URL must start with "
            f"http:// or https://: {text}"
        )
    return text


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "--data-dir",
        "WB_SERVER_DATA_DIR",
        str,
        None,
        "数据目录，默认数据库文件放在这里 / data folder for the default SQLite "
        "file (default: the user data folder of 'weighbridge', /server)",
    ),
    Setting(
        "--db",
        "WB_SERVER_DB",
        _database,
        None,
        "数据库 URL / database URL, e.g. postgresql+psycopg://user@host/db "
        "(default: SQLite file server.db in --data-dir)",
    ),
)
RUN_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "--host", "WB_SERVER_HOST", str, "127.0.0.1", "监听地址 / address to listen on"
    ),
    Setting(
        "--port",
        "WB_SERVER_PORT",
        _port,
        8470,
        "监听端口 / port to listen on",
        unit="TCP port",
    ),
    Setting(
        "--public-url",
        "WB_SERVER_PUBLIC_URL",
        _public_url,
        None,
        "对外地址，印在磅单二维码里 / address people and booths reach the "
        "server at, used in ticket QR codes (default: http://HOST:PORT)",
    ),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    # No command means "run", so a bare `weighbridge server --port 9000` serves.
    if not args_list or (
        args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help")
    ):
        args_list.insert(0, "run")

    try:
        args = build_parser().parse_args(args_list)
    except SystemExit as stop:
        return EXIT_OK if stop.code in (0, None) else EXIT_USAGE

    _configure_logging(args.command)
    try:
        result: int = args.handler(args)
        return result
    except ServerError as err:
        print(f"{PROG}: {err.message}", file=sys.stderr)
        return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="地磅计量系统中心服务 / the weighbridge central server. "
        "不写子命令即为 run / without a command it runs the server.",
        epilog=_top_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(commands)
    _add_upgrade(commands)
    _add_station(commands)
    _add_vehicle(commands)
    _add_reset_key(commands)
    return parser


def _top_epilog() -> str:
    # The run options belong to the run command, but `weighbridge server --port N`
    # is how most people start it: show them here as well.
    width = 86
    lines = [
        textwrap.fill(
            "run 的选项（也可直接写在 weighbridge server 之后，如 "
            "`weighbridge server --port 9000`）/ options of run, also accepted "
            "right after `weighbridge server`; `weighbridge server run --help` "
            "explains them:",
            width,
        )
    ]
    for setting in SETTINGS + RUN_SETTINGS:
        lines.append(
            textwrap.fill(
                f"{setting.help} [env {setting.env}]",
                width,
                initial_indent=f"  {setting.flag:<13} ",
                subsequent_indent=" " * 16,
            )
        )
    lines += [
        "",
        textwrap.fill(
            "退出码 / exit codes: 0 成功 ok, 1 操作失败 failed, 2 用法错误 usage. "
            "每个选项也可用环境变量设置 / every option can also come from the "
            "environment variable named in its help.",
            width,
        ),
    ]
    return "\n".join(lines)


def _add_settings(
    parser: argparse.ArgumentParser, settings: tuple[Setting, ...]
) -> None:
    for setting in settings:
        # A value from the environment stays text: argparse converts it with
        # the setting's type, so a bad one is a usage error like a bad flag.
        default = os.environ.get(setting.env, setting.default)
        parser.add_argument(
            setting.flag,
            type=setting.type,
            default=default,
            help=f"{setting.help} [env {setting.env}]",
        )


def _command(
    commands: Any,
    name: str,
    help_text: str,
    handler: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help_text, description=help_text
    )
    _add_settings(parser, SETTINGS)
    parser.set_defaults(handler=handler)
    return parser


def _add_run(commands: Any) -> None:
    parser = _command(
        commands, "run", "升级数据库并启动服务 / upgrade the database and serve", _run
    )
    _add_settings(parser, RUN_SETTINGS)


def _add_upgrade(commands: Any) -> None:
    _command(
        commands,
        "upgrade",
        "只升级数据库结构 / only bring the database schema up to date",
        _upgrade,
    )


def _add_station(commands: Any) -> None:
    parser = _command(
        commands,
        "add-station",
        "登记磅房并打印其凭据 / add a station and print its booth token "
        "(only the token's hash is stored: keep the printed token)",
        _add_station_cmd,
    )
    parser.add_argument(
        "--id",
        type=_station_id,
        required=True,
        help="磅号 1–99 / station number from 1 to 99, e.g. 1",
    )
    parser.add_argument(
        "--name", type=_station_name, required=True, help="名称 / name, e.g. 1号磅"
    )
    parser.add_argument(
        "--purpose",
        choices=registry.PURPOSES,
        required=True,
        help="用途：回皮 tare / 过重 gross / 两者 both",
    )
    parser.add_argument(
        "--token",
        type=_token,
        help=f"指定凭据（至少 {registry.MIN_TOKEN_LENGTH} 个字符），默认随机生成 / "
        f"booth token of at least {registry.MIN_TOKEN_LENGTH} characters "
        "(default: random)",
    )


def _add_vehicle(commands: Any) -> None:
    parser = _command(
        commands, "add-vehicle", "车辆登记 / register a vehicle", _add_vehicle_cmd
    )
    parser.add_argument(
        "--plate",
        type=_plate,
        required=True,
        help="车号，空格和“·”去掉、字母大写后保存 / plate, e.g. 晋A12345, "
        "stored without spaces or dots and in upper case",
    )
    for flag, help_text in (
        ("--owner", "车主 / owner"),
        ("--driver", "司机 / driver"),
        ("--phone", "电话 / phone"),
        ("--product", "常用品种 / usual product"),
        ("--customer", "常用客户 / usual customer"),
    ):
        parser.add_argument(flag, help=help_text)
    for flag, help_text in (
        ("--axles", "轴数 / axles"),
        ("--rated-load-kg", "核定载重 kg / rated load in kg"),
        ("--ref-tare-kg", "参考皮重 kg / reference tare in kg"),
        ("--tare-tolerance-kg", "皮重允差 kg / allowed tare deviation in kg"),
    ):
        parser.add_argument(flag, type=_non_negative, help=help_text)


def _add_reset_key(commands: Any) -> None:
    parser = _command(
        commands,
        "reset-key",
        "清除磅房的签名公钥，以便登记新密钥 / forget a station's signing key so "
        "its booth can register a new one",
        _reset_key_cmd,
    )
    parser.add_argument(
        "--id", type=_station_id, required=True, help="磅号 / station number"
    )


def _station_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if registry.station_id_problem(value):
        raise argparse.ArgumentTypeError(
            f"磅号应为 {registry.FIRST_STATION}–{registry.LAST_STATION} 的整数 / "
            f"station number must be from {registry.FIRST_STATION} to "
            f"{registry.LAST_STATION}: {text}"
        )
    return value


def _station_name(text: str) -> str:
    if registry.station_name_problem(text):
        raise argparse.ArgumentTypeError("名称不能为空 / name must not be empty")
    return text.strip()


def _token(text: str) -> str:
    problem = registry.token_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(
            f"{problem} / token must be at least {registry.MIN_TOKEN_LENGTH} "
            "printable ASCII characters without spaces"
        )
    return text


def _plate(text: str) -> str:
    problem = plate_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem} / not a plate: {text!r}")
    return normalise_plate(text)


def _non_negative(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**31:
        raise argparse.ArgumentTypeError(
            "应为 0–2147483647 的整数 / must be a whole number from 0 to 2147483647"
        )
    return value


def _configure_logging(command: str) -> None:
    # Master-data commands print only their result; the server logs its work.
    level = logging.INFO if command == "run" else logging.WARNING
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def database_url(args: argparse.Namespace) -> str:
    if args.db:
        return str(args.db)
    data_dir = Path(args.data_dir or _default_data_dir())
    try:
        return sqlite_url(data_dir / "server.db")
    except OSError as err:
        raise ConfigurationError(
            f"无法使用数据目录 {data_dir}：{err.strerror or err} / cannot use the "
            "data folder (is it a file, or not writable?)"
        ) from err


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    url = database_url(args)
    upgrade(url)
    public_url = args.public_url or f"http://{args.host}:{args.port}"
    app = create_app(url, public_url)
    log.info("serving on %s:%s, public address %s", args.host, args.port, public_url)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    except SystemExit as stop:  # uvicorn exits this way when it cannot bind
        return EXIT_FAILED if stop.code else EXIT_OK
    return EXIT_OK


def _upgrade(args: argparse.Namespace) -> int:
    upgrade(database_url(args))
    return EXIT_OK


def _open(args: argparse.Namespace) -> Database:
    url = database_url(args)
    upgrade(url)
    return Database(url)


def _add_station_cmd(args: argparse.Namespace) -> int:
    token = args.token or registry.new_token()
    db = _open(args)
    try:
        with db.session(write=True) as session:
            registry.add_station(session, args.id, args.name, args.purpose, token)
    finally:
        db.dispose()
    print(token)
    print(
        f"已登记 {args.id} 号磅房；请把上面的凭据配置到该磅房。中心只保存其散列，"
        f"无法再次显示 / station added; configure the token above on its booth",
        file=sys.stderr,
    )
    return EXIT_OK


def _add_vehicle_cmd(args: argparse.Namespace) -> int:
    fields = {
        "owner": args.owner,
        "driver": args.driver,
        "phone": args.phone,
        "axles": args.axles,
        "rated_load_kg": args.rated_load_kg,
        "ref_tare_kg": args.ref_tare_kg,
        "tare_tolerance_kg": args.tare_tolerance_kg,
        "default_product": args.product,
        "default_customer": args.customer,
    }
    db = _open(args)
    try:
        with db.session(write=True) as session:
            vehicle = registry.add_vehicle(session, args.plate, **fields)
    finally:
        db.dispose()
    print(vehicle.id)
    return EXIT_OK


def _reset_key_cmd(args: argparse.Namespace) -> int:
    db = _open(args)
    try:
        with db.session(write=True) as session:
            registry.reset_key(session, args.id)
    finally:
        db.dispose()
    print(f"{args.id} 号磅房的签名密钥已清除 / signing key reset", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
