"""RGPD: « Mes données » (the household's export), closure (health data and documents deleted at once),
retention (anonymisation by the daily job), the public personal data page."""
from __future__ import annotations

import io
import json
import zipfile

from models import AuditLog
from services.core import audit
from services.family import personal_data


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
