"""« Valider » the basket, whole: the order (booking), then the money of the paid days it cancelled
(the ledger) and the notices to families whose waiting-list day got the freed place, in one write
transaction, so an order is never recorded without its refunds. The desk's « Valider » goes the same way.
"""
from __future__ import annotations

import datetime as dt

from models import Household, User
from services.billing import ledger
from services.booking import basket, desk, orders
from services.core.transactions import write_transaction


def validate_basket(household: Household, user: User | None = None, now: dt.datetime | None = None, *,
                    notify: bool = True) -> basket.Validation:
    """The basket becomes an order (basket.validate), cancelled paid days an avoir, freed places offers."""
    with write_transaction():
        validation = basket.validate(household, user, now, notify=notify)
        ledger.refund_prepaid_days(validation.cancelled_prepaid)
        if notify and validation.freed:
            orders.notify_promotions(validation.freed)
    return validation


def validate_at_desk(household: Household, staff: User, wanted: dict, reason: str = "",
                     now: dt.datetime | None = None) -> desk.DeskResult:
    """The desk's changes (desk.book_at_desk), then, like the basket, refunds and freed places' offers."""
    with write_transaction():
        result = desk.book_at_desk(household, staff, wanted, reason, now)
        ledger.refund_prepaid_days(result.validation.cancelled_prepaid)
        if result.validation.freed:
            orders.notify_promotions(result.validation.freed)
    return result
