"""One booth's parts, wired together: config → local store, signing key, weighing
flow, scale reader and sync worker. The console window and the headless demo both
start a booth through :class:`Booth`; nothing here draws."""

from __future__ import annotations

import logging

from common.signing import TicketSigner

from .config import BoothConfig
from .store import LocalStore
from .sync import SyncClient, SyncWorker
from .workflow import WeighingFlow

log = logging.getLogger(__name__)


class Booth:
    def __init__(self, cfg: BoothConfig) -> None:
        self.cfg = cfg
        data = cfg.data_path
        data.mkdir(parents=True, exist_ok=True)
        self.store = LocalStore(data / "booth.db")
        self.signer = TicketSigner.load_or_create(data / "ticket-signing-key.pem")
        self.flow = WeighingFlow(cfg, self.store, self.signer)
        self.tickets_dir = data / "tickets"
        self.recovered_tickets = self.flow.render_missing_tickets(self.tickets_dir)
        self.sync = SyncWorker(
            SyncClient(cfg.server_url, cfg.token, self.store, cfg.station_id),
            self.signer.public_key_hex, cfg.sync_interval_s)

    def start_sync(self) -> None:
        self.sync.start()

    def close(self) -> None:
        self.sync.stop()
        self.store.close()

    @property
    def title(self) -> str:
        role = {"tare": "回皮", "gross": "过重", "both": "回皮/过重"}[self.cfg.purpose]
        return f"{self.cfg.mine_name} 地磅计量 — {self.cfg.station_name}（{role}）"


