import subprocess
import sys

from django.conf import settings

from devstack.processes import ROOT


def test_there_is_no_relational_database():
    # Django fills in a dummy "default" for an empty DATABASES; any real
    # engine would show here.
    engines = {db.get("ENGINE") for db in settings.DATABASES.values()}
    assert engines <= {"django.db.backends.dummy"}
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.signed_cookies"
    assert not any(app.startswith("django.contrib.auth") for app in settings.INSTALLED_APPS)


def _check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "mra_site.settings.dev", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_misconfigured_regions_fail_at_start_naming_the_variable():
    result = _check({"MRA_REGION": "eu-west-1"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "MRA_REGION" in result.stderr

    result = _check({"MRA_AWS_ENDPOINTS": "us-east-1"})
    assert result.returncode != 0
    assert "MRA_AWS_ENDPOINTS" in result.stderr


def test_defaults_serve_the_local_stack():
    result = _check({})
    assert result.returncode == 0, result.stderr
