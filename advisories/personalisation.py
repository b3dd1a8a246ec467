"""What makes each served copy traceable to its delivery and reader: a visible "issued to" banner, and an invisible
text fingerprint keyed by the delivery's secret token and the user (advisories/fingerprinting.py,
docs/fingerprinting.md)."""

from datetime import UTC
from pathlib import PurePosixPath

from django.utils import timezone

from advisories.fingerprinting import copy_key, fingerprint_comments, fingerprint_markdown
from advisories.models import Artifact, Delivery

# Formats that are prose as a whole (fingerprinted like a document); every other format gets comments only.
PROSE_SUFFIXES = {".md", ".txt"}
# Larger text files are served as stored, with the banner only.
MAX_FINGERPRINTED_BYTES = 2 * 1024 * 1024

# Comment syntax per text format, so that a banner keeps rules and code valid.
COMMENT_PREFIXES = {
    ".py": "# ",
    ".sh": "# ",
    ".rules": "# ",
    ".conf": "# ",
    ".yml": "# ",
    ".yaml": "# ",
    ".txt": "# ",
    ".csv": "# ",
    ".yar": "// ",
    ".yara": "// ",
    ".c": "// ",
    ".js": "// ",
    ".go": "// ",
    ".md": "> ",
}


def issued_to_banner(*, delivery: Delivery | None, partner, user, tlp_label: str, at=None) -> str:
    """The visible "issued to" line. `at` (default now) is the issue time it names: a copy that must read the same
    on every fetch (a CSAF document beside its hash and signature files) passes the time its content last changed."""
    delivery_label = f"delivery {delivery.pk}" if delivery is not None else "no delivery"
    return (
        f"{tlp_label} - issued to {partner} ({user.email}), {delivery_label}, "
        f"{(at or timezone.now()).astimezone(UTC):%Y-%m-%d %H:%M} UTC. Do not redistribute."
    )


def comment_prefix(artifact: Artifact) -> str | None:
    """The comment syntax for the artifact's format, or None when a banner cannot be added without harm."""
    return COMMENT_PREFIXES.get(PurePosixPath(artifact.file.name).suffix.lower())


def fingerprinted_markdown(markdown: str, *, delivery: Delivery | None, user) -> str:
    """The document as this user receives it through this delivery (unchanged when there is no delivery)."""
    if delivery is None:
        return markdown
    return fingerprint_markdown(markdown, copy_key(token=delivery.fingerprint_token, user_id=user.pk))


def _fingerprinted_text(artifact: Artifact, prefix: str, *, delivery: Delivery, user) -> bytes | None:
    if artifact.size > MAX_FINGERPRINTED_BYTES:
        return None
    with artifact.file.open("rb") as stored:
        raw = stored.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    key = copy_key(token=delivery.fingerprint_token, user_id=user.pk)
    if PurePosixPath(artifact.file.name).suffix.lower() in PROSE_SUFFIXES:
        return fingerprint_markdown(text, key).encode()
    # Code, rules and IOC lists: only the prose of whole-line comments changes, in plain ASCII.
    return fingerprint_comments(text, prefix, key).encode()


def personalised_chunks(
    artifact: Artifact, banner: str, *, delivery: Delivery | None = None, user=None, chunk_size: int = 64 * 1024
):
    """The artifact's bytes, preceded by the banner as a comment where the format allows one, with the fingerprint
    in the prose of text formats."""
    prefix = comment_prefix(artifact)
    if prefix is not None:
        yield f"{prefix}{banner}\n".encode()
        if delivery is not None and user is not None:
            fingerprinted = _fingerprinted_text(artifact, prefix, delivery=delivery, user=user)
            if fingerprinted is not None:
                yield fingerprinted
                return
    with artifact.file.open("rb") as stored:
        while chunk := stored.read(chunk_size):
            yield chunk
