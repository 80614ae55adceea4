"""The commune's look (issue 14): dates shown and typed jj/mm/aaaa (the ISO form a date input sends is
read too; a bad date is refused in French and saves nothing) and the upload control in French."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from blueprints.form_fields import read_day
from models import Child, Commune, FamilyDocument, Household, Payment
from services.accounts import signup
from services.core import audit
from services.core.transactions import write_transaction
from tests.conftest import DEMO_PASSWORD, last_code_for, post_form

CHILDREN = {"child_count": "2",
            "c0-sex": "F", "c0-last_name": "Durand", "c0-first_name": "Zoé", "c0-birth_date": "04/05/2018",
            "c1-sex": "M", "c1-last_name": "Durand", "c1-first_name": "Noé", "c1-birth_date": "2020-09-12"}


@pytest.mark.parametrize("text, day", [
    ("14/03/2018", dt.date(2018, 3, 14)), ("1/3/2018", dt.date(2018, 3, 1)), ("14.03.2018", dt.date(2018, 3, 14)),
    ("14-03-2018", dt.date(2018, 3, 14)), (" 14 03 2018 ", dt.date(2018, 3, 14)),
    ("14032018", dt.date(2018, 3, 14)),  # a phone's digit keypad has no « / »
    ("2018-03-14", dt.date(2018, 3, 14)),  # what a date input sends
])
def test_a_day_is_read_the_french_way_or_the_iso_way(text, day):
    assert read_day(text) == day


@pytest.mark.parametrize("text", ["", "31/02/2018", "03/14/2018", "20181403", "2018-3-14", "14/03/18", "hier",
                                  "١٤/٠٣/٢٠١٨"])
def test_anything_else_is_not_a_day(text):
    with pytest.raises(ValueError):
        read_day(text)


def new_parent(client, auth, email="famille.look@example.fr"):
    signup.register(email, DEMO_PASSWORD)
    signup.confirm_code(email, last_code_for(email))
    auth.login(email)
    return Household.get(Household.id == signup.User.get(signup.User.email == email).household_id)


def children_step(client, data):
    return post_form(client, "/mon-dossier/enfants", {**data, "action": "later"}, token_page="/mon-espace")


def test_birth_dates_typed_french_or_iso_are_saved_and_shown_french(client, demo, auth):
    household = new_parent(client, auth)
    assert children_step(client, CHILDREN).status_code == 302
    saved = {c.first_name: c.birth_date for c in Child.select().where(Child.household == household)}
    assert saved == {"Zoé": dt.date(2018, 5, 4), "Noé": dt.date(2020, 9, 12)}
    page = client.get("/mon-dossier/enfants").get_data(as_text=True)
    # A text box, not a date input (which follows the browser's language: mm/dd/yyyy in an English one).
    field = re.search(r'<input[^>]*id="c0-birth_date"[^>]*>', page).group(0)
    assert 'type="text"' in field and 'value="04/05/2018"' in field and 'inputmode="numeric"' in field
    assert 'aria-describedby="c0-birth_date-hint"' in field
    assert re.search(r'id="c0-birth_date-hint">Format : jj/mm/aaaa, par exemple 14/03/2018\.<', page)
    assert 'value="12/09/2020"' in page
    assert 'type="date"' not in page


def test_a_bad_date_is_refused_in_french_next_to_its_field_and_saves_nothing(client, demo, auth):
    household = new_parent(client, auth)
    response = children_step(client, {**CHILDREN, "c1-birth_date": "31/02/2020"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="c1-birth_date-error"[^>]*>.*Date de naissance invalide : utilisez le format jj/mm/aaaa\.',
                     page)
    field = re.search(r'<input[^>]*id="c1-birth_date"[^>]*>', page).group(0)
    assert 'aria-describedby="c1-birth_date-hint c1-birth_date-error"' in field and 'aria-invalid="true"' in field
    assert 'value="31/02/2020"' in field  # what the parent typed stays, to be corrected
    assert not Child.select().where(Child.household == household).exists()


def test_staff_payment_date_french_or_iso_and_a_bad_one_refused(demo, client, auth):
    auth.login("admin@example.fr")
    dupont = demo["households"]["dupont"]
    url = "/gestion/facturation/reglement"
    before = Payment.select().where(Payment.household == dupont).count()
    bad = post_form(client, url, {"household": dupont.id, "mode": "cheque", "amount": "10,00",
                                  "received_on": "11/25/2026"}, token_page=url)
    assert bad.status_code == 400
    assert "Indiquez la date de réception au format jj/mm/aaaa." in bad.get_data(as_text=True)
    assert Payment.select().where(Payment.household == dupont).count() == before
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'<input[^>]*id="received_on"[^>]*value="29/11/2026"', page)  # today, the French way
    for typed, day in (("25/11/2026", dt.date(2026, 11, 25)), ("2026-11-24", dt.date(2026, 11, 24))):
        ok = post_form(client, url, {"household": dupont.id, "mode": "cheque", "amount": "1,00",
                                     "received_on": typed, "reference": typed}, token_page=url)
        assert ok.status_code == 302
        assert Payment.get(Payment.reference == typed).received_on == day


def test_journal_filter_reads_a_french_date(demo, client, auth):
    with write_transaction():
        audit.record(demo["users"]["admin"], "dossier famille validé", demo["households"]["dupont"])
    auth.login("admin@example.fr")
    assert "1 action trouvée" in client.get("/gestion/journal?du=29/11/2026").get_data(as_text=True)
    for query in ("du=30/11/2026", "du=2026-11-30", "du=30112026"):
        page = client.get(f"/gestion/journal?{query}").get_data(as_text=True)
        assert "0 action trouvée" in page, query  # nothing happened after today (29 November)
        assert 'value="' + query[3:] + '"' in page, query
    assert 'class="error"' in client.get("/gestion/journal?du=31/11/2026").get_data(as_text=True)


def upload_markup(page: str, input_id: str) -> str:
    """The upload control around the file input `input_id`."""
    match = re.search(rf'<span class="upload">\s*<input type="file" id="{input_id}".*?</span>\s*</span>\s*</span>',
                      page, re.S)
    assert match, f"no French upload control for #{input_id}"
    return match.group(0)


def test_upload_control_says_choisir_un_fichier_and_keeps_the_native_input(client, demo, auth):
    auth.login("famille.martin@example.fr")
    page = client.get("/mon-compte/documents").get_data(as_text=True)
    control = upload_markup(page, "file")
    native = re.search(r'<input type="file"[^>]*>', control).group(0)
    # The real input keeps its name, its label and its hint (keyboard and screen readers use it)…
    assert 'name="file"' in native and 'aria-describedby="file-hint"' in native and "accept=" in native
    assert re.search(r'<label for="file">Fichier \(PDF, JPEG ou PNG, 10 Mo maximum\)</label>', page)
    # …and the face the eye sees says it in French, hidden from screen readers (they hear the input).
    assert re.search(r'<span class="upload-face" aria-hidden="true">\s*<span class="upload-button">Choisir un fichier</span>',
                     control)
    assert 'data-empty="Aucun fichier choisi"' in control
    assert "Browse" not in page and "No file chosen" not in page

    household = demo["households"]["martin"]
    before = FamilyDocument.select().where(FamilyDocument.household == household).count()
    sent = post_form(client, "/mon-compte/documents",
                     {"doc_type": str(FamilyDocument.doc_type.rel_model.get().id), "child": "",
                      "file": (io.BytesIO(b"%PDF-1.4 test"), "attestation.pdf")},
                     token_page="/mon-compte", content_type="multipart/form-data")
    assert sent.status_code == 302
    assert FamilyDocument.select().where(FamilyDocument.household == household).count() == before + 1


def test_logo_upload_in_the_settings_is_in_french_too(client, demo, auth):
    auth.login("admin@example.fr")
    page = client.get("/gestion/parametres").get_data(as_text=True)
    native = re.search(r'<input type="file"[^>]*>', upload_markup(page, "logo")).group(0)
    assert 'name="logo"' in native and 'aria-describedby="logo-hint"' in native
    refused = post_form(client, "/gestion/parametres/logo", {"logo": (io.BytesIO(b"GIF89a"), "logo.gif")},
                        token_page="/gestion/parametres", content_type="multipart/form-data")
    native = re.search(r'<input type="file"[^>]*>', upload_markup(refused.get_data(as_text=True), "logo")).group(0)
    assert 'aria-describedby="logo-hint logo-error"' in native and 'aria-invalid="true"' in native


def test_the_theme_address_changes_with_the_colour(client, demo, auth):
    """/theme.css is cached 5 minutes: the page links it with the colour in its address, so a new colour
    shows on the next page (it took up to 5 minutes before)."""
    auth.login("admin@example.fr")
    link = re.compile(r'<link rel="stylesheet" href="(/theme\.css\?v=[0-9a-f]{6})">')
    before = link.search(client.get("/gestion/parametres").get_data(as_text=True)).group(1)
    assert before == "/theme.css?v=1d4f91"
    Commune.update(main_color="#7a1f5c").execute()
    after = link.search(client.get("/contact").get_data(as_text=True)).group(1)
    assert after == "/theme.css?v=7a1f5c"
    assert "--blue: #7a1f5c" in client.get(after).get_data(as_text=True)
