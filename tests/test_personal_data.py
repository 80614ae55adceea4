"""RGPD: « Mes données » (the household's export), closure (health data and documents deleted at once),
retention (anonymisation by the daily job), the public personal data page."""
from __future__ import annotations

import io
import json
import logging
import zipfile
from pathlib import Path

import jobs
from models import (
    AuditLog,
    ChangeRequest,
    Child,
    ChildContact,
    Commune,
    FamilyDocument,
    Guardian,
    Household,
    Invoice,
    InvoiceLine,
    Payment,
    User,
)
from services.core import audit, clock
from services.family import household_changes as changes
from services.family import household_review as review
from services.family import personal_data, retention


def _unzip(content: bytes) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files.pop(personal_data.JSON_NAME)), files


# --- « Mes données » ----------------------------------------------------------------------------


def test_parent_downloads_the_household_data_and_nothing_of_another(client, demo, auth):
    auth.login()
    page = client.get("/mon-compte/mes-donnees")
    assert page.status_code == 200 and "donnees.json" in page.get_data(as_text=True)
    assert "/mon-compte/mes-donnees" in client.get("/mon-compte").get_data(as_text=True)
    response = client.get("/mon-compte/mes-donnees/archive.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    data, files = _unzip(response.data)
    martin = demo["households"]["martin"]
    assert data["household"]["id"] == martin.id
    assert {c["first_name"] for c in data["children"]} == {"Léa", "Hugo"}
    lea = next(c for c in data["children"] if c["first_name"] == "Léa")
    assert lea["allergies"] == "Arachide" and lea["has_pai"] and lea["diet_name"] == "Sans porc"
    assert {g["first_name"] for g in data["guardians"]} >= {"Thomas"}
    assert data["child_contacts"] and data["enrolments"] and data["documents"]
    assert all(d["household"] == martin.id for d in data["documents"])
    # Logins without their secrets.
    assert data["logins"] and all("password_hash" not in u and "session_version" not in u for u in data["logins"])
    assert "ical_token" not in data["household"]
    # One file per document, under documents/.
    assert sorted(files) == sorted(d["file_in_archive"] for d in data["documents"])
    assert all(name.startswith("documents/") and content.startswith(b"%PDF") for name, content in files.items())
    # Nothing of the Dupont household anywhere in the JSON.
    text = json.dumps(data, ensure_ascii=False)
    assert "Dupont" not in text and "Inès" not in text and "Morvan" not in text
    assert "7654321" not in text


def test_amounts_in_cents_and_euros_and_dates_iso(client, demo, auth):
    auth.login()
    data, _files = _unzip(client.get("/mon-compte/mes-donnees/archive.zip").data)
    rows = data["invoices"] + data["bookings"] + data["orders"]
    assert rows, "the demo household has invoices, bookings or orders"
    for invoice in data["invoices"]:
        assert isinstance(invoice["amount_cents"], int) and invoice["amount_euros"].endswith("€")
        assert invoice["issued_on"][4] == "-"
    assert all(line["invoice"] in {i["id"] for i in data["invoices"]} for line in data["invoice_lines"])
    assert data["exported_at"].startswith("2026-11-29T11:00")


def test_a_parent_cannot_export_another_household(client, demo, auth):
    auth.login()
    dupont = demo["households"]["dupont"]
    assert client.get(f"/gestion/familles/{dupont.id}/donnees").status_code == 404


def test_staff_export_is_audited_as_a_health_read(client, demo, auth):
    auth.login("agent@example.fr")
    dupont = demo["households"]["dupont"]
    before = AuditLog.select().where(AuditLog.action.in_(audit.HEALTH_ACTIONS)).count()
    page = client.get(f"/gestion/familles/{dupont.id}").get_data(as_text=True)
    assert f"/gestion/familles/{dupont.id}/donnees" in page
    response = client.get(f"/gestion/familles/{dupont.id}/donnees")
    assert response.status_code == 200
    data, files = _unzip(response.data)
    assert data["household"]["id"] == dupont.id and len(files) == len(data["documents"])
    entry = AuditLog.select().order_by(AuditLog.id.desc()).get()
    assert entry.action == personal_data.EXPORT_ACTION and entry.household_id == dupont.id
    assert entry.user.email == "agent@example.fr"
    assert AuditLog.select().where(AuditLog.action.in_(audit.HEALTH_ACTIONS)).count() == before + 1


def test_the_kitchen_and_the_regisseur_cannot_export(client, demo, auth):
    dupont = demo["households"]["dupont"]
    for email in ("cuisine@example.fr", "regisseur@example.fr"):
        auth.login(email)
        assert client.get(f"/gestion/familles/{dupont.id}/donnees").status_code == 403
        auth.logout()


def test_export_queries_are_bounded(demo):
    from peewee import Database
    martin = demo["households"]["martin"]
    calls = []
    original = Database.execute_sql

    def counting(self, sql, params=None, *args, **kwargs):
        calls.append(sql)
        return original(self, sql, params, *args, **kwargs)

    Database.execute_sql = counting
    try:
        personal_data.collect(martin)
    finally:
        Database.execute_sql = original
    assert len(calls) <= 25


# --- Closure and retention --------------------------------------------------------------------


def _close(demo, key: str = "martin") -> Household:
    household = demo["households"][key]
    review.request_closure(household, demo["users"][key])
    assert review.decide_closures(demo["users"]["agent"], [household.id], True) == 1
    return Household.get_by_id(household.id)


def _files(app, household_id: int) -> list[Path]:
    return [Path(app.config["UPLOAD_DIR"]) / d.stored_name
            for d in FamilyDocument.select().where(FamilyDocument.household == household_id)]


def test_closure_erases_health_data_and_documents_at_once(app, demo):
    martin, dupont = demo["households"]["martin"], demo["households"]["dupont"]
    martin_files, dupont_files = _files(app, martin.id), _files(app, dupont.id)
    assert martin_files and all(path.is_file() for path in martin_files)
    household = _close(demo)
    assert household.status == "closed" and household.closed_at == clock.local_now()
    for child in Child.select().where(Child.household == martin.id):
        assert (child.allergies, child.has_pai, child.pai_details, child.doctor_name, child.doctor_phone,
                child.diet_id) == ("", False, "", "", "", None)
    assert FamilyDocument.select().where(FamilyDocument.household == martin.id).count() == 0
    assert not any(path.exists() for path in martin_files)
    # The identity stays until the retention period is over; the other household is untouched.
    assert household.name and Guardian.select().where(Guardian.household == martin.id).first().last_name == "Martin"
    assert all(path.is_file() for path in dupont_files)
    assert Child.get_by_id(demo["children"]["jade"].id).allergies == "Lactose"
    entry = AuditLog.select().where(AuditLog.action == "compte fermé").get()
    assert "données de santé effacées" in entry.detail and "Martin" not in entry.detail


def test_a_child_leaving_loses_health_data_and_documents(app, demo):
    martin = demo["households"]["martin"]
    lea, hugo = (Child.get_by_id(demo["children"][k].id) for k in ("lea", "hugo"))
    lea_files = [Path(app.config["UPLOAD_DIR"]) / d.stored_name for d in lea.documents]
    hugo_documents = hugo.documents.count()
    assert lea_files and hugo_documents
    changes.request_child_removal(martin, demo["users"]["martin"], lea)
    request = ChangeRequest.select().where(ChangeRequest.child == lea.id).get()
    assert changes.decide_changes(demo["users"]["agent"], [request.id], True) == 1
    lea = Child.get_by_id(lea.id)
    assert lea.archived and lea.allergies == "" and not lea.has_pai and lea.pai_details == ""
    assert lea.documents.count() == 0 and not any(path.exists() for path in lea_files)
    assert hugo.documents.count() == hugo_documents and Child.get_by_id(hugo.id).doctor_name == "Dr Le Bihan"


def _snapshot_accounts(household_id: int) -> tuple:
    invoices = [(i.number, i.amount, i.paid, i.credited, i.issued_on, i.kind)
                for i in Invoice.select().where(Invoice.household == household_id).order_by(Invoice.id)]
    lines = [(line.amount, line.quantity, line.unit_price) for line in InvoiceLine.select().join(Invoice)
             .where(Invoice.household == household_id).order_by(InvoiceLine.id)]
    payments = [(p.amount, p.mode, p.received_on, p.reference)
                for p in Payment.select().where(Payment.household == household_id).order_by(Payment.id)]
    return invoices, lines, payments


def test_the_job_anonymises_after_retention_and_keeps_the_accounts(app, demo, freeze, caplog):
    martin = demo["households"]["martin"]
    Payment.create(household=martin, mode="cheque", amount=1000, received_on=clock.today(), reference="1234568",
                   recorded_at=clock.local_now(), recorded_by=demo["users"]["martin"])
    accounts = _snapshot_accounts(martin.id)
    assert accounts[0], "the demo household has invoices"
    _close(demo)
    assert jobs.apply_retention.call_local().startswith("0 foyer(s) anonymisé(s), 1 en attente")
    freeze("2027-11-29T10:59")  # a minute before the year is over
    assert jobs.apply_retention.call_local().startswith("0 foyer(s) anonymisé(s), 1 en attente")
    freeze("2027-11-30T03:45")
    with caplog.at_level(logging.INFO, logger="portail.events"):
        assert jobs.apply_retention.call_local().startswith("1 foyer(s) anonymisé(s)")
    household = Household.get_by_id(martin.id)
    assert household.anonymised_at is not None and household.name == f"Foyer anonymisé n° {martin.id}"
    assert household.allocataire_number == "" and household.quotient_familial is None
    assert User.select().where(User.household == martin.id).count() == 0
    assert User.get_or_none(User.email == "famille.martin@example.fr") is None
    for guardian in Guardian.select().where(Guardian.household == martin.id):
        assert (guardian.first_name, guardian.email, guardian.address, guardian.phone_mobile) == ("", "", "", "")
    for child in Child.select().where(Child.household == martin.id):
        assert child.birth_date is None and child.first_name == "Enfant"
    assert ChildContact.select().join(Child).where(Child.household == martin.id).count() == 0
    # Nothing left that names the family, anywhere in what the portal holds about it.
    text = json.dumps(personal_data.collect(household), ensure_ascii=False)
    for word in ("Martin", "Léa", "Hugo", "Goélands", "1234567", "martin@"):
        assert word not in text, word
    # The accounts stay: invoice numbers, totals, lines and payments as they were.
    assert _snapshot_accounts(martin.id) == accounts
    # Audited, and one event line with ids only.
    assert AuditLog.select().where((AuditLog.action == retention.ANONYMISED_ACTION)
                                   & (AuditLog.household == martin.id)).count() == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "portail.events"]
    assert any(line.startswith("retention.household_anonymised") for line in lines)
    assert not any("Martin" in line or "@" in line for line in lines)
    # Dupont is not closed: untouched.
    assert Household.get_by_id(demo["households"]["dupont"].id).anonymised_at is None
    assert User.get_or_none(User.email == "famille.dupont@example.fr") is not None


def test_the_job_is_idempotent(app, demo, freeze):
    martin = demo["households"]["martin"]
    _close(demo)
    freeze("2028-01-15T03:45")
    assert jobs.apply_retention.call_local().startswith("1 foyer(s)")
    audited = AuditLog.select().count()
    state = (json.dumps(personal_data.collect(Household.get_by_id(martin.id)) | {"exported_at": ""}),
             _snapshot_accounts(martin.id))
    assert jobs.apply_retention.call_local().startswith("0 foyer(s) anonymisé(s), 0 en attente")
    assert AuditLog.select().count() == audited
    assert (json.dumps(personal_data.collect(Household.get_by_id(martin.id)) | {"exported_at": ""}),
            _snapshot_accounts(martin.id)) == state


def test_the_retention_period_is_the_communes_setting(app, demo, freeze):
    Commune.update(retention_identity_months=24).execute()
    martin = demo["households"]["martin"]
    _close(demo)
    freeze("2028-11-28T12:00")
    assert retention.apply_retention().anonymised == 0
    assert Household.get_by_id(martin.id).anonymised_at is None
    freeze("2028-11-29T12:00")
    assert retention.apply_retention().anonymised == 1


# --- The public page ----------------------------------------------------------------------------


def test_the_personal_data_page_reads_the_communes_settings(client, demo):
    Commune.update(dpo_name="Claire Délégué", dpo_email="dpo@demo.fr", retention_identity_months=18,
                   retention_accounting_years=10).execute()
    home = client.get("/").get_data(as_text=True)
    assert 'href="/donnees-personnelles"' in home
    page = client.get("/donnees-personnelles")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    commune = Commune.get_current()
    for expected in (commune.name, commune.address, "Claire Délégué", "dpo@demo.fr", "18 mois", "10 ans",
                     "Mes données", "CNIL", "Finalités", "Destinataires"):
        assert expected in text, expected


def test_the_command_applies_retention_now(app, demo, freeze):
    """`flask --app app apply-retention` does what the nightly job does, for an IT person who cannot wait."""
    martin = demo["households"]["martin"]
    _close(demo)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["apply-retention"])
    assert result.exit_code == 0 and "0 foyer(s) anonymisé(s), 1 en attente" in result.output
    assert Household.get_by_id(martin.id).anonymised_at is None
    freeze("2028-01-15T03:45")
    result = runner.invoke(args=["apply-retention"])
    assert result.exit_code == 0 and "1 foyer(s) anonymisé(s)" in result.output
    assert Household.get_by_id(martin.id).anonymised_at is not None


def test_messages_are_in_my_data_and_erased_when_the_account_closes(app, demo):
    """A sick child's message is health data: exported to the family, erased with the account (files too)."""
    from models import Message, Thread
    martin = demo["households"]["martin"]
    threads = list(Thread.select().where(Thread.household == martin.id))
    assert threads, "the demo gives Famille Martin conversations"
    held = personal_data.collect(martin)
    assert {t["subject"] for t in held["message_threads"]} == {t.subject for t in threads}
    assert len(held["messages"]) == Message.select().join(Thread).where(Thread.household == martin.id).count()
    stored = Path(app.config["UPLOAD_DIR"]) / "messages" / "piece-de-test.png"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(b"\x89PNG")
    Message.update(attachment_stored="piece-de-test.png", attachment_name="photo.png").where(
        Message.id == Message.select(Message.id).join(Thread).where(Thread.household == martin.id).limit(1)).execute()
    _close(demo)
    assert Thread.select().where(Thread.household == martin.id).count() == 0
    assert Message.select().join(Thread).where(Thread.household == martin.id).count() == 0
    assert not stored.exists()
    assert Thread.select().where(Thread.household == demo["households"]["dupont"].id).count() > 0
