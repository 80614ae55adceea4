"""A process killed (SIGKILL) inside the validation's transaction leaves nothing half-written: no order
without its lines, no booking without its order, no number taken, the basket intact and validating
normally afterwards with the next number — on SQLite and PostgreSQL. bench/crash.py does the same
with gunicorn and the worker as real processes."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from models import BasketLine, Booking, Household, Order, OrderCounter, OrderLine, OutgoingMail, db
from services.billing import checkout
from services.booking import basket

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-19T17:55"

# Runs « Valider » (checkout.validate_basket) in a child process that SIGKILLs itself at the chosen point of the transaction.
CHILD = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    os.environ["PORTAIL_QUEUE"] = "memory"
    from app import create_app
    create_app({{"DATABASE_URL": {url!r}, "SECRET_KEY": "crash", "PORTAIL_NOW": {now!r},
                "OUTBOX_DIR": {outbox!r}, "UPLOAD_DIR": {outbox!r}}})
    from models import Household, OutgoingMail, db
    from services.billing import checkout
    from services.booking import basket

    def then_die(original):
        def call(*args, **kwargs):
            original(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)  # the rows are written, the transaction not committed
        return call

    if {point!r} == "line":
        basket.run_insert = then_die(basket.run_insert)  # the order's lines, in one insert
    else:
        OutgoingMail.create = classmethod(then_die(OutgoingMail.create.__func__))
    with db.connection_context():
        checkout.validate_basket(Household.get_by_id({household}))
    print("not killed")
""")


def _counts() -> dict:
    return {"orders": Order.select().count(), "lines": OrderLine.select().count(),
            "bookings": Booking.select().count(), "mails": OutgoingMail.select().count(),
            "counter": OrderCounter.select(OrderCounter.last).where(OrderCounter.year == 2026).scalar() or 0}


@pytest.mark.parametrize("point", ["line", "mail"])
def test_validation_killed_inside_its_transaction_leaves_nothing_half_written(app, demo, freeze, tmp_path, point):
    freeze(NOW)
    martin = Household.get_by_id(demo["households"]["martin"].id)
    lea, repas = demo["children"]["lea"].id, demo["units"]["repas_phare"].id
    for day in (dt.date(2026, 11, 23), dt.date(2026, 11, 24)):
        basket.set_cell(martin, lea, repas, day, True)
    before = _counts()
    db.close()
    script = CHILD.format(root=str(ROOT), url=app.config["DATABASE_URL"], now=NOW, point=point,
                          outbox=str(tmp_path / "child"), household=martin.id)
    child = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "INSTANCE_PATH": str(tmp_path / "child")})
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    db.connect(reuse_if_open=True)

    assert _counts() == before  # no order, line, booking, mail or number survived the kill
    assert BasketLine.select().where(BasketLine.household == martin.id).count() == 2
    validation = checkout.validate_basket(martin)  # after the "restart": the basket goes through normally
    assert validation.order.number == f"2026-{before['counter'] + 1:06d}"
    assert OrderLine.select().where(OrderLine.order == validation.order.id).count() == 2
