"""Demo news and published documents: a news item for every family, one for the CE2 of École du Phare
(Léa Martin's class), one for the families of ALSH Mercredi, the December menus (a PDF) and the
règlement de fonctionnement, so /actualites and /documents show something."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from models import NewsItem, PublishedDocument
from services.communication import categories, files
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
    """Categories, three news items and two documents, written as the demo's past (no journal entries:
    the demo's other areas are not in the journal either)."""
    categories.ensure_defaults()
    agent, now = ctx["users"]["agent"], clock.local_now()
    upload_dir = Path(ctx.get("upload_dir") or documents.default_upload_dir
                      or Path(__file__).resolve().parents[2] / "instance" / "uploads")
    mercredi = ctx.get("activities", {}).get("alsh_mercredi")
    days = dt.timedelta(days=1)
    stamps = dict(author=agent, created_at=now, updated_at=now, mailed_at=now)  # the demo's past is not news
    NewsItem.create(title="Les menus de décembre sont en ligne", body=MENUS, publish_from=now - 6 * days, **stamps)
    NewsItem.create(title="Sortie au musée pour les CE2", body=CE2, audience="class", class_level="CE2",
                    school=ctx["schools"]["phare"], publish_from=now - 2 * days, **stamps)
    if mercredi is not None:
        NewsItem.create(title="Spectacle de l'accueil de loisirs", body=ALSH, audience="activity", activity=mercredi,
                        publish_from=now - days, **stamps)
    by_name = {category.name: category for category in categories.all_categories()}
    for title, category, day, published, filename in (
            ("Menus de décembre", "Menus", _next_month(now.date()), now - 6 * days, "menus-decembre.pdf"),
            ("Règlement de fonctionnement 2026-2027", "Règlements de fonctionnement", dt.date(2026, 7, 1),
             now - 60 * days, "reglement-2026-2027.pdf")):
        stored, name, content_type = files.store(upload_dir, filename, DEMO_PDF)
        PublishedDocument.create(category=by_name[category], title=title, document_date=day, stored_name=stored,
                                 original_name=name, content_type=content_type, size=len(DEMO_PDF),
                                 publish_from=published, **stamps)


def _next_month(day: dt.date) -> dt.date:
    """The first day of the month after `day` (the menus published at the end of November are December's)."""
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
