"""Staff pages /gestion/actualites and /gestion/publications: write with a preview that saves nothing,
target, schedule, attach, replace and remove files, « Dépublier »; categories by the administrator;
refusals in French that change nothing; everything audited."""
import html
import re
from io import BytesIO
from pathlib import Path

from models import AuditLog, NewsItem, PublicationCategory, PublishedDocument
from tests.conftest import post_form

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _post(client, url, data, token_page):
    return post_form(client, url, data, token_page=token_page, content_type="multipart/form-data")


def test_preview_saves_nothing_then_publish_for_a_class(demo, client, auth):
    auth.login("agent@example.fr")
    count = NewsItem.select().count()
    form = {"title": "Piscine", "body": "## Mardi\n\n**Bonnet** <script>alert(1)</script>", "audience": "class",
            "school": str(demo["schools"]["phare"].id), "activity": "", "class_level": "CE2",
            "publish_from": "", "publish_until": ""}
    preview = _post(client, "/gestion/actualites/nouvelle", {**form, "action": "preview"}, "/gestion/actualites/nouvelle")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<h2>Mardi</h2>" in page and "<strong>Bonnet</strong>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "Aperçu (non enregistré)" in _text(preview)
    assert NewsItem.select().count() == count
    saved = _post(client, "/gestion/actualites/nouvelle",
                  {**form, "action": "save", "attachment": (BytesIO(PNG), "affiche.png")}, "/gestion/actualites/nouvelle")
    assert saved.status_code == 302
    item = NewsItem.select().order_by(NewsItem.id.desc()).first()
    assert (item.title, item.audience, item.class_level, item.school_id) == ("Piscine", "class", "CE2",
                                                                           demo["schools"]["phare"].id)
    assert item.attachment_mime == "image/png" and item.attachment_name == "affiche.png"
    assert len(item.attachment_stored) == 36 and item.author_id == demo["users"]["agent"].id
    listing = _text(client.get("/gestion/actualites"))
    assert "Classe CE2 – École du Phare" in listing and "En ligne" in listing
    assert AuditLog.select().where((AuditLog.action == "actualité publiée") & (AuditLog.object_id == item.id)).count() == 1


def test_edit_replace_and_remove_attachment_then_unpublish(demo, client, auth, app):
    auth.login("regisseur@example.fr")
    url = "/gestion/actualites/nouvelle"
    _post(client, url, {"title": "Tarifs 2027", "body": "Voir le PDF.", "audience": "all", "action": "save",
                        "attachment": (BytesIO(PDF), "tarifs.pdf")}, url)
    item = NewsItem.select().order_by(NewsItem.id.desc()).first()
    folder = Path(app.config["UPLOAD_DIR"]) / "publications"
    first_file = item.attachment_stored
    assert (folder / first_file).read_bytes() == PDF
    edit = f"/gestion/actualites/{item.id}"
    assert "tarifs.pdf" in _text(client.get(edit))
    assert _post(client, edit, {"title": "Tarifs 2027", "body": "Nouveau PDF.", "audience": "all", "action": "save",
                                "attachment": (BytesIO(PNG), "grille.png")}, edit).status_code == 302
    item = NewsItem.get_by_id(item.id)
    assert item.attachment_name == "grille.png" and not (folder / first_file).exists()
    second_file = item.attachment_stored
    assert _post(client, edit, {"title": "Tarifs 2027", "body": "Sans fichier.", "audience": "all", "action": "save",
                                "remove_attachment": "y"}, edit).status_code == 302
    item = NewsItem.get_by_id(item.id)
    assert item.attachment_stored == "" and not (folder / second_file).exists()
    response = post_form(client, f"/gestion/actualites/{item.id}/depublier", token_page="/gestion/actualites")
    assert response.status_code == 302 and NewsItem.get_by_id(item.id).unpublished_at is not None
    assert "Dépubliée" in _text(client.get("/gestion/actualites"))
    post_form(client, f"/gestion/actualites/{item.id}/republier", token_page="/gestion/actualites")
    assert NewsItem.get_by_id(item.id).unpublished_at is None
    actions = [a.action for a in AuditLog.select().where(AuditLog.object_type == "NewsItem").order_by(AuditLog.id)]
    assert actions[-4:] == ["actualité modifiée", "actualité modifiée", "actualité dépubliée", "actualité republiée"]


def test_news_refusals_in_french_change_nothing(demo, client, auth):
    auth.login("agent@example.fr")
    url = "/gestion/actualites/nouvelle"
    count = NewsItem.select().count()
    base = {"title": "T", "body": "x", "audience": "all", "action": "save"}
    for data, message in (
            ({**base, "title": ""}, "Donnez un titre"),
            ({**base, "body": ""}, "Écrivez le texte de l'actualité"),
            ({**base, "audience": "school"}, "Choisissez l'école"),
            ({**base, "audience": "class", "class_level": ""}, "Choisissez la classe"),
            ({**base, "audience": "martiens"}, "Choisissez à qui s'adresse"),
            ({**base, "publish_from": "2026-12-05T10:00", "publish_until": "2026-12-01T10:00"}, "après son début"),
            ({**base, "publish_from": "2026-02-30T10:00"}, "Indiquez le début"),
            ({**base, "attachment": (BytesIO(b"MZ\x90\x00exe"), "virus.pdf")}, "n'est pas un PDF"),
            ({**base, "attachment": (BytesIO(b""), "vide.pdf")}, "Le fichier est vide")):
        response = _post(client, url, data, url)
        assert response.status_code == 400 and message in _text(response), data
    assert NewsItem.select().count() == count


def test_documents_publish_replace_and_unpublish(demo, client, auth):
    auth.login("agent@example.fr")
    url = "/gestion/publications/nouveau"
    tarifs = PublicationCategory.get(PublicationCategory.name == "Tarifs")
    refused = _post(client, url, {"title": "Grille", "category": str(tarifs.id), "audience": "all"}, url)
    assert refused.status_code == 400 and "Joignez le fichier" in _text(refused)
    saved = _post(client, url, {"title": "Grille des tarifs", "category": str(tarifs.id), "audience": "school",
                                "school": str(demo["schools"]["petit_prince"].id), "document_date": "01/09/2026",
                                "file": (BytesIO(PDF), "tarifs 2026.pdf")}, url)
    assert saved.status_code == 302
    document = PublishedDocument.select().order_by(PublishedDocument.id.desc()).first()
    assert (document.category_id, document.audience, document.original_name, str(document.document_date)) == (
        tarifs.id, "school", "tarifs 2026.pdf", "2026-09-01")
    assert "École du Petit Prince" in _text(client.get("/gestion/publications"))
    file = client.get(f"/gestion/publications/{document.id}/fichier")
    assert file.data == PDF and file.headers["Content-Disposition"].startswith("attachment")
    edit = f"/gestion/publications/{document.id}"
    assert _post(client, edit, {"title": "Grille 2026", "category": str(tarifs.id), "audience": "all"},
                 edit).status_code == 302
    assert PublishedDocument.get_by_id(document.id).stored_name == document.stored_name  # file kept
    post_form(client, f"{edit}/depublier", token_page="/gestion/publications")
    assert PublishedDocument.get_by_id(document.id).unpublished_at is not None
    assert AuditLog.select().where(AuditLog.object_type == "PublishedDocument").count() >= 3


def test_categories_are_the_administrators(demo, client, auth):
    auth.login("agent@example.fr")
    assert client.get("/gestion/publications/categories").status_code == 403
    auth.logout()
    auth.login("admin@example.fr")
    url = "/gestion/publications/categories"
    page = _text(client.get(url))
    assert all(name in page for name in ("Menus", "Tarifs", "Règlements de fonctionnement", "Inscriptions",
                                         "Projets pédagogiques"))
    assert post_form(client, url, {"name": "Sorties"}, token_page=url).status_code == 302
    sorties = PublicationCategory.get(PublicationCategory.name == "Sorties")
    refused = post_form(client, url, {"name": "menus"}, token_page=url)
    assert refused.status_code == 400 and "Une catégorie s'appelle déjà « menus »" in _text(refused)
    renamed = post_form(client, f"{url}/{sorties.id}", {"name": "Tarifs"}, token_page=url)
    assert renamed.status_code == 400 and "s'appelle déjà" in _text(renamed)
    assert post_form(client, f"{url}/{sorties.id}", {"name": "Sorties scolaires"}, token_page=url).status_code == 302
    post_form(client, f"{url}/{sorties.id}/deplacer", {"direction": "up"}, token_page=url)
    names = [c.name for c in PublicationCategory.select().order_by(PublicationCategory.position)]
    assert names[-2:] == ["Sorties scolaires", "Projets pédagogiques"]
    menus = PublicationCategory.get(PublicationCategory.name == "Menus")
    refused = post_form(client, f"{url}/{menus.id}/supprimer", token_page=url, follow_redirects=True)
    assert "contient 1 document(s)" in _text(refused) and PublicationCategory.get_or_none(id=menus.id)
    post_form(client, f"{url}/{sorties.id}/supprimer", token_page=url)
    assert PublicationCategory.get_or_none(id=sorties.id) is None
    assert re.search(r"catégorie de documents (ajoutée|renommée|supprimée)",
                     " ".join(a.action for a in AuditLog.select()))
