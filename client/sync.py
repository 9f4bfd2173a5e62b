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
from datetime import datetime
from typing import Any

import httpx

from common.models import Outbox

from .store import SITE_TZ, LocalStore

log = logging.getLogger(__name__)
PUSH_BATCH = 200


class SyncError(RuntimeError):
    """The server could not be reached or refused us; the message says what to do."""


class ServerUnreachable(SyncError):
    """No answer (network down, server stopped): the booth works locally."""


class ServerRefused(SyncError):
    """The server answered and said no: a person has to act (token, key)."""


class RecordRefused(SyncError):
    """The server refused one record of a batch; ``index`` says which."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class SyncStatus:
    online: bool
    pending: int
    message: str
    last_ok: float | None  # time.time() of the last successful round
    rejected: int = 0  # records the server refused: an alarm for the operator
    refused: bool = False  # the server is up but refuses this booth
    changed: bool = False  # this round pushed or pulled something (lists are stale)


def _error_text(resp: httpx.Response) -> tuple[str, int | None]:
    """The server's own message (and record index) from its JSON error shape."""
    try:
        err = resp.json()["error"]
        return str(err.get("message", "")), err.get("index")
    except (ValueError, KeyError, TypeError, AttributeError):
        return resp.text[:200], None


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

    def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        try:
            resp = self._http.request(method, path, **kw)
        except httpx.HTTPError as err:
            raise ServerUnreachable(
                f"无法连接中心服务器（{err.__class__.__name__}）") from err
        if resp.status_code < 400:
            try:
                answer: dict[str, Any] = resp.json()
                return answer
            except ValueError as err:
                raise ServerUnreachable("中心返回的不是 JSON（地址是否指向了别的服务？）") from err

        message, index = _error_text(resp)
        if resp.status_code == 401:
            raise ServerRefused("中心拒绝了本磅房的凭证：请检查配置中的 token")
        if resp.status_code == 409 and path.endswith("/booth/key"):
            raise ServerRefused(f"中心已登记了本磅房的另一把签名密钥：{message}"
                                "（请管理员执行 weighbridge server reset-key）")
        if resp.status_code in (403, 422) and isinstance(index, int):
            raise RecordRefused(message, index)
        if resp.status_code >= 500:
            raise ServerUnreachable(f"中心内部错误 {resp.status_code}：{message}")
        raise ServerRefused(f"中心拒绝请求 {resp.status_code}：{message}")

    def register_key(self, public_key_hex: str) -> None:
        self._call("PUT", "/api/v1/booth/key", json={"public_key": public_key_hex})

    def continue_ticket_numbers(self, day: str) -> None:
        """Take up numbering after what the server already holds for today."""
        answer = self._call("GET", "/api/v1/booth/ticket-seq", params={"day": day})
        self.store.raise_ticket_counter(self.station_id, day, int(answer["last_seq"]))

    def push(self) -> int:
        """Push everything pending; return how many outbox rows were confirmed.

        A record the server refuses is set aside with its reason (kept, counted,
        shown as an alarm) and the rest go on: one bad record never blocks the
        queue, and nothing refused is ever marked as sent.
        """
        sent = 0
        while batch := self.store.pending(PUSH_BATCH):
            records = [{"kind": row.kind, "data": json.loads(row.payload)}
                       for row in batch]
            try:
                answer = self._call("POST", "/api/v1/sync/push",
                                    json={"records": records})
            except RecordRefused as err:
                if not 0 <= err.index < len(batch):
                    raise
                log.error("server refused record %s: %s", batch[err.index].record_id,
                          err)
                self.store.reject(batch[err.index].seq, str(err))
                continue
            except SyncError:
                self.store.note_attempt([row.seq for row in batch])
                raise
            sent += self._settle(batch, answer)
        if sent:
            log.info("pushed %d records", sent)
        return sent

    def _settle(self, batch: list[Outbox], answer: dict[str, Any]) -> int:
        refused = {str(c.get("id")): str(c.get("reason", "")) for c in
                   answer.get("conflicts", [])}
        for row in batch:
            if row.record_id in refused:
                log.error("server refused record %s: %s", row.record_id,
                          refused[row.record_id])
                self.store.reject(row.seq, refused[row.record_id] or "中心拒收")
        accepted = [row.seq for row in batch if row.record_id not in refused]
        self.store.mark_sent(accepted)
        return len(accepted)

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
        store = self.client.store
        try:
            if not self._key_registered:
                self.client.register_key(self.public_key_hex)
                self.client.continue_ticket_numbers(
                    datetime.now(SITE_TZ).strftime("%Y%m%d"))
                self._key_registered = True
            moved = self.client.push() + self.client.pull()
            rejected = len(store.rejected())
            self.status = SyncStatus(True, store.pending_count(), "联网：数据已同步",
                                     time.time(), rejected,
                                     changed=moved > 0 or rejected != self.status.rejected)
        except SyncError as err:
            if self.status.online:
                log.warning("sync failed, working locally: %s", err)
            refused = isinstance(err, ServerRefused)
            mode = "中心拒绝连接" if refused else "本地模式"
            self.status = SyncStatus(False, store.pending_count(), f"{mode}：{err}",
                                     self.status.last_ok, len(store.rejected()),
                                     refused)
        if self.on_status:
            self.on_status(self.status)
        return self.status

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._wake.wait(self.interval_s)
            self._wake.clear()
