"""Demo petite enfance: two structures and Famille Dupont's request for its expected baby, « En commission »."""
from __future__ import annotations

import datetime as dt
import json

from models import Child, EarlyYearsRequest, EarlyYearsStructure
from services.core import clock


def seed(ctx: dict) -> None:
    """The multi-accueil « Les Moussaillons » and the crèche familiale « Les P'tits Mousses »."""
    today, now = clock.today(), clock.local_now()
    moussaillons = EarlyYearsStructure.create(name="Multi-accueil Les Moussaillons", kind="multi-accueil",
                                              address="3 rue du Port, Démo-sur-Mer", position=1)
    mousses = EarlyYearsStructure.create(name="Crèche familiale Les P'tits Mousses", kind="creche-familiale",
                                         address="Maison de l'enfance, Démo-sur-Mer", position=2)
    ctx["early_years_structures"] = {"moussaillons": moussaillons, "mousses": mousses}
    dupont = ctx["households"]["dupont"]
    baby = Child.create(household=dupont, last_name="Dupont", unborn=True,
                        expected_date=today + dt.timedelta(days=90), position=4)
    ctx["children"]["bebe_dupont"] = baby
    hours = {str(day): ["08:30", "17:30"] for day in (0, 1, 3, 4)}
    ctx["early_years_request"] = EarlyYearsRequest.create(
        household=dupont, child=baby, structure=moussaillons, start_date=today + dt.timedelta(days=200),
        schedule=json.dumps(hours), situation="Les deux parents travaillent",
        comment="Reprise du travail de la maman prévue en juin.", status="commission",
        commission_date=today + dt.timedelta(days=11), created_at=now - dt.timedelta(days=20),
        created_by=ctx["users"]["dupont"])
