#!/usr/bin/env python3
"""The regional StackSet: a content-addressed template key, and waiting for
its operations (the AWS CLI has no waiter for them).

    python3 deploy/stackset.py template-key
        regional-<first 12 hex of the template's sha256>.yaml: a changed
        template gets a new key, so its new URL is a change the StackSet
        applies (the same URL with new content would change nothing).
    python3 deploy/stackset.py wait --region us-east-1 [--stack-set-name mra-regional]
        waits until no operation of the StackSet is queued or running, then
        fails unless the newest operation SUCCEEDED and every stack instance
        is CURRENT and SUCCEEDED; prints what failed and why.

AWS credentials come from the usual chain; `wait` only reads.
"""

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REGIONAL_TEMPLATE = Path(__file__).resolve().parent / "cloudformation" / "regional.yaml"
ACTIVE = {"QUEUED", "RUNNING", "STOPPING"}


class OperationFailed(RuntimeError):
    """A StackSet operation ended other than SUCCEEDED, or an instance is not current."""


def template_key(path: Path = REGIONAL_TEMPLATE) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"{path.stem}-{digest}.yaml"


def _operations(cfn: Any, name: str) -> list[dict]:
    """The StackSet's operations, newest first."""
    found: list[dict] = []
    kwargs: dict[str, Any] = {"StackSetName": name}
    while True:
        page = cfn.list_stack_set_operations(**kwargs)
        found.extend(page.get("Summaries", []))
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return sorted(found, key=lambda o: o["CreationTimestamp"], reverse=True)


def _instance_problems(cfn: Any, name: str) -> list[str]:
    problems = []
    kwargs: dict[str, Any] = {"StackSetName": name}
    while True:
        page = cfn.list_stack_instances(**kwargs)
        for instance in page.get("Summaries", []):
            detailed = instance.get("StackInstanceStatus", {}).get("DetailedStatus", "")
            if instance.get("Status") != "CURRENT" or detailed != "SUCCEEDED":
                problems.append(
                    f"{instance['Region']}: {instance.get('Status')} {detailed}"
                    f" {instance.get('StatusReason', '')}".rstrip()
                )
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return problems


def wait(
    cfn: Any,
    name: str,
    *,
    timeout: float = 3600.0,
    interval: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    log: Callable[[str], None] = print,
) -> dict:
    """Poll until the StackSet is idle; return its newest operation, which
    must have SUCCEEDED with every instance current, else OperationFailed."""
    deadline = clock() + timeout
    while True:
        operations = _operations(cfn, name)
        running = [o for o in operations if o["Status"] in ACTIVE]
        if not running:
            break
        if clock() >= deadline:
            ids = ", ".join(f"{o['OperationId']} {o['Status']}" for o in running)
            raise OperationFailed(f"{name}: still running after {timeout:.0f} s: {ids}")
        log(f"{name}: {', '.join(o['Action'] + ' ' + o['Status'] for o in running)}")
        sleep(interval)
    if not operations:
        raise OperationFailed(f"{name}: no operation found")
    newest = cfn.describe_stack_set_operation(
        StackSetName=name, OperationId=operations[0]["OperationId"]
    )["StackSetOperation"]
    problems = _instance_problems(cfn, name)
    if newest["Status"] != "SUCCEEDED" or problems:
        reason = newest.get("StatusReason", "")
        details = "; ".join(problems) or "no instance reported a problem"
        raise OperationFailed(
            f"{name}: {newest['Action']} {newest['OperationId']} {newest['Status']}"
            f"{' (' + reason + ')' if reason else ''}: {details}"
        )
    log(f"{name}: {newest['Action']} {newest['OperationId']} SUCCEEDED, every instance current")
    return newest


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    key = commands.add_parser("template-key", help="the regional template's S3 key")
    key.add_argument("--template", type=Path, default=REGIONAL_TEMPLATE)
    waiting = commands.add_parser("wait", help="wait for the StackSet's operations")
    waiting.add_argument("--region", required=True, help="the region of the main stack")
    waiting.add_argument("--stack-set-name", default="mra-regional")
    waiting.add_argument("--timeout", type=float, default=3600.0, help="seconds")
    waiting.add_argument("--interval", type=float, default=15.0, help="seconds between polls")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "template-key":
        print(template_key(args.template))
        return 0
    import boto3  # only here: template-key needs no AWS library

    cfn = boto3.client("cloudformation", region_name=args.region)
    try:
        wait(cfn, args.stack_set_name, timeout=args.timeout, interval=args.interval)
    except OperationFailed as exc:
        print(f"stackset: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
