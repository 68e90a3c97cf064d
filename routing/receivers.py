"""Routing's answers to what the replication app announces.

Routing imports replication and replication never imports routing
(tests/test_architecture.py), so where replication needs routing it sends a
signal and these receivers answer.
"""

from typing import Any

from django.dispatch import receiver

from replication.canary import writer_region_wanted
from replication.services import control_changed

from .audit import audit_control_record
from .replicas import routing_writer_region


@receiver(writer_region_wanted, dispatch_uid="routing-writer-region")
def canary_writer_region(**kwargs: Any) -> str | None:
    """The canary beats where writes happen, after the state replicas are reconciled."""
    return routing_writer_region()


@receiver(control_changed, dispatch_uid="routing-control-audit")
def control_audit(
    *, actor: str, action: str, direction: str, detail: str, reason: str, **kwargs: Any
) -> None:
    """Every replication control change lands in the routing audit log, whatever door."""
    audit_control_record(
        actor=actor, action=action, direction=direction, detail=detail, reason=reason
    )
