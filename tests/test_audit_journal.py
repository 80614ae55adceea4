"""The audit journal (/gestion/journal): every entry knows its household; admins filter by household,
person, kind and dates; bad filters get a French message, never a 500; other roles are kept out."""
import importlib.util
from pathlib import Path

from models import AuditLog, Household, db
from services.core import audit
from services.core.transactions import write_transaction
from tests.conftest import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[1]


def _entries(demo):
    """Three entries: one on Léa (Martin), one on the Dupont household, one on nothing."""
    agent, admin = demo["users"]["agent"], demo["users"]["admin"]
    with write_transaction():
        audit.record(agent, "lecture d'un document de santé", demo["children"]["lea"], "vaccins.pdf")
        audit.record(admin, "dossier famille validé", demo["households"]["dupont"])
        audit.record(agent, "holidays.refresh", None, "11 fériés")


def test_an_entry_knows_the_household_of_its_object(demo):
    _entries(demo)
    martin, dupont = demo["households"]["martin"].id, demo["households"]["dupont"].id
    rows = {row.action: row.household_id for row in AuditLog.select()}
    assert rows["lecture d'un document de santé"] == martin
    assert rows["dossier famille validé"] == dupont
    assert rows["holidays.refresh"] is None


def test_admin_filters_the_journal(demo, client, auth):
    _entries(demo)
    auth.login("admin@example.fr", DEMO_PASSWORD)
    page = client.get("/gestion/journal").get_data(as_text=True)
    assert "Journal des actions" in page and "vaccins.pdf" in page and "11 fériés" in page
    martin = demo["households"]["martin"].id
    mine = client.get(f"/gestion/journal?foyer={martin}").get_data(as_text=True)
    assert "vaccins.pdf" in mine and "11 fériés" not in mine and "dossier famille validé" not in mine
    assert "Historique de" in mine and "Famille Martin" in mine
    health = client.get("/gestion/journal?type=sante").get_data(as_text=True)
    assert "vaccins.pdf" in health and "dossier famille validé" not in health
    family = client.get("/gestion/journal?type=famille").get_data(as_text=True)
    assert "vaccins.pdf" in family and "dossier famille validé" in family and "11 fériés" not in family
    person = client.get("/gestion/journal?personne=ADMIN@example").get_data(as_text=True)
    assert "dossier famille validé" in person and "vaccins.pdf" not in person
    later = client.get("/gestion/journal?du=2026-11-30").get_data(as_text=True)
    assert "0 action trouvée" in later


def test_bad_filters_are_explained_and_never_a_500(demo, client, auth):
    _entries(demo)
    auth.login("admin@example.fr", DEMO_PASSWORD)
    for query in ("du=2026-13-45", "foyer=abc", "foyer=99999999999999999999", "type=inconnu", "au=hier"):
        response = client.get(f"/gestion/journal?{query}")
        assert response.status_code == 200, query
        text = response.get_data(as_text=True)
        assert 'class="error"' in text, query  # the field says what is wrong
        assert "3 actions trouvées" in text, query  # that filter is ignored, the others apply
    for query in ("page=0", "page=zz", "page=999"):  # a page out of range shows the nearest one
        assert "3 actions trouvées" in client.get(f"/gestion/journal?{query}").get_data(as_text=True), query


def test_only_administrators_read_the_journal(demo, client, auth):
    auth.login("agent@example.fr", DEMO_PASSWORD)
    assert client.get("/gestion/journal").status_code == 403
    auth.logout()
    auth.login("famille.martin@example.fr", DEMO_PASSWORD)
    assert client.get("/gestion/journal").status_code == 404


def test_the_migration_fills_in_the_household_of_older_entries(demo):
    lea, dupont = demo["children"]["lea"], demo["households"]["dupont"]
    AuditLog.insert_many([
        {"at": "2026-11-01 10:00", "action": "ancienne", "object_type": "Child", "object_id": lea.id},
        {"at": "2026-11-01 10:00", "action": "ancienne", "object_type": "Household", "object_id": dupont.id},
        {"at": "2026-11-01 10:00", "action": "ancienne", "object_type": "Child", "object_id": 987654},
    ]).execute()
    spec = importlib.util.spec_from_file_location("m006", ROOT / "migrations" / "006_audit_household.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with db.atomic():
        module.backfill(db.obj)
    filled = [row.household_id for row in AuditLog.select().where(AuditLog.action == "ancienne").order_by(AuditLog.id)]
    assert filled == [lea.household_id, dupont.id, None]
    assert Household.get_by_id(dupont.id)
