"""The audit trail: who did what, when, to which object (read on the staff side)."""
from __future__ import annotations

from models import AuditLog, User
from services.core import clock


def record(user: User | None, action: str, obj=None, detail: str = "") -> AuditLog:
    """Write one audit entry (who, when, what)."""
    return AuditLog.create(
        user=user, at=clock.local_now(), action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None), detail=detail,
    )
