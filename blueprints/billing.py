"""Parents' finances (/factures): consumptions to invoice, invoices and their PDF, online payment,
payments with receipts, yearly childcare statements. Every query starts from the household."""
from __future__ import annotations

from collections import Counter, OrderedDict

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user

from models import Invoice, OnlineTransaction, Payment, PaymentAllocation
from services import certificates, clock, direct_debit, formatting, invoicing, payments, pdf
from services.errors import DomainError

from blueprints.access import current_household, owned_or_404, parent_required

bp = Blueprint("billing", __name__, url_prefix="/factures")

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]
ORDER_OUTCOME_MESSAGES = {
    "paid": ("Paiement accepté : la commande est confirmée. Un e-mail de confirmation vous a été envoyé.",
             "success"),
    "refused": ("Paiement refusé par la banque : la commande reste à payer avant son expiration.", "error"),
    "cancelled": ("Paiement abandonné : la commande reste à payer avant son expiration.", "info"),
    "anomaly": ("Le montant payé ne correspond pas à la commande : le service enfance vérifie et vous recontacte.",
                "error"),
    "pending": ("Paiement en cours de vérification : la commande sera confirmée dès la réponse de la banque.",
                "info"),
}
OUTCOME_MESSAGES = {
    "paid": ("Paiement accepté : la facture est payée. Un e-mail de confirmation vous a été envoyé.", "success"),
    "refused": ("Paiement refusé par la banque : la facture reste à payer.", "error"),
    "cancelled": ("Paiement abandonné : la facture reste à payer.", "info"),
    "anomaly": ("Le montant payé ne correspond pas à la facture : le service enfance vérifie et vous recontacte.",
                "error"),
    "pending": ("Paiement en cours de vérification : la facture sera marquée payée dès la confirmation de la banque.",
                "info"),
}


def _int_arg(name: str, low: int, high: int) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and low <= int(value) <= high else None


def group_lines(lines) -> "OrderedDict[str, list]":
    """Invoice lines grouped under 'Léa Martin – Restauration scolaire – École du Phare, octobre 2026'."""
    groups: OrderedDict[str, list] = OrderedDict()
    for line in lines:
        key = f"{line.child_name} – {line.heading}" if line.child_name else line.heading
        groups.setdefault(key, []).append(line)
    return groups


@bp.get("/")
@parent_required
def invoices():
    """Consommations à facturer, then the invoices (filters by year and month)."""
    household = current_household()
    start, end, lines = invoicing.running_consumptions(household)
    consumption_groups: OrderedDict[str, list] = OrderedDict()
    for line in lines:
        consumption_groups.setdefault(f"{line.child.full_name} – {line.heading}", []).append(line)
    every = list(Invoice.select().where(Invoice.household == household)
                 .order_by(Invoice.issued_on.desc(), Invoice.id.desc()))
    year, month = _int_arg("annee", 2000, 2100), _int_arg("mois", 1, 12)
    shown = [i for i in every if (year is None or i.issued_on.year == year)
             and (month is None or i.issued_on.month == month)]
    years = sorted(Counter(i.issued_on.year for i in every).items(), reverse=True)
    months = sorted(Counter(i.issued_on.month for i in every if year is None or i.issued_on.year == year).items())
    today = clock.today()
    rows = [(i, invoicing.status_of(i, today)) for i in shown]
    due = sum(i.balance for i in every)
    return render_template(
        "billing/invoices.html", rows=rows, years=years, months=months, month_names=MONTHS, year=year, month=month,
        consumption_groups=consumption_groups, consumption_total=sum(l.amount for l in lines),
        period_label=invoicing.month_label(start), due=due, credit=payments.household_credit(household))


@bp.get("/<int:invoice_id>")
@parent_required
def invoice(invoice_id: int):
    item = owned_or_404(Invoice, invoice_id)
    status = invoicing.status_of(item)
    paid_by = (PaymentAllocation.select(PaymentAllocation, Payment).join(Payment)
               .where(PaymentAllocation.invoice == item).order_by(Payment.received_on))
    return render_template("billing/invoice.html", invoice=item, status=status, groups=group_lines(item.lines),
                           payable=invoicing.is_payable_online(item), paid_by=list(paid_by),
                           credit_notes=list(item.credit_notes))


def pdf_response(html: str, filename: str) -> Response:
    try:
        data = pdf.html_to_pdf(html)
    except DomainError as error:
        current_app.logger.error("PDF: %s", error)
        abort(500)
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


def render_invoice_pdf(item: Invoice) -> str:
    """The HTML of an invoice PDF (used by parents, staff and the bench)."""
    return render_template("pdf/invoice.html", invoice=item, groups=group_lines(item.lines),
                           status=invoicing.status_of(item), font_css=pdf.font_css(),
                           month_label=invoicing.month_label(item.period_start))


@bp.get("/<int:invoice_id>/pdf")
@parent_required
def invoice_pdf(invoice_id: int):
    item = owned_or_404(Invoice, invoice_id)
    return pdf_response(render_invoice_pdf(item), f"facture-{item.number}.pdf")


def _settings() -> payments.PaymentSettings:
    return payments.settings_from(current_app.config)


@bp.post("/<int:invoice_id>/payer")
@parent_required
def pay(invoice_id: int):
    """Start a card payment of what is left to pay (amount computed here, never sent by the browser)."""
    item = owned_or_404(Invoice, invoice_id)
    try:
        _transaction, url = payments.start_online_payment(
            item, _settings(), email=current_user.email,
            return_url=url_for("billing.payment_return", _external=True),
            notify_url=url_for("billing.payment_notification", _external=True),
            dummy_bank_url=url_for("billing.dummy_bank", _external=True), origin=current_app.config.get(
                "PAYMENT_ORIGIN", "Portail famille"))
    except DomainError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("billing.invoice", invoice_id=item.id))
    return redirect(url)


def _query_string() -> str:
    if request.method == "POST":
        return request.get_data(as_text=True) or request.query_string.decode()
    return request.query_string.decode()


@bp.route("/paiement/retour", methods=["GET", "POST"])
def payment_return():
    """The parent's browser back from the bank (PayFiP may POST it cross-site, without our session
    cookie or CSRF token): processed and verified like a notification, then the invoice page, which
    itself requires the household's sign-in."""
    try:
        outcome = payments.handle_bank_answer(_query_string(), _settings())
    except payments.UnknownTransaction:
        abort(404)
    transaction = outcome.transaction
    if transaction.order_id is not None:
        message, category = ORDER_OUTCOME_MESSAGES[transaction.status]
        flash(message, category)
        return redirect(url_for("orders.detail", order_id=transaction.order_id))
    message, category = OUTCOME_MESSAGES[transaction.status]
    flash(message, category)
    return redirect(url_for("billing.invoice", invoice_id=transaction.invoice_id))


@bp.route("/paiement/notification", methods=["GET", "POST"])
def payment_notification():
    """Server-to-server notification from the bank: no session; idempotent; unknown → 404."""
    try:
        payments.handle_bank_answer(_query_string(), _settings())
    except payments.UnknownTransaction:
        abort(404)
    return Response("OK", mimetype="text/plain")


@bp.route("/paiement/banque-de-test", methods=["GET", "POST"])
def dummy_bank():
    """The local simulated bank of the dummy backend (development and tests only)."""
    if _settings().backend != "dummy" or current_app.config["PORTAIL_ENV"] == "production":
        abort(404)
    source = request.form if request.method == "POST" else request.args
    transaction_id = source.get("transaction_id", "")
    transaction = OnlineTransaction.get_or_none((OnlineTransaction.transaction_id == transaction_id)
                                                & (OnlineTransaction.backend == "dummy"))
    if transaction is None:
        abort(404)
    asked = source.get("amount", "")
    if request.method == "POST":
        try:
            charged = formatting.parse_money(asked)
        except ValueError:
            charged = None
        try:
            notification = payments.simulate_bank(transaction_id, request.form.get("outcome", ""), charged)
        except DomainError as refusal:
            flash(refusal.message, "error")
            return redirect(url_for("billing.dummy_bank", transaction_id=transaction_id, amount=asked))
        # The bank notifies the portal server to server, then sends the parent back.
        payments.handle_bank_answer(notification, _settings())
        browser = payments.parse_query(notification)
        browser.pop("signed", None)
        return redirect(url_for("billing.payment_return", **browser))
    return render_template("billing/dummy_bank.html", transaction=transaction, asked=asked,
                           outcomes=payments.DUMMY_OUTCOMES, origin=source.get("origin", ""))


@bp.get("/reglements")
@parent_required
def payments_list():
    household = current_household()
    rows = list(Payment.select().where(Payment.household == household)
                .order_by(Payment.received_on.desc(), Payment.id.desc()))
    return render_template("billing/payments.html", rows=rows, credit=payments.household_credit(household))


@bp.get("/reglements/<int:payment_id>/recu.pdf")
@parent_required
def receipt_pdf(payment_id: int):
    item = owned_or_404(Payment, payment_id)
    allocations = list(item.allocations.join(Invoice).order_by(Invoice.issued_on))
    html = render_template("pdf/receipt.html", payment=item, allocations=allocations, font_css=pdf.font_css(),
                           unallocated=item.amount - sum(a.amount for a in allocations),
                           household=current_household())
    return pdf_response(html, f"recu-{item.id}.pdf")


@bp.get("/attestations")
@parent_required
def certificates_list():
    household = current_household()
    years = certificates.years_available(household)
    statements = [certificates.statement(household, year) for year in years]
    return render_template("billing/certificates.html", statements=statements)


@bp.get("/attestations/<int:year>.pdf")
@parent_required
def certificate_pdf(year: int):
    household = current_household()
    if year not in certificates.years_available(household):
        abort(404)
    item = certificates.statement(household, year)
    name, address = invoicing.payer_of(household)
    html = render_template("pdf/certificate.html", statement=item, font_css=pdf.font_css(), payer_name=name,
                           payer_address=address, issued_on=clock.today())
    return pdf_response(html, f"attestation-frais-de-garde-{year}.pdf")


@bp.route("/prelevement", methods=["GET", "POST"])
@parent_required
def direct_debit_page():
    """Ask for prélèvement automatique: IBAN, holder, acceptance of the SEPA mandate; or stop it."""
    household = current_household()
    errors: dict[str, str] = {}
    values = {"holder": "", "iban": "", "bic": ""}
    if request.method == "POST":
        if request.form.get("action") == "revoke":
            direct_debit.revoke_mandate(household)
            flash("Prélèvement automatique arrêté : vos factures se paient de nouveau en ligne ou au guichet.", "success")
            return redirect(url_for("billing.direct_debit_page"))
        values = {key: request.form.get(key, "").strip() for key in values}
        try:
            mandate = direct_debit.sign_mandate(household, values["holder"], values["iban"], values["bic"],
                                                request.form.get("accept") == "1", current_user)
        except DomainError as refusal:
            errors[refusal.field or "iban"] = refusal.message
        else:
            flash(f"Mandat SEPA {mandate.reference} enregistré : vos factures seront prélevées automatiquement.",
                  "success")
            return redirect(url_for("billing.direct_debit_page"))
    mandate = direct_debit.active_mandate(household)
    return render_template("billing/direct_debit.html", mandate=mandate, errors=errors, values=values,
                           masked=direct_debit.masked(mandate.iban) if mandate else ""), 400 if errors else 200


@bp.record_once
def _exempt_notification(state) -> None:
    """The bank's notification and return carry no CSRF token (they are verified with the bank)."""
    state.app.extensions["csrf"].exempt(payment_notification)
    state.app.extensions["csrf"].exempt(payment_return)
