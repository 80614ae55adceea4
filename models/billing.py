"""Billing models: attendance without booking, numbering counters, invoices, payments, online
transactions, SEPA mandates."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.accounts import Household, User
from models.activities import Regie, Unit
from models.base import BaseModel, ConfigModel
from models.family import Child
from models.orders import Order
from models.prepared import PreparedCreate


class Attendance(BaseModel):
    """A pointage of a child present without booking (booked days carry Booking.attendance); for a unit
    « sans réservation » (Unit.attendance_only) the day's record, present or absent, with its times."""

    household = ForeignKeyField(Household, backref="unbooked_presences", on_delete="CASCADE")
    child = ForeignKeyField(Child, backref="unbooked_presences", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, backref="unbooked_presences", on_delete="CASCADE")
    date = DateField(index=True)
    status = CharField(default="present")  # present, absent (absent only for units « sans réservation »)
    arrived_at = CharField(default="")  # "HH:MM", Paris wall clock; empty when not recorded
    left_at = CharField(default="")  # "HH:MM"; empty while the child is still there
    recorded_at = DateTimeField()
    recorded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        indexes = ((("child", "unit", "date"), True),)


class NumberCounter(BaseModel):
    """The last number given per régie, kind (F invoice, A credit note) and year: locked and bumped
    in the transaction that issues the document, so numbers are gapless and never reused."""

    regie = ForeignKeyField(Regie, backref="counters", on_delete="CASCADE")
    kind = CharField()  # F, A
    year = IntegerField()
    last = IntegerField(default=0)

    class Meta:
        indexes = ((("regie", "kind", "year"), True),)


class ReceiptCounter(BaseModel):
    """The last receipt number given in a year (manual payments), bumped in the transaction that records
    the payment: gapless, never reused."""

    year = IntegerField(unique=True)
    last = IntegerField(default=0)


class ClosedPeriod(ConfigModel):
    """A régie × month closed for invoicing: parents can no longer book or cancel its days.

    Staff close a month before its end to invoice it early; requesting an invoicing run closes it too.
    """

    regie = ForeignKeyField(Regie, backref="+", on_delete="CASCADE")
    period_start = DateField()  # first day of the month
    closed_at = DateTimeField()
    closed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        indexes = ((("regie", "period_start"), True),)


class InvoicingRun(BaseModel):
    """One invoicing run of a régie × month, done by the worker household by household.

    Progress counters change in the same transaction as each invoice, so they are exact after a
    crash; `cursor` is the last household handled (households are taken in id order), `attempt`
    lets a resumed run stop an older worker that would still be alive.
    """

    STATUSES = {"queued": "En attente", "running": "En cours", "done": "Terminée", "failed": "Échec"}

    regie = ForeignKeyField(Regie, backref="+", on_delete="CASCADE")
    period_start = DateField()
    requested_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    origin = CharField(default="web")  # web, terminal
    requested_at = DateTimeField()
    status = CharField(default="queued", index=True)
    households_total = IntegerField(default=0)
    households_done = IntegerField(default=0)
    invoices_issued = IntegerField(default=0)
    amount_issued = IntegerField(default=0)  # cents
    skipped = IntegerField(default=0)  # already invoiced, or nothing to invoice
    cursor = IntegerField(default=0)  # id of the last household handled
    attempt = IntegerField(default=0)
    error = TextField(default="")
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    heartbeat_at = DateTimeField(null=True)  # last sign of life of the worker doing it

    class Meta:
        indexes = ((("regie", "period_start"), False),)


class Invoice(PreparedCreate, BaseModel):
    """An issued facture (kind "invoice") or avoir (kind "credit"): never edited once issued.

    amount is positive for both kinds; a credit note lowers `credited` on the invoice it corrects.
    Left to pay = amount − paid − credited (never below 0; any surplus is the household's avoir).
    """

    regie = ForeignKeyField(Regie, backref="invoices", on_delete="RESTRICT")
    household = ForeignKeyField(Household, backref="invoices", on_delete="RESTRICT")
    kind = CharField(default="invoice")  # invoice, credit
    number = CharField()
    # "" for every number unique across the commune (all numbers since régie codes). An older number
    # that another régie's invoice also carries (F2026-11-00002 twice) keeps it, never renumbered,
    # and has its régie's id here, so the unique index on (number, legacy_series) still holds.
    legacy_series = CharField(default="")
    period_start = DateField()
    period_end = DateField()
    issued_at = DateTimeField()
    issued_on = DateField(index=True)
    payable_from = DateField()
    due_on = DateField()
    amount = IntegerField()  # cents
    paid = IntegerField(default=0)  # cents allocated from payments
    credited = IntegerField(default=0)  # cents of credit notes correcting this invoice
    corrects = ForeignKeyField("self", null=True, backref="credit_notes", on_delete="RESTRICT")
    reason = TextField(default="")  # why a credit note was made
    payer_name = CharField(default="")
    payer_address = CharField(default="")
    quotient_familial = IntegerField(null=True)  # QF when issued, printed on the PDF
    direct_debit = BooleanField(default=False)  # household on prélèvement when issued
    issued_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    run = ForeignKeyField(InvoicingRun, null=True, backref="invoices", on_delete="SET NULL")

    class Meta:
        indexes = ((("number", "legacy_series"), True), (("regie", "household", "period_start", "kind"), False))

    @property
    def balance(self) -> int:
        return max(0, self.amount - self.paid - self.credited) if self.kind == "invoice" else 0


class InvoicePeriodLock(PreparedCreate, BaseModel):
    """One row per régie × household × month invoiced: the unique guard against a double run."""

    regie = ForeignKeyField(Regie, backref="+", on_delete="CASCADE")
    household = ForeignKeyField(Household, backref="+", on_delete="CASCADE")
    period_start = DateField()
    invoice = ForeignKeyField(Invoice, backref="+", on_delete="CASCADE")

    class Meta:
        indexes = ((("regie", "household", "period_start"), True),)


class InvoiceLine(BaseModel):
    """One line: child × unit × kind of charge, with its days, unit price and quantity."""

    invoice = ForeignKeyField(Invoice, backref="lines", on_delete="CASCADE")
    child = ForeignKeyField(Child, null=True, backref="+", on_delete="SET NULL")
    unit = ForeignKeyField(Unit, null=True, backref="+", on_delete="SET NULL")
    activity_kind = CharField(default="")  # cantine, garderie, alsh_… (for the fiscal certificate)
    child_name = CharField(default="")
    heading = CharField(default="")  # "Restauration scolaire – École du Phare, novembre 2026"
    label = CharField()  # "Repas", "Repas – absence non justifiée"
    days = TextField(default="")  # "lun. 2 nov., mar. 3 nov."
    band = CharField(default="")  # "QF de 600 à 999 €", "QF inconnu : tarif de base", "PAI"
    unit_price = IntegerField()
    quantity = IntegerField()
    amount = IntegerField()
    position = IntegerField(default=0)


class Payment(BaseModel):
    """A règlement: card (PayFiP), direct debit, cheque, cash, CESU or transfer."""

    MODES = {"carte": "Carte bancaire (PayFiP)", "prelevement": "Prélèvement", "cheque": "Chèque",
             "especes": "Espèces", "cesu": "CESU", "virement": "Virement",
             "ancv": "Chèques-Vacances (ANCV)"}

    household = ForeignKeyField(Household, backref="payments", on_delete="RESTRICT")
    mode = CharField()
    amount = IntegerField()  # cents
    received_on = DateField(index=True)
    reference = CharField(default="")  # n° de chèque, référence du virement, n° de transaction
    recorded_at = DateTimeField()
    recorded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    receipt_number = CharField(null=True, unique=True)  # « R2026-000012 », manual payments only (gapless)

    @property
    def mode_label(self) -> str:
        return self.MODES.get(self.mode, self.mode)


class PaymentAllocation(BaseModel):
    """The part of a payment that settles one invoice."""

    payment = ForeignKeyField(Payment, backref="allocations", on_delete="CASCADE")
    invoice = ForeignKeyField(Invoice, null=True, backref="allocations", on_delete="RESTRICT")
    order = ForeignKeyField(Order, null=True, backref="allocations", on_delete="RESTRICT")  # prepaid order
    amount = IntegerField()


class OnlineTransaction(BaseModel):
    """A card payment asked to the payment backend (PayFiP or the dummy one) for one invoice, or for
    a prepaid order (régie "au comptant")."""

    household = ForeignKeyField(Household, backref="online_transactions", on_delete="RESTRICT")
    invoice = ForeignKeyField(Invoice, null=True, backref="online_transactions", on_delete="RESTRICT")
    order = ForeignKeyField(Order, null=True, backref="online_transactions", on_delete="RESTRICT")
    backend = CharField()
    transaction_id = CharField(unique=True)
    amount = IntegerField()  # what we asked for, in cents (the only amount we trust)
    status = CharField(default="pending", index=True)  # pending, paid, refused, cancelled, anomaly
    # "invoice:12" or "order:7" while pending, NULL once settled: a unique column lets only one
    # transaction be open per invoice or order on SQLite and PostgreSQL alike (NULLs never clash).
    open_key = CharField(null=True, unique=True)
    note = TextField(default="")  # for staff: why it is an anomaly, a late payment, a confirmation to retry
    checked_at = DateTimeField(null=True)  # last time the worker or staff asked the bank
    bank_status = CharField(default="")
    bank_data = TextField(default="")
    simulated_result = CharField(default="")  # dummy backend: what the local simulator answered
    simulated_amount = IntegerField(null=True)  # dummy backend: amount the simulator charged
    payment = ForeignKeyField(Payment, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField()
    completed_at = DateTimeField(null=True)


class DirectDebitMandate(BaseModel):
    """A SEPA mandate: the household's invoices are paid by prélèvement, not by card."""

    household = ForeignKeyField(Household, backref="mandates", on_delete="CASCADE")
    reference = CharField(unique=True)  # RUM
    holder = CharField()
    iban = CharField()
    bic = CharField(default="")
    signed_at = DateTimeField()
    active = BooleanField(default=True)
    revoked_at = DateTimeField(null=True)
