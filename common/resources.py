"""Files shipped with the program: fonts for tickets and reports, and the like.

They live in the repository's top-level ``resources/`` folder, next to the packages,
so both the booth console and the server find them the same way.
"""

from __future__ import annotations

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parents[1] / "resources"

# WenQuanYi Micro Hei: a TrueType collection; its first face is the regular one.
CJK_FONT = "fonts/wqy-microhei.ttc"


def resource_path(rel: str) -> Path:
    """The absolute path of ``rel`` inside ``resources/``; it must exist.

    A missing file means a broken installation, not a user error, so the message
    names the full path for whoever has to restore it.
    """
    path = RESOURCES_DIR / rel
    if not path.exists():
        raise FileNotFoundError(
            f"resource file missing: {path} (the installation is incomplete; "
            f"restore the resources/ folder)"
        )
    return path
