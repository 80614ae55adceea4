"""A régie's billing settings, typed by staff on the activity page: the code that starts its invoice
numbers, the due date delay, the delay before online payment, prepayment."""
from __future__ import annotations

from models import Regie, User
from services.billing import invoice_numbers
from services.core import audit
from services.core.errors import InvalidInput
from services.core.transactions import write_transaction


def save_regie(staff: User, regie: Regie, *, code: str, payment_days: int, treasury_days: int,
               prepayment: bool) -> Regie:
    """Save a régie's settings; `code` comes normalised (invoice_numbers.normalise_code)."""
    if treasury_days > payment_days:
        raise InvalidInput("Le délai avant paiement en ligne ne peut pas dépasser le délai de paiement : "
                           "la facture doit pouvoir être payée avant son échéance.", "treasury_days")
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
    return regie
