"""The e-mail telling a family its invoice is issued (mandatory: it cannot be switched off)."""
from __future__ import annotations

from models import Invoice
from services.core import formatting, outbox


def tell_household(invoice: Invoice, addresses: list[str] | None = None) -> int:
    """Queue « Votre facture … » to the household's parents (`addresses` when the caller read them), inside
    the invoice's own transaction so that an invoice never exists without its mail, nor a mail without it."""
    month = formatting.month_label(invoice.period_start)
    subject = f"Votre facture {invoice.number} – {month}"
    if invoice.direct_debit:
        how = "Elle sera réglée par prélèvement automatique : vous n'avez rien à faire."
    elif invoice.payable_from and invoice.payable_from > invoice.issued_on:
        how = (f"Vous pourrez la payer en ligne à partir du {formatting.date_long(invoice.payable_from)} "
               "(« Payer » dans l'espace « Factures »), ou au guichet de la mairie.")
    else:
        how = "Payez-la en ligne (« Payer » dans l'espace « Factures » du portail famille) ou au guichet de la mairie."
    body = (f"Bonjour,\n\nVotre facture {invoice.number} ({month}) est disponible dans votre espace famille.\n"
            f"Montant : {formatting.money(invoice.amount)}, à régler avant le {formatting.date_long(invoice.due_on)}.\n"
            f"{how}\n\nLe service enfance")
    if addresses is None:
        addresses = invoice.household.parent_emails()
    for address in addresses:
        outbox.send(address, subject, body)
    return len(addresses)
