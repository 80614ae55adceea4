"""News for one class: an agent writes a news item for the CE2 of École du Phare, previews it, publishes
it; Famille Martin (Léa is in CE2 at École du Phare) sees it « Nouveau » on /actualites, opens it and it
is no longer new; Famille Dupont (Inès CM2, Malo CE1, Jade GS) does not see it, and its address is a
404 for them. axe-core on every page, phone and desktop."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import axe_check, sign_in



def test_staff_publishes_for_ce2_martin_sees_it_new_dupont_does_not(page, live_server):
    title = f"Classe découverte des CE2 ({page.viewport_name})"  # both viewports share the server
    sign_in(page, live_server.url, "agent@example.fr")
    page.goto(live_server.url + "/gestion/actualites")
    axe_check(page, "liste des actualités (gestion)")
    page.get_by_role("link", name="Écrire une actualité").click()
    axe_check(page, "nouvelle actualité")
    page.get_by_label("Titre").fill(title)
    page.get_by_label("Texte (Markdown)").fill("Départ **lundi 7 décembre** à 8 h 30.\n\n<script>alert(1)</script>")
    page.get_by_label("Destinataires").select_option(label="Une classe")
    page.get_by_label("École", exact=True).select_option(label="École du Phare")
    page.get_by_label("Classe", exact=True).select_option("CE2")
    page.get_by_role("button", name="Prévisualiser").click()
    preview = page.get_by_role("region", name=re.compile("Aperçu"))
    expect(preview.locator("strong")).to_have_text("lundi 7 décembre")
    expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
    axe_check(page, "aperçu")
    page.get_by_role("button", name="Enregistrer l'actualité").click()
    expect(page.get_by_role("status")).to_contain_text(f"Actualité « {title} » enregistrée")
    expect(page.get_by_role("row", name=re.compile(re.escape(title)))).to_contain_text("Classe CE2 – École du Phare")
    axe_check(page, "actualité publiée")
    page.goto(live_server.url + "/gestion/publications")
    expect(page.get_by_role("link", name=re.compile("^Menus de décembre"))).to_be_visible()
    axe_check(page, "documents publiés (gestion)")
    page.get_by_role("link", name="Publier un document").click()
    axe_check(page, "publier un document")

    sign_in(page, live_server.url, "famille.martin@example.fr")
    page.goto(live_server.url + "/mon-espace")  # the dashboard says it first
    expect(page.locator("#bloc-actualites")).to_contain_text(f"Nouveau : {title}")
    axe_check(page, "tableau de bord de la famille Martin")
    page.goto(live_server.url + "/actualites")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=title))
    expect(card).to_contain_text("Nouveau")
    axe_check(page, "actualités de la famille Martin")
    card.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    detail_url = page.url
    axe_check(page, "détail de l'actualité")
    page.get_by_role("link", name="← Actualités").click()
    expect(page.get_by_role("listitem").filter(has=page.get_by_role("link", name=title))).not_to_contain_text("Nouveau")
    page.goto(live_server.url + "/documents")
    expect(page.get_by_role("heading", name=re.compile("Menus"))).to_be_visible()
    axe_check(page, "documents publiés")

    sign_in(page, live_server.url, "famille.dupont@example.fr")
    page.goto(live_server.url + "/mon-espace")
    expect(page.get_by_text(f"Nouveau : {title}")).to_have_count(0)
    page.goto(live_server.url + "/actualites")
    expect(page.get_by_role("heading", name="Actualités", level=1)).to_be_visible()
    expect(page.get_by_role("link", name=title)).to_have_count(0)
    axe_check(page, "actualités de la famille Dupont")
    response = page.goto(detail_url)
    assert response.status == 404

    sign_in(page, live_server.url, "admin@example.fr")
    page.goto(live_server.url + "/gestion/publications/categories")
    expect(page.get_by_label("Nom de la catégorie « Menus »")).to_be_visible()
    axe_check(page, "catégories de documents")
    assert not page.js_errors
