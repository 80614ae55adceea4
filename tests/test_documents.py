"""Documents: content checks, storage, downloads (household and staff only), review, required types, audit."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from models import AuditLog, DocumentType, FamilyDocument
from services.family import documents, uploads
from tests.conftest import outbox_messages, post_form

PDF = b"%PDF-1.4\n%test\n" + b"0" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 100
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 100


def send(client, content, name="attestation.pdf", doc_type=None, child=""):
    doc_type = doc_type or DocumentType.get(DocumentType.code == "qf").id
    return post_form(client, "/mon-compte/documents",
                     {"doc_type": str(doc_type), "child": str(child), "file": (io.BytesIO(content), name)},
                     token_page="/mon-compte", content_type="multipart/form-data")


@pytest.mark.parametrize("content, kind", [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")])
def test_sniff_by_content(content, kind):
    assert uploads.check_content(content)[0] == kind


@pytest.mark.parametrize("content, name, message", [
    (b"", "vide.pdf", "vide (0 octet)"),
    (b"MZ\x90\x00" + b"\x00" * 200, "programme.pdf", "pas un PDF, un JPEG ou un PNG"),
    (b"%PDF" + b"0" * (10 * 1024 * 1024), "gros.pdf", "dépasse 10 Mo"),
])
def test_bad_files_are_refused_and_nothing_is_saved(client, demo, auth, app, content, name, message):
    auth.login()
    before = FamilyDocument.select().count()
    response = send(client, content, name)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="file-error"[^>]*>.*' + re.escape(message), page)
    assert FamilyDocument.select().count() == before


def test_upload_review_and_validity(client, demo, auth, app, freeze):
    freeze("2026-11-23T10:00")
    auth.login()
    response = send(client, PDF)
    assert response.status_code == 302
    document = FamilyDocument.select().order_by(FamilyDocument.id.desc()).get()
    assert document.status == "pending" and document.stored_name != "attestation.pdf"
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", document.stored_name)
    assert "En attente" in client.get("/mon-compte/documents").get_data(as_text=True)
    download = client.get(f"/mon-compte/documents/{document.id}/fichier")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    auth.logout()

    auth.login("agent@example.fr")
    assert "Documents à examiner" in client.get("/gestion/").get_data(as_text=True)
    assert client.get(f"/gestion/documents/{document.id}/fichier").status_code == 200
    post_form(client, "/gestion/documents", {"ids": [document.id], "decision": "accept"}, token_page="/gestion/")
    document = FamilyDocument.get_by_id(document.id)
    assert document.status == "accepted"
    assert (document.valid_from, document.valid_until) == (dt.date(2026, 11, 23), dt.date(2027, 11, 22))
    assert any("accepté" in m["subject"] for m in outbox_messages())
    auth.logout()

    auth.login()
    page = client.get("/mon-compte/documents").get_data(as_text=True)
    assert "Valide du lundi 23 novembre 2026 au lundi 22 novembre 2027" in page


def test_refusal_needs_a_reason_the_parent_sees(client, demo, auth, app):
    auth.login()
    send(client, PNG, "photo.png")
    document = FamilyDocument.select().order_by(FamilyDocument.id.desc()).get()
    auth.logout()
    auth.login("agent@example.fr")
    post_form(client, "/gestion/documents", {"ids": [document.id], "decision": "refuse"}, token_page="/gestion/")
    assert FamilyDocument.get_by_id(document.id).status == "pending"
    post_form(client, "/gestion/documents", {"ids": [document.id], "decision": "refuse", "reason": "Photo floue"},
              token_page="/gestion/")
    assert FamilyDocument.get_by_id(document.id).status == "refused"
    auth.logout()
    auth.login()
    assert "Photo floue" in client.get("/mon-compte/documents").get_data(as_text=True)


def test_required_types_are_listed_until_accepted(client, demo, auth):
    martin = demo["households"]["martin"]
    assert documents.missing_required(martin) == []
    DocumentType.create(name="Attestation d'assurance", required=True, scope="household")
    assert [t.name for t, _ in documents.missing_required(martin)] == ["Attestation d'assurance"]
    auth.login()
    assert "Attestation d&#39;assurance" in client.get("/mon-compte/documents").get_data(as_text=True)


def test_child_document_needs_a_child_of_the_household(client, demo, auth, app):
    auth.login()
    vaccins = DocumentType.get(DocumentType.code == "vaccins").id
    response = send(client, PDF, doc_type=vaccins)
    assert response.status_code == 400 and "Indiquez l&#39;enfant" in response.get_data(as_text=True)
    other_child = demo["children"]["ines"].id  # a Dupont child
    response = send(client, PDF, doc_type=vaccins, child=other_child)
    assert response.status_code == 400
    assert not FamilyDocument.select().where(FamilyDocument.child == other_child,
                                             FamilyDocument.status == "pending").exists()


def test_pai_reads_are_audited_and_hidden_from_other_roles(client, demo, auth, app):
    pai = FamilyDocument.get(FamilyDocument.doc_type == DocumentType.get(DocumentType.code == "pai"))
    auth.login("agent@example.fr")
    assert client.get(f"/gestion/documents/{pai.id}/fichier").status_code == 200
    entry = AuditLog.select().where(AuditLog.action == "lecture d'un document de santé").get()
    assert entry.object_id == pai.id and entry.user.email == "agent@example.fr"
    auth.logout()
    auth.login("cuisine@example.fr")  # the demo's kitchen account
    assert client.get(f"/gestion/documents/{pai.id}/fichier").status_code == 403  # the kitchen role
