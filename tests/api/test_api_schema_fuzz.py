"""A bounded schemathesis run against the partner API's own OpenAPI schema: generated valid and invalid requests,
made with a valid token of an early partner holding released advisories, find no server error and no response
that breaks the schema. Select it alone with `pytest -m schemathesis`."""

import os
from datetime import timedelta

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings

from core.levels import AccessLevel
from partners import services as partner_services
from partners.models import ApiTokenScope, MemberRole
from tests.api.conftest import release

# Bounded for CI (about 30 s); raise it for a deeper run, e.g. FOREWARN_SCHEMATHESIS_EXAMPLES=500.
MAX_EXAMPLES_PER_OPERATION = int(os.environ.get("FOREWARN_SCHEMATHESIS_EXAMPLES", "40"))


@pytest.fixture
def keep_test_connection():
    """Requests go straight to the WSGI handler, whose signals would close the test's database connection (and its
    transaction) after each one; Django's own test client disconnects them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_headers(keep_test_connection, early_token, advisory):
    release(advisory, AccessLevel.EARLY)
    return {"Authorization": f"Bearer {early_token[1]}"}


# The schema view needs no database: load it once, at collection, from the application itself.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", WSGIHandler())


@pytest.mark.schemathesis
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_every_generated_request_within_its_schema(case, api_headers):
    # Cases generated without the Authorization header test that the API refuses them: send them as generated.
    headers = None if case.operation.schema.is_security_param_negated(case) else api_headers
    case.call_and_validate(headers=headers)


@pytest.mark.schemathesis
@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/advisories/{identifier}/",
        "/api/v1/advisories/{identifier}/csaf/",
        "/api/v1/advisories/{identifier}/artifacts/{artifact_id}/",
        "/api/v1/advisories/{identifier}/protection/",
        "/api/v1/advisories/{identifier}/indicators/",
    ],
)
def test_real_responses_of_every_endpoint_match_the_schema(path, api_headers, advisory):
    """Random identifiers almost never hit a released advisory: check the successful answers on a real one."""
    poc = advisory.artifacts.get(level=AccessLevel.EARLY)
    parameters = {"identifier": advisory.identifier, "artifact_id": poc.pk}
    operation = schema[path]["GET"]
    case = operation.Case(
        path_parameters={name: parameters[name] for name in ("identifier", "artifact_id") if "{" + name + "}" in path}
    )

    response = case.call_and_validate(headers=api_headers)

    assert response.status_code == 200


@pytest.fixture
def report_headers(keep_test_connection, early_partner, member_of, advisory):
    """A token with the `report` scope, so that generated status and indicator reports reach the services."""
    release(advisory, AccessLevel.EARLY)
    _, secret = partner_services.create_api_token(
        actor=member_of(early_partner, role=MemberRole.ADMIN),
        name="Fuzz reporter",
        expires_at=timezone.now() + timedelta(days=1),
        scope=ApiTokenScope.REPORT,
    )
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.schemathesis
@schema.include(path_regex="/(protection|indicators)/$").parametrize()
@settings(
    max_examples=MAX_EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_protection_reports_answer_every_generated_request_within_their_schema(case, report_headers):
    headers = None if case.operation.schema.is_security_param_negated(case) else report_headers
    case.call_and_validate(headers=headers)


@pytest.mark.schemathesis
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "method", "body", "status"),
    [
        ("/api/v1/advisories/{identifier}/protection/", "PUT", {"state": "in_progress", "notes": "Building"}, 200),
        ("/api/v1/advisories/{identifier}/protection/", "PUT", {"state": "shipped"}, 400),
        (
            "/api/v1/advisories/{identifier}/indicators/",
            "POST",
            {"type": "ip", "value": "192.0.2.7", "first_seen": "2026-01-01T00:00:00Z", "confidence": "low"},
            201,
        ),
    ],
)
def test_real_protection_reports_match_the_schema(path, method, body, status, report_headers, advisory):
    case = schema[path][method].Case(path_parameters={"identifier": advisory.identifier}, body=body)

    response = case.call_and_validate(headers=report_headers)

    assert response.status_code == status
