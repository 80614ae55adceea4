"""The demo commune ("Mairie de Démo"): one command loads every area's demo data in order.

Each area owns one module here with a `seed(ctx)` function; `ctx` is a dict that earlier
modules fill (users, households, children, activities…) for later ones to use.
"""
from __future__ import annotations

import importlib

from models import OutgoingMail
from services.core.transactions import write_transaction

# Order matters: later areas use what earlier ones created.
AREAS = ["foundation", "household", "activities", "outings", "bookings", "billing", "messaging", "communication",
         "early_years"]

DEMO_PASSWORD = "Demo-Portail-2026!"


def seed_demo() -> dict:
    """Load the whole demo commune in one transaction; returns the shared context."""
    ctx: dict = {"password": DEMO_PASSWORD}
    with write_transaction():
        for area in AREAS:
            try:
                module = importlib.import_module(f"services.demo.{area}")
            except ModuleNotFoundError as error:
                if error.name == f"services.demo.{area}":
                    continue  # that area is not built yet
                raise
            module.seed(ctx)
        # The demo's past (last month's invoices) is not news: no mail of it is ever delivered.
        OutgoingMail.delete().execute()
    return ctx
