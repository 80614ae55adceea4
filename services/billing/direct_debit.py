"""Prélèvement automatique: a SEPA mandate per household (IBAN checked with python-stdnum), invoices
"en prélèvement" (not payable by card), and the pain.008 file of a régie's debits (sepaxml)."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sepaxml import SepaDD
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.eu import at_02 as stdnum_ics
from stdnum.exceptions import ValidationError

from models import DirectDebitMandate, Household, Invoice, Payment, Regie, User
from services.billing import ledger
from services.core import clock
from services.core.errors import DomainError, InvalidInput
from services.core.transactions import write_transaction


class DirectDebitRefused(DomainError):
    pass


IBAN_ERROR = "IBAN invalide : vérifiez les chiffres (exemple : FR76 3000 6000 0112 3456 7890 189)."
BIC_ERROR = "BIC invalide : 8 ou 11 caractères (exemple : AGRIFRPP)."


@dataclass(frozen=True)
class Creditor:
    """The régie's SEPA identity (ICS = identifiant créancier SEPA)."""

    name: str
    iban: str
    bic: str
    creditor_id: str


def clean_iban(text: str, message: str = IBAN_ERROR, field: str = "iban") -> str:
    """The IBAN without spaces, upper case, checked (country format and key); else a French error."""
    return _checked(stdnum_iban, text or "", message, field)


def clean_bic(text: str, message: str = BIC_ERROR, field: str = "bic") -> str:
    """The BIC checked, or "" when none is given."""
    if not (text or "").strip():
        return ""
    return _checked(stdnum_bic, text, message, field)


def _checked(module, text: str, message: str, field: str) -> str:
    try:
        return module.validate(text)
    except ValidationError:
        raise InvalidInput(message, field)


# --- The régie's creditor (its settings) -------------------------------------------------------


# The creditor settings that must be filled in: field, and what to call it in a French sentence.
CREDITOR_FIELDS = (("sepa_creditor_id", "l'ICS"), ("sepa_iban", "l'IBAN"), ("sepa_bic", "le BIC"))
CREDITOR_LABELS = {"sepa_creditor_name": "nom du créancier", "sepa_creditor_id": "ICS", "sepa_iban": "IBAN",
                   "sepa_bic": "BIC"}
ICS_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$")
ICS_ERROR = ("Identifiant créancier SEPA (ICS) invalide : vérifiez-le sur le document de la Banque de France "
             "(exemple : FR12ZZZ123456).")
CREDITOR_IBAN_ERROR = ("IBAN du créancier invalide : vérifiez les chiffres "
                       "(exemple : FR76 3000 1007 9412 3456 7890 185).")
CREDITOR_BIC_ERROR = "BIC du créancier invalide : 8 ou 11 caractères (exemple : BDFEFRPPCCT)."


def clean_creditor_id(text: str) -> str:
    """The ICS without spaces, upper case, checked (shape and ISO 7064 mod 97-10 key); else a French error."""
    compact = stdnum_ics.compact(text or "")
    try:
        if not ICS_SHAPE.match(compact):
            raise ValidationError()
        return stdnum_ics.validate(compact)
    except ValidationError:
        raise InvalidInput(ICS_ERROR, "sepa_creditor_id")


def clean_creditor(data: Mapping) -> dict[str, str]:
    """The creditor settings typed for a régie, cleaned and checked (each may stay empty: the export
    says what is missing); only the fields present in `data`, so a form without them changes nothing."""
    values = {}
    if "sepa_creditor_name" in data:
        values["sepa_creditor_name"] = " ".join((data.get("sepa_creditor_name") or "").split())[:70]
    cleaners = {"sepa_creditor_id": clean_creditor_id,
                "sepa_iban": lambda text: clean_iban(text, CREDITOR_IBAN_ERROR, "sepa_iban"),
                "sepa_bic": lambda text: clean_bic(text, CREDITOR_BIC_ERROR, "sepa_bic")}
    for name, clean in cleaners.items():
        if name in data:
            text = (data.get(name) or "").strip()
            values[name] = clean(text) if text else ""
    return values


def creditor_of(regie: Regie) -> Creditor:
    """The régie's creditor for its pain.008, from its settings; refused (DirectDebitRefused, in French,
    naming what to fill in) while the ICS, the IBAN or the BIC is missing or invalid."""
    missing = [label for name, label in CREDITOR_FIELDS if not getattr(regie, name)]
    if missing:
        what = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " et " + missing[-1]
        raise DirectDebitRefused(f"Renseignez {what} du créancier dans les paramètres de la régie "
                                 f"« {regie.name} » (écran Régies) avant "
                                 "d'exporter les prélèvements.")
    try:
        values = clean_creditor({name: getattr(regie, name) for name, _label in CREDITOR_FIELDS})
    except InvalidInput as invalid:
        raise DirectDebitRefused(f"{invalid.message} Corrigez-le dans les paramètres de la régie « {regie.name} » "
                                 "avant d'exporter les prélèvements.") from None
    return Creditor(name=regie.sepa_creditor_name or regie.name, iban=values["sepa_iban"], bic=values["sepa_bic"],
                    creditor_id=values["sepa_creditor_id"])


# --- Mandates and the pain.008 ------------------------------------------------------------------


def active_mandate(household: Household) -> DirectDebitMandate | None:
    return (DirectDebitMandate.select().where((DirectDebitMandate.household == household) & DirectDebitMandate.active)
            .order_by(DirectDebitMandate.id.desc()).first())


def sign_mandate(household: Household, holder: str, iban: str, bic: str, accepted: bool,
                 user: User | None = None) -> DirectDebitMandate:
    """Replace any active mandate by a new one; the household's unpaid invoices go "en prélèvement"."""
    holder = (holder or "").strip()
    if not holder:
        raise InvalidInput("Indiquez le nom du titulaire du compte.", "holder")
    iban, bic = clean_iban(iban), clean_bic(bic)
    if not accepted:
        raise InvalidInput("Cochez la case pour accepter le mandat de prélèvement SEPA.", "accept")
    now = clock.local_now()
    with write_transaction():
        DirectDebitMandate.update(active=False, revoked_at=now).where(
            (DirectDebitMandate.household == household) & DirectDebitMandate.active).execute()
        count = DirectDebitMandate.select().where(DirectDebitMandate.household == household).count()
        mandate = DirectDebitMandate.create(household=household, reference=f"PF{household.id:06d}M{count + 1:03d}",
                                            holder=holder[:70], iban=iban, bic=bic, signed_at=now)
        Invoice.update(direct_debit=True).where(
            (Invoice.household == household) & (Invoice.kind == "invoice")
            & (Invoice.amount > Invoice.paid + Invoice.credited)).execute()
    return mandate


def revoke_mandate(household: Household) -> None:
    """Stop direct debit: unpaid invoices become payable by card again."""
    with write_transaction():
        DirectDebitMandate.update(active=False, revoked_at=clock.local_now()).where(
            (DirectDebitMandate.household == household) & DirectDebitMandate.active).execute()
        Invoice.update(direct_debit=False).where(
            (Invoice.household == household) & (Invoice.amount > Invoice.paid + Invoice.credited)).execute()


def masked(iban: str) -> str:
    """'FR76 **** **** **** **** ***0 189' for display."""
    compact = stdnum_iban.compact(iban)
    hidden = compact[:4] + "*" * (len(compact) - 8) + compact[-4:]
    return " ".join(hidden[i:i + 4] for i in range(0, len(hidden), 4))


def pain008(regie: Regie, creditor: Creditor, collection_date: dt.date) -> tuple[bytes, int, int]:
    """The SEPA direct-debit file (pain.008.001.02) of the régie's unpaid invoices "en prélèvement".
    Returns (xml, number of debits, total cents)."""
    if collection_date <= clock.today():
        raise InvalidInput("La date de prélèvement doit être dans le futur.", "date")
    debit = SepaDD({"name": creditor.name[:70], "IBAN": stdnum_iban.compact(creditor.iban), "BIC": creditor.bic,
                    "batch": True, "creditor_id": creditor.creditor_id, "currency": "EUR"}, schema="pain.008.001.02")
    count = total = 0
    for invoice, mandate in _debits(regie):
        debit.add_payment({
            "name": mandate.holder, "IBAN": mandate.iban, "BIC": mandate.bic or "NOTPROVIDED",
            "amount": invoice.balance, "type": "RCUR", "collection_date": collection_date,
            "mandate_id": mandate.reference, "mandate_date": mandate.signed_at.date(),
            "description": f"Facture {invoice.number}", "endtoend_id": invoice.number.replace("-", "")})
        count += 1
        total += invoice.balance
    if not count:
        raise DirectDebitRefused("Aucune facture à prélever pour cette régie.")
    return debit.export(validate=True), count, total


def _debits(regie: Regie) -> list[tuple[Invoice, DirectDebitMandate]]:
    """The régie's unpaid invoices "en prélèvement" (oldest first, with their household), each with
    its household's active mandate (the newest, as active_mandate): two queries in all."""
    invoices = list(Invoice.select(Invoice, Household).join(Household)
                    .where((Invoice.regie == regie.id) & (Invoice.direct_debit == True)  # noqa: E712
                           & (Invoice.kind == "invoice") & (Invoice.amount > Invoice.paid + Invoice.credited))
                    .order_by(Invoice.issued_on, Invoice.id))
    if not invoices:
        return []
    mandates = {m.household_id: m for m in DirectDebitMandate.select().where(
        DirectDebitMandate.active & DirectDebitMandate.household.in_(sorted({i.household_id for i in invoices})))
        .order_by(DirectDebitMandate.id)}  # the newest active mandate of a household wins
    return [(invoice, mandates[invoice.household_id]) for invoice in invoices if invoice.household_id in mandates]


def record_collection(regie: Regie, collected_on: dt.date, user: User | None = None) -> tuple[int, int]:
    """The bank has collected the régie's debits: each invoice "en prélèvement" gets a "prelevement"
    payment of what was left to pay. Returns (number of invoices, total cents)."""
    if collected_on > clock.today():
        raise InvalidInput("La date d'encaissement ne peut pas être dans le futur.", "date")
    count = total = 0
    with write_transaction():
        for invoice, mandate in _debits(regie):
            amount = invoice.balance
            payment = Payment.create(household=invoice.household, mode="prelevement", amount=amount,
                                     received_on=collected_on, reference=f"Mandat {mandate.reference}",
                                     recorded_at=clock.local_now(), recorded_by=user)
            ledger.allocate(payment, first=invoice, amount=amount)
            count += 1
            total += amount
    if not count:
        raise DirectDebitRefused("Aucune facture en prélèvement à encaisser pour cette régie.")
    return count, total
