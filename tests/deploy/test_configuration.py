"""What the settings read on AWS, the stack outputs that provide it, and the
Zappa stages that carry it to each region's function."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import configure, stage_env
from tests.deploy.templates import DEPLOY, load

ROOT = DEPLOY.parent
DATA = Path(__file__).parent / "data"
PRIMARY_OUTPUTS = DATA / "outputs-us-east-1.json"
SECONDARY_OUTPUTS = DATA / "outputs-us-west-2.json"
DOMAIN = "photos.example.com"

_READ = re.compile(
    r"(?:\benv(?:\.\w+)?|_region_map|_required\w*|os\.environ\.get|os\.getenv)"
    r"\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']"
)


def _settings_variables() -> set[str]:
    """Every environment variable mra_site/settings reads (base and production)."""
    names: set[str] = set()
    for module in ("base.py", "production.py"):
        names |= set(_READ.findall((ROOT / "mra_site" / "settings" / module).read_text()))
    return names


def _example() -> tuple[dict[str, str], dict[str, str]]:
    return configure.outputs_load(PRIMARY_OUTPUTS), configure.outputs_load(SECONDARY_OUTPUTS)


def _zappa_settings() -> dict:
    return json.loads((DEPLOY / "zappa_settings.json").read_text())


def test_every_output_the_settings_need_is_declared_by_the_regional_template():
    declared = set(load("regional.yaml")["Outputs"])
    assert set(configure.REQUIRED_OUTPUTS) <= declared
    # The example outputs used below are the template's outputs, no more, no less.
    for path in (PRIMARY_OUTPUTS, SECONDARY_OUTPUTS):
        assert {o["OutputKey"] for o in json.loads(path.read_text())} == declared


def test_every_setting_read_from_the_environment_is_given_on_aws_or_rightly_left_default():
    primary, secondary = _example()
    given = set(
        configure.stage_environment(
            stage="primary", domain=DOMAIN, primary=primary, secondary=secondary
        )
    )
    kept = set(configure.DEFAULTS_KEPT_ON_AWS)
    read = _settings_variables()
    assert not given & kept
    unaccounted = read - given - kept
    assert not unaccounted, (
        f"settings read {sorted(unaccounted)}: give them a value in deploy/configure.py "
        "stage_environment (from a stack output) or say in DEFAULTS_KEPT_ON_AWS why the "
        "default is right on AWS"
    )
    assert not (given | kept) - read, "configure.py names settings nobody reads"


def test_committed_zappa_stages_are_what_configure_writes_for_the_example_stacks():
    committed = _zappa_settings()
    primary, secondary = _example()
    regenerated = configure.settings_update(
        committed, domain=DOMAIN, primary=primary, secondary=secondary
    )
    assert regenerated == committed


def test_zappa_stages_extend_one_base_with_the_production_settings_and_the_canary():
    settings = _zappa_settings()
    assert set(settings) == {"base", "primary", "secondary"}
    base = settings["base"]
    assert base["django_settings"] == "mra_site.settings.production"
    assert base["runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert base["manage_roles"] is False
    (event,) = base["events"]
    # Zappa's handler finds the function after the last "-" of the rule name.
    assert re.fullmatch(r"[._A-Za-z0-9]{1,63}", event["function"])
    module_name, _, function_name = event["function"].rpartition(".")
    module = __import__(module_name, fromlist=[function_name])
    assert callable(getattr(module, function_name))
    assert event["expression"] == "rate(1 minute)"
    for stage in ("primary", "secondary"):
        assert settings[stage]["extends"] == "base"
        env = settings[stage]["environment_variables"]
        assert env["MRA_REGION"] == settings[stage]["aws_region"]
        assert env["MRA_AWS_ENDPOINTS"] == ""
        assert "{region}" in env["MRA_MEDIA_BUCKET"]


def test_runtime_requirements_hold_no_development_tools_and_zappa_is_pinned_apart():
    runtime = (ROOT / "requirements.txt").read_text().lower()
    for tool in ("moto", "pytest", "ruff", "cfn-lint", "playwright", "honcho", "zappa"):
        assert not re.search(rf"^{tool}\b", runtime, re.M), tool
    deploy_requirements = (DEPLOY / "requirements-deploy.txt").read_text()
    assert re.search(r"^zappa==[0-9.]+$", deploy_requirements, re.M)


def _configure(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(DEPLOY / "configure.py"), *args],
        capture_output=True,
        text=True,
    )


# A name that says it holds a secret, and a value that looks like a generated one
# (32 characters or more with digits and both cases: no resource name or id here).
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE|CREDENTIAL|(?<![A-Z])KEY(?![A-Z])", re.I)
_SECRET_VALUE = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
# Settings whose name says secret but whose value only names where it is.
_NAMES_OF_SECRETS = {"MRA_SECRET_KEY_SECRET_ID"}


def _secret_like(tree, path: str = "") -> list[str]:
    """Paths in a JSON tree whose key names a secret or whose value looks like one."""
    found: list[str] = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            here = f"{path}.{key}"
            if _SECRET_NAME.search(key) and key not in _NAMES_OF_SECRETS:
                found.append(here)
            found += _secret_like(value, here)
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += _secret_like(value, f"{path}[{index}]")
    elif isinstance(tree, str) and any(
        all(re.search(c, m) for c in ("[0-9]", "[a-z]", "[A-Z]"))
        for m in _SECRET_VALUE.findall(tree)
    ):
        found.append(f"{path}={tree}")
    return found


def test_secret_scan_finds_what_an_earlier_configure_wrote():
    leaked = {"primary": {"aws_environment_variables": {"DJANGO_SECRET_KEY": "x"}}}
    assert _secret_like(leaked) == [".primary.aws_environment_variables.DJANGO_SECRET_KEY"]
    value = {"environment_variables": {"MRA_APP_ID": "Zk3q9vXr0b2LmN8pQ4tY7wE1sD6fG5hJ"}}
    assert _secret_like(value)


def test_committed_zappa_settings_hold_no_secret():
    assert _secret_like(_zappa_settings()) == []
    for stage in configure.STAGES:
        env = _zappa_settings()[stage]["environment_variables"]
        assert env["MRA_SECRET_KEY_SECRET_ID"] == "mra/django-secret-key"
        assert "DJANGO_SECRET_KEY" not in env


def test_configure_writes_no_secret_and_drops_one_an_earlier_version_wrote(tmp_path):
    settings = tmp_path / "zappa_settings.json"
    earlier = _zappa_settings()
    for stage in configure.STAGES:
        earlier[stage]["aws_environment_variables"] = {"DJANGO_SECRET_KEY": "k" * 60}
    earlier["secondary"]["aws_environment_variables"]["MRA_LOG_LEVEL"] = "DEBUG"
    settings.write_text(json.dumps(earlier))
    args = ["--domain", DOMAIN, "--primary", str(PRIMARY_OUTPUTS)]
    args += ["--secondary", str(SECONDARY_OUTPUTS), "--settings", str(settings)]
    result = _configure(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    written = json.loads(settings.read_text())
    assert _secret_like(written) == []
    assert "aws_environment_variables" not in written["primary"]
    # What an operator set on the function by hand stays.
    assert written["secondary"]["aws_environment_variables"] == {"MRA_LOG_LEVEL": "DEBUG"}
    assert "DJANGO_SECRET_KEY" not in result.stdout + result.stderr


def test_both_stages_share_one_secret_and_cookies_for_the_public_name():
    primary, secondary = _example()
    stages = {
        stage: configure.stage_environment(
            stage=stage, domain=DOMAIN, primary=primary, secondary=secondary
        )
        for stage in configure.STAGES
    }
    for env in stages.values():
        assert env["MRA_SECRET_KEY_SECRET_ID"] == primary["SecretKeySecretId"]
        assert env["MRA_COOKIE_DOMAIN"] == DOMAIN
        assert f"https://{DOMAIN}" in env["DJANGO_CSRF_TRUSTED_ORIGINS"].split(",")
        hosts = env["DJANGO_ALLOWED_HOSTS"].split(",")
        assert {DOMAIN, f"origin.{DOMAIN}", f"standby.{DOMAIN}"} <= set(hosts)
    different = dict(secondary, SecretKeySecretId="other/key")
    with pytest.raises(configure.ConfigurationError, match="SecretKeySecretId"):
        configure.stage_environment(
            stage="primary", domain=DOMAIN, primary=primary, secondary=different
        )


def test_configure_refuses_outputs_of_the_wrong_regions(tmp_path):
    settings = tmp_path / "zappa_settings.json"
    settings.write_text((DEPLOY / "zappa_settings.json").read_text())
    result = _configure(
        tmp_path,
        "--domain",
        DOMAIN,
        "--primary",
        str(SECONDARY_OUTPUTS),
        "--secondary",
        str(PRIMARY_OUTPUTS),
        "--settings",
        str(settings),
    )
    assert result.returncode == 1
    assert "--primary must be the primary region's outputs" in result.stderr
    assert settings.read_text() == (DEPLOY / "zappa_settings.json").read_text()


def test_configure_names_missing_outputs(tmp_path):
    partial = tmp_path / "outputs.json"
    outputs = [o for o in json.loads(PRIMARY_OUTPUTS.read_text()) if o["OutputKey"] != "UserPoolId"]
    partial.write_text(json.dumps({"Stacks": [{"Outputs": outputs}]}))
    with pytest.raises(configure.ConfigurationError, match="UserPoolId"):
        configure.outputs_load(partial)


def test_stage_env_exports_what_the_function_sees(tmp_path):
    settings = tmp_path / "zappa_settings.json"
    committed = _zappa_settings()
    committed["secondary"]["aws_environment_variables"] = {"DJANGO_SECRET_KEY": "s3cret value"}
    settings.write_text(json.dumps(committed))
    exported = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in stage_env.stage_exports("secondary", settings)
    )
    assert exported["DJANGO_SETTINGS_MODULE"] == "mra_site.settings.production"
    assert exported["DJANGO_SECRET_KEY"] == "s3cret value"
    assert exported["AWS_DEFAULT_REGION"] == "us-west-2"
    for key, value in committed["secondary"]["environment_variables"].items():
        assert exported[key] == value
