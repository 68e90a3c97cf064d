#!/usr/bin/env python3
"""Write both Zappa stages' settings from the regional stacks' outputs.

    aws cloudformation describe-stacks --region us-east-1 --stack-name STACK \
        --query 'Stacks[0].Outputs' > deploy/build/outputs-us-east-1.json
    (the same for the secondary region), then
    python deploy/configure.py --domain photos.example.com \
        --primary deploy/build/outputs-us-east-1.json \
        --secondary deploy/build/outputs-us-west-2.json

Only the standard library: it runs before any virtual environment exists.
"""

import argparse
import json
import sys
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parent
SETTINGS_PATH = DEPLOY_DIR / "zappa_settings.json"
STAGES = ("primary", "secondary")
LAMBDA_UPLOAD_MAX_BYTES = 4 * 1024 * 1024

# Regional stack outputs this script reads (regional.yaml declares each).
REQUIRED_OUTPUTS = (
    "Region",
    "SiteStage",
    "TablePrefix",
    "MediaBucketName",
    "StaticBucketName",
    "UserPoolId",
    "UserPoolClientId",
    "OperatorsGroupName",
    "SiteRoleArn",
    "RegionUrl",
    "SecretKeySecretId",
)

# Settings read by mra_site/settings that the stage environment leaves to their
# default, and why that default is right on AWS.
DEFAULTS_KEPT_ON_AWS = {
    "DJANGO_SECRET_KEY": "never set on AWS: both stages read the one Secrets Manager secret "
    "(MRA_SECRET_KEY_SECRET_ID); the variable wins only on a workstation",
    "DJANGO_DEBUG": "production.py forces DEBUG off",
    "DJANGO_STATIC_ROOT": "collectstatic writes to the static bucket through django-storages",
    "WHITENOISE_AUTOREFRESH": "static files are served by CloudFront, not by the function",
    "MRA_COGNITO_POOL_NAME": "pools are named by id (MRA_COGNITO_POOL_IDS), never looked up",
    "MRA_COGNITO_CLIENT_NAME": "clients are named by id (MRA_COGNITO_CLIENT_IDS)",
    "MRA_COGNITO_JWKS_URLS": "the verifier fetches each pool's public JWKS from its issuer",
    "MRA_COGNITO_JWKS_TTL": "the default hour suits Cognito's key rotation",
    "MRA_COGNITO_JWKS_REFETCH_SECONDS": "a minute bounds the fetches unknown keys can cause",
    "MRA_COGNITO_CLOCK_SKEW_SECONDS": "AWS clocks are synchronised; a minute is ample",
    "MRA_ACCESS_TOKEN_MAX_AGE_SECONDS": "900 s, the pool client's access-token validity",
    "MRA_AWS_ASSUME_ROLE": "emulated regions only: on AWS the function runs as its role",
    "MRA_AWS_LOCAL_ACCESS_KEY_ID": "emulated regions only: never read without endpoints",
    "MRA_AWS_LOCAL_SECRET_ACCESS_KEY": "emulated regions only: never read without endpoints",
    "MRA_COGNITO_AUTO_CONFIRM": "off: sign-up waits for the e-mailed code (production refuses on)",
    "MRA_STATE_CACHE_SECONDS": "the same bound on stale routing reads as locally",
    "MRA_THROTTLE_WINDOW_SECONDS": "the same sign-in throttle as locally, counted per region",
    "MRA_THROTTLE_USERNAME_FAILURES": "the same sign-in throttle as locally",
    "MRA_THROTTLE_ADDRESS_FAILURES": "the same sign-in throttle as locally",
    "MRA_READYZ_CACHE_SECONDS": "a few seconds, so health-check floods cannot become throttling",
    "MRA_AWS_CONNECT_TIMEOUT": "the default fails fast on AWS as well",
    "MRA_AWS_READ_TIMEOUT": "the default fails fast on AWS as well",
    "MRA_AWS_MAX_ATTEMPTS": "the default fails fast on AWS as well",
    "MRA_AWS_REGION_COOLDOWN": "a region that stopped answering is skipped briefly on AWS too",
    # The function never reads these; `manage.py drill` does, run from a
    # workstation with a drill user and operator of the deployment set here.
    "MRA_DEMO_USERNAME": "read by the drill only (deploy/README.md, Drills)",
    "MRA_DEMO_PASSWORD": "read by the drill only",
    "MRA_DEMO_OPERATOR_USERNAME": "read by the drill only",
    "MRA_DEMO_OPERATOR_PASSWORD": "read by the drill only",
    "DJANGO_SECURE_HSTS_SECONDS": "a year, the value HSTS preload lists expect",
    "DJANGO_SECURE_HSTS_PRELOAD": "on, with HSTS on every subdomain",
    "MRA_CANARY_INTERVAL_SECONDS": "a heartbeat a second, as locally (mra_site.scheduled)",
    "MRA_DRAIN_SETTLE_SECONDS": "a second on AWS, where a heartbeat does not prove earlier "
    "items replicated (locally the replicator reports exactly what it applied)",
    "MRA_PHOTO_MAX_PIXELS": "decoding the largest image fits the function's 1 GB",
    "MRA_IMAGE_DECODES": "a function serves one request at a time, so one decode at most",
    "MRA_PHOTO_URL_EXPIRY": "presigned URLs expire well within the role's session",
    "MRA_PHOTO_GC_GRACE_SECONDS": "the same grace for uploads in flight as locally",
    "MRA_MEDIA_DOMAIN": "media is served by presigned URLs of the serving region's bucket",
    "MRA_REPLICATION_QUEUE": "S3 replication copies media on AWS; no local replicator runs",
    "MRA_REPLICATION_STATE_DIR": "the local replicator's checkpoints; it does not run on AWS",
    "MRA_REPLICATION_STATUS_MAX_AGE": "the local replicator's status; the drain check reads "
    "CloudWatch on AWS",
}


class ConfigurationError(Exception):
    pass


def outputs_load(path: Path) -> dict[str, str]:
    """{OutputKey: OutputValue} from `describe-stacks` JSON (whole answer or its Outputs)."""
    data = json.loads(path.read_text())
    if isinstance(data, dict) and "Stacks" in data:
        data = data["Stacks"][0].get("Outputs", [])
    if not isinstance(data, list):
        raise ConfigurationError(f"{path}: expected the stack's Outputs list")
    outputs = {item["OutputKey"]: item["OutputValue"] for item in data}
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise ConfigurationError(
            f"{path}: outputs {', '.join(missing)} missing: is this the regional stack "
            "(deploy/cloudformation/regional.yaml) and is it up to date?"
        )
    return outputs


def _pattern(primary: dict[str, str], secondary: dict[str, str], key: str) -> str:
    """A per-region name as the settings hold it: the region replaced by `{region}`."""
    pattern = primary[key].replace(primary["Region"], "{region}")
    if "{region}" not in pattern or pattern.format(region=secondary["Region"]) != secondary[key]:
        raise ConfigurationError(
            f"{key} differs between the regions by more than the region name: "
            f"{primary[key]!r} and {secondary[key]!r}"
        )
    return pattern


def _same(primary: dict[str, str], secondary: dict[str, str], key: str) -> str:
    if primary[key] != secondary[key]:
        raise ConfigurationError(
            f"{key} differs between the regions ({primary[key]!r}, {secondary[key]!r}): "
            "both stacks come from one StackSet and must share it"
        )
    return primary[key]


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


def stage_environment(
    *, stage: str, domain: str, primary: dict[str, str], secondary: dict[str, str]
) -> dict[str, str]:
    """The environment of one Zappa stage: what mra_site/settings reads on AWS."""
    if primary["SiteStage"] != "primary" or secondary["SiteStage"] != "secondary":
        raise ConfigurationError(
            "--primary must be the primary region's outputs and --secondary the other's "
            f"(got stages {primary['SiteStage']!r} and {secondary['SiteStage']!r})"
        )
    own = primary if stage == "primary" else secondary
    pair = (primary, secondary)
    region_map = ",".join
    return {
        # CloudFront reaches the sites as origin.DOMAIN (the writable region) and
        # standby.DOMAIN (the other one); operators use REGION.DOMAIN.
        "DJANGO_ALLOWED_HOSTS": ",".join(
            [domain, _host(own["RegionUrl"]), f"origin.{domain}", f"standby.{domain}"]
        ),
        "DJANGO_CSRF_TRUSTED_ORIGINS": ",".join(
            [f"https://{domain}", primary["RegionUrl"], secondary["RegionUrl"]]
        ),
        "DJANGO_STATIC_URL": f"https://{domain}/static/",
        "MRA_COOKIE_DOMAIN": domain,
        "MRA_DOOR_URL": f"https://{domain}",
        # A name, not a value: each function reads its own region's replica at start.
        "MRA_SECRET_KEY_SECRET_ID": _same(primary, secondary, "SecretKeySecretId"),
        "MRA_LOG_LEVEL": "INFO",
        "MRA_APP_ID": "mra",
        "MRA_REGION": own["Region"],
        "MRA_PRIMARY_REGION": primary["Region"],
        "MRA_SECONDARY_REGION": secondary["Region"],
        "MRA_REGION_URLS": region_map(f"{o['Region']}={o['RegionUrl']}" for o in pair),
        "MRA_AWS_ENDPOINTS": "",
        "MRA_TABLE_PREFIX": _same(primary, secondary, "TablePrefix"),
        "MRA_MEDIA_BUCKET": _pattern(primary, secondary, "MediaBucketName"),
        "MRA_STATIC_BUCKET": _pattern(primary, secondary, "StaticBucketName"),
        "MRA_COGNITO_POOL_IDS": region_map(f"{o['Region']}={o['UserPoolId']}" for o in pair),
        "MRA_COGNITO_CLIENT_IDS": region_map(
            f"{o['Region']}={o['UserPoolClientId']}" for o in pair
        ),
        "MRA_OPERATORS_GROUP": _same(primary, secondary, "OperatorsGroupName"),
        "MRA_COGNITO_PROVISION_PEER": "true",
        # A request reaches Lambda base64-encoded and at most 6 MB in all.
        "MRA_PHOTO_MAX_BYTES": str(LAMBDA_UPLOAD_MAX_BYTES),
        # The other region's /readyz crosses the internet and may meet a cold start.
        "MRA_HEALTH_TIMEOUT_SECONDS": "3.0",
        # CloudFront appends the viewer's address to X-Forwarded-For, then API
        # Gateway the edge's: the client is the second entry from the right
        # (the entry Zappa also takes for REMOTE_ADDR).
        "MRA_TRUSTED_PROXY_HOPS": "2",
    }


def settings_update(
    settings: dict, *, domain: str, primary: dict[str, str], secondary: dict[str, str]
) -> dict:
    """zappa_settings with both stages pointed at the stacks; it holds no secret.

    A DJANGO_SECRET_KEY an earlier version generated per stage is removed: it
    would win over the deployment's one secret and differ between the regions.
    """
    updated = json.loads(json.dumps(settings))
    for stage, own in zip(STAGES, (primary, secondary), strict=True):
        account = own["SiteRoleArn"].split(":")[4]
        current = updated.setdefault(stage, {"extends": "base"})
        function_env = current.pop("aws_environment_variables", {})
        function_env.pop("DJANGO_SECRET_KEY", None)
        if function_env:
            current["aws_environment_variables"] = function_env
        current.update(
            {
                "extends": "base",
                "aws_region": own["Region"],
                "role_arn": own["SiteRoleArn"],
                "s3_bucket": f"{updated['base']['project_name']}-zappa-{account}-{own['Region']}",
                "environment_variables": stage_environment(
                    stage=stage, domain=domain, primary=primary, secondary=secondary
                ),
            }
        )
    return updated


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", required=True, help="the site's public name (DomainName)")
    parser.add_argument("--primary", required=True, type=Path, help="primary region's outputs")
    parser.add_argument("--secondary", required=True, type=Path, help="secondary's outputs")
    parser.add_argument("--settings", type=Path, default=SETTINGS_PATH)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        primary = outputs_load(args.primary)
        secondary = outputs_load(args.secondary)
        settings = json.loads(args.settings.read_text())
        updated = settings_update(
            settings, domain=args.domain, primary=primary, secondary=secondary
        )
    except (ConfigurationError, OSError, KeyError, json.JSONDecodeError) as exc:
        print(f"configure: {exc}", file=sys.stderr)
        return 1
    args.settings.write_text(json.dumps(updated, indent=4) + "\n")
    print(f"wrote stages {', '.join(STAGES)} to {args.settings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
