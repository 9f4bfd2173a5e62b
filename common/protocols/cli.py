"""``weighbridge scale decode``: decode a capture of an indicator's output.

Prints one JSON object per frame on standard output: a decoded frame as
``Reading.as_json()``, a refused one as its protocol, ``raw_hex`` and ``error``.
The detected protocol and all complaints go to standard error, so the output can
be piped into ``jq``.

Exit status: 0 when frames were found (good or refused); 1 when the file is
empty, no protocol could be detected, or the protocol given found no frame at
all; 2 on a usage error. When detection finds several protocols that read the
capture with different weights, the status is still 0 but a warning naming them
is printed before and after the output.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import DECODERS, make_decoder
from .base import UNIT_TO_KG, Reading
from .detect import Candidate, Detection, detect_capture

PROG = "weighbridge scale decode"
EXIT_OK, EXIT_NOTHING, EXIT_USAGE = 0, 1, 2
MIN_FRAMES = 3


def build_parser() -> argparse.ArgumentParser:
    labels = ", ".join(DECODERS)
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Decode raw bytes captured from a weight indicator's serial port and "
            "print one JSON line per frame (decoded or refused)."
        ),
        epilog=f"Protocols: {labels}.",
    )
    parser.add_argument(
        "--protocol",
        default="auto",
        metavar="LABEL|auto",
        help="protocol label, or 'auto' (the default) to detect it from the "
        "capture; generic_ascii is never detected",
    )
    parser.add_argument(
        "--unit",
        choices=sorted(UNIT_TO_KG),
        help="the unit the indicator is set to, for protocols whose frames carry "
        "none (default kg)",
    )
    parser.add_argument(
        "file",
        metavar="FILE",
        help="file of raw captured bytes; '-' reads standard input",
    )
    return parser


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def _shown(candidate: Candidate) -> str:
    """A protocol and the last weight it read: ``yaohua_eq_forward（3.000 kg）``."""
    last = candidate.last
    if last is None:
        return candidate.label
    unit = f" {last.unit}" if last.unit else ""
    return f"{candidate.label}（{last.weight}{unit}）"


def _ambiguity_warning(found: Detection) -> str:
    readings = "、".join(_shown(c) for c in (found.chosen, *found.rivals))
    return (
        f"{PROG}: 警告 / WARNING: 多个协议都能解读此数据：{readings}；"
        f"下面按 {found.label} 输出，结果可能是错的，请用 --protocol 指定。\n"
        f"{PROG}: several protocols read this capture, with different weights; "
        f"the output uses {found.label}, which may be wrong: choose with --protocol."
    )


def decode_main(argv: list[str]) -> int:
    """Run the command on ``argv`` (the words after ``scale decode``)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE

    try:
        data = _read(args.file)
    except OSError as err:
        return _fail(f"cannot read {args.file}: {err.strerror or err}", EXIT_USAGE)
    if not data:
        return _fail("文件为空 / file is empty", EXIT_NOTHING)

    label, warning = args.protocol, None
    if label == "auto":
        found = detect_capture(data, args.unit, min_frames=MIN_FRAMES)
        if found is None:
            return _fail(
                f"没有已知协议能解读此数据（自动识别要至少 {MIN_FRAMES} 个完整数据帧，"
                "或一段只含完整帧的短数据）；请用 --protocol 指定 / "
                "no known protocol reads this capture (auto-detection needs at "
                f"least {MIN_FRAMES} whole frames, or a short capture of nothing "
                "but whole frames); try --protocol",
                EXIT_NOTHING,
            )
        label = found.label
        print(f"{PROG}: detected protocol {label}", file=sys.stderr)
        if found.rivals:
            warning = _ambiguity_warning(found)
            print(warning, file=sys.stderr)
    elif label not in DECODERS:
        known = ", ".join(DECODERS)
        return _fail(f"unknown protocol {label!r}; known: {known}", EXIT_USAGE)

    decoder = make_decoder(label, unit=args.unit)
    results = decoder.feed(data)
    for result in results:
        print(json.dumps(result.as_json(), ensure_ascii=False))

    if warning is not None:
        # Again after the output, where a terminal leaves it in view.
        sys.stdout.flush()
        print(warning, file=sys.stderr)
    if not results:
        return _fail(
            f"未找到任何 {label} 数据帧（跳过 {len(data)} 字节）/ "
            f"no {label} frame found ({len(data)} bytes skipped)",
            EXIT_NOTHING,
        )
    if not any(isinstance(r, Reading) for r in results):
        print(
            f"{PROG}: {len(results)} 个 {label} 数据帧全部被拒 / "
            f"all {len(results)} {label} frames were refused",
            file=sys.stderr,
        )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(decode_main(sys.argv[1:]))
