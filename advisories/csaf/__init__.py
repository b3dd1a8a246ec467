"""CSAF 2.0 export of advisories (docs/csaf.md): `build_csaf_document` builds one organisation's copy, `validate`
checks a document against the official CSAF 2.0 JSON schema shipped in `schemas/`."""

from advisories.csaf.builder import TLP_2_TO_CSAF_TLP_1, build_csaf_document
from advisories.csaf.schema import csaf_validator, validate

__all__ = ["TLP_2_TO_CSAF_TLP_1", "build_csaf_document", "csaf_validator", "validate"]
