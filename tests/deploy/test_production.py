"""mra_site.settings.production with the example environment and each Zappa stage's."""

import json
import logging
import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings as django_settings
from django.core.checks import run_checks
from django.http import HttpResponse

from accounts.cookies import clear_token_cookies, set_token_cookies
from mra_site.aws.clients import client
from mra_site.aws.cognito import Tokens
from mra_site.checks import DEVELOPMENT_SECRET_KEY, secret_key_weakness
from mra_site.logs import JsonFormatter
from tests.conftest import PRIMARY, SECONDARY
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
        # Given, it wins over the stage's secret (no AWS call in these checks).
        "DJANGO_SECRET_KEY": "test-only-" + "k7Qz" * 12,
    }


def _settings_seen(env: dict[str, str], *names: str) -> dict:
    """The named Django settings, as production.py makes them from `env`."""
    code = (
        "from django.conf import settings as s; import json;"
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}))"
    )
    result = _manage(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


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
        "DJANGO_ALLOWED_HOSTS",
        "MRA_COOKIE_DOMAIN",
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


def test_without_a_key_or_its_secret_start_up_stops_naming_both():
    env = _example_env()
    del env["DJANGO_SECRET_KEY"], env["MRA_SECRET_KEY_SECRET_ID"]
    result = _manage(env, "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
    assert "MRA_SECRET_KEY_SECRET_ID" in result.stderr


@pytest.fixture
def key_secret(aws):
    """A signing key's secret of one name in both emulated regions, a value each."""
    name = f"mra-test/django-secret-key-{uuid.uuid4().hex[:8]}"
    values = {region: f"{region}-" + uuid.uuid4().hex * 2 for region in (PRIMARY, SECONDARY)}
    for region, value in values.items():
        client("secretsmanager", region).create_secret(Name=name, SecretString=value)
    yield name, values
    for region in values:
        client("secretsmanager", region).delete_secret(
            SecretId=name, ForceDeleteWithoutRecovery=True
        )


def _stage_env_reading_the_secret(stage: str, name: str, emulators) -> dict[str, str]:
    env = _stage_env(stage)
    del env["DJANGO_SECRET_KEY"]
    env["MRA_SECRET_KEY_SECRET_ID"] = name
    env["MRA_AWS_ENDPOINTS"] = ",".join(f"{r}={e.url}" for r, e in emulators.items())
    # The emulators enforce IAM: the process signs with the local administrator's key.
    env["MRA_AWS_LOCAL_ACCESS_KEY_ID"] = django_settings.MRA_AWS_LOCAL_ACCESS_KEY_ID
    env["MRA_AWS_LOCAL_SECRET_ACCESS_KEY"] = django_settings.MRA_AWS_LOCAL_SECRET_ACCESS_KEY
    return env


@pytest.mark.parametrize(("stage", "region"), [("primary", PRIMARY), ("secondary", SECONDARY)])
def test_each_stage_reads_the_key_from_its_own_regions_replica(key_secret, aws, stage, region):
    name, values = key_secret
    env = _stage_env_reading_the_secret(stage, name, aws)
    seen = _settings_seen(env, "SECRET_KEY", "SECRET_KEY_FALLBACKS")
    assert seen == {"SECRET_KEY": values[region], "SECRET_KEY_FALLBACKS": []}


def test_after_a_rotation_the_previous_key_still_verifies(key_secret, aws):
    name, values = key_secret
    rotated = "rotated-" + uuid.uuid4().hex * 2
    client("secretsmanager", PRIMARY).put_secret_value(SecretId=name, SecretString=rotated)
    env = _stage_env_reading_the_secret("primary", name, aws)
    seen = _settings_seen(env, "SECRET_KEY", "SECRET_KEY_FALLBACKS")
    assert seen == {"SECRET_KEY": rotated, "SECRET_KEY_FALLBACKS": [values[PRIMARY]]}


def test_a_weak_key_in_the_secret_stops_start_up_naming_the_secret(key_secret, aws):
    name, _ = key_secret
    client("secretsmanager", PRIMARY).put_secret_value(SecretId=name, SecretString="r" * 64)
    result = _manage(_stage_env_reading_the_secret("primary", name, aws), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"MRA_SECRET_KEY_SECRET_ID={name!r} (AWSCURRENT) has 1 distinct" in result.stderr


def _dotenv_value(path, name: str) -> str:
    lines = (ROOT / path).read_text().splitlines()
    return next(line.partition("=")[2] for line in lines if line.startswith(f"{name}="))


@pytest.mark.parametrize(
    ("key", "why"),
    [
        (DEVELOPMENT_SECRET_KEY, "development key"),
        (_dotenv_value(".env.example", "DJANGO_SECRET_KEY"), "development key"),
        (" " + DEVELOPMENT_SECRET_KEY + " ", "development key"),
        ("k7Qz-" * 9, "45 characters"),
        ("abcd" * 20, "4 distinct characters"),
        ("django-insecure-" + uuid.uuid4().hex * 2, "django-insecure-"),
    ],
    ids=["base", "env-example", "padded", "short", "repetitive", "startproject"],
)
def test_weak_or_public_secret_keys_are_refused(key, why):
    assert why in secret_key_weakness(key)


def test_a_long_random_key_passes():
    assert secret_key_weakness("test-only-" + "k7Qz" * 12) is None


def test_check_deploy_reports_weak_keys_and_auto_confirm_on_aws(settings):
    settings.SECRET_KEY = DEVELOPMENT_SECRET_KEY
    settings.SECRET_KEY_FALLBACKS = ["short-old-key"]
    settings.MRA_COGNITO_AUTO_CONFIRM = True
    settings.MRA_AWS_ENDPOINTS = {PRIMARY: "", SECONDARY: ""}
    found = run_checks(include_deployment_checks=True, tags=["security"])
    errors = {(m.id, m.msg.split(" ")[0]) for m in found if m.id.startswith("mra.")}
    assert errors == {
        ("mra.E001", "SECRET_KEY"),
        ("mra.E001", "SECRET_KEY_FALLBACKS[0]"),
        ("mra.E002", "MRA_COGNITO_AUTO_CONFIRM"),
    }
    settings.SECRET_KEY = "test-only-" + "k7Qz" * 12
    settings.SECRET_KEY_FALLBACKS = []
    settings.MRA_AWS_ENDPOINTS = {
        PRIMARY: "http://127.0.0.1:4566",
        SECONDARY: "http://127.0.0.1:4567",
    }
    assert not [m for m in run_checks(include_deployment_checks=True) if m.id.startswith("mra.")]


def test_a_secret_that_cannot_be_read_stops_start_up_naming_it_and_the_region(aws):
    env = _stage_env_reading_the_secret("secondary", "mra-test/no-such-secret", aws)
    result = _manage(env, "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "MRA_SECRET_KEY_SECRET_ID='mra-test/no-such-secret'" in result.stderr
    assert SECONDARY in result.stderr


@pytest.mark.parametrize("stage", ["primary", "secondary"])
def test_cookies_belong_to_the_public_name_in_both_stages(stage):
    seen = _settings_seen(
        _stage_env(stage), "SESSION_COOKIE_DOMAIN", "CSRF_COOKIE_DOMAIN", "CSRF_TRUSTED_ORIGINS"
    )
    assert seen["SESSION_COOKIE_DOMAIN"] == seen["CSRF_COOKIE_DOMAIN"] == "photos.example.com"
    assert "https://photos.example.com" in seen["CSRF_TRUSTED_ORIGINS"]


def test_token_cookies_use_the_cookie_domain(settings):
    tokens = Tokens(access_token="a", id_token="i", refresh_token="r", expires_in=3600)
    settings.MRA_COOKIE_DOMAIN = "photos.example.com"
    response = HttpResponse()
    set_token_cookies(response, tokens)
    assert {c["domain"] for c in response.cookies.values()} == {"photos.example.com"}
    cleared = HttpResponse()
    clear_token_cookies(cleared)
    assert {c["domain"] for c in cleared.cookies.values()} == {"photos.example.com"}
    # Locally (empty): host-only, as before.
    settings.MRA_COOKIE_DOMAIN = ""
    local = HttpResponse()
    set_token_cookies(local, tokens)
    assert {c["domain"] for c in local.cookies.values()} == {""}


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "MRA_COGNITO_CLIENT_IDS",
            "us-east-1=1example23456789abcdefghij",
            "MRA_COGNITO_CLIENT_IDS has no value for us-west-2",
        ),
        (
            "DJANGO_CSRF_TRUSTED_ORIGINS",
            "https://us-east-1.photos.example.com",
            "DJANGO_CSRF_TRUSTED_ORIGINS must include https://photos.example.com",
        ),
        (
            "DJANGO_SECRET_KEY",
            DEVELOPMENT_SECRET_KEY,
            "DJANGO_SECRET_KEY is the development key published in the repository",
        ),
        ("MRA_COGNITO_AUTO_CONFIRM", "true", "MRA_COGNITO_AUTO_CONFIRM must be off"),
    ],
    ids=["client-ids", "csrf", "development-key", "auto-confirm"],
)
def test_an_inconsistent_value_stops_start_up_naming_it(variable, value, message):
    env = _example_env()
    env[variable] = value
    result = _manage(env, "check")
    assert result.returncode != 0
    assert message in result.stderr


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
