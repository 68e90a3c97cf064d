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
    secret = {"DJANGO_SECRET_KEY"}  # set on the function by configure.py, never in a file
    kept = set(configure.DEFAULTS_KEPT_ON_AWS)
    read = _settings_variables()
    assert not given & kept
    unaccounted = read - given - kept - secret
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
    for stage in configure.STAGES:
        assert regenerated[stage].pop("aws_environment_variables")["DJANGO_SECRET_KEY"]
        # The committed file carries no secret: a stage deployed without running
        # configure.py stops at start-up naming DJANGO_SECRET_KEY.
        assert "aws_environment_variables" not in committed[stage]
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


def test_configure_writes_a_secret_once_and_keeps_it(tmp_path):
    settings = tmp_path / "zappa_settings.json"
    settings.write_text((DEPLOY / "zappa_settings.json").read_text())
    args = ["--domain", DOMAIN, "--primary", str(PRIMARY_OUTPUTS)]
    args += ["--secondary", str(SECONDARY_OUTPUTS), "--settings", str(settings)]
    assert _configure(tmp_path, *args).returncode == 0
    first = json.loads(settings.read_text())
    secrets = {
        s: first[s]["aws_environment_variables"]["DJANGO_SECRET_KEY"]
        for s in ("primary", "secondary")
    }
    assert all(len(value) >= 50 for value in secrets.values())
    assert _configure(tmp_path, *args).returncode == 0
    second = json.loads(settings.read_text())
    assert {
        s: second[s]["aws_environment_variables"]["DJANGO_SECRET_KEY"] for s in secrets
    } == secrets


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
