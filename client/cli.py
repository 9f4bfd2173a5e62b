"""``weighbridge booth`` and ``weighbridge scale listen``."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from .config import SETTINGS, ConfigError, load_config


def booth_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="weighbridge booth",
        description="磅房操作台 / the booth operator console. Settings come from the "
                    "command line, then WB_BOOTH_* environment variables, then the "
                    "TOML file given by --config, then defaults.",
        epilog="F5 保存 / save · Enter 查看回皮/过重 / preview · Esc 清除 / clear")
    parser.add_argument("--config", type=Path, help="booth config file (TOML)")
    for s in SETTINGS:
        flag = "--" + s.name.replace("_", "-")
        unit = f" [{s.unit}]" if s.unit else ""
        default = "" if "default" in s.help else f" (default: {s.default!r})"
        parser.add_argument(flag, dest=s.name, default=None, metavar=s.type.__name__.upper(),
                            help=f"{s.help}{unit}{default}")
    args = parser.parse_args(argv)
    overrides = {s.name: getattr(args, s.name) for s in SETTINGS}
    try:
        cfg = load_config(args.config, overrides)
    except ConfigError as err:
        print(f"配置错误 / config error: {err}", file=sys.stderr)
        return 2

    if not cfg.scale_port:
        print("配置错误 / config error: 没有称重仪表串口 scale_port，例如 "
              'scale_port = "/dev/ttyUSB0" 或 "COM3"', file=sys.stderr)
        return 2

    from .console.app import run_booth

    return run_booth(cfg, args.config)


def listen_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="weighbridge scale listen",
        description="显示仪表实时读数 / print live readings from an indicator, one "
                    "JSON line per frame, until Ctrl-C.")
    parser.add_argument("--port", required=True,
                        help="serial device or pyserial URL (/dev/ttyUSB0, COM3, "
                             "spy:///dev/ttyUSB0)")
    parser.add_argument("--baud", type=int, default=9600,
                        help="波特率 / baud rate (default 9600; ignored with auto)")
    parser.add_argument("--protocol", default="yaohua_tf0",
                        help="protocol label, or 'auto' to detect it first")
    parser.add_argument("--unit", default=None, choices=["kg", "t", "lb", "g"],
                        help="显示单位 for formats that carry none (default kg)")
    parser.add_argument("--seconds", type=float, default=0,
                        help="stop after this long (0 = until Ctrl-C)")
    args = parser.parse_args(argv)
    from common.protocols import DECODERS

    if args.protocol != "auto" and args.protocol not in DECODERS:
        parser.error(f"未知协议 / unknown protocol {args.protocol!r}; "
                     f"known: auto, {', '.join(sorted(DECODERS))}")
    if not 300 <= args.baud <= 230_400:
        parser.error("--baud 应在 300–230400 之间")

    from .devices.scale import ScaleReader, ScaleSettings

    protocol, baud, bytesize, parity = args.protocol, args.baud, 8, "N"
    if protocol == "auto":
        from common.protocols.detect import ScanError, scan_port

        print("正在识别仪表协议和串口参数 / detecting…", file=sys.stderr, flush=True)
        try:
            found = scan_port(args.port, unit=args.unit)
        except ScanError as err:
            print(f"串口打不开 / cannot open {args.port}: {err}", file=sys.stderr)
            return 1
        if found is None:
            print("未能识别仪表协议：请检查线缆、波特率和仪表通讯设置 / "
                  "no protocol decoded consistently", file=sys.stderr)
            return 1
        protocol, s = found.label, found.setting
        baud, bytesize, parity = s.baud, s.bytesize, s.parity
        print(json.dumps({"detected": protocol, "baud": baud,
                          "framing": f"{bytesize}{parity}1"}), flush=True)

    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())

    readings = 0

    def show(t: float, reading: object) -> None:
        nonlocal readings
        readings += 1
        print(json.dumps(reading.as_json(), ensure_ascii=False), flush=True)  # type: ignore[attr-defined]

    def status(st: object, msg: str) -> None:
        print(json.dumps({"status": str(st), "message": msg}, ensure_ascii=False),
              flush=True)

    settings = ScaleSettings(url=args.port, protocol=protocol, unit=args.unit,
                             baudrate=baud, bytesize=bytesize, parity=parity)
    with ScaleReader(settings, on_reading=show, on_status=status):
        done.wait(args.seconds or None)
    if readings == 0:
        print("没有收到任何读数 / no readings: 请检查串口、线缆和仪表通讯设置",
              file=sys.stderr)
        return 1
    return 0
