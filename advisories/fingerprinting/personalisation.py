"""What makes each served copy traceable to its delivery and reader: a visible "issued to" banner, and a fingerprint
keyed by the delivery's secret token and the user (docs/fingerprinting.md).

By default a copy differs from the source only in meaning-safe choices (phrasings, spellings, optional commas, the
author's variant points): it holds no look-alike or invisible character, so it stays searchable. The letter layer
(look-alike Cyrillic letters) is added only when a program manager turned it on for the advisory.
"""

from datetime import UTC
from pathlib import PurePosixPath

from django.utils import timezone

from advisories.fingerprinting import personalise, strip_variant_points
from advisories.fingerprinting.choices import copy_key
from advisories.fingerprinting.code import SourceText, serving_template
from advisories.models import Advisory, Artifact, Delivery

# Formats that are prose as a whole (fingerprinted like a document); every other text format is code: its author's
# variant points and the prose of its whole-line comments.
PROSE_SUFFIXES = {".md", ".txt"}
# Larger text files are served as stored (variant points resolved to their first alternative), with the banner.
MAX_FINGERPRINTED_BYTES = 2 * 1024 * 1024

# Comment syntax per text format, so that a banner keeps rules and code valid.
COMMENT_PREFIXES = {
    ".py": "# ",
    ".sh": "# ",
    ".rb": "# ",
    ".pl": "# ",
    ".ps1": "# ",
    ".rules": "# ",
    ".conf": "# ",
    ".yml": "# ",
    ".yaml": "# ",
    ".txt": "# ",
    ".csv": "# ",
    ".yar": "// ",
    ".yara": "// ",
    ".c": "// ",
    ".h": "// ",
    ".cpp": "// ",
    ".cs": "// ",
    ".java": "// ",
    ".js": "// ",
    ".ts": "// ",
    ".go": "// ",
    ".rs": "// ",
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


def _protected_terms(advisory: Advisory | None) -> tuple[str, ...]:
    """The advisory's own names that no copy may vary: its products and CVE ids."""
    if advisory is None:
        return ()
    return tuple(advisory.product_names) + tuple(advisory.cve_ids or ())


def document_source(markdown: str, advisory: Advisory | None) -> SourceText:
    letters = bool(advisory is not None and advisory.fingerprint_letters)
    return SourceText(markdown, kind="markdown", letters=letters, protected_terms=_protected_terms(advisory))


def artifact_source(artifact: Artifact, text: str) -> SourceText:
    suffix = PurePosixPath(artifact.file.name).suffix.lower()
    terms = _protected_terms(artifact.advisory)
    if suffix in PROSE_SUFFIXES:
        return SourceText(text, kind="prose", letters=artifact.advisory.fingerprint_letters, protected_terms=terms)
    return SourceText(text, kind="code", comment_prefix=COMMENT_PREFIXES.get(suffix, "# "), protected_terms=terms)


def fingerprinted_markdown(markdown: str, *, delivery: Delivery | None, user, advisory: Advisory | None = None) -> str:
    """The document as this user receives it through this delivery (the author's text when there is no delivery)."""
    if delivery is None:
        return strip_variant_points(markdown)
    key = copy_key(token=delivery.fingerprint_token, user_id=user.pk)
    return personalise(serving_template(document_source(markdown, advisory)), key)


def read_text_artifact(artifact: Artifact) -> str | None:
    """The artifact's text, or None for a binary or oversized file (served as stored)."""
    if artifact.size > MAX_FINGERPRINTED_BYTES or comment_prefix(artifact) is None:
        return None
    with artifact.file.open("rb") as stored:
        raw = stored.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def personalised_chunks(
    artifact: Artifact, banner: str, *, delivery: Delivery | None = None, user=None, chunk_size: int = 64 * 1024
):
    """The artifact's bytes, preceded by the banner as a comment where the format allows one, with the fingerprint
    in text formats."""
    prefix = comment_prefix(artifact)
    if prefix is not None:
        yield f"{prefix}{banner}\n".encode()
        text = read_text_artifact(artifact)
        if text is not None:
            if delivery is None or user is None:
                yield strip_variant_points(text).encode()
                return
            key = copy_key(token=delivery.fingerprint_token, user_id=user.pk)
            yield personalise(serving_template(artifact_source(artifact, text)), key).encode()
            return
    with artifact.file.open("rb") as stored:
        while chunk := stored.read(chunk_size):
            yield chunk
