"""The keyed choice each copy makes at each slot, computed the same way for one copy (serving) and for thousands of
candidate copies at once (tracing).

A copy's key is HMAC-SHA256 of the reader under the delivery's 256-bit secret token; its first 128 bits are two
64-bit words (k1, k2). A slot is named by its context (a string that does not depend on its position), hashed once
to 64 bits h. The form chosen is mix(mix(k1 ^ h) ^ k2) mod forms, where mix is the SplitMix64 finaliser (a
bijection with full avalanche). For an unrelated key the choices at distinct slots behave as independent uniform
draws, which is all the test in tracing.py assumes; the keys themselves come from a cryptographic PRF, so no
partner's choices can be predicted from another's copy.
"""

import hashlib
import hmac
from functools import lru_cache

MASK = (1 << 64) - 1
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB


def copy_key(*, token: str, user_id: int | None) -> bytes:
    """The key of one served copy: the delivery's secret token and the person it was served to."""
    return hmac.new(token.encode(), f"forewarn-fingerprint-v1|user={user_id}".encode(), hashlib.sha256).digest()[:32]


def key_words(key: bytes) -> tuple[int, int]:
    return int.from_bytes(key[:8], "big"), int.from_bytes(key[8:16], "big")


@lru_cache(maxsize=65536)
def context_hash(context: str) -> int:
    return int.from_bytes(hashlib.blake2b(context.encode(), digest_size=8, person=b"fw-slot").digest(), "big")


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * _M1) & MASK
    z = ((z ^ (z >> 27)) * _M2) & MASK
    return z ^ (z >> 31)


def choose(key: bytes, context: str, forms: int) -> int:
    """The form (0 .. forms-1) the copy with `key` takes at the slot named `context`."""
    return chooser(key)(context, forms)


def chooser(key: bytes):
    """choose() for one key, whose words are read once: a copy of a large text makes tens of thousands of choices."""
    k1, k2 = key_words(key)

    def choose_form(context: str, forms: int) -> int:
        return _mix(_mix(k1 ^ context_hash(context)) ^ k2) % forms

    return choose_form


def _mix_array(z):
    import numpy as np  # numpy only loads where tracing runs, not in every web worker

    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


class CandidateKeys:
    """Many copies' keys as two arrays, for choosing at one slot for all of them in one vector operation."""

    def __init__(self, keys: list[bytes]):
        import numpy as np  # see _mix_array

        pairs = [key_words(key) for key in keys]
        self.k1 = np.fromiter((a for a, _ in pairs), dtype=np.uint64, count=len(pairs))
        self.k2 = np.fromiter((b for _, b in pairs), dtype=np.uint64, count=len(pairs))

    def __len__(self):
        return len(self.k1)

    def choices(self, context: str, forms: int):
        import numpy as np  # see _mix_array

        with np.errstate(over="ignore"):
            mixed = _mix_array(_mix_array(self.k1 ^ np.uint64(context_hash(context))) ^ self.k2)
        return mixed % np.uint64(forms)
