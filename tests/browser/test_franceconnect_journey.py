"""Sign-in with FranceConnect links an account: the live server is configured with the local OpenID Connect
provider (tests/oidc_provider.py); Claire Martin clicks « S'identifier avec FranceConnect », the provider
auto-consents, the portal finds the demo account with her e-mail and asks its password (a wrong one is
refused), links it and she lands signed in. axe-core on /connexion and on the link page, phone and desktop."""
from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import expect

from services.demo import DEMO_PASSWORD
from tests import oidc_provider
from tests.browser.conftest import LiveServer, axe_check


@pytest.fixture(scope="module")
def provider():
    started = oidc_provider.Provider().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def fc_server(tmp_path_factory, provider):
    """A live server of its own, whose FranceConnect settings point at the local provider."""
    server = LiveServer(tmp_path_factory.mktemp("live-franceconnect"))
    server.env.update(provider.settings())
    server.start()
    yield server
    server.stop()


def _links(server) -> list[tuple]:
    with sqlite3.connect(server.instance / "portail.db") as connection:
        return connection.execute('SELECT l.sub, u.email FROM france_connect_link l JOIN "user" u ON u.id = l.user_id'
                                  ).fetchall()


def test_existing_parent_links_the_account_and_lands_signed_in(page_phone, page_desktop, fc_server, provider):
    page = page_phone
    provider.next_identity = dict(oidc_provider.MARTIN)
    page.goto(fc_server.url + "/connexion")
    button = page.get_by_role("link", name="S'identifier avec FranceConnect")
    expect(button).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Qu'est-ce que FranceConnect"))).to_be_visible()
    axe_check(page, "connexion avec le bouton FranceConnect (téléphone)")
    box = button.bounding_box()
    assert box and box["height"] >= 44
    button.click()  # to the provider, which consents at once and sends the browser back

    expect(page.get_by_role("heading", level=1)).to_have_text("Lier mon compte à FranceConnect")
    expect(page.locator("main")).to_contain_text("famille.martin@example.fr")
    axe_check(page, "lier mon compte (téléphone)")
    page.get_by_label("Mot de passe de votre compte").fill("Pas-le-bon-mot-2026!")
    page.get_by_role("button", name="Lier mon compte").click()
    expect(page.get_by_text("Adresse e-mail ou mot de passe incorrect.")).to_be_visible()
    assert _links(fc_server) == []
    page.get_by_label("Mot de passe de votre compte").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Lier mon compte").click()
    expect(page.get_by_role("status")).to_contain_text("Votre compte est relié à FranceConnect")
    expect(page).to_have_url(re.compile(r"/mon-espace$"))
    assert _links(fc_server) == [("fc-sub-claire-martin", "famille.martin@example.fr")]

    # Now linked: on a desktop, FranceConnect alone signs her in (no password asked).
    page = page_desktop
    provider.next_identity = dict(oidc_provider.MARTIN)
    page.goto(fc_server.url + "/connexion")
    axe_check(page, "connexion avec le bouton FranceConnect (ordinateur)")
    page.get_by_role("link", name="S'identifier avec FranceConnect").click()
    expect(page).to_have_url(re.compile(r"/mon-espace$"))
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
