"""« Préférences de courriels »: which optional e-mails a parent receives. Per login, not per household:
each parent reads their own address and may choose differently from the other one.

Senders of optional e-mails ask `wants(user, kind)` (one user) or `addresses_wanting(household_ids, kind)`
(many households in three queries). Mandatory e-mails (codes, invoices, receipts, order confirmations)
are always sent: they have no kind here and no switch.
"""
from __future__ import annotations

from collections.abc import Iterable

from models import Household, MailOptOut, User
from services.core import audit
from services.core.errors import InvalidInput
from services.core.transactions import write_transaction

# The optional kinds (default: received), in the order of the form. Other areas send with these keys.
REPLIES, NEWS, REMINDERS = "replies", "news", "reminders"
OPTIONAL_KINDS = {
    REPLIES: "Réponses de la mairie à mes messages",
    NEWS: "Actualités de la commune",
    REMINDERS: "Rappels de réservation avant la date limite",
}
# Listed on the page as « toujours envoyés »: they carry codes, money or a commitment.
MANDATORY = (
    "Codes de connexion, de confirmation et de réinitialisation du mot de passe",
    "Factures et relances d'impayés",
    "Reçus de paiement",
    "Confirmations de commande et décisions sur vos réservations",
)


def _check(kind: str) -> None:
    if kind not in OPTIONAL_KINDS:
        raise InvalidInput("Ce type de courriel n'existe pas ou ne peut pas être désactivé.", "kind")


def wants(user: User, kind: str) -> bool:
    """Whether `user` receives the optional e-mails of `kind` (True unless they switched it off)."""
    _check(kind)
    return not MailOptOut.select().where((MailOptOut.user == user.id) & (MailOptOut.kind == kind)).exists()


def choices_of(user: User) -> dict[str, bool]:
    """kind → received, for the form (one query)."""
    off = {row.kind for row in MailOptOut.select(MailOptOut.kind).where(MailOptOut.user == user.id)}
    return {kind: kind not in off for kind in OPTIONAL_KINDS}


def save(user: User, wanted: dict[str, bool]) -> dict[str, bool]:
    """Record the user's choices (every optional kind must be given); audited. Returns the new choices."""
    if set(wanted) != set(OPTIONAL_KINDS):
        raise InvalidInput("Indiquez votre choix pour chaque type de courriel.", "kind")
    with write_transaction():
        MailOptOut.delete().where(MailOptOut.user == user.id).execute()
        off = [kind for kind in OPTIONAL_KINDS if not wanted[kind]]
        if off:
            MailOptOut.insert_many([{"user": user.id, "kind": kind} for kind in off]).execute()
        audit.record(user, "mail_preferences", user, detail="désactivés : " + (", ".join(off) or "aucun"))
    return choices_of(user)


def addresses_wanting(household_ids: Iterable[int], kind: str) -> dict[int, list[str]]:
    """Household id → the parents' addresses that receive `kind` (Household.parent_emails_of minus the
    logins that switched it off; a guardian without a login has no switch and keeps receiving)."""
    _check(kind)
    emails = Household.parent_emails_of(household_ids)
    if not emails:
        return {}
    off = set(User.select(User.email).join(MailOptOut, on=(MailOptOut.user == User.id))
              .where(User.household.in_(list(emails)) & (MailOptOut.kind == kind)).tuples())
    refused = {email for (email,) in off}
    return {household_id: [e for e in addresses if e not in refused] for household_id, addresses in emails.items()}
