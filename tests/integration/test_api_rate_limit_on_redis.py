"""The partner API's per-token rate limit counts in the default cache: with Redis (production) the counter lives
in Redis, where every web node reads and increments the same budget."""

import os
from datetime import timedelta

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings
from django.utils import timezone

from advisories.api.throttling import ApiTokenRateThrottle
from core.levels import AccessLevel
from partners import services as partner_services
from partners.models import MemberRole
from tests.factories import MembershipFactory

# Redis database 8 (this feature's issue number), apart from the broker's test database.
CACHE_REDIS_URL = os.environ.get("FOREWARN_TEST_CACHE_REDIS_URL", "redis://127.0.0.1:6379/8")
REDIS_CACHE = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_REDIS_URL}}


@pytest.mark.integration
@pytest.mark.django_db
def test_rate_limit_counts_in_redis_when_the_cache_is_redis(monkeypatch, make_partner):
    from rest_framework.test import APIClient

    redis.Redis.from_url(CACHE_REDIS_URL).flushdb()
    monkeypatch.setattr(ApiTokenRateThrottle, "rate", "3/minute", raising=False)
    partner = make_partner(level=AccessLevel.EARLY)
    admin = MembershipFactory(partner=partner, role=MemberRole.ADMIN).user
    _, secret = partner_services.create_api_token(actor=admin, name="x", expires_at=timezone.now() + timedelta(days=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    with override_settings(CACHES=REDIS_CACHE):
        statuses = [api.get("/api/v1/advisories/").status_code for _ in range(4)]
        caches["default"].close()

    assert statuses == [200, 200, 200, 429]
    assert redis.Redis.from_url(CACHE_REDIS_URL).keys("*throttle_api_token_*")


@pytest.mark.integration
@pytest.mark.django_db
def test_refused_tokens_are_counted_in_redis_for_every_node(settings):
    from rest_framework.test import APIClient

    redis.Redis.from_url(CACHE_REDIS_URL).flushdb()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "api_token_refused": "3/minute",
        },
    }
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Bearer fwn_00000000_guess")

    with override_settings(CACHES=REDIS_CACHE):
        statuses = [api.get("/api/v1/advisories/", REMOTE_ADDR="198.51.100.66").status_code for _ in range(4)]
        caches["default"].close()

    assert statuses == [401, 401, 401, 429]
    assert redis.Redis.from_url(CACHE_REDIS_URL).keys("*throttle_api_token_refused_198.51.100.66_*")
