"""Ticket signatures (一票一码, R7).

Each booth holds its own Ed25519 key and registers the public half with the server.
The ticket's QR code carries a token: the fields printed on the ticket, compactly,
and the booth's signature over them. So a booth can sign while offline, and the
server's check page can tell a genuine ticket from a made-up or altered one even
before the record itself has synced.

Token layout: ``base64url(payload JSON) "." base64url(64-byte signature)``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)


class TokenError(ValueError):
    """A ticket token that is malformed or whose signature does not verify."""


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as err:
        raise TokenError("令牌编码错误") from err


@dataclass(frozen=True)
class TicketClaims:
    """What a ticket asserts; short keys keep the QR code small."""

    weighing_id: str
    ticket_no: str
    plate: str
    tare_kg: int
    gross_kg: int
    net_kg: int
    station: int
    gross_at: int  # Unix seconds, UTC

    def payload(self) -> bytes:
        doc = {
            "i": self.weighing_id,
            "n": self.ticket_no,
            "p": self.plate,
            "t": self.tare_kg,
            "g": self.gross_kg,
            "w": self.net_kg,
            "s": self.station,
            "at": self.gross_at,
        }
        return json.dumps(
            doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True
        ).encode("utf-8")

    @classmethod
    def from_payload(cls, raw: bytes) -> TicketClaims:
        try:
            d = json.loads(raw.decode("utf-8"))
            claims = cls(
                str(d["i"]),
                str(d["n"]),
                str(d["p"]),
                d["t"],
                d["g"],
                d["w"],
                d["s"],
                d["at"],
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
            raise TokenError("令牌内容无法解析") from err
        for v in (
            claims.tare_kg,
            claims.gross_kg,
            claims.net_kg,
            claims.station,
            claims.gross_at,
        ):
            if isinstance(v, bool) or not isinstance(v, int):
                raise TokenError("令牌中的数值不是整数")
        return claims


class TicketSigner:
    """The booth's signing key, kept in a file next to its local database."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def load_or_create(cls, path: Path) -> TicketSigner:
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path} is not an Ed25519 key")
            return cls(key)
        key = Ed25519PrivateKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        tmp.replace(path)
        return cls(key)

    @property
    def public_key_hex(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            .hex()
        )

    def sign(self, claims: TicketClaims) -> str:
        payload = claims.payload()
        return f"{_b64e(payload)}.{_b64e(self._key.sign(payload))}"


def read_token(token: str) -> tuple[TicketClaims, bytes, bytes]:
    """Split a token into its claims, payload and signature, without verifying."""
    if token.count(".") != 1:
        raise TokenError("令牌格式错误")
    p64, s64 = token.split(".")
    payload, sig = _b64d(p64), _b64d(s64)
    if len(sig) != 64:
        raise TokenError("签名长度错误")
    return TicketClaims.from_payload(payload), payload, sig


def verify_token(token: str, public_key_hex: str) -> TicketClaims:
    """The claims of a genuine token; TokenError for anything else."""
    claims, payload, sig = read_token(token)
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(sig, payload)
    except (InvalidSignature, ValueError) as err:
        raise TokenError("签名无效：磅单可能被伪造或篡改") from err
    return claims
