"""A régie's billing settings, typed by staff on the activity page: the code that starts its invoice
numbers, the due date delay, the delay before online payment, prepayment, the SEPA creditor of its
prélèvements."""
from __future__ import annotations

from collections.abc import Mapping

from models import Regie, User
from services.billing import direct_debit, invoice_numbers
from services.core import audit
from services.core.errors import InvalidInput
from services.core.transactions import write_transaction


def save_regie(staff: User, regie: Regie, *, code: str, payment_days: int, treasury_days: int,
               prepayment: bool, creditor: Mapping | None = None) -> Regie:
    """Save a régie's settings; `code` comes normalised (invoice_numbers.normalise_code); `creditor`
    holds the SEPA creditor fields typed (direct_debit.clean_creditor checks them; those absent are
    left as they are). Nothing is saved when one of them is refused."""
    if treasury_days > payment_days:
        raise InvalidInput("Le délai avant paiement en ligne ne peut pas dépasser le délai de paiement : "
                           "la facture doit pouvoir être payée avant son échéance.", "treasury_days")
    sepa = direct_debit.clean_creditor(creditor or {})
    sepa_changed = [name for name, value in sepa.items() if getattr(regie, name) != value]
    for name, value in sepa.items():
        setattr(regie, name, value)
    changes = []
    for name, value in (("code", code), ("payment_days", payment_days), ("treasury_days", treasury_days),
                        ("prepayment", prepayment)):
        if getattr(regie, name) != value:
            changes.append(f"{name}: {getattr(regie, name)} → {value}")
            setattr(regie, name, value)
    with write_transaction():
        invoice_numbers.check_code_available(regie, code)  # under the lock: two régies cannot take one code
        regie.save()
        audit.record(staff, "regie.update", regie, f"{regie.name} : " + ("; ".join(changes) or "inchangé"))
        if sepa_changed:  # the names of what changed, not the bank details
            audit.record(staff, "regie.sepa_creditor", regie, f"{regie.name} : " + ", ".join(
                direct_debit.CREDITOR_LABELS[name] for name in sepa_changed) + " modifié(s)")
    return regie
