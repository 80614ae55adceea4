"""Direct debit: IBAN checked, SEPA mandate, invoices "en prélèvement" not payable by card, pain.008."""
from __future__ import annotations

import datetime as dt

import pytest

from models import DirectDebitMandate, Invoice
from services.billing import direct_debit, invoicing
from services.core import clock
from services.core.errors import InvalidInput
from tests.conftest import post_form

IBAN = "FR76 3000 6000 0112 3456 7890 189"
CREDITOR = direct_debit.Creditor("Mairie de Démo", "FR7630001007941234567890185", "BDFEFRPPCCT", "FR72ZZZ123456")


@pytest.mark.parametrize("holder, iban, bic, accepted, field", [
    ("", IBAN, "", True, "holder"), ("K. Dupont", "FR76 3000 6000 0112 3456 7890 180", "", True, "iban"),
    ("K. Dupont", "123", "", True, "iban"), ("K. Dupont", IBAN, "XX", True, "bic"), ("K. Dupont", IBAN, "", False, "accept"),
])
def test_mandate_refusals_save_nothing(demo, holder, iban, bic, accepted, field):
    with pytest.raises(InvalidInput) as refusal:
        direct_debit.sign_mandate(demo["households"]["dupont"], holder, iban, bic, accepted)
    assert refusal.value.field == field
    assert DirectDebitMandate.select().count() == 0


def test_mandate_puts_unpaid_invoices_en_prelevement_and_pain008(demo):
    dupont = demo["households"]["dupont"]
    unpaid = demo["invoices"]["dupont_unpaid"]
    mandate = direct_debit.sign_mandate(dupont, "Karim Dupont", IBAN, "", True)
    assert mandate.iban == "FR7630006000011234567890189" and mandate.reference == f"PF{dupont.id:06d}M001"
    fresh = Invoice.get_by_id(unpaid.id)
    assert invoicing.status_of(fresh)[1] == "En prélèvement" and not invoicing.is_payable_online(fresh)
    xml, count, total = direct_debit.pain008(demo["regies"]["loisirs"], CREDITOR, clock.today() + dt.timedelta(days=5))
    assert count == 1 and total == fresh.balance
    assert b"pain.008.001.02" in xml and mandate.reference.encode() in xml and b"FR7630006000011234567890189" in xml
    with pytest.raises(InvalidInput):
        direct_debit.pain008(demo["regies"]["loisirs"], CREDITOR, clock.today())
    direct_debit.revoke_mandate(dupont)
    assert invoicing.is_payable_online(Invoice.get_by_id(unpaid.id))
    with pytest.raises(direct_debit.DirectDebitRefused):
        direct_debit.pain008(demo["regies"]["loisirs"], CREDITOR, clock.today() + dt.timedelta(days=5))


def test_parent_signs_mandate_in_the_portal(demo, client, auth):
    auth.login("famille.dupont@example.fr")
    url = "/factures/prelevement"
    bad = post_form(client, url, {"holder": "Karim Dupont", "iban": "FR00 1234", "accept": "1"}, token_page=url)
    assert bad.status_code == 400 and "IBAN invalide" in bad.get_data(as_text=True)
    ok = post_form(client, url, {"holder": "Karim Dupont", "iban": IBAN, "accept": "1"}, token_page=url)
    assert ok.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "FR76 **** " in page and "7890" not in page
    invoice_page = client.get(f"/factures/{demo['invoices']['dupont_unpaid'].id}").get_data(as_text=True)
    assert "En prélèvement" in invoice_page and "Payer en ligne" not in invoice_page
    auth.logout()
    auth.login("admin@example.fr")
    day = (clock.today() + dt.timedelta(days=10)).isoformat()
    response = client.get(f"/gestion/facturation/export/prelevements.xml?regie={demo['regies']['loisirs'].id}&date={day}")
    assert response.status_code == 200 and b"<CstmrDrctDbtInitn>" in response.data
    missing = client.get("/gestion/facturation/export/prelevements.xml?regie=abc&date=demain")
    assert missing.status_code == 302


def test_recording_the_collection_pays_the_invoices_once(demo):
    from models import Payment

    dupont, loisirs = demo["households"]["dupont"], demo["regies"]["loisirs"]
    unpaid = demo["invoices"]["dupont_unpaid"]
    direct_debit.sign_mandate(dupont, "Karim Dupont", IBAN, "", True)
    balance = Invoice.get_by_id(unpaid.id).balance
    with pytest.raises(InvalidInput):
        direct_debit.record_collection(loisirs, clock.today() + dt.timedelta(days=1))
    assert direct_debit.record_collection(loisirs, clock.today()) == (1, balance)
    fresh = Invoice.get_by_id(unpaid.id)
    assert fresh.balance == 0 and invoicing.status_of(fresh)[1] == "Payée"
    payment = Payment.get((Payment.household == dupont.id) & (Payment.mode == "prelevement"))
    assert payment.amount == balance and payment.mode_label == "Prélèvement"
    with pytest.raises(direct_debit.DirectDebitRefused):  # nothing left to collect: no second payment
        direct_debit.record_collection(loisirs, clock.today())
    assert Payment.select().where(Payment.mode == "prelevement").count() == 1


def test_staff_record_the_collection(demo, client, auth):
    direct_debit.sign_mandate(demo["households"]["dupont"], "Karim Dupont", IBAN, "", True)
    auth.login("regisseur@example.fr")
    page = "/gestion/facturation/impayes"
    response = post_form(client, "/gestion/facturation/prelevements/encaisser",
                         {"regie": demo["regies"]["loisirs"].id, "date": clock.today().isoformat()},
                         token_page=page, follow_redirects=True)
    assert "1 prélèvement(s) encaissé(s)" in response.get_data(as_text=True)
    assert Invoice.get_by_id(demo["invoices"]["dupont_unpaid"].id).balance == 0
    bad = post_form(client, "/gestion/facturation/prelevements/encaisser", {"regie": "x", "date": "hier"},
                    token_page=page, follow_redirects=True)
    assert "Choisissez une régie" in bad.get_data(as_text=True)


# --- The régie's SEPA creditor (its settings) -------------------------------------------------------


def _export(client, regie):
    day = (clock.today() + dt.timedelta(days=10)).isoformat()
    return client.get(f"/gestion/facturation/export/prelevements.xml?regie={regie.id}&date={day}")


@pytest.mark.parametrize("missing, message", [
    (("sepa_creditor_id", "sepa_iban", "sepa_bic"), "Renseignez l'ICS, l'IBAN et le BIC du créancier"),
    (("sepa_iban",), "Renseignez l'IBAN du créancier"),
    (("sepa_creditor_id", "sepa_bic"), "Renseignez l'ICS et le BIC du créancier"),
])
def test_export_refused_until_the_creditor_is_filled_in(demo, client, auth, missing, message):
    from models import AuditLog, Regie

    loisirs = demo["regies"]["loisirs"]
    direct_debit.sign_mandate(demo["households"]["dupont"], "Karim Dupont", IBAN, "", True)
    Regie.update(**{name: "" for name in missing}).where(Regie.id == loisirs.id).execute()
    auth.login("regisseur@example.fr")
    response = _export(client, loisirs)
    assert response.status_code == 302 and response.headers["Location"].endswith("/gestion/facturation/impayes")
    page = client.get(response.headers["Location"]).get_data(as_text=True).replace("&#39;", "'")
    assert message in page and "« Régie accueil de loisirs »" in page
    assert "avant d'exporter les prélèvements" in page
    assert not AuditLog.select().where(AuditLog.action == "sepa_export").exists()
    assert Invoice.get_by_id(demo["invoices"]["dupont_unpaid"].id).direct_debit  # nothing else changed


def test_export_refuses_a_creditor_iban_that_became_invalid(demo):
    from models import Regie

    Regie.update(sepa_iban="FR7630001007941234567890180").where(Regie.id == demo["regies"]["loisirs"].id).execute()
    with pytest.raises(direct_debit.DirectDebitRefused, match="IBAN du créancier invalide.*Corrigez-le"):
        direct_debit.creditor_of(Regie.get_by_id(demo["regies"]["loisirs"].id))


def test_export_uses_the_regie_creditor(demo, client, auth):
    from models import Regie

    loisirs = demo["regies"]["loisirs"]
    direct_debit.sign_mandate(demo["households"]["dupont"], "Karim Dupont", IBAN, "", True)
    Regie.update(sepa_creditor_name="Tresor public Regie ALSH", sepa_creditor_id="FR19ZZZ654321",
                 sepa_iban="FR7630006000011234567890189", sepa_bic="AGRIFRPP882").where(Regie.id == loisirs.id).execute()
    auth.login("regisseur@example.fr")
    response = _export(client, loisirs)
    assert response.status_code == 200
    for expected in (b"<Nm>Tresor public Regie ALSH</Nm>", b"<Id>FR19ZZZ654321</Id>", b"<BIC>AGRIFRPP882</BIC>",
                     b"<IBAN>FR7630006000011234567890189</IBAN>"):
        assert expected in response.data, expected
    assert b"FR7630001007941234567890185" not in response.data and b"FR72ZZZ123456" not in response.data


@pytest.mark.parametrize("text, expected", [("FR72ZZZ123456", "FR72ZZZ123456"), (" fr72 zzz 123456 ", "FR72ZZZ123456"),
                                            ("ES23ZZZ47690558N", "ES23ZZZ47690558N")])
def test_creditor_identifier_is_checked(text, expected):
    assert direct_debit.clean_creditor_id(text) == expected


@pytest.mark.parametrize("text", ["FR00ZZZ123456", "FR72ZZZ123457", "123", "FR72ZZZ", "FR72-ZZZ-12345!", "ICS"])
def test_bad_creditor_identifiers_are_refused(text):
    with pytest.raises(InvalidInput, match="ICS") as refusal:
        direct_debit.clean_creditor_id(text)
    assert refusal.value.field == "sepa_creditor_id"


def test_staff_enter_the_creditor_on_the_regie_settings(demo, client, auth):
    from models import AuditLog, Regie

    activity = demo["units"]["alsh_journee"].activity
    page_url = url = f"/gestion/regies/{activity.regie_id}"
    auth.login("regisseur@example.fr")
    page = client.get(page_url).get_data(as_text=True)
    assert "Identifiant créancier SEPA (ICS)" in page and 'name="sepa_iban" type="text" value="FR7630001007941234567890185"' in page
    settings = {"name": activity.regie.name, "code": "ALSH", "payment_days": "30", "treasury_days": "0",
                "payment_modes": ["carte", "prelevement"], "sepa_creditor_name": " Régie  ALSH ",
                "sepa_creditor_id": "fr19 zzz 654321", "sepa_iban": "FR76 3000 6000 0112 3456 7890 189",
                "sepa_bic": "agrifrpp882"}
    bad = post_form(client, url, {**settings, "sepa_iban": "FR76 3000 6000 0112 3456 7890 180", "code": "LOIS"},
                    token_page=page_url)
    assert bad.status_code == 400 and "IBAN du créancier invalide" in bad.get_data(as_text=True)
    regie = Regie.get_by_id(activity.regie_id)
    assert (regie.code, regie.sepa_iban, regie.sepa_creditor_id) == ("ALSH", "FR7630001007941234567890185",
                                                                     "FR72ZZZ123456")  # nothing saved
    bad = post_form(client, url, {**settings, "code": "x"}, token_page=page_url)  # the régie's own rule
    assert bad.status_code == 400 and Regie.get_by_id(activity.regie_id).sepa_creditor_id == "FR72ZZZ123456"
    assert post_form(client, url, settings, token_page=page_url).status_code == 302
    regie = Regie.get_by_id(activity.regie_id)
    assert (regie.sepa_creditor_name, regie.sepa_creditor_id, regie.sepa_iban, regie.sepa_bic) == (
        "Régie ALSH", "FR19ZZZ654321", "FR7630006000011234567890189", "AGRIFRPP882")
    assert "ICS, IBAN, BIC" in AuditLog.get(AuditLog.action == "regie.sepa_creditor").detail
    # A form without the creditor fields leaves them as they are; emptied ones make the export refuse.
    assert post_form(client, url, {"name": activity.regie.name, "code": "ALSH", "payment_days": "31",
                                   "treasury_days": "0", "payment_modes": ["prelevement"]},
                     token_page=page_url).status_code == 302
    assert Regie.get_by_id(activity.regie_id).sepa_iban == "FR7630006000011234567890189"
    assert post_form(client, url, {**settings, "sepa_iban": "", "sepa_bic": ""}, token_page=page_url).status_code == 302
    with pytest.raises(direct_debit.DirectDebitRefused, match="Renseignez l'IBAN et le BIC du créancier"):
        direct_debit.creditor_of(Regie.get_by_id(activity.regie_id))
