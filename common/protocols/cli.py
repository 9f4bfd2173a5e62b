"""``weighbridge scale decode``: decode a capture of an indicator's output.

Prints one JSON object per frame on standard output: a decoded frame as
``Reading.as_json()``, a refused one as its protocol, ``raw_hex`` and ``error``.
The detected protocol and all complaints go to standard error, so the output can
be piped into ``jq``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import DECODERS, make_decoder
from .base import UNIT_TO_KG
from .detect import detect_protocol

PROG = "weighbridge scale decode"
EXIT_OK, EXIT_NOTHING, EXIT_USAGE = 0, 1, 2


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

    label = args.protocol
    if label == "auto":
        found = detect_protocol(data, args.unit)
        if found is None:
            return _fail(
                "no known protocol reads this capture; try --protocol", EXIT_NOTHING
            )
        label = found[0]
        print(f"{PROG}: detected protocol {label}", file=sys.stderr)
    elif label not in DECODERS:
        known = ", ".join(DECODERS)
        return _fail(f"unknown protocol {label!r}; known: {known}", EXIT_USAGE)

    decoder = make_decoder(label, unit=args.unit)
    for result in decoder.feed(data):
        print(json.dumps(result.as_json(), ensure_ascii=False))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(decode_main(sys.argv[1:]))
