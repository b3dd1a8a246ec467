"""What every upload is checked for before it is stored: its size, its type recognised from its first bytes (never
its name or the browser's claim) and its SHA-256, recorded with it and in the audit log."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class InspectedUpload:
    content_type: str
    size: int
    sha256: str


def inspect_upload(
    uploaded_file, *, max_bytes: int, too_large: str, sniff_bytes: int, content_type_of: Callable[[bytes], str]
) -> InspectedUpload:
    """Refuse a file over `max_bytes` (with the message `too_large`) or of a type `content_type_of` refuses (a
    ValidationError on the form's `file` field); otherwise its recognised type, size and SHA-256. The file is left
    rewound, ready to be stored."""
    if uploaded_file.size > max_bytes:
        raise ValidationError({"file": too_large})
    uploaded_file.seek(0)
    try:
        content_type = content_type_of(uploaded_file.read(sniff_bytes))
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from None
    uploaded_file.seek(0)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    return InspectedUpload(content_type=content_type, size=uploaded_file.size, sha256=digest.hexdigest())
