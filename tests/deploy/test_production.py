"""mra_site.settings.production with the example environment and each Zappa stage's."""

import json
import logging
import os
import subprocess
import sys

import pytest

from mra_site.logs import JsonFormatter
from tests.deploy.templates import DEPLOY

ROOT = DEPLOY.parent


def _example_env() -> dict[str, str]:
    env = {}
    for line in (DEPLOY / "production.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """manage.py in a process of its own, with only `env` (and PATH) set."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _stage_env(stage: str) -> dict[str, str]:
    settings = json.loads((DEPLOY / "zappa_settings.json").read_text())
    return {
        **settings[stage]["environment_variables"],
        "DJANGO_SETTINGS_MODULE": settings["base"]["django_settings"],
        "DJANGO_SECRET_KEY": "test-only-" + "k7Qz" * 12,
    }


def test_check_deploy_passes_with_the_example_environment():
    env = _example_env()
    assert env["DJANGO_SETTINGS_MODULE"] == "mra_site.settings.production"
    result = _manage(env, "check", "--deploy")
    assert result.returncode == 0, result.stdout + result.stderr
    # No security warning either.
    strict = _manage(env, "check", "--deploy", "--tag", "security", "--fail-level", "WARNING")
    assert strict.returncode == 0, strict.stdout + strict.stderr


@pytest.mark.parametrize("stage", ["primary", "secondary"])
def test_check_deploy_passes_with_each_zappa_stage_environment(stage):
    result = _manage(
        _stage_env(stage), "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "variable",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        "MRA_COGNITO_POOL_IDS",
        "MRA_STATIC_BUCKET",
    ],
)
def test_a_missing_variable_stops_start_up_naming_it(variable):
    env = _example_env()
    del env[variable]
    result = _manage(env, "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{variable} must be set" in result.stderr


def test_a_region_missing_from_a_region_map_is_named():
    env = _example_env()
    env["MRA_COGNITO_CLIENT_IDS"] = "us-east-1=1example23456789abcdefghij"
    result = _manage(env, "check")
    assert result.returncode != 0
    assert "MRA_COGNITO_CLIENT_IDS has no value for us-west-2" in result.stderr


def test_production_settings_point_at_aws_and_s3_static_files():
    code = (
        "from django.conf import settings as s; import json;"
        "print(json.dumps({'debug': s.DEBUG, 'endpoints': s.MRA_AWS_ENDPOINTS,"
        "'static': s.STORAGES['staticfiles'], 'proxy': s.SECURE_PROXY_SSL_HEADER,"
        "'hosts': s.ALLOWED_HOSTS, 'hsts': s.SECURE_HSTS_SECONDS,"
        "'cookies': [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE]}))"
    )
    result = _manage(_example_env(), "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["debug"] is False
    assert seen["endpoints"] == {}
    assert seen["static"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert seen["static"]["OPTIONS"]["bucket_name"] == "mra-static-123456789012-us-east-1"
    assert seen["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert "photos.example.com" in seen["hosts"]
    assert seen["hsts"] >= 31_536_000
    assert seen["cookies"] == [True, True]


def test_production_logs_are_one_json_object_per_line():
    formatter = JsonFormatter(region="us-west-2")
    record = logging.LogRecord(
        "photos", logging.WARNING, __file__, 1, "upload %s refused", ("p1",), None
    )
    record.photo_id = "p1"
    entry = json.loads(formatter.format(record))
    assert entry["message"] == "upload p1 refused"
    assert entry["level"] == "WARNING"
    assert entry["region"] == "us-west-2"
    assert entry["photo_id"] == "p1"
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert "ValueError: boom" in json.loads(formatter.format(record))["exception"]
