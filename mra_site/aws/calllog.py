"""A log of every AWS call this process makes, for checking them against the
site role's IAM policy (tests/deploy/policy_check.py).

Off unless MRA_AWS_CALL_LOG names a file (or a directory: then one file per
process). Each API call, presigned URLs included, appends one JSON line:
the operation, the region it went to, the region whose role this process
runs as and the request parameters that name the resource (never bodies,
items or passwords). One `os.write` on an O_APPEND descriptor per line, so
threads and processes sharing the file never interleave.
"""

from __future__ import annotations

import contextvars
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Top-level request parameters that name the resource a call touches.
_NAMING_PARAMS = (
    "TableName",
    "IndexName",
    "Bucket",
    "Key",
    "VersionId",
    "Prefix",
    "UserPoolId",
    "SecretId",
    "StreamArn",
    "QueueUrl",
    "QueueName",
    "Namespace",
    "MetricName",
)
_TRANSACT_KINDS = ("Put", "Update", "Delete", "ConditionCheck", "Get")

_process: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mra_aws_call_log_process", default=None
)
_descriptors: dict[str, int] = {}
_lock = threading.Lock()


@contextmanager
def acting_as(process: str) -> Iterator[None]:
    """Label the calls made inside as made by `process` ("site", "canary")."""
    token = _process.set(process)
    try:
        yield
    finally:
        _process.reset(token)


def process_label() -> str:
    """What this process is: the canary command, or the site."""
    label = _process.get()
    if label:
        return label
    return "canary" if sys.argv[1:2] == ["canary"] else "site"


def resource_params(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of a request that name what it touches."""
    named: dict[str, Any] = {}
    for name in _NAMING_PARAMS:
        value = params.get(name)
        # A DynamoDB Key is an item's key (a map): the table is what IAM sees.
        if isinstance(value, str):
            named[name] = value
    if "TransactItems" in params:
        named["TransactItems"] = [
            [kind, item[kind].get("TableName", "")]
            for item in params["TransactItems"]
            for kind in _TRANSACT_KINDS
            if kind in item
        ]
    if "RequestItems" in params:
        named["RequestItems"] = sorted(params["RequestItems"])
    if isinstance(params.get("Delete"), dict):
        objects = params["Delete"].get("Objects", [])
        named["Objects"] = [[obj.get("Key", ""), obj.get("VersionId")] for obj in objects]
    iterator = params.get("ShardIterator")
    if isinstance(iterator, str) and iterator.startswith("arn:"):
        # DynamoDB's shard iterators begin with their stream's ARN.
        named["StreamArn"] = iterator.split("|", 1)[0]
    return named


def attach_if_on(aws_client: Any) -> None:
    """Record `aws_client`'s calls when MRA_AWS_CALL_LOG is set."""
    from django.conf import settings

    # A client built while the settings load (production's read of the signing
    # key) must not read them; nothing is recorded there.
    if settings.configured and settings.MRA_AWS_CALL_LOG:
        attach(aws_client, path=settings.MRA_AWS_CALL_LOG, role_region=settings.MRA_REGION)


def attach(aws_client: Any, *, path: str, role_region: str) -> None:
    """Record every call `aws_client` makes to the log at `path`."""
    region = aws_client.meta.region_name

    def record(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        line = {
            "service": service,
            "operation": model.name,
            "region": region,
            "role_region": role_region,
            "process": process_label(),
            "presigned": bool(context.get("is_presign_request")),
            "params": resource_params(service, model.name, params),
            "pid": os.getpid(),
            "at": time.time(),
        }
        append(path, line)

    aws_client.meta.events.register("before-parameter-build", record)


def append(path: str, line: dict[str, Any]) -> None:
    """Append one JSON line to the log at `path` with a single write."""
    data = (json.dumps(line, separators=(",", ":"), default=str) + "\n").encode()
    os.write(_descriptor(path), data)


def _descriptor(path: str) -> int:
    fd = _descriptors.get(path)
    if fd is None:
        with _lock:
            fd = _descriptors.get(path)
            if fd is None:
                target = Path(path)
                if target.is_dir():
                    target = target / f"calls-{os.getpid()}.jsonl"
                fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                _descriptors[path] = fd
    return fd


def read(path: Path) -> list[dict[str, Any]]:
    """Every line of a log file, or of every log file in a directory."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    lines: list[dict[str, Any]] = []
    for file in files:
        if file.exists():
            with file.open(encoding="utf-8") as handle:
                lines += [json.loads(text) for text in handle if text.strip()]
    return lines
