"""The commune's régies (/gestion/regies): name, the code that starts their invoice numbers, their
own PayFiP client number, the payment modes they accept, due date and online payment delays,
prepayment and the SEPA creditor of their prélèvements. Activities are attached to one of them."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from peewee import fn

from models import Activity, Invoice, OrderLine, Payment, Regie, Unit, User
from services.billing import direct_debit, invoice_numbers
from services.core import audit
from services.core.errors import InvalidInput, NotFound
from services.core.transactions import write_transaction

PAYFIP_CLIENT = re.compile(r"\d{6}")


@dataclass(frozen=True)
class RegieRow:
    regie: Regie
    activities: int  # activities attached to it, every school year

    @property
    def mode_labels(self) -> list[str]:
        return [Payment.MODES.get(mode, mode) for mode in self.regie.mode_list]


def regie_rows() -> list[RegieRow]:
    """Every régie by name, with its number of activities (two queries)."""
    counts = dict(Activity.select(Activity.regie, fn.COUNT(Activity.id)).where(Activity.regie.is_null(False))
                  .group_by(Activity.regie).tuples())
    return [RegieRow(regie, counts.get(regie.id, 0)) for regie in Regie.select().order_by(Regie.name)]


def get_regie(regie_id: int) -> Regie:
    regie = Regie.get_or_none(Regie.id == regie_id)
    if regie is None:
        raise NotFound("Régie introuvable.")
    return regie


def code_locked(regie: Regie | None) -> bool:
    """Whether invoices or credit notes were numbered with the régie's code: it can no longer change,
    or its series would go on under another prefix and the treasury could not follow it."""
    if regie is None or regie.id is None or not regie.code:
        return False
    return Invoice.select().where((Invoice.regie == regie.id) & Invoice.number.startswith(f"{regie.code}-")).exists()


def clean_payfip_client(raw: str | None) -> str:
    """The PayFiP client number (numcli) as typed: empty, or 6 digits."""
    value = "".join((raw or "").split())
    if value and not PAYFIP_CLIENT.fullmatch(value):
        raise InvalidInput("Le numéro client PayFiP a 6 chiffres (laissez vide pour celui de la commune).",
                           "payfip_client")
    return value


def clean_modes(modes: Iterable[str]) -> str:
    """The accepted modes as stored (comma list, in Payment.MODES order); one at least, known ones only."""
    chosen = set(modes or ())
    if not chosen or not chosen <= set(Payment.MODES):
        raise InvalidInput("Cochez au moins un mode de paiement de la liste.", "payment_modes")
    return ",".join(mode for mode in Payment.MODES if mode in chosen)


def _check_name(regie: Regie | None, name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Indiquez le nom de la régie (ex. « Régie périscolaire »).", "name")
    if len(name) > 120:
        raise InvalidInput("Le nom de la régie : 120 caractères au plus.", "name")
    # Compared in Python: SQLite's LOWER() leaves « É » as it is. A commune has a handful of régies.
    others = Regie.select(Regie.id, Regie.name).where(Regie.id != (regie.id if regie and regie.id else 0))
    if any(other.name.casefold() == name.casefold() for other in others):
        raise InvalidInput(f"Une régie s'appelle déjà « {name} ».", "name")
    return name


def save_regie(staff: User, regie: Regie | None, *, code: str, payment_days: int, treasury_days: int,
               prepayment: bool, name: str | None = None, payfip_client: str | None = None,
               payment_modes: Iterable[str] | None = None, creditor: Mapping | None = None) -> Regie:
    """Create (regie None) or update a régie; `code` comes normalised (invoice_numbers.normalise_code);
    `creditor` holds the SEPA creditor fields typed (direct_debit.clean_creditor checks them; those absent
    are left as they are); a None name, client number or modes keeps the stored one. Nothing is saved
    when one of them is refused."""
    creating = regie is None
    if creating and name is None:
        raise InvalidInput("Indiquez le nom de la régie (ex. « Régie périscolaire »).", "name")
    if treasury_days > payment_days:
        raise InvalidInput("Le délai avant paiement en ligne ne peut pas dépasser le délai de paiement : "
                           "la facture doit pouvoir être payée avant son échéance.", "treasury_days")
    values = {"code": code, "payment_days": payment_days, "treasury_days": treasury_days, "prepayment": prepayment}
    if payfip_client is not None:
        values["payfip_client"] = clean_payfip_client(payfip_client)
    if payment_modes is not None:
        values["payment_modes"] = clean_modes(payment_modes)
    sepa = direct_debit.clean_creditor(creditor or {})
    with write_transaction():
        if creating:
            regie = Regie(name="", code="")
        else:
            regie = Regie.get_by_id(regie.id)  # fresh: another tab may have saved meanwhile
        if name is not None:
            values = {"name": _check_name(regie, name), **values}
        invoice_numbers.check_code_available(regie, code)  # under the lock: two régies cannot take one code
        if code != regie.code and code_locked(regie):
            raise InvalidInput(f"Le code {regie.code} ne peut plus changer : des factures ont déjà été numérotées "
                               "avec lui.", "code")
        sepa_changed = [field for field, value in sepa.items() if getattr(regie, field) != value]
        changes = [f"{field}: {getattr(regie, field)} → {value}" for field, value in values.items()
                   if not creating and getattr(regie, field) != value]
        for field, value in {**values, **sepa}.items():
            setattr(regie, field, value)
        regie.save()
        if creating:
            audit.record(staff, "regie.create", regie, f"{regie.name} ({regie.code})")
        else:
            audit.record(staff, "regie.update", regie, f"{regie.name} : " + ("; ".join(changes) or "inchangé"))
        if sepa_changed:  # the names of what changed, not the bank details
            audit.record(staff, "regie.sepa_creditor", regie, f"{regie.name} : " + ", ".join(
                direct_debit.CREDITOR_LABELS[field] for field in sepa_changed) + " modifié(s)")
    return regie


def regie_of(invoice=None, order=None) -> Regie | None:
    """The régie an invoice (or a prepaid order, through its activities) is paid to; ids or rows."""
    if invoice is not None:
        return Regie.select().join(Invoice).where(Invoice.id == getattr(invoice, "id", invoice)).first()
    if order is not None:
        return (Regie.select().join(Activity).join(Unit).join(OrderLine, on=(OrderLine.unit == Unit.id))
                .where(OrderLine.order == getattr(order, "id", order)).order_by(OrderLine.id).first())
    return None


def payfip_client_of(regie: Regie | None) -> str:
    """The régie's own PayFiP client number ('' when it uses the commune's)."""
    return regie.payfip_client if regie is not None else ""


def accepts_cards(regie: Regie | None) -> bool:
    """Whether its invoices may be paid by card online (no régie: as before, yes)."""
    return regie is None or "carte" in regie.mode_list
