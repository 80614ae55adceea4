"""Views of the crèche requests (/petite-enfance, /gestion/petite-enfance) and of the school year change
(réinscription classes, « À recertifier pour … »): scoping, roles, refused input, the decision e-mail."""
import datetime as dt
import html

import pytest

from models import Child, EarlyYearsRequest, OutgoingMail
from services.demo.activities import create_activity
from tests.conftest import outbox_messages, post_form

GOOD = {"start_date": "2027-09-01", "from_0": "08:30", "to_0": "17:30", "from_2": "08:30", "to_2": "12:00",
        "situation": "Un parent en recherche d'emploi", "comment": "Horaires variables"}


def _form(demo, **changes):
    data = dict(GOOD, child_id=demo["children"]["bebe_dupont"].id,
                structure_id=demo["early_years_structures"]["mousses"].id)
    data.update(changes)
    return data


def test_a_parent_files_and_follows_a_request(demo, client, auth):
    auth.login("famille.dupont@example.fr")
    page = client.get("/petite-enfance").get_data(as_text=True)
    assert "Multi-accueil Les Moussaillons" in page and "En commission" in page and "10 décembre 2026" in page
    form = client.get("/petite-enfance/nouvelle").get_data(as_text=True)
    assert 'for="f-from_0"' in form and "Enfant à naître (naissance prévue le samedi 27 février 2027)" in form
    response = post_form(client, "/petite-enfance/nouvelle", _form(demo))
    assert response.status_code == 302
    stored = EarlyYearsRequest.select().order_by(EarlyYearsRequest.id.desc()).first()
    assert (stored.status, stored.situation, stored.household_id) == (
        "sent", "Un parent en recherche d'emploi", demo["households"]["dupont"].id)
    page = client.get("/petite-enfance").get_data(as_text=True)
    assert "Envoyée" in page and "lundi 08:30–17:30, mercredi 08:30–12:00 (12 h 30 par semaine)" in page
    home = html.unescape(client.get("/mon-espace").get_data(as_text=True))
    assert "Demandes d'accueil petite enfance" in home and "Crèche familiale Les P'tits Mousses : Envoyée" in home


@pytest.mark.parametrize("changes, message", [
    ({"start_date": "31/02/2027"}, "jj/mm/aaaa"),
    ({"start_date": "2026-01-05"}, "ne peut pas être passée"),
    ({"start_date": ""}, "Indiquez la date d'entrée souhaitée"),
    ({"to_0": "07:45"}, "après l'heure d'arrivée"),
    ({"from_0": "06:15"}, "de 7 h 00 à 19 h 30"),
    ({"to_2": ""}, "l'heure d'arrivée et l'heure de départ"),
    ({"from_0": "", "to_0": "", "from_2": "", "to_2": ""}, "au moins un jour"),
    ({"situation": ""}, "Choisissez votre situation"),
    ({"structure_id": "999"}, "Choisissez une structure"),
])
def test_bad_input_gives_a_french_message_and_saves_nothing(demo, client, auth, changes, message):
    auth.login("famille.dupont@example.fr")
    response = post_form(client, "/petite-enfance/nouvelle", _form(demo, **changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page.replace("&#39;", "'") and 'role="alert"' in page
    assert EarlyYearsRequest.select().count() == 1  # the demo's only


def test_another_households_request_or_child_is_a_404(demo, client, auth):
    auth.login("famille.martin@example.fr")
    theirs = demo["early_years_request"].id
    assert post_form(client, f"/petite-enfance/{theirs}/retirer").status_code == 404
    assert post_form(client, "/petite-enfance/nouvelle", _form(demo)).status_code == 404  # Dupont's baby
    assert "Multi-accueil Les Moussaillons" not in client.get("/petite-enfance").get_data(as_text=True)
    assert EarlyYearsRequest.get_by_id(theirs).status == "commission"


def test_the_family_withdraws_a_request_not_decided(demo, client, auth):
    auth.login("famille.dupont@example.fr")
    theirs = demo["early_years_request"].id
    response = post_form(client, f"/petite-enfance/{theirs}/retirer")
    assert response.status_code == 302 and EarlyYearsRequest.get_by_id(theirs).status == "withdrawn"
    again = post_form(client, f"/petite-enfance/{theirs}/retirer", follow_redirects=True)
    assert "ne peut plus être retirée" in again.get_data(as_text=True).replace("&#39;", "'")


@pytest.mark.parametrize("who, status", [("agent@example.fr", 200), ("admin@example.fr", 200),
                                         ("regisseur@example.fr", 403), ("cuisine@example.fr", 403),
                                         ("famille.dupont@example.fr", 404)])
def test_staff_pages_for_agents_and_the_administrator(demo, client, auth, who, status):
    auth.login(who)
    request_id = demo["early_years_request"].id
    for url in ("/gestion/petite-enfance", f"/gestion/petite-enfance/{request_id}",
                "/gestion/petite-enfance/commission.csv", "/gestion/petite-enfance/structures"):
        assert client.get(url).status_code == status, url


def test_staff_decide_and_the_family_is_told(demo, client, auth):
    auth.login("agent@example.fr")
    request_id = demo["early_years_request"].id
    queue = client.get("/gestion/petite-enfance?etat=commission").get_data(as_text=True)
    assert "Enfant à naître (Dupont)" in queue and "le 10/12/2026" in queue
    assert "Enfant à naître" not in client.get("/gestion/petite-enfance?etat=sent").get_data(as_text=True)
    refused = post_form(client, f"/gestion/petite-enfance/{request_id}/decision", {"decision": "refused", "reason": ""})
    assert refused.status_code == 400 and "Indiquez le motif du refus" in refused.get_data(as_text=True)
    assert EarlyYearsRequest.get_by_id(request_id).status == "commission"
    OutgoingMail.delete().execute()
    response = post_form(client, f"/gestion/petite-enfance/{request_id}/decision", {"decision": "accepted"})
    assert response.status_code == 302 and EarlyYearsRequest.get_by_id(request_id).status == "accepted"
    mails = outbox_messages()
    assert [m["to"] for m in mails] == ["famille.dupont@example.fr"]
    assert "acceptée" in mails[0]["subject"] and "Une place vous est proposée" in mails[0]["body"]
    csv = client.get("/gestion/petite-enfance/commission.csv")
    assert csv.mimetype == "text/csv" and len(csv.get_data(as_text=True).strip().splitlines()) == 1
    auth.logout()
    auth.login("famille.dupont@example.fr")
    assert "Acceptée" in client.get("/petite-enfance").get_data(as_text=True)


def test_commission_date_is_checked(demo, client, auth):
    auth.login("admin@example.fr")
    OutgoingMail.delete().execute()
    request_id = demo["early_years_request"].id
    assert post_form(client, f"/gestion/petite-enfance/{request_id}/commission",
                     {"commission_date": "2027-01-10"}).status_code == 400  # already in commission
    auth.logout()
    auth.login("famille.dupont@example.fr")
    post_form(client, "/petite-enfance/nouvelle", _form(demo))
    new_id = EarlyYearsRequest.select().order_by(EarlyYearsRequest.id.desc()).first().id
    auth.logout()
    auth.login("admin@example.fr")
    bad = post_form(client, f"/gestion/petite-enfance/{new_id}/commission", {"commission_date": "hier"})
    assert bad.status_code == 400 and "jj/mm/aaaa" in bad.get_data(as_text=True)
    ok = post_form(client, f"/gestion/petite-enfance/{new_id}/commission", {"commission_date": "2026-12-10"})
    assert ok.status_code == 302 and EarlyYearsRequest.get_by_id(new_id).commission_date == dt.date(2026, 12, 10)
    assert OutgoingMail.select().count() == 1


def test_staff_add_a_structure(demo, client, auth):
    auth.login("agent@example.fr")
    response = post_form(client, "/gestion/petite-enfance/structures", {"name": "Micro-crèche Les Crabes",
                                                                         "kind": "micro-creche"})
    assert response.status_code == 302
    twice = post_form(client, "/gestion/petite-enfance/structures", {"name": "micro-crèche les crabes",
                                                                      "kind": "micro-creche"})
    assert twice.status_code == 400 and "déjà" in twice.get_data(as_text=True)
    auth.logout()
    auth.login("famille.dupont@example.fr")
    assert "Micro-crèche Les Crabes" in client.get("/petite-enfance/nouvelle").get_data(as_text=True)


def test_reinscription_proposes_next_years_class(demo, client, auth):
    create_activity("ALSH Mercredi", "alsh_mercredi", year=2027)
    auth.login("famille.martin@example.fr")
    lea = demo["children"]["lea"]
    page = client.get("/inscriptions/").get_data(as_text=True)
    assert f'id="f-class_{lea.id}"' in page and '<option value="CM1" selected>' in page
    assert "Fiche de Léa : à recertifier pour 2027-2028" in page
    bad = post_form(client, "/inscriptions/reinscription", {f"class_{lea.id}": "CM9"})
    assert bad.status_code == 400 and "choisissez une classe de la liste" in bad.get_data(as_text=True)
    assert Child.get_by_id(lea.id).next_class_level == ""
    ok = post_form(client, "/inscriptions/reinscription", {f"class_{lea.id}": "CE2"})
    assert ok.status_code == 302 and Child.get_by_id(lea.id).next_class_level == "CE2"


def test_the_fiche_is_recertified_in_one_step(demo, client, auth):
    create_activity("ALSH Mercredi", "alsh_mercredi", year=2027)
    auth.login("famille.martin@example.fr")
    lea = demo["children"]["lea"]
    assert "À recertifier pour 2027-2028" in client.get("/mon-compte").get_data(as_text=True)
    page = client.get(f"/mon-compte/enfants/{lea.id}").get_data(as_text=True)
    assert "À recertifier pour 2027-2028" in page and "Je certifie exactes les informations pour 2027-2028" in page
    response = post_form(client, f"/mon-compte/enfants/{lea.id}/certifier", follow_redirects=True)
    assert "pour 2027-2028" in response.get_data(as_text=True)
    assert Child.get_by_id(lea.id).certified_year == 2027
    assert "À recertifier" not in client.get(f"/mon-compte/enfants/{lea.id}").get_data(as_text=True)
