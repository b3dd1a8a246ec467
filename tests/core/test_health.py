"""/healthz says the process is up and touches nothing else; /readyz says whether the database, the broker, the
cache and the private storage (a real write) answer, names the ones that do not, and answers within 2 s whatever
hangs. Neither needs a login."""

import time

import pytest
from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.test import override_settings
from django.urls import reverse

from core import health
from tests.storages import NoSpaceLeftStorage, ReadOnlyDiskStorage

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
ALL_OK = {"database": "ok", "clock": "ok", "broker": "ok", "cache": "ok", "storage": "ok"}


def private_storage_setting(backend: str, location) -> dict:
    return {**django_settings.STORAGES, "private": {"BACKEND": backend, "OPTIONS": {"location": location}}}


def test_healthz_answers_ok_without_login(client):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@override_settings(
    CELERY_BROKER_URL=UNREACHABLE_REDIS,
    CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": UNREACHABLE_REDIS}},
    SESSION_ENGINE="django.contrib.sessions.backends.cache",
)
def test_healthz_answers_with_database_and_redis_unreachable_even_with_a_session_cookie(client, django_db_blocker):
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "a-session-key-of-a-browser"
    with django_db_blocker.block():  # any database query would fail the test
        started = time.monotonic()
        response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert time.monotonic() - started < 0.5


def test_readyz_answers_ok_when_every_dependency_answers(client):
    response = client.get(reverse("readyz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": ALL_OK}


@override_settings(CELERY_BROKER_URL=UNREACHABLE_REDIS, CELERY_BROKER_TRANSPORT_OPTIONS={})
def test_readyz_answers_503_naming_the_broker_when_redis_is_unreachable(client):
    response = client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {**ALL_OK, "broker": "failed"}}


@override_settings(
    CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": UNREACHABLE_REDIS}}
)
def test_readyz_answers_503_naming_the_cache_when_its_redis_is_unreachable(client):
    response = client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "cache": "failed"}


def test_readyz_answers_503_naming_the_storage_when_the_private_folder_is_missing(client, settings, tmp_path):
    settings.STORAGES = private_storage_setting("core.storage.PrivateFileSystemStorage", tmp_path / "gone")

    response = client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "storage": "failed"}
    assert not (tmp_path / "gone").exists()


@pytest.mark.parametrize("storage_class", [ReadOnlyDiskStorage, NoSpaceLeftStorage])
def test_readyz_answers_503_naming_the_storage_when_it_cannot_be_written(client, settings, tmp_path, storage_class):
    settings.STORAGES = private_storage_setting(f"{storage_class.__module__}.{storage_class.__name__}", tmp_path)

    response = client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "storage": "failed"}
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]


def test_the_storage_check_writes_a_file_and_removes_it(settings, tmp_path):
    settings.STORAGES = private_storage_setting("core.storage.PrivateFileSystemStorage", tmp_path)

    health.check_storage()

    assert (tmp_path / health.STORAGE_PROBE_FOLDER).is_dir()
    assert not list((tmp_path / health.STORAGE_PROBE_FOLDER).iterdir())


def test_readyz_answers_503_naming_the_database_when_it_refuses_connections(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    # Every connection, including the one the check opens in its own thread.
    monkeypatch.setattr(type(connections[DEFAULT_DB_ALIAS]), "cursor", refuse)

    response = client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "database": "failed"}


def test_readyz_answers_within_two_seconds_when_a_dependency_hangs(client, monkeypatch):
    def hang():
        time.sleep(5)

    monkeypatch.setitem(health.READINESS_CHECKS, "broker", hang)
    monkeypatch.setitem(health.READINESS_CHECKS, "cache", hang)

    started = time.monotonic()
    response = client.get(reverse("readyz"))

    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_OK, "broker": "failed", "cache": "failed"}


@override_settings(CELERY_BROKER_URL=UNREACHABLE_REDIS, CELERY_BROKER_TRANSPORT_OPTIONS={})
def test_readyz_does_not_reveal_the_cause_of_a_failure(client):
    response = client.get(reverse("readyz"))

    assert "127.0.0.1" not in response.content.decode()
    assert "refused" not in response.content.decode().lower()


@override_settings(SECURE_SSL_REDIRECT=True, SECURE_REDIRECT_EXEMPT=[r"^healthz$", r"^readyz$"])
def test_probes_over_plain_http_are_not_redirected_when_https_is_enforced(client):
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("readyz")).status_code == 200
    assert client.get(reverse("login")).status_code == 301


def test_probes_stay_open_when_every_other_page_requires_a_login(client, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.contrib.auth.middleware.LoginRequiredMiddleware"]

    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("readyz")).status_code == 200
    assert client.get(reverse("advisories:list")).status_code == 302
