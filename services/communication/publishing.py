"""What news and published documents share on the staff side: saving a row with its file (stored before
the transaction, removed if it fails; the file it replaces removed once the change is committed), and
« Dépublier » / « Republier », each audited in the words of its kind."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.communication import files
from services.core import audit, clock
from services.core.transactions import write_transaction


@dataclass(frozen=True)
class Wording:
    """The audit journal's words for one kind of publication."""

    created: str
    changed: str
    republished: str
    unpublished: str


def save(staff, model, row, values: dict, upload_dir: str | Path, stored: tuple[str, str, str] | None,
         old_file: str, said: Wording):
    """Create (row None, written by `staff`) or update a row with `values`; returns it as saved."""
    try:
        with write_transaction():
            if row is None:
                row = model.create(author=staff, created_at=values["updated_at"], **values)
                audit.record(staff, said.created, row, row.title)
            else:
                model.update(**values).where(model.id == row.id).execute()
                row = model.get_by_id(row.id)
                audit.record(staff, said.changed, row, row.title)
    except Exception:
        if stored:
            files.remove(upload_dir, stored[0])
        raise
    files.remove(upload_dir, old_file)
    return row


def set_published(staff, model, row, published: bool, said: Wording):
    """« Dépublier » takes it off the parents' pages at once; « Republier » puts it back in its window."""
    now = clock.local_now()
    with write_transaction():
        model.update(unpublished_at=None if published else now, updated_at=now).where(model.id == row.id).execute()
        row = model.get_by_id(row.id)
        audit.record(staff, said.republished if published else said.unpublished, row, row.title)
    return row
