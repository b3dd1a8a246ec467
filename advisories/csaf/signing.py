"""OpenPGP signatures of the CSAF documents served (CSAF 2.0 requirements 19 and 20), with pysequoia (Sequoia PGP):
in-process, no keyring or agent on disk, the same on every web node.

The signing key is an ASCII-armoured OpenPGP secret key in the file FOREWARN_CSAF_SIGNING_KEY_FILE (optionally
protected by FOREWARN_CSAF_SIGNING_KEY_PASSPHRASE). Development and tests, which have none, generate a key once
under var/ (FOREWARN_CSAF_DEVELOPMENT_KEY); production never does: without a key it serves no signature.
"""

import os
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pysequoia import Cert, Profile, SignatureMode, Tsk, sign

DEVELOPMENT_USER_ID = "Forewarn CSAF signing key (development only) <csaf-development@forewarn.test>"


class SigningKeyMissing(ImproperlyConfigured):
    pass


def _development_key(path: Path) -> bytes:
    """The development key stored at `path`, generated on first use. Created atomically (O_EXCL), so concurrent
    processes agree on one key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        armoured = str(Tsk.generate(DEVELOPMENT_USER_ID, profile=Profile.RFC4880)).encode()
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as stored:
                stored.write(armoured)
    return path.read_bytes()


@cache
def _secret_key() -> Tsk:
    if settings.FOREWARN_CSAF_SIGNING_KEY_FILE:
        armoured = Path(settings.FOREWARN_CSAF_SIGNING_KEY_FILE).read_bytes()
    elif settings.FOREWARN_CSAF_DEVELOPMENT_KEY:
        armoured = _development_key(Path(settings.FOREWARN_CSAF_DEVELOPMENT_KEY_FILE))
    else:
        raise SigningKeyMissing("Set FOREWARN_CSAF_SIGNING_KEY_FILE to the program's OpenPGP secret key.")
    return Tsk.from_bytes(armoured)


def is_configured() -> bool:
    return bool(settings.FOREWARN_CSAF_SIGNING_KEY_FILE) or settings.FOREWARN_CSAF_DEVELOPMENT_KEY


def public_key() -> Cert:
    """The public part of the signing key (what partners verify with)."""
    return _secret_key().extract_certificate()


def fingerprint() -> str:
    """The signing key's fingerprint, upper-case hexadecimal as CSAF's provider metadata writes it."""
    return public_key().fingerprint.upper()


def armoured_public_key() -> str:
    return str(public_key())


def detached_signature(data: bytes) -> bytes:
    """An ASCII-armoured detached OpenPGP signature of `data` (the `.asc` file beside a CSAF document)."""
    passphrase = settings.FOREWARN_CSAF_SIGNING_KEY_PASSPHRASE or None
    return sign(_secret_key().signer(passphrase), data, mode=SignatureMode.DETACHED)
