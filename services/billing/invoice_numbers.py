"""Invoice and credit-note numbers: the régie's code, then a gapless counter per régie, kind and year.

Scheme (issue 9): invoice « PERI-2026-11-00002 », credit note « PERI-A2026-11-00001 »: the code of the
régie, the kind (nothing for an invoice, A for an avoir), the year and month of issue, then the rank in
the régie's series of that kind and year (five digits, from 00001 each 1 January). The code makes every
number unique across the commune; the counter row (NumberCounter) is bumped in the transaction that
writes the document, so a rollback gives the number back (services.core.transactions.next_in_series).
Numbers issued before régie codes (F2026-11-00002, A2026-11-00001) are kept as printed; the series
continue from where they were.
"""
from __future__ import annotations

import datetime as dt
import re

from models import Invoice, NumberCounter, Regie
from services.core.errors import DomainError, InvalidInput
from services.core.transactions import next_in_series

CODE_PATTERN = re.compile(r"[A-Z0-9]{2,8}")
KINDS = {"F": "", "A": "A"}  # counter kind → letter printed after the code


class NumberingError(DomainError):
    """A number cannot be given (the régie has no code)."""


def normalise_code(raw: str | None) -> str:
    """A régie code as typed (« peri » → « PERI »), or InvalidInput naming the rule."""
    code = (raw or "").strip().upper()
    if not code:
        raise InvalidInput("Indiquez le code de la régie (ex. PERI) : il commence ses numéros de facture.", "code")
    if not CODE_PATTERN.fullmatch(code):
        raise InvalidInput("Le code de la régie fait 2 à 8 caractères : lettres majuscules sans accent ou "
                           "chiffres (ex. PERI, CANT, ALSH).", "code")
    return code


def check_code_available(regie: Regie | None, code: str) -> None:
    """Refuse a code another régie has, or had: numbers it gave would clash with ours."""
    others = Regie.select().where(Regie.code == code)
    if regie is not None and regie.id is not None:
        others = others.where(Regie.id != regie.id)
    if others.exists():
        raise InvalidInput(f"Le code {code} est déjà celui d'une autre régie.", "code")
    used = Invoice.select().where(Invoice.number.startswith(f"{code}-"))
    if regie is not None and regie.id is not None:
        used = used.where(Invoice.regie != regie.id)
    if used.exists():
        raise InvalidInput(f"Le code {code} figure déjà dans les numéros de facture d'une autre régie : "
                           "choisissez-en un autre.", "code")


def format_number(code: str, kind: str, issued_on: dt.date, rank: int) -> str:
    """« PERI-2026-11-00002 » (invoice, kind F) or « PERI-A2026-11-00001 » (credit note, kind A)."""
    return f"{code}-{KINDS[kind]}{issued_on.year}-{issued_on.month:02d}-{rank:05d}"


def next_number(regie: Regie, kind: str, issued_on: dt.date) -> str:
    """Take the régie's next number of this kind (call inside the transaction that issues the document)."""
    if not regie.code or not CODE_PATTERN.fullmatch(regie.code):
        raise NumberingError(f"La régie « {regie.name} » n'a pas de code valide : indiquez-le sur l'écran "
                             "Régies (/gestion/regies) avant d'émettre.")
    rank = next_in_series(NumberCounter, regie=regie.id, kind=kind, year=issued_on.year)
    return format_number(regie.code, kind, issued_on, rank)

