"""The staff mail log (/gestion/courriels): every e-mail with its status, by status and by address, 50 a page."""
from __future__ import annotations

import html
import re

from models import OutgoingMail
from services.core import outbox
from services.core.transactions import write_transaction


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True))))


def test_filter_by_address_and_status_with_pages(demo, client, auth):
    with write_transaction():
        outbox.send_many([(f"parent{n:03d}@exemple.fr", f"Message {n}", "…") for n in range(120)])
        outbox.send("autre@example.fr", "Pour quelqu'un d'autre", "…")
    OutgoingMail.update(status="failed", attempts=10).where(OutgoingMail.to == "parent007@exemple.fr").execute()
    auth.login("agent@example.fr")
    first = text_of(client.get("/gestion/courriels/?adresse=EXEMPLE.fr"))
    assert "120 courriels · page 1 sur 3." in first and "parent119@exemple.fr" in first
    assert "autre@example.fr" not in first
    third = client.get("/gestion/courriels/?adresse=exemple.fr&page=3")
    assert "page 3 sur 3" in text_of(third) and "parent000@exemple.fr" in text_of(third)
    assert "Page précédente" in text_of(third) and "Page suivante" not in text_of(third)
    assert 'href="/gestion/courriels/?page=2&amp;adresse=exemple.fr"' in third.get_data(as_text=True) or \
        'adresse=exemple.fr' in third.get_data(as_text=True)
    failed = text_of(client.get("/gestion/courriels/?statut=echec&adresse=parent007"))
    assert "1 courriel." in failed and "Échec 10 fois (abandonné)" in failed
    assert "Aucun courriel pour ces critères." in text_of(client.get("/gestion/courriels/?adresse=personne"))


def test_bad_filters_show_the_first_page(demo, client, auth):
    auth.login("agent@example.fr")
    for query in ("page=-1", "page=abc", "page=99999999999999999999", "adresse=" + "x" * 400):
        assert client.get(f"/gestion/courriels/?{query}").status_code == 200, query


def test_families_never_see_the_mail_log(demo, client, auth):
    auth.login("famille.martin@example.fr")
    assert client.get("/gestion/courriels/?adresse=martin").status_code == 404
