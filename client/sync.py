"""Local / online dual mode (本地/联网双模式, R11): the booth's sync worker.

The booth always writes locally first (see store.py). This worker, on its own
thread, pushes the outbox in batches and pulls master data and other stations'
open tares since its cursor. The server applies each batch in one transaction and
is idempotent by record id, so a batch that was stored but whose answer was lost
is simply sent again. A booth with the network down keeps weighing; the console
shows 联网 or 本地 from :attr:`SyncWorker.online`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from .store import LocalStore

log = logging.getLogger(__name__)
PUSH_BATCH = 200


class SyncError(RuntimeError):
    """The server could not be reached or refused us; the message says what to do."""


@dataclass(frozen=True)
class SyncStatus:
    online: bool
    pending: int
    message: str
    last_ok: float | None  # time.time() of the last successful round


class SyncClient:
    """One round of push and pull over HTTP; no threads here."""

    def __init__(self, server_url: str, token: str, store: LocalStore,
                 station_id: int, timeout_s: float = 5.0) -> None:
        self.store = store
        self.station_id = station_id
        self._http = httpx.Client(base_url=server_url.rstrip("/"), timeout=timeout_s,
                                  headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kw: object) -> dict:
        try:
            resp = self._http.request(method, path, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError as err:
            raise SyncError(f"无法连接中心服务器：{err.__class__.__name__}") from err
        if resp.status_code == 401:
            raise SyncError("中心拒绝了本磅房的凭证：请检查配置中的 token")
        if resp.status_code >= 400:
            raise SyncError(f"中心返回错误 {resp.status_code}: {resp.text[:200]}")
        try:
            return resp.json()
        except ValueError as err:
            raise SyncError("中心返回的不是 JSON") from err

    def register_key(self, public_key_hex: str) -> None:
        self._call("PUT", "/api/v1/booth/key", json={"public_key": public_key_hex})

    def push(self) -> int:
        """Push everything pending; return how many outbox rows were confirmed."""
        sent = 0
        while batch := self.store.pending(PUSH_BATCH):
            records = [{"kind": row.kind, "data": json.loads(row.payload)}
                       for row in batch]
            seqs = [row.seq for row in batch]
            try:
                answer = self._call("POST", "/api/v1/sync/push",
                                    json={"records": records})
            except SyncError:
                self.store.note_attempt(seqs)
                raise
            for conflict in answer.get("conflicts", []):
                log.error("server refused record %s: %s", conflict.get("id"),
                          conflict.get("reason"))
            self.store.mark_sent(seqs)
            sent += len(seqs)
        if sent:
            log.info("pushed %d records", sent)
        return sent

    def pull(self) -> int:
        applied = 0
        while True:
            since = int(self.store.get_state("pull_cursor", "0"))
            answer = self._call("GET", "/api/v1/sync/pull",
                                params={"since": since, "limit": 500})
            applied += self.store.apply_pulled(answer["changes"], int(answer["cursor"]),
                                               self.station_id)
            if not answer.get("more"):
                break
        if applied:
            log.info("pulled %d changes", applied)
        return applied


class SyncWorker:
    """Runs push and pull every ``interval_s`` on a thread; ``kick()`` runs now."""

    def __init__(self, client: SyncClient, public_key_hex: str, interval_s: float,
                 on_status: Callable[[SyncStatus], None] | None = None) -> None:
        self.client = client
        self.public_key_hex = public_key_hex
        self.interval_s = interval_s
        self.on_status = on_status
        self.status = SyncStatus(False, client.store.pending_count(), "尚未连接中心", None)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._key_registered = False
        self._thread = threading.Thread(target=self._run, name="sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.client.close()

    def run_once(self) -> SyncStatus:
        try:
            if not self._key_registered:
                self.client.register_key(self.public_key_hex)
                self._key_registered = True
            self.client.push()
            self.client.pull()
            self.status = SyncStatus(True, self.client.store.pending_count(),
                                     "联网：数据已同步", time.time())
        except SyncError as err:
            pending = self.client.store.pending_count()
            if self.status.online:
                log.warning("sync failed, working locally: %s", err)
            self.status = SyncStatus(False, pending,
                                     f"本地模式：{err}（待上传 {pending} 条）",
                                     self.status.last_ok)
        if self.on_status:
            self.on_status(self.status)
        return self.status

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._wake.wait(self.interval_s)
            self._wake.clear()
