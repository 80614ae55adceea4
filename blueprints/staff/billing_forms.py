"""Forms of the staff billing screens (blueprints/staff/billing.py, online_payments.py). Amounts are
read in cents here; what a payment or a credit note may be (positive, within the invoice, a manual
mode, a reason) is checked by services/billing."""
from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, ValidationError

from blueprints.form_fields import DayFilter, FrenchDate, Identifier, Ids, InputForm, Money, Typed
from models import Household, Payment, Regie
from services.billing import online_payments, payments


class PaymentForm(FlaskForm):
    household = SelectField("Foyer", coerce=int, validators=[InputRequired("Choisissez le foyer.")])
    # The mode's rule (a manual mode) is in services.billing.payments.record_payment.
    mode = SelectField("Mode de règlement", choices=[(m, Payment.MODES[m]) for m in payments.MANUAL_MODES],
                       validate_choice=False)
    amount = Money("le montant", required=True, signed=True, label="Montant (en euros, ex. 49,30)",
                   empty="Indiquez le montant.", invalid="Montant invalide : écrivez par exemple 49,30.")
    received_on = FrenchDate("Date de réception", "Indiquez la date de réception au format jj/mm/aaaa.",
                             validators=[InputRequired("Indiquez la date de réception.")])
    reference = StringField("Référence (n° de chèque, de virement…)")

    def validate_household(self, field) -> None:
        if not field.data or Household.get_or_none(Household.id == field.data) is None:
            raise ValidationError("Choisissez le foyer.")


class CreditForm(FlaskForm):
    amount = Money("le montant", required=True, signed=True, label="Montant de l'avoir (en euros)",
                   empty="Indiquez le montant.", invalid="Montant invalide : écrivez par exemple 12,50.")
    # Required by services.billing.invoicing.issue_credit_note (« Indiquez le motif de l'avoir. »).
    reason = StringField("Motif", render_kw={"required": True})


class HouseholdQueryForm(InputForm):
    foyer = Identifier()  # ?foyer= preselects the household of a new payment


class InvoicingPeriodForm(InputForm):
    """?regie=&annee=&mois= of the invoicing page (or its forms); last month by default."""

    regie = Identifier()
    annee = Identifier()
    mois = Identifier()

    def chosen(self, today: dt.date) -> tuple[Regie | None, int, int]:
        last = today.replace(day=1) - dt.timedelta(days=1)
        regie = Regie.get_or_none(Regie.id == self.regie.data) if self.regie.data is not None else None
        year = last.year if self.annee.data is None else self.annee.data
        return regie, year, last.month if self.mois.data is None else self.mois.data

    @property
    def regie_asked(self) -> bool:
        """Something was given as the régie (then an unknown one is an error)."""
        return bool(self.regie.raw_data and self.regie.raw_data[0])


class ExportFilterForm(InputForm):
    """?annee=&mois= of the CSV exports, ?campagne= for the invoices of one invoicing run."""

    annee = Identifier()
    mois = Identifier(bounds=range(1, 13))
    campagne = Identifier()


class ReminderForm(InputForm):
    facture = Ids()  # the ticked unpaid invoices


class DirectDebitRunForm(InputForm):
    """A régie and a day (ISO) for the pain.008 export or the collection of its debits."""

    regie = Identifier()
    date = DayFilter()

    @property
    def regie_row(self) -> Regie | None:
        return Regie.get_or_none(Regie.id == self.regie.data) if self.regie.data is not None else None


class OnlinePaymentFilterForm(InputForm):
    """« etat » and « jour » of the online payments list; anything malformed is ignored."""

    etat = Typed()
    jour = DayFilter(years=range(2000, 2101))  # 9999-12-31 has no next day to count to

    @property
    def state(self) -> str:
        return self.etat.data if self.etat.data in online_payments.STATE_LABELS else ""

    @property
    def bad_day(self) -> bool:
        return bool(self.jour.raw_data and self.jour.raw_data[0]) and self.jour.data is None
