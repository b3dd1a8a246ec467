"""What makes each served copy traceable to its delivery: for now the visible "issued to" banner."""

from pathlib import PurePosixPath

from django.utils import timezone

from advisories.models import Artifact, Delivery

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


def issued_to_banner(*, delivery: Delivery | None, partner, user, tlp_label: str) -> str:
    delivery_label = f"delivery {delivery.pk}" if delivery is not None else "no delivery"
    return (
        f"{tlp_label} - issued to {partner} ({user.email}), {delivery_label}, "
        f"{timezone.now():%Y-%m-%d %H:%M} UTC. Do not redistribute."
    )


def comment_prefix(artifact: Artifact) -> str | None:
    """The comment syntax for the artifact's format, or None when a banner cannot be added without harm."""
    return COMMENT_PREFIXES.get(PurePosixPath(artifact.file.name).suffix.lower())


def personalised_chunks(artifact: Artifact, banner: str, chunk_size: int = 64 * 1024):
    """The artifact's bytes, preceded by the banner as a comment where the format allows one."""
    prefix = comment_prefix(artifact)
    if prefix is not None:
        yield f"{prefix}{banner}\n".encode()
    with artifact.file.open("rb") as stored:
        while chunk := stored.read(chunk_size):
            yield chunk
