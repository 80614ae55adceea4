"""E-mail reminders for unpaid invoices (« Impayés et relances »): the chosen invoices, or every
overdue one, except those en prélèvement. A few queries and two inserts whatever their number."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from models import Household, Invoice, Regie, User
from services.billing import listings
from services.core import audit, clock, formatting, outbox
from services.core.transactions import write_transaction

MAX_ID = 2 ** 63 - 1


def reminder_body(item: Invoice, link: str) -> str:
    return (f"Bonjour,\n\nSauf erreur de notre part, la facture {item.number} du "
            f"{formatting.date_short(item.issued_on)} ({item.regie.name}) n'est pas entièrement réglée : "
            f"il reste {formatting.money(item.balance)} à payer (échéance le {formatting.date_short(item.due_on)}).\n"
            f"Vous pouvez la payer en ligne sur le portail famille, rubrique Factures : {link}\n\n"
            f"Si vous avez déjà réglé, merci de ne pas tenir compte de ce message.\n\nLe service enfance")


def send_reminders(user: User | None, chosen: Iterable[int], link: Callable[[Invoice], str],
                   today: dt.date | None = None) -> tuple[int, int]:
    """Mail each parent of the chosen unpaid invoices (every overdue one when none is chosen), oldest
    invoice first, and log one audit entry per invoice. `link(invoice)` is the invoice's address
    on the portal. Returns (mails queued, invoices reminded)."""
    today = today or clock.today()
    chosen = set(chosen)
    query = listings.with_regie_and_household(Invoice.select(Invoice, Regie, Household)).where(
        listings.UNPAID & (Invoice.direct_debit == False))  # noqa: E712
    if chosen:
        query = query.where(Invoice.id.in_(sorted(i for i in chosen if 0 < i <= MAX_ID)))
    else:
        query = query.where(Invoice.due_on < today)
    invoices = list(query.order_by(Invoice.issued_on, Invoice.id))
    emails = Household.parent_emails_of({i.household_id for i in invoices})
    mails = []
    for item in invoices:
        body = reminder_body(item, link(item))
        mails.extend((email, f"Rappel : facture {item.number} à régler", body) for email in emails[item.household_id])
    with write_transaction():
        sent = outbox.send_many(mails)
        audit.record_many(user, "invoice_reminder", [(item, item.number) for item in invoices])
    return sent, len(invoices)
