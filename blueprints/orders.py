"""The basket (/panier), orders (/commandes) and "Mes alertes" (/alertes) for parents."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from blueprints.access import current_household, menu_count
from blueprints.billing import bank_urls
from blueprints.reservation_forms import PageForm
from services.billing import checkout, ledger, online_payments
from services.booking import basket, orders
from services.core import formatting, notifications
from services.core.errors import DomainError, NotFound

HISTORY_PAGE = 10
bp = Blueprint("orders", __name__)


def basket_page():
    """Every pending change grouped by child and unit, with prices and the total."""
    household = current_household()
    view = basket.contents(household)
    return render_template("orders/basket.html", view=view, basket_count=view.count)


# The reserved name used by templates: url_for("orders.basket").
bp.add_url_rule("/panier", endpoint="basket", view_func=basket_page, methods=["GET"])


@bp.post("/panier/lignes/<int:line_id>/retirer")
def remove_line(line_id: int):
    try:
        basket.remove_line(current_household(), line_id)
    except NotFound:
        abort(404)
    flash("Ligne retirée du panier.", "success")
    return redirect(url_for("orders.basket"))


@bp.route("/panier/vider", methods=["GET", "POST"])
def clear():
    """« Vider le panier » asks first (a page, so it works without JavaScript); the POST empties it."""
    if request.method == "GET":
        return render_template("orders/clear.html", count=basket.count(current_household()))
    removed = basket.clear(current_household())
    flash(f"Panier vidé ({removed} ligne(s) retirée(s))." if removed else "Le panier était déjà vide.", "success")
    return redirect(url_for("orders.basket"))


@bp.post("/panier/valider")
def validate():
    """"Valider": every line re-checked; a numbered order; refused lines reported."""
    household = current_household()
    try:
        result = checkout.validate_basket(household, current_user._get_current_object())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("orders.basket"))
    for refused in result.refused:
        flash(f"Non enregistré – {formatting.cell_name(refused.child, refused.unit, refused.date)} : {refused.message}",
              "error")
    if result.order is None:
        flash("Aucune ligne n'a pu être enregistrée : rien n'a été réservé.", "error")
        return redirect(url_for("orders.basket"))
    flash(orders.format_order_heading(result.order) + ".", "success")
    if result.order.payment_status == "awaiting_payment":
        flash(f"Payez {formatting.money(result.order.amount_due)} avant "
              f"{formatting.hour(result.order.expires_at)} pour confirmer les jours « En attente de paiement » : "
              "sans paiement, ils seront libérés.", "info")
    return redirect(url_for("orders.detail", order_id=result.order.id))


@bp.get("/commandes")
def index():
    """"Commandes en attente" and "Historique"."""
    household = current_household()
    pending, history = orders.household_orders(household)
    # The history in pages of 10 (the 100 newest orders are loaded; the lines stay folded on the list).
    pages = max(1, -(-len(history) // HISTORY_PAGE))
    page = min(PageForm(request.args).number, pages)
    shown = history[(page - 1) * HISTORY_PAGE:page * HISTORY_PAGE]
    return render_template("orders/index.html", pending=pending, history=shown, page=page, pages=pages,
                           basket_count=basket.count(household), unread=menu_count("orders.alerts"))


@bp.get("/commandes/<int:order_id>")
def detail(order_id: int):
    household = current_household()
    try:
        view = orders.get_order(household, order_id)
    except NotFound:
        abort(404)
    balance = ledger.order_balance(view.order) if view.awaiting_payment else 0
    return render_template("orders/detail.html", view=view, basket_count=basket.count(household),
                           balance=balance, credit=ledger.household_credit(household) if balance else 0)


@bp.post("/commandes/<int:order_id>/payer")
def pay(order_id: int):
    """"Payer" a prepaid order: avoir first, then the card (amount computed here, never the browser's)."""
    household = current_household()
    try:
        view = orders.get_order(household, order_id)
    except NotFound:
        abort(404)
    try:
        _transaction, url = online_payments.start_order_payment(
            view.order, online_payments.settings_from(current_app.config), **bank_urls())
    except DomainError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("orders.detail", order_id=order_id))
    if url is None:
        if orders.get_order(household, order_id).order.payment_status == "paid":
            flash("Votre avoir a réglé la commande : elle est confirmée.", "success")
        else:
            flash("Votre avoir a réglé la commande : sa confirmation est en cours, vous recevrez un e-mail.", "info")
        return redirect(url_for("orders.detail", order_id=order_id))
    return redirect(url)


@bp.get("/alertes")
def alerts():
    """"Mes alertes": decisions, waiting-list places, emptied basket; the unread ones are marked « Nouveau »
    until « Tout marquer comme lu » (reading a page changes nothing)."""
    household = current_household()
    rows = notifications.alerts(household)
    unread = {a.id for a in rows if not a.read}
    return render_template("orders/alerts.html", alerts=rows, unread=unread, basket_count=basket.count(household),
                           form=FlaskForm())


@bp.post("/alertes/tout-lu")
def mark_alerts_read():
    """« Tout marquer comme lu »."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    count = notifications.mark_alerts_read(current_household())
    flash(f"{count} alerte{'s' if count > 1 else ''} marquée{'s' if count > 1 else ''} comme lue{'s' if count > 1 else ''}."
          if count else "Aucune alerte non lue.", "success")
    return redirect(url_for("orders.alerts"))
