"""Forms of the desk (blueprints/staff/desk.py). The grid's ticked cells are read by
services/booking/basket.wanted_from_form; what a change or a payment may be is the services' rule."""
from __future__ import annotations

from blueprints.form_fields import Identifier, InputForm, Text
from blueprints.staff.billing_forms import PaymentForm


class DeskBookingForm(InputForm):
    """« Valider les changements »: the reason, required by the service when a change is past the deadline."""

    motif = Text("le motif", max_length=500)


class DeskAbsenceForm(InputForm):
    motif = Text("le motif", max_length=1000)


class DeskPaymentForm(PaymentForm):
    """A payment at the desk: the family is the page's, so no « Foyer » list."""

    household = None


class HistoryPageForm(InputForm):
    page = Identifier()
