"""The parents' dashboard (/mon-espace) for the demo Martin household at the frozen clock (Sunday 29 November
2026, 11 h), the alerts' unread count in the menu and « Tout marquer comme lu », the e-mail preferences form,
and the dashboard's query count, which does not grow with bookings, invoices or alerts."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from blueprints import portal
from models import Alert, Booking, FamilyDocument, Household, Invoice, MailOptOut
from services.accounts import mail_preferences
from services.core import clock
from services.core.errors import InvalidInput
from tests.conftest import post_form
from tests.test_query_counts import counting_queries


def text_of(response) -> str:
    """The page as a reader hears it: tags removed, spaces squashed."""
    page = re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True)))
    return re.sub(r"\s+", " ", page)


def block(response, key: str) -> str:
    page = html.unescape(response.get_data(as_text=True))
    match = re.search(rf'<section class="card dashboard-block" id="bloc-{key}".*?</section>', page, re.S)
    assert match, f"no block {key}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


def add_alert(household, title: str, read: bool = False) -> Alert:
    return Alert.create(household=household, created_at=clock.local_now(), title=title, body="…", read=read)


@pytest.fixture
def martin(demo, client, auth):
    auth.login("famille.martin@example.fr")
    return demo


def test_the_martin_dashboard_shows_each_block_with_its_link(martin, client):
    martin_household = martin["households"]["martin"]
    add_alert(martin_household, "Réservation acceptée")
    page = client.get("/mon-espace")
    assert page.status_code == 200
    days = block(page, "jours")
    assert "Léa – Aujourd'hui (dimanche 29 novembre) : rien de réservé" in days
    assert "Hugo – Demain (lundi 30 novembre) : rien de réservé" in days
    deadlines = block(page, "dates-limites")
    assert "Cantine : jusqu'à jeudi 18 h pour la semaine du 7 décembre" in deadlines
    assert "Garderie : jusqu'à aujourd'hui 18 h pour le lundi 30 novembre" in deadlines
    assert "ALSH Mercredi : jusqu'à aujourd'hui minuit pour le mercredi 2 décembre" in deadlines
    assert "ALSH Vacances : jusqu'au lundi 7 décembre à 12 h pour le lundi 21 décembre" in deadlines  # a week away or more
    unpaid = martin["invoices"]["martin_unpaid"]
    invoices = block(page, "factures")
    assert f"Facture {unpaid.number} : 9,00 € à payer" in invoices and "Payer" in invoices
    assert f'href="/factures/{unpaid.id}"' in page.get_data(as_text=True)
    assert "Réservation acceptée" in block(page, "alertes")
    waiting = block(page, "en-attente")
    assert "1 jour(s) en attente de validation" in waiting and "1 jour(s) sur liste d'attente" in waiting
    assert "documents" not in [b.key for b in portal.blocks_for(martin_household)]  # every document is valid


def test_a_changed_deadline_shows_at_once_though_the_weeks_are_kept_per_process(martin, client):
    """The units' weeks and deadlines are worked out once per process (week_deadlines.unit_weeks): a
    policy saved by staff replaces the configuration's token, so the next page tells the new hour."""
    assert "Cantine : jusqu'à jeudi 18 h" in block(client.get("/mon-espace"), "dates-limites")
    canteen = next(unit for unit in Household.get_by_id(martin["households"]["martin"].id).children[0].enrolments
                   [0].activity.units if unit.booking_policy_id)
    policy = canteen.booking_policy
    policy.at_time = "10:00"
    policy.save()
    assert "Cantine : jusqu'à jeudi 10 h" in block(client.get("/mon-espace"), "dates-limites")


def test_a_booked_day_and_a_missing_document_show(martin, client):
    lea, unit = martin["children"]["lea"], martin["units"]["garderie_soir_phare"]
    Booking.create(household=martin["households"]["martin"], child=lea, unit=unit, date=dt.date(2026, 11, 30),
                   status="booked", created_at=clock.local_now())
    FamilyDocument.delete().where(FamilyDocument.household == martin["households"]["martin"]).execute()
    page = client.get("/mon-espace")
    assert "Léa – Demain (lundi 30 novembre) : Garderie soir (Garderie) : Réservé" in block(page, "jours")
    assert "Manquant : " in block(page, "documents")


def test_a_paid_household_has_no_invoice_block(martin, client):
    Invoice.update(paid=Invoice.amount).execute()
    assert 'id="bloc-factures"' not in client.get("/mon-espace").get_data(as_text=True)


def test_other_areas_add_their_block_without_touching_the_portal(martin, client, monkeypatch):
    def news_block(household):
        return portal.Block("kermesse", "Kermesse", [portal.Line("Fête de l'école")], "portal.home", "Toutes")

    monkeypatch.setattr(portal, "DASHBOARD_BLOCKS", portal.DASHBOARD_BLOCKS + [news_block])
    assert "Fête de l'école" in block(client.get("/mon-espace"), "kermesse")


def test_the_menu_counts_unread_alerts_and_mark_all_read_clears_them(martin, client):
    household = martin["households"]["martin"]
    for title in ("Place libérée", "Réservation refusée"):
        add_alert(household, title)
    add_alert(household, "Ancienne", read=True)
    add_alert(martin["households"]["dupont"], "Pas pour les Martin")
    page = client.get("/mon-espace").get_data(as_text=True)
    assert re.search(r'Alertes <span class="nav-count">2<span class="visually-hidden"> non lues</span>', page)
    alerts = client.get("/alertes")
    assert "2 alertes non lues." in text_of(alerts) and "Tout marquer comme lu" in text_of(alerts)
    assert Alert.select().where((Alert.household == household) & ~Alert.read).count() == 2  # reading changes nothing
    response = post_form(client, "/alertes/tout-lu", token_page="/alertes")
    assert response.status_code == 302 and response.headers["Location"].endswith("/alertes")
    after = client.get("/alertes", follow_redirects=True)
    assert "2 alertes marquées comme lues." in text_of(after)
    assert 'class="nav-count"' not in after.get_data(as_text=True)
    assert Alert.select().where((Alert.household == household) & ~Alert.read).count() == 0
    assert Alert.get(Alert.title == "Pas pour les Martin").read is False  # another household's stay unread


def test_mark_all_read_needs_the_csrf_token(martin, client):
    add_alert(martin["households"]["martin"], "Place libérée")
    assert client.post("/alertes/tout-lu").status_code == 400
    assert Alert.select().where(~Alert.read).count() == 1


def test_staff_see_no_alert_count(demo, client, auth):
    auth.login("agent@example.fr")
    assert 'class="nav-count"' not in client.get("/gestion/").get_data(as_text=True)


def test_preferences_form_saves_the_optional_kinds_and_lists_the_mandatory_ones(martin, client):
    user = martin["users"]["martin"]
    page = text_of(client.get("/mon-compte/courriels"))
    assert "Toujours envoyés" in page and "Factures et relances d'impayés" in page and "Reçus de paiement" in page
    for label in mail_preferences.OPTIONAL_KINDS.values():
        assert label in page
    response = post_form(client, "/mon-compte/courriels", {"replies": "y", "news": "y"},
                         token_page="/mon-compte/courriels")
    assert response.status_code == 302
    assert "Vos préférences de courriels sont enregistrées." in text_of(client.get("/mon-compte/courriels"))
    assert mail_preferences.choices_of(user) == {"replies": True, "news": True, "reminders": False}
    assert not mail_preferences.wants(user, "reminders") and mail_preferences.wants(user, "news")
    assert 'name="reminders" type="checkbox" value="y"' in client.get("/mon-compte/courriels").get_data(as_text=True)
    assert "Préférences de courriels" in text_of(client.get("/mon-compte"))


def test_mandatory_mails_cannot_be_switched_off(martin, client):
    user = martin["users"]["martin"]
    response = post_form(client, "/mon-compte/courriels",
                         {"replies": "y", "news": "y", "reminders": "y", "invoices": "", "codes": "n"},
                         token_page="/mon-compte/courriels")
    assert response.status_code == 302
    assert {row.kind for row in MailOptOut.select()} == set()
    with pytest.raises(InvalidInput):
        mail_preferences.wants(user, "invoices")
    with pytest.raises(InvalidInput):
        mail_preferences.save(user, {"replies": True, "news": True, "reminders": True, "invoices": False})


def test_a_value_no_browser_sends_is_refused_and_changes_nothing(martin, client):
    response = post_form(client, "/mon-compte/courriels", {"replies": "peut-être", "news": "y"},
                         token_page="/mon-compte/courriels")
    assert response.status_code == 400
    assert "Choix non reconnu : cochez ou décochez la case." in text_of(response)
    assert MailOptOut.select().count() == 0


def test_opt_outs_only_filter_that_parents_address(martin):
    household = martin["households"]["martin"]
    MailOptOut.create(user=martin["users"]["martin"], kind="news")
    assert mail_preferences.addresses_wanting([household.id], "news") == {household.id: []}
    assert mail_preferences.addresses_wanting([household.id], "replies") == {household.id: ["famille.martin@example.fr"]}


def test_dashboard_queries_do_not_grow_with_bookings_invoices_and_alerts(martin, client):
    """A fixed budget for /mon-espace (the menu's count included): more rows, the same queries."""
    household, lea, unit = martin["households"]["martin"], martin["children"]["lea"], martin["units"]["repas_phare"]
    unpaid = martin["invoices"]["martin_unpaid"]

    def add_rows(first: int, count: int) -> None:
        for n in range(first, first + count):
            add_alert(household, f"Alerte {n}")
            day = dt.date(2027, 1, 4) + dt.timedelta(days=n)
            Booking.create(household=household, child=lea, unit=unit, date=day, status="requested",
                           created_at=clock.local_now())
            Invoice.create(**{**Invoice.select().where(Invoice.id == unpaid.id).dicts().get(), "id": None,
                              "number": f"TEST-{n:04d}"})

    counts = []
    for first, count in ((0, 2), (2, 40)):
        add_rows(first, count)
        client.get("/mon-espace")
        with counting_queries() as log:
            assert client.get("/mon-espace").status_code == 200
        counts.append(len(log.statements))
    assert counts[1] == counts[0], counts
    # The budget (17 measured: the user, the children and the audience's enrolments read once for every
    # block, the menu's alert count shared with the alerts block, one query or a few per block).
    assert counts[1] <= 17, counts


def test_the_dashboard_reads_nothing_twice(martin, client):
    """Every block has something to say (an unread alert, a missing document…), and no statement is sent
    twice: the children, the audience of the news and documents, the unread alerts and the required
    document types are each read once per request and handed to the services that need them."""
    household = martin["households"]["martin"]
    add_alert(household, "Place libérée")
    FamilyDocument.delete().where(FamilyDocument.household == household).execute()
    client.get("/mon-espace")
    with counting_queries() as log:
        page = client.get("/mon-espace").get_data(as_text=True)
    for key in ("alertes", "documents", "actualites", "publications", "dates-limites"):
        assert f'id="bloc-{key}"' in page, key
    repeated = sorted({sql[:120] for sql in log.statements if log.statements.count(sql) > 1})
    assert not repeated, repeated
    assert sum('FROM "child"' in sql.split(" WHERE ")[0] for sql in log.statements) == 1


def test_the_menu_count_costs_one_query_per_parent_page(martin, client):
    """« Alertes n » in the menu: exactly one COUNT per page a parent opens, whatever the number of alerts,
    shared with the page when it shows the count itself (« Mes alertes (30 nouvelles) » on /commandes)."""
    for n in range(30):
        add_alert(martin["households"]["martin"], f"Alerte {n}")

    def alert_counts(url: str) -> int:
        client.get(url)
        with counting_queries() as log:
            page = client.get(url)
        assert page.status_code == 200 and "30" in page.get_data(as_text=True)
        return sum(1 for sql in log.statements if 'FROM "alert"' in sql)

    assert [alert_counts(url) for url in ("/commandes", "/reservations?semaine=2026-W50", "/panier")] == [1, 1, 1]


def test_messages_news_and_new_documents_on_the_dashboard(client, auth, demo, tmp_path):
    """What the other areas bring to /mon-espace: unread replies, « Nouveau » news, new documents."""
    from services.communication import messaging, news, publications
    household = Household.get(Household.id == demo["households"]["martin"].id)
    auth.login("famille.martin@example.fr")
    page = html.unescape(client.get("/mon-espace").get_data(as_text=True))
    assert news.unread_news_count(household) > 0 and publications.new_documents(household)
    for item in news.unread_news(household):
        assert f"Nouveau : {item.title}" in page
    for document in publications.new_documents(household):
        assert document.title in page
    if messaging.unread_count(household):
        assert 'id="bloc-messages"' in page
    item = news.unread_news(household)[0]
    client.get(f"/actualites/{item.id}")
    assert f"Nouveau : {item.title}" not in html.unescape(client.get("/mon-espace").get_data(as_text=True))
    dupont = Household.get(Household.id == demo["households"]["dupont"].id)
    assert all(n.audience != "class" or n.class_level != "CE2" for n in news.unread_news(dupont, limit=50))
