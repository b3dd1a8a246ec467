"""A bounded schemathesis run against the partner API's own OpenAPI schema: generated valid and invalid requests,
made with a valid token of an early partner holding released advisories, find no server error and no response
that breaks the schema. Select it alone with `pytest -m schemathesis`."""

import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from core.levels import AccessLevel
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
