"""The commune's logo on /gestion/parametres: PNG or JPEG checked by content, 500 Ko at most, stored
under a random name in UPLOAD_DIR, served with a long cache at a URL that changes with each upload,
shown in the page header and on invoice PDFs; « Supprimer le logo »."""
import base64
import html
import io
from pathlib import Path

import pytest

from models import AuditLog, Commune, Invoice, User
from services.core import commune as settings
from services.core import pdf
from tests.conftest import post_form

# A 1×1 red PNG and the start of a JPEG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAF"
                       "BQIAX8jx0gAAAABJRU5ErkJggg==")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def admin(demo, auth):
    auth.login("admin@example.fr")
    return demo


def _upload(client, content: bytes, filename: str = "logo.png"):
    return post_form(client, "/gestion/parametres/logo", {"logo": (io.BytesIO(content), filename)},
                     token_page="/gestion/parametres", content_type="multipart/form-data")


def test_upload_shows_the_logo_everywhere_and_delete_removes_it(admin, app, client):
    response = _upload(client, PNG)
    assert response.status_code == 302
    name = Commune.get_current().logo
    assert settings.LOGO_NAME.fullmatch(name) and name.endswith(".png")
    stored = Path(app.config["UPLOAD_DIR"]) / name
    assert stored.read_bytes() == PNG
    assert AuditLog.select().where(AuditLog.action == "logo de la commune modifié").count() == 1
    page = client.get("/gestion/").get_data(as_text=True)
    assert f'class="brand-logo" src="/logo/{name}"' in page
    served = client.get(f"/logo/{name}")
    assert served.status_code == 200 and served.data == PNG and served.mimetype == "image/png"
    assert "immutable" in served.headers["Cache-Control"] and "max-age=31536000" in served.headers["Cache-Control"]
    assert client.get("/logo/logo-00000000000000000000000000000000.png").status_code == 404
    # A second upload gets a new name (the URL is the version) and the old file goes.
    _upload(client, PNG)
    second = Commune.get_current().logo
    assert second != name and not stored.exists() and client.get(f"/logo/{name}").status_code == 404
    response = post_form(client, "/gestion/parametres/logo/supprimer", token_page="/gestion/parametres")
    assert response.status_code == 302 and Commune.get_current().logo == ""
    assert not (Path(app.config["UPLOAD_DIR"]) / second).exists()
    assert "brand-logo" not in client.get("/gestion/").get_data(as_text=True)


@pytest.mark.parametrize("content, filename, message", [
    (b"", "vide.png", "Le fichier est vide"),
    (SVG, "logo.svg", "PNG ou JPEG"),
    (b"%PDF-1.4 ...", "logo.png", "PNG ou JPEG"),
    (PNG + b"0" * (500 * 1024), "gros.png", "500 Ko"),
])
def test_bad_logo_is_refused_and_nothing_changes(admin, app, client, content, filename, message):
    response = _upload(client, content, filename)
    assert response.status_code == 400 and message in html.unescape(response.get_data(as_text=True))
    assert Commune.get_current().logo == ""
    assert not list(Path(app.config["UPLOAD_DIR"]).glob("logo-*"))


def test_only_the_current_logo_is_served(admin, app, client):
    """Family documents share UPLOAD_DIR: a made-up name never reaches them."""
    (Path(app.config["UPLOAD_DIR"]) / "secret.pdf").write_bytes(b"%PDF-1.4")
    Commune.update(logo="secret.pdf").execute()
    assert client.get("/logo/secret.pdf").status_code == 404
    assert client.get("/logo/..%2Fsecret.pdf").status_code == 404


def test_invoice_pdf_embeds_the_logo(admin, app):
    settings.save_logo(User.get(User.email == "admin@example.fr"), PNG, app.config["UPLOAD_DIR"])
    from blueprints.billing import render_invoice_pdf
    with app.test_request_context("/"):
        source = render_invoice_pdf(Invoice.select().first())
    assert 'src="data:image/png;base64,' in source
    assert b"/Subtype /Image" in pdf.html_to_pdf(source)  # xhtml2pdf embedded it (no file access needed)


def test_staff_only(demo, client, auth):
    auth.login("agent@example.fr")
    assert _upload(client, PNG).status_code == 403 and Commune.get_current().logo == ""
