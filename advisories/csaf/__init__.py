"""CSAF 2.0 (docs/csaf.md, docs/csaf-provider.md): `build_csaf_document` builds one reader's copy, `validate`
checks a document against the official CSAF 2.0 JSON schema shipped in `schemas/`, `provider` lays the copies out
as a CSAF trusted provider (provider metadata, ROLIE feeds, year folders, hashes, OpenPGP signatures)."""

from advisories.csaf.builder import (
    TLP_2_TO_CSAF_TLP_1,
    CsafCopy,
    build_csaf_document,
    copy_year,
    csaf_filename,
    csaf_label,
    csaf_timestamp,
)
from advisories.csaf.schema import csaf_validator, validate

__all__ = [
    "TLP_2_TO_CSAF_TLP_1",
    "CsafCopy",
    "build_csaf_document",
    "copy_year",
    "csaf_filename",
    "csaf_label",
    "csaf_timestamp",
    "csaf_validator",
    "validate",
]
