"""The central server as a real process on loopback, for end-to-end tests.

``start_live_server`` runs ``python -m server.cli run`` exactly as an operator
would, waits for its heartbeat, and hands back a ``LiveServer`` that can be
stopped, killed (SIGKILL, as a power cut would) and restarted on the same port.

``pg_url_for_test`` turns a PostgreSQL URL into one whose ``search_path`` is a
fresh schema of its own; ``drop_test_schema`` removes it again.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from server import cli
from server.db import make_engine, search_path_schema

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0


class LiveServerError(RuntimeError):
    """The server process did not come up; the message holds its stderr."""


class LiveServer:
    """A running ``weighbridge server`` process."""

    def __init__(self, db_url: str, log_dir: Path, port: int) -> None:
        self.db_url = db_url
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log_dir = log_dir
        self._process: subprocess.Popen[bytes] | None = None
        self._starts = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        if self._process is not None:
            raise LiveServerError("server already running")
        self._starts += 1
        self.stderr_path = self._log_dir / f"server-{self.port}-{self._starts}.log"
        command = [
            sys.executable,
            "-m",
            "server.cli",
            "run",
            "--db",
            self.db_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--public-url",
            self.url,
        ]
        with self.stderr_path.open("wb") as log_file:
            self._process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=_child_env(),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self._wait_for_heartbeat()

    def stop(self) -> None:
        """Ask the server to shut down and wait for it; safe to call twice."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a power cut or crash would."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_text(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def _wait_for_heartbeat(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    self._process = None
                    raise LiveServerError(f"server exited:\n{self.log_text()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/api/v1/heartbeat").status_code == 200:
                        return
                time.sleep(0.05)
        self.kill()
        raise LiveServerError(
            f"no heartbeat within {START_TIMEOUT_S} s:\n{self.log_text()}"
        )


def start_live_server(db_url: str, tmp_path: Path) -> LiveServer:
    """Start the server on a free loopback port and wait until it answers."""
    server = LiveServer(db_url, tmp_path, free_port())
    server.start()
    return server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if part
    )
    env["PYTHONUNBUFFERED"] = "1"
    return env


def pg_url_for_test(base_url: str, name: str) -> str:
    """``base_url`` with ``search_path`` set to a new, unique schema for ``name``.

    The schema is made when the database is first upgraded; drop it with
    ``drop_test_schema``.
    """
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:24]
    schema = f"wb_{slug}_{uuid.uuid4().hex[:8]}"
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def drop_test_schema(url: str) -> None:
    """Drop the schema a ``pg_url_for_test`` URL points at, with all it holds."""
    schema = search_path_schema(url)
    if schema is None or not schema.startswith("wb_"):
        raise ValueError(f"not a test schema URL: {url}")
    engine = make_engine(
        make_url(url)
        .difference_update_query(["options"])
        .render_as_string(hide_password=False)
    )
    try:
        with engine.begin() as conn:
            quoted = conn.dialect.identifier_preparer.quote_identifier(schema)
            conn.execute(text(f"DROP SCHEMA IF EXISTS {quoted} CASCADE"))
    finally:
        engine.dispose()


def run_cli(*args: str) -> str:
    """Run ``weighbridge server`` in this process; its stdout, or AssertionError."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    if code != 0:
        raise AssertionError(f"server CLI {args} exited {code}: {err.getvalue()}")
    return out.getvalue().strip()


def add_station(
    db_url: str, station_id: int, purpose: str = "both", token: str | None = None
) -> str:
    """Register a station through the CLI (before or after start); its token."""
    args = [
        "add-station",
        "--db",
        db_url,
        "--id",
        str(station_id),
        "--name",
        f"{station_id}号磅",
        "--purpose",
        purpose,
    ]
    if token:
        args += ["--token", token]
    return run_cli(*args)


def add_vehicle(db_url: str, plate: str, **fields: str | int) -> str:
    """Register a vehicle through the CLI; its id. ``fields`` use the CLI's names:
    owner, driver, phone, axles, rated_load_kg, ref_tare_kg, product, customer."""
    args = ["add-vehicle", "--db", db_url, "--plate", plate]
    for key, value in fields.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return run_cli(*args)
