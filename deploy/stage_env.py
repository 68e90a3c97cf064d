#!/usr/bin/env python3
"""Print a Zappa stage's environment as shell exports, to run manage.py from a
workstation against that region (collectstatic, routing, drill):

    eval "$(python deploy/stage_env.py primary)"
    .venv/bin/python manage.py routing status

AWS credentials come from the usual chain (AWS_PROFILE, SSO, ...).
"""

import argparse
import json
import shlex
import sys
from pathlib import Path

SETTINGS_PATH = Path(__file__).resolve().parent / "zappa_settings.json"


def stage_exports(stage: str, settings_path: Path = SETTINGS_PATH) -> list[str]:
    settings = json.loads(settings_path.read_text())
    if stage not in settings or stage == "base":
        raise KeyError(f"no stage {stage!r} in {settings_path} (primary, secondary)")
    merged = {**settings["base"], **settings[stage]}
    env = {
        "DJANGO_SETTINGS_MODULE": merged["django_settings"],
        **merged.get("environment_variables", {}),
        **merged.get("aws_environment_variables", {}),
        "AWS_DEFAULT_REGION": merged["aws_region"],
    }
    return [f"export {key}={shlex.quote(value)}" for key, value in env.items()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=("primary", "secondary"))
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        print("\n".join(stage_exports(args.stage)))
    except (KeyError, OSError, json.JSONDecodeError) as exc:
        print(f"stage_env: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
