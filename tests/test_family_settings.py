"""Staff forms of household files that no other test posts: the settings lists (régimes, types of
documents) and the validity dates of a document review."""
from __future__ import annotations

import html

import pytest

from models import AuditLog, Diet, DocumentType, FamilyDocument
from tests.conftest import post_form

SETTINGS = "/gestion/parametres-familles"


def _post(client, data: dict):
    return post_form(client, SETTINGS, data, token_page="/gestion/", follow_redirects=True)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_diets_are_added_once_and_toggled(client, auth, demo):
    auth.login("agent@example.fr")
    assert "Régime « Sans lactose » ajouté." in _text(_post(client, {"kind": "diet-add", "name": "  Sans   lactose "}))
    diet = Diet.get(Diet.name == "Sans lactose")
    assert "Ce régime existe déjà." in _text(_post(client, {"kind": "diet-add", "name": "Sans lactose"}))
    assert "Indiquez le nom du régime." in _text(_post(client, {"kind": "diet-add", "name": " "}))
    assert Diet.select().where(Diet.name == "Sans lactose").count() == 1
    assert "retiré de la liste" in _text(_post(client, {"kind": "diet-toggle", "id": str(diet.id)}))
    assert not Diet.get_by_id(diet.id).active
    assert AuditLog.select().where(AuditLog.action == "régime alimentaire retiré").exists()


def test_document_types_are_added_with_bounded_validity_and_made_required(client, auth, demo):
    auth.login("agent@example.fr")
    page = _text(_post(client, {"kind": "type-add", "name": "Justificatif de domicile", "scope": "child",
                                "validity_months": "500", "required": "y"}))
    assert "Type de document « Justificatif de domicile » ajouté." in page
    added = DocumentType.get(DocumentType.name == "Justificatif de domicile")
    assert (added.scope, added.required, added.health, added.validity_months) == ("child", True, False, 120)
    assert "Indiquez le nom du type de document." in _text(_post(client, {"kind": "type-add", "name": ""}))
    assert "« Justificatif de domicile » est désormais facultatif." in _text(
        _post(client, {"kind": "type-required", "id": str(added.id)}))
    assert not DocumentType.get_by_id(added.id).required


@pytest.mark.parametrize("data", [{"kind": "diet-toggle", "id": "99999"}, {"kind": "type-required", "id": "x"}])
def test_unknown_setting_rows_are_404(client, auth, demo, data):
    auth.login("agent@example.fr")
    assert post_form(client, SETTINGS, data, token_page="/gestion/").status_code == 404


def test_unknown_setting_action_is_a_message(client, auth, demo):
    auth.login("agent@example.fr")
    assert "Action inconnue." in _text(_post(client, {"kind": "tout-effacer"}))


def test_document_review_with_a_bad_date_changes_nothing(client, auth, demo):
    pending = FamilyDocument.create(household=demo["households"]["martin"].id, doc_type=DocumentType.get().id,
                                    stored_name="x.pdf", original_name="x.pdf", content_type="application/pdf",
                                    size=10, uploaded_at=FamilyDocument.select().get().uploaded_at)
    auth.login("agent@example.fr")
    response = post_form(client, "/gestion/documents", {"ids": [pending.id], "decision": "accept",
                                                        "valid_from": "2026-02-30"},
                         token_page="/gestion/", follow_redirects=True)
    assert "Dates de validité invalides : utilisez le format jj/mm/aaaa." in _text(response)
    assert FamilyDocument.get_by_id(pending.id).status == "pending"
    response = post_form(client, "/gestion/documents", {"ids": [pending.id]}, token_page="/gestion/",
                         follow_redirects=True)
    assert "Choisissez « Accepter » ou « Refuser »." in _text(response)
    assert FamilyDocument.get_by_id(pending.id).status == "pending"
