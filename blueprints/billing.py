"""Parents' finances (/factures): consumptions to invoice, invoices and their PDF, online payment,
payments with receipts, yearly childcare statements. Every query starts from the household."""
from __future__ import annotations

from collections import OrderedDict
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.access import current_household, owned_or_404
from blueprints.billing_forms import DirectDebitForm, DummyBankForm, InvoiceFilterForm
from blueprints.reservation_forms import PageForm
from models import Invoice, OnlineTransaction, Payment, PaymentAllocation
from services.billing import certificates, direct_debit, invoicing, ledger, listings, online_payments, payments
from services.core import clock, formatting, pdf
from services.core.errors import DomainError

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
    # A payment recorded but not (or no longer) turning into the order's confirmation.
    "paid_unconfirmed": ("Paiement accepté : la confirmation de votre commande est en cours, vous recevrez "
                         "un e-mail dès qu'elle est faite.", "success"),
    "paid_late": ("Paiement reçu après l'expiration de la commande : il est gardé en avoir et servira à vos "
                  "prochaines commandes ou factures.", "info"),
    "surplus": ("Paiement reçu alors que la commande était déjà réglée : il est gardé en avoir et servira à vos "
                "prochaines commandes ou factures.", "info"),
}
OUTCOME_MESSAGES = {
    "paid": ("Paiement accepté : la facture est payée. Un e-mail de confirmation vous a été envoyé.", "success"),
    "refused": ("Paiement refusé par la banque : la facture reste à payer.", "error"),
    "cancelled": ("Paiement abandonné : la facture reste à payer.", "info"),
    "anomaly": ("Le montant payé ne correspond pas à la facture : le service enfance vérifie et vous recontacte.",
                "error"),
    "pending": ("Paiement en cours de vérification : la facture sera marquée payée dès la confirmation de la banque.",
                "info"),
    "surplus": ("Paiement reçu alors que la facture était déjà réglée : il est gardé en avoir et servira à régler "
                "vos prochaines factures.", "info"),
}
UNAVAILABLE_ON_RETURN = (f"{online_payments.UNAVAILABLE} Si vous avez payé, votre paiement sera pris en compte "
                         "automatiquement dès que le service répondra : ne payez pas une seconde fois.")


def outcome_message(transaction: OnlineTransaction) -> tuple[str, str]:
    """What the parent reads back from the bank, for an invoice or an order."""
    key = transaction.status
    if key == "anomaly" and transaction.payment_id is not None:
        key = "surplus"  # money received for something already paid: kept as avoir
    if transaction.order_id is None:
        return OUTCOME_MESSAGES[key]
    if key == "paid" and transaction.order.payment_status == "expired":
        key = "paid_late"
    elif key == "paid" and transaction.order.payment_status != "paid":
        key = "paid_unconfirmed"
    return ORDER_OUTCOME_MESSAGES[key]


def group_lines(lines) -> "OrderedDict[str, list]":
    """Invoice lines grouped under 'Léa Martin – Restauration scolaire – École du Phare, octobre 2026'."""
    groups: OrderedDict[str, list] = OrderedDict()
    for line in lines:
        key = f"{line.child_name} – {line.heading}" if line.child_name else line.heading
        groups.setdefault(key, []).append(line)
    return groups


@bp.get("/")
def invoices():
    """Consommations à facturer, then the invoices (filters by year and month)."""
    household = current_household()
    start, end, lines = invoicing.running_consumptions(household)
    consumption_groups: OrderedDict[str, list] = OrderedDict()
    for line in lines:
        consumption_groups.setdefault(f"{line.child.full_name} – {line.heading}", []).append(line)
    filters = InvoiceFilterForm(request.args)
    year, month = filters.annee.data, filters.mois.data
    listing = listings.household_invoices(household, year, month, PageForm(request.args).number)
    today = clock.today()
    rows = [(i, invoicing.status_of(i, today)) for i in listing.rows]
    return render_template(
        "billing/invoices.html", rows=rows, years=listing.years, months=listing.months, month_names=MONTHS,
        year=year, month=month, page=listing.page, pages=listing.pages, due=listing.due,
        consumption_groups=consumption_groups, consumption_total=sum(l.amount for l in lines),
        period_label=formatting.month_label(start), credit=ledger.household_credit(household))


@bp.get("/<int:invoice_id>")
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
                           status=invoicing.status_of(item),
                           month_label=formatting.month_label(item.period_start))


@bp.get("/<int:invoice_id>/pdf")
def invoice_pdf(invoice_id: int):
    item = owned_or_404(Invoice, invoice_id)
    return pdf_response(render_invoice_pdf(item), f"facture-{item.number}.pdf")


def _settings() -> online_payments.PaymentSettings:
    return online_payments.settings_from(current_app.config)


def bank_urls() -> dict:
    """Where the bank sends the parent back and notifies us (for invoices and orders alike)."""
    return dict(email=current_user.email, return_url=url_for("billing.payment_return", _external=True),
                notify_url=url_for("billing.payment_notification", _external=True),
                dummy_bank_url=url_for("billing.dummy_bank", _external=True),
                origin=current_app.config.get("PAYMENT_ORIGIN", "Portail famille"))


@bp.post("/<int:invoice_id>/payer")
def pay(invoice_id: int):
    """Start a card payment of what is left to pay (amount computed here, never sent by the browser);
    a payment already under way for this invoice is reused."""
    item = owned_or_404(Invoice, invoice_id)
    try:
        _transaction, url = online_payments.start_online_payment(item, _settings(), **bank_urls())
    except DomainError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("billing.invoice", invoice_id=item.id))
    return redirect(url)


def _query_string() -> str:
    """The bank's answer as a query string: a POSTed form (read from request.form, since an earlier
    hook may have consumed the body to parse it), a raw POST body, or the URL's query. Read raw on
    purpose: it is relayed as-is to eopayment, which checks its signature."""
    if request.method == "POST":
        if request.form:
            return urlencode(list(request.form.items(multi=True)))
        return request.get_data(as_text=True) or request.query_string.decode()
    return request.query_string.decode()


def _back_to(transaction: OnlineTransaction) -> str:
    if transaction.order_id is not None:
        return url_for("orders.detail", order_id=transaction.order_id)
    return url_for("billing.invoice", invoice_id=transaction.invoice_id)


@bp.route("/paiement/retour", methods=["GET", "POST"])
def payment_return():
    """The parent's browser back from the bank (PayFiP may POST it cross-site, without our session
    cookie or CSRF token): processed and verified like a notification, then the invoice or order
    page, which itself requires the household's sign-in."""
    query = _query_string()
    try:
        outcome = online_payments.handle_bank_answer(query, _settings())
    except online_payments.UnknownTransaction:
        abort(404)
    except online_payments.PaymentServiceUnavailable:
        # The transaction stays pending: the worker asks the bank again until it answers.
        transaction = online_payments.transaction_in(query, _settings())
        flash(UNAVAILABLE_ON_RETURN, "error")
        return redirect(_back_to(transaction))
    message, category = outcome_message(outcome.transaction)
    flash(message, category)
    return redirect(_back_to(outcome.transaction))


@bp.route("/paiement/notification", methods=["GET", "POST"])
def payment_notification():
    """Server-to-server notification from the bank: no session; idempotent; unknown → 404; the bank
    unreachable to verify it → 503 (the transaction stays pending for the worker)."""
    try:
        online_payments.handle_bank_answer(_query_string(), _settings())
    except online_payments.UnknownTransaction:
        abort(404)
    except online_payments.PaymentServiceUnavailable:
        return Response("Service de paiement injoignable : nouvelle vérification automatique.", status=503,
                        mimetype="text/plain")
    return Response("OK", mimetype="text/plain")


@bp.route("/paiement/banque-de-test", methods=["GET", "POST"])
def dummy_bank():
    """The local simulated bank of the dummy backend (development and tests only)."""
    if _settings().backend != "dummy" or current_app.config["PORTAIL_ENV"] == "production":
        abort(404)
    form = DummyBankForm(request.form if request.method == "POST" else request.args)
    transaction_id = form.transaction_id.data or ""
    transaction = OnlineTransaction.get_or_none((OnlineTransaction.transaction_id == transaction_id)
                                                & (OnlineTransaction.backend == "dummy"))
    if transaction is None:
        abort(404)
    asked = form.amount.data or ""
    if request.method == "POST":
        try:
            notification = online_payments.simulate_bank(transaction_id, form.outcome.data or "", form.charged)
        except DomainError as refusal:
            flash(refusal.message, "error")
            return redirect(url_for("billing.dummy_bank", transaction_id=transaction_id, amount=asked))
        # The bank notifies the portal server to server, then sends the parent back.
        online_payments.handle_bank_answer(notification, _settings())
        browser = online_payments.parse_query(notification)
        browser.pop("signed", None)
        return redirect(url_for("billing.payment_return", **browser))
    return render_template("billing/dummy_bank.html", transaction=transaction, asked=asked,
                           outcomes=online_payments.DUMMY_OUTCOMES, origin=form.origin.data or "")


@bp.get("/reglements")
def payments_list():
    household = current_household()
    rows = list(Payment.select().where(Payment.household == household)
                .order_by(Payment.received_on.desc(), Payment.id.desc()))
    return render_template("billing/payments.html", rows=rows, credit=ledger.household_credit(household))


@bp.get("/reglements/<int:payment_id>/recu.pdf")
def receipt_pdf(payment_id: int):
    item = owned_or_404(Payment, payment_id)
    return render_receipt_pdf(item, current_household())


def render_receipt_pdf(item: Payment, household) -> Response:
    """The « Reçu » PDF of a payment (the family's page and the desk)."""
    receipt = payments.receipt(item)
    html = render_template("pdf/receipt.html", receipt=receipt, household=household)
    return pdf_response(html, f"recu-{receipt.number}.pdf")


@bp.get("/attestations")
def certificates_list():
    household = current_household()
    years = certificates.years_available(household)
    statements = [certificates.statement(household, year) for year in years]
    return render_template("billing/certificates.html", statements=statements)


@bp.get("/attestations/<int:year>.pdf")
def certificate_pdf(year: int):
    household = current_household()
    if year not in certificates.years_available(household):
        abort(404)
    item = certificates.statement(household, year)
    name, address = invoicing.payer_of(household)
    html = render_template("pdf/certificate.html", statement=item, payer_name=name,
                           payer_address=address, issued_on=clock.today())
    return pdf_response(html, f"attestation-frais-de-garde-{year}.pdf")


@bp.route("/prelevement", methods=["GET", "POST"])
def direct_debit_page():
    """Ask for prélèvement automatique: IBAN, holder, acceptance of the SEPA mandate; or stop it."""
    household = current_household()
    errors: dict[str, str] = {}
    values = {"holder": "", "iban": "", "bic": ""}
    if request.method == "POST":
        form = DirectDebitForm(request.form)
        if form.action.data == "revoke":
            direct_debit.revoke_mandate(household)
            flash("Prélèvement automatique arrêté : vos factures se paient de nouveau en ligne ou au guichet.", "success")
            return redirect(url_for("billing.direct_debit_page"))
        values = form.values()
        try:
            mandate = direct_debit.sign_mandate(household, values["holder"], values["iban"], values["bic"],
                                                form.accepted, current_user)
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
