"""The e-mail after « Valider » (the basket's or the desk's): the order, its lines, the refused ones."""
from __future__ import annotations

from models import Household
from services.booking import placement
from services.core import formatting, outbox


def describe_result(result: placement.LineResult) -> str:
    sign = "+" if result.action == "add" else "Annulation"
    return (f"{sign} {formatting.cell_name(result.child, result.unit, result.date)} : {result.outcome_label}"
            + (f" ({result.message})" if result.outcome == "refused" else ""))


def send_summary(household: Household, validation) -> None:
    """The e-mail after "Valider": the order, its lines, the refused ones."""
    order = validation.order
    if order is not None:
        subject = f"Commande n° {order.number} enregistrée"
        lines = [f"Votre commande n° {order.number} a été enregistrée le "
                 f"{formatting.datetime_long(order.created_at)}{' au guichet' if order.at_desk else ''}.", ""]
    else:
        subject = "Votre panier n'a pas pu être validé"
        lines = ["Aucune ligne de votre panier n'a pu être enregistrée.", ""]
    for result in validation.placed:
        price = f" – {formatting.money(result.price)}" if result.price else ""
        lines.append(f"- {describe_result(result)}{price}")
    if validation.refused:
        lines += ["", "Lignes non enregistrées :"]
        lines += [f"- {describe_result(r)}" for r in validation.refused]
    if order is not None:
        lines += ["", f"Total : {formatting.money(order.total)}"]
        if order.payment_status == "awaiting_payment":
            lines += [f"À payer avant le {formatting.datetime_long(order.expires_at)} : "
                      f"{formatting.money(order.amount_due)}. Les jours « En attente de paiement » sont "
                      "confirmés une fois la commande payée ; sans paiement, ils sont libérés."]
    lines += ["", "Retrouvez vos commandes dans l'espace « Commandes » du portail famille."]
    body = "\n".join(lines)
    for address in household.parent_emails():
        outbox.send(address, subject, body)
