"""``weighbridge``: one command, one subcommand per part of the system.

Each part is imported only when asked for, so ``weighbridge server`` runs on a
machine without Qt and ``weighbridge scale decode`` without either.
"""

from __future__ import annotations

import logging
import sys

USAGE = """\
用法 / usage: weighbridge <command> [options]

commands:
  demo      演示：中心服务器 + 两个磅房（2号磅回皮，1号磅过重），模拟仪表
            run the server and two booth consoles with simulated indicators
  server    中心服务器 (reports, ticket check, sync API); `server --help`
  booth     磅房操作台 / booth operator console: booth --config FILE
  sim       设备模拟器 / device simulators: sim indicator --help
  scale     仪表工具 / indicator tools: scale decode FILE, scale listen --port DEV

`weighbridge <command> --help` explains each one.
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if args else 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Per-request lines from the HTTP client and migration chatter drown the
    # lines an engineer needs; they stay available at DEBUG.
    for chatty in ("httpx", "alembic.runtime.plugins"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    command, rest = args[0], args[1:]

    if command == "server":
        from server.cli import main as server_main

        return server_main(rest)
    if command == "booth":
        from client.cli import booth_main

        return booth_main(rest)
    if command == "demo":
        from client.demo import main as demo_main

        return demo_main(rest)
    if command == "sim":
        return _sim(rest)
    if command == "scale":
        return _scale(rest)
    print(f"未知命令 / unknown command: {command}\n\n{USAGE}", file=sys.stderr)
    return 2


def _sim(rest: list[str]) -> int:
    if rest[:1] == ["indicator"]:
        from client.devices.indicator_sim import main as sim_main

        return sim_main(rest[1:])
    print("用法 / usage: weighbridge sim indicator [--help]", file=sys.stderr)
    return 0 if rest[:1] in (["-h"], ["--help"]) else 2


def _scale(rest: list[str]) -> int:
    if rest[:1] == ["decode"]:
        from common.protocols.cli import decode_main

        return decode_main(rest[1:])
    if rest[:1] == ["listen"]:
        from client.cli import listen_main

        return listen_main(rest[1:])
    print(
        "用法 / usage: weighbridge scale decode FILE | scale listen --port DEV",
        file=sys.stderr,
    )
    return 0 if rest[:1] in (["-h"], ["--help"]) else 2


if __name__ == "__main__":
    raise SystemExit(main())
