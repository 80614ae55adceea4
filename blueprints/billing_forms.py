"""Forms of the parents' finances (blueprints/billing.py). The mandate's rules (IBAN, holder, consent)
are in services/billing/direct_debit.py; these forms read the fields."""
from __future__ import annotations

from blueprints.form_fields import Identifier, InputForm, Typed
from services.core.formatting import parse_money


class InvoiceFilterForm(InputForm):
    """?annee=2026&mois=11 on the invoice list; anything else shows every year or month."""

    annee = Identifier(bounds=range(2000, 2101))
    mois = Identifier(bounds=range(1, 13))


class DummyBankForm(InputForm):
    """The simulated bank of the dummy backend (development and tests)."""

    transaction_id = Typed()
    amount = Typed()  # the amount the portal asked, shown back; the tester may change it
    outcome = Typed()
    origin = Typed()

    @property
    def charged(self) -> int | None:
        """What the simulated bank charges, in cents (None when it is not an amount)."""
        try:
            return parse_money(self.amount.data or "")
        except ValueError:
            return None


class DirectDebitForm(InputForm):
    action = Typed()  # « revoke » stops the mandate
    holder = Typed()
    iban = Typed()
    bic = Typed()
    accept = Typed()

    def values(self) -> dict[str, str]:
        """The mandate's fields as typed (stripped), to show them back."""
        return {name: self[name].data or "" for name in ("holder", "iban", "bic")}

    @property
    def accepted(self) -> bool:
        return self.accept.data == "1"
