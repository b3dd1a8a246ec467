# The onboarding fixtures are shared with the partners tests.
from tests.partners.conftest import (  # noqa: F401
    _fresh_rate_limits,
    application_under_review,
    compliance_officer,
    roles,
    team,
)
