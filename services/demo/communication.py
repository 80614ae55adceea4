"""Demo news and published documents: a news item for every family, one for the CE2 of École du Phare
(Léa Martin's class), one for the families of ALSH Mercredi, the December menus (a PDF) and the
règlement de fonctionnement, so /actualites and /documents show something."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from services.communication import categories, news, publications
from services.communication.news import Draft
from services.core import clock
from services.demo.household import DEMO_PDF
from services.family import documents

MENUS = """Les menus de **décembre** sont en ligne dans la rubrique *Documents › Menus*.

- repas de Noël le jeudi 17 décembre ;
- produits locaux chaque vendredi.

Une question sur un régime ou un PAI : [écrivez à la mairie](mailto:mairie@example.fr)."""

CE2 = """Les élèves de CE2 visiteront le musée de la Marine le **mardi 8 décembre**.

Prévoyez un pique-nique et une tenue chaude : le repas de la cantine de ce jour-là est décompté
automatiquement."""

ALSH = """L'accueil de loisirs du mercredi prépare un spectacle pour les familles.

## Quand ?

Mercredi 16 décembre à 16 h 30, salle polyvalente."""


def seed(ctx: dict) -> None:
    """Categories, three news items (through the staff service, so they are audited) and two documents."""
    categories.ensure_defaults()
    agent, now = ctx["users"]["agent"], clock.local_now()
    upload_dir = Path(ctx.get("upload_dir") or documents.default_upload_dir
                      or Path(__file__).resolve().parents[2] / "instance" / "uploads")
    phare = ctx["schools"]["phare"]
    mercredi = ctx.get("activities", {}).get("alsh_mercredi")
    days = dt.timedelta(days=1)
    news.save_news(agent, Draft("Les menus de décembre sont en ligne", publish_from=now - 6 * days, body=MENUS),
                   upload_dir)
    news.save_news(agent, Draft("Sortie au musée pour les CE2", audience="class", school_id=phare.id,
                                class_level="CE2", publish_from=now - 2 * days, body=CE2), upload_dir)
    if mercredi is not None:
        news.save_news(agent, Draft("Spectacle de l'accueil de loisirs", audience="activity", activity_id=mercredi.id,
                                    publish_from=now - 1 * days, body=ALSH), upload_dir)
    by_name = {category.name: category for category in categories.all_categories()}
    publications.save_document(agent, Draft("Menus de décembre", publish_from=now - 6 * days), by_name["Menus"].id,
                               _next_month(now.date()), upload_dir, upload=("menus-decembre.pdf", DEMO_PDF))
    publications.save_document(agent, Draft("Règlement de fonctionnement 2026-2027", publish_from=now - 60 * days),
                               by_name["Règlements de fonctionnement"].id, dt.date(2026, 7, 1), upload_dir,
                               upload=("reglement-2026-2027.pdf", DEMO_PDF))


def _next_month(day: dt.date) -> dt.date:
    """The first day of the month after `day` (the menus published at the end of November are December's)."""
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
