"""The keyed hash chain over the audit log and its signed checkpoints (docs/audit.md).

Two secrets kept outside the database: the chain key (HMAC-SHA-256 over every link, FOREWARN_AUDIT_CHAIN_KEY) and
the checkpoint signing key (Ed25519, FOREWARN_AUDIT_CHECKPOINT_SIGNING_KEY). A checkpoint states the size of the
chain and the hash of its head at a time, signed, and is published outside the database (the `audit_checkpoints`
storage and the `forewarn.audit` log), like a Certificate Transparency signed tree head: a database that later holds
a shorter chain, or another link at that position, contradicts it.
"""

import base64
import binascii
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from core.models import AuditChainLink, AuditEvent

LOG_NAME = "forewarn-audit"
CHECKPOINT_STORAGE = "audit_checkpoints"
logger = logging.getLogger("forewarn.audit")


def _chain_key() -> bytes:
    key = settings.AUDIT_CHAIN_KEY
    if not key:
        raise ImproperlyConfigured("FOREWARN_AUDIT_CHAIN_KEY is not set.")
    return key.encode()


def link_hash(link: AuditChainLink, event: AuditEvent) -> str:
    """HMAC-SHA-256 of the link's position, the previous link's hash and the event's content."""
    return hmac.new(_chain_key(), link.signed_content(event), hashlib.sha256).hexdigest()


def _decode_key(value: str, setting: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImproperlyConfigured(f"{setting} must be 32 bytes in base64.") from error
    if len(raw) != 32:
        raise ImproperlyConfigured(f"{setting} must be 32 bytes in base64, not {len(raw)} bytes.")
    return raw


def _signing_key() -> Ed25519PrivateKey:
    seed = _decode_key(settings.AUDIT_CHECKPOINT_SIGNING_KEY, "FOREWARN_AUDIT_CHECKPOINT_SIGNING_KEY")
    return Ed25519PrivateKey.from_private_bytes(seed)


def verification_keys() -> list[Ed25519PublicKey]:
    """The public keys a checkpoint may be signed with: the signing key's own (when this process holds it) and
    those listed in FOREWARN_AUDIT_CHECKPOINT_PUBLIC_KEYS (a verifier without the signing key, or earlier keys
    after a rotation)."""
    keys = [_signing_key().public_key()] if settings.AUDIT_CHECKPOINT_SIGNING_KEY else []
    for value in settings.AUDIT_CHECKPOINT_PUBLIC_KEYS:
        raw = _decode_key(value, "FOREWARN_AUDIT_CHECKPOINT_PUBLIC_KEYS")
        keys.append(Ed25519PublicKey.from_public_bytes(raw))
    if not keys:
        raise ImproperlyConfigured(
            "Set FOREWARN_AUDIT_CHECKPOINT_SIGNING_KEY or FOREWARN_AUDIT_CHECKPOINT_PUBLIC_KEYS."
        )
    return keys


def public_key_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the chain had `size` links at `published_at`, the last one hashing to `head`."""

    size: int
    head: str
    published_at: datetime
    signature: str = ""
    name: str = ""  # where it was read from

    def statement(self) -> bytes:
        content = {
            "log": LOG_NAME,
            "size": self.size,
            "head": self.head,
            "time": self.published_at.astimezone(UTC).isoformat(timespec="microseconds"),
        }
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()

    def signature_is_valid(self) -> bool:
        try:
            signature = base64.b64decode(self.signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        for key in verification_keys():
            try:
                key.verify(signature, self.statement())
            except InvalidSignature:
                continue
            return True
        return False

    def document(self) -> dict:
        return {
            **json.loads(self.statement()),
            "algorithm": "Ed25519",
            "public_key": public_key_text(_signing_key().public_key()),
            "signature": self.signature,
        }


def sign_checkpoint(*, size: int, head: str, at: datetime) -> Checkpoint:
    unsigned = Checkpoint(size=size, head=head, published_at=at)
    signature = base64.b64encode(_signing_key().sign(unsigned.statement())).decode()
    return Checkpoint(size=size, head=head, published_at=at, signature=signature)


def checkpoint_storage():
    return storages[CHECKPOINT_STORAGE]


def publish_checkpoint(checkpoint: Checkpoint) -> str:
    """Write the checkpoint to the checkpoint storage (never overwriting one) and to the `forewarn.audit` log, two
    places outside the database. Returns the stored name."""
    at = checkpoint.published_at.astimezone(UTC)
    name = f"{at:%Y-%m-%d}/{checkpoint.size:012d}-{at:%H%M%S%f}.json"
    body = json.dumps(checkpoint.document(), sort_keys=True, indent=2).encode()
    stored = checkpoint_storage().save(name, ContentFile(body))
    logger.info("audit checkpoint", extra={"audit_checkpoint": checkpoint.document(), "stored_as": stored})
    return stored


class UnreadableCheckpoint(Exception):
    pass


def _read_checkpoint(name: str) -> Checkpoint:
    try:
        with checkpoint_storage().open(name) as file:
            document = json.loads(file.read())
        return Checkpoint(
            size=int(document["size"]),
            head=str(document["head"]),
            published_at=datetime.fromisoformat(document["time"]),
            signature=str(document["signature"]),
            name=name,
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UnreadableCheckpoint(f"checkpoint {name} cannot be read: {error}") from error


def latest_checkpoints(limit: int) -> tuple[list[Checkpoint], list[str]]:
    """The newest `limit` checkpoints in the storage, newest first, and a problem line for each one that cannot be
    read. Names sort by day, then by size within a day."""
    storage = checkpoint_storage()
    try:
        days, _files = storage.listdir("")
    except FileNotFoundError:
        return [], []
    checkpoints, problems = [], []
    for day in sorted(days, reverse=True):
        _dirs, files = storage.listdir(day)
        for file in sorted((f for f in files if f.endswith(".json")), reverse=True):
            try:
                checkpoints.append(_read_checkpoint(f"{day}/{file}"))
            except UnreadableCheckpoint as error:
                problems.append(str(error))
            if len(checkpoints) >= limit:
                return checkpoints, problems
    return checkpoints, problems
