"""config.settings.production reads every secret and address from the environment, keeps private files private
on either storage, and logs JSON lines on stdout. Each case loads the settings in a fresh interpreter, as a
production process would."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

REQUIRED_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-production-secret-from-the-environment",
    "DATABASE_URL": "postgres://forewarn:pw@db.internal:5432/forewarn",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "CACHE_URL": "redis://redis.internal:6379/1",
    "FOREWARN_AUDIT_CHAIN_KEY": "a-production-audit-chain-key-from-the-environment",
    "FOREWARN_AUDIT_CHECKPOINT_SIGNING_KEY": "cHJvZHVjdGlvbi1jaGVja3BvaW50LXNpZ25pbmdrZXk=",
    "PATH": "/usr/bin:/bin",
}

DESCRIBE_SETTINGS = """
import json, logging, django
django.setup()
from django.conf import settings
from django.core.files.storage import storages
private = storages["private"]
try:
    private.url("artifacts/poc.py")
    url = "served"
except NotImplementedError:
    url = "refused"
print(json.dumps({
    "debug": settings.DEBUG,
    "database": settings.DATABASES["default"]["ENGINE"],
    "database_host": settings.DATABASES["default"]["HOST"],
    "broker": settings.CELERY_BROKER_URL,
    "cache": settings.CACHES["default"]["BACKEND"],
    "email": settings.EMAIL_BACKEND,
    "static": settings.STORAGES["staticfiles"]["BACKEND"],
    "private": type(private).__module__ + "." + type(private).__name__,
    "default_is_private": type(storages["default"]) is type(private),
    "acl": getattr(private, "default_acl", None),
    "bucket": getattr(private, "bucket_name", None),
    "endpoint": getattr(private, "endpoint_url", None),
    "private_url": url,
    "redirect_exempt": settings.SECURE_REDIRECT_EXEMPT,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
}))
"""


def run_python(code: str, **environment) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**REQUIRED_ENVIRONMENT, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def describe(**environment) -> dict:
    result = run_python(DESCRIBE_SETTINGS, **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_services_come_from_the_environment_with_local_private_files_by_default(tmp_path):
    settings = describe(FOREWARN_PRIVATE_MEDIA_ROOT=str(tmp_path))

    assert settings["debug"] is False
    assert settings["database"] == "django.db.backends.postgresql"
    assert settings["database_host"] == "db.internal"
    assert settings["broker"] == "redis://redis.internal:6379/0"
    assert settings["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert settings["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert settings["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert settings["private"] == "core.storage.PrivateFileSystemStorage"
    assert settings["private_url"] == "refused"
    assert settings["session_cookie_secure"] is True
    assert settings["redirect_exempt"] == [r"^healthz$", r"^readyz$"]


def test_private_files_go_to_a_private_bucket_that_serves_no_url_when_s3_is_chosen():
    settings = describe(
        FOREWARN_PRIVATE_STORAGE="s3",
        FOREWARN_S3_BUCKET="forewarn-private",
        FOREWARN_S3_ENDPOINT_URL="https://objects.internal:9000",
    )

    assert settings["private"] == "core.object_storage.PrivateS3Storage"
    assert settings["default_is_private"] is True
    assert settings["bucket"] == "forewarn-private"
    assert settings["endpoint"] == "https://objects.internal:9000"
    assert settings["acl"] == "private"
    assert settings["private_url"] == "refused"


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"])
def test_settings_refuse_to_load_when_a_required_variable_is_missing(missing):
    environment = {**REQUIRED_ENVIRONMENT}
    del environment[missing]
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_an_unknown_private_storage_choice_is_refused():
    result = run_python("import django; django.setup()", FOREWARN_PRIVATE_STORAGE="ftp")

    assert result.returncode != 0
    assert "FOREWARN_PRIVATE_STORAGE must be 'local' or 's3'" in result.stderr


def test_logs_are_json_lines_on_stdout():
    result = run_python(
        "import django, logging; django.setup(); logging.getLogger('advisories').warning('wave %s late', 7)"
    )

    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["level"] == "WARNING"
    assert line["logger"] == "advisories"
    assert line["message"] == "wave 7 late"
    assert "timestamp" in line
