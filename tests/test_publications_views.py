"""Parents' /actualites and /documents: the household's audience only (another audience's item and its
file are 404), « Nouveau » until opened, counts of new documents per category, pagination, files served
as attachments (an image inline, typed, nosniff), and published text or file names always inert."""
import datetime as dt
import html
import re

import pytest

from models import NewsItem, NewsRead, PublicationRead, PublishedDocument
from services.communication import categories, news, publications
from services.communication.news import Draft
from tests import inert
from tests.conftest import DEMO_PASSWORD

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def staff(demo, app):
    return demo["users"]["agent"], app.config["UPLOAD_DIR"]


def _ce2_phare(demo, staff, title="Piscine des CE2"):
    """A news item for the CE2 class of École du Phare (Léa Martin's; no Dupont child is in it)."""
    agent, uploads = staff
    return news.save_news(agent, Draft(title, audience="class", class_level="CE2", school_id=demo["schools"]["phare"].id,
                                       body="Bonnets obligatoires."), uploads)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _words(response) -> str:
    """What a reader sees: the page without its tags, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split()).replace(" :", " :")


def test_ce2_news_is_new_for_martin_and_absent_for_dupont(demo, staff, client, auth):
    item = _ce2_phare(demo, staff)
    auth.login("famille.martin@example.fr")
    page = client.get("/actualites")
    assert page.status_code == 200
    card = re.search(r'<li class="card news-card">\s*<h2><a href="/actualites/%d">Piscine des CE2</a>\s*'
                     r'<span class="badge badge-new">Nouveau</span>' % item.id, page.get_data(as_text=True))
    assert card, "the CE2 item is listed first with « Nouveau »"
    detail = client.get(f"/actualites/{item.id}")
    assert detail.status_code == 200 and "Bonnets obligatoires." in _text(detail)
    assert NewsRead.select().where((NewsRead.news == item.id)
                                   & (NewsRead.household == demo["households"]["martin"])).count() == 1
    listed = client.get("/actualites").get_data(as_text=True)
    assert re.search(r'Piscine des CE2</a>\s*</h2>', listed), "read: no longer « Nouveau »"
    auth.logout()
    auth.login("famille.dupont@example.fr", DEMO_PASSWORD)
    assert "Piscine des CE2" not in _text(client.get("/actualites"))
    assert client.get(f"/actualites/{item.id}").status_code == 404
    assert NewsRead.select().where(NewsRead.news == item.id).count() == 1  # Dupont's 404 marked nothing


def test_unread_count_follows_reading(demo, staff, client, auth):
    household = demo["households"]["martin"]
    before = news.unread_news_count(household)
    item = _ce2_phare(demo, staff)
    assert news.unread_news_count(household) == before + 1
    auth.login()
    client.get(f"/actualites/{item.id}")
    assert news.unread_news_count(household) == before


def test_pagination_newest_first(demo, staff, client, auth, freeze):
    agent, uploads = staff
    for number in range(12):
        freeze(f"2026-11-29T12:{number:02d}")
        news.save_news(agent, Draft(f"Brève {number:02d}", body="x"), uploads)
    freeze("2026-11-29T13:00")
    auth.login()
    first = _text(client.get("/actualites"))
    assert first.index("Brève 11") < first.index("Brève 10") and "Brève 00" not in first
    assert "Page 1 sur 2" in first
    second = _text(client.get("/actualites?page=2"))
    assert "Brève 00" in second and "Brève 11" not in second
    for bad in ("0", "-3", "999", "x", "9" * 30):
        assert client.get(f"/actualites?page={bad}").status_code == 200


def test_attachments_are_scoped_and_served_safely(demo, staff, client, auth):
    agent, uploads = staff
    image = news.save_news(agent, Draft("Photo", audience="class", class_level="CE2", school_id=demo["schools"]["phare"].id,
                                        body="x"), uploads, attachment=('<img src=x onerror=alert(1)>.png', PNG))
    assert image.attachment_name == "img srcx onerroralert(1).png"  # no markup survives in the name
    pdf = news.save_news(agent, Draft("Circulaire", body="x"), uploads, attachment=("circ.pdf", PDF))
    auth.login()
    shown = client.get(f"/actualites/{image.id}/fichier")
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert shown.headers["Content-Disposition"].startswith("inline")
    assert client.get(f"/actualites/{image.id}/fichier?telecharger=1").headers["Content-Disposition"].startswith(
        "attachment")
    download = client.get(f"/actualites/{pdf.id}/fichier")
    assert download.headers["Content-Disposition"].startswith("attachment") and download.data == PDF
    auth.logout()
    auth.login("famille.dupont@example.fr")
    assert client.get(f"/actualites/{image.id}/fichier").status_code == 404
    assert client.get(f"/actualites/{pdf.id}/fichier").status_code == 200


def test_documents_by_category_with_new_counts(demo, staff, client, auth):
    agent, uploads = staff
    menus = next(c for c in categories.all_categories() if c.name == "Menus")
    secret = publications.save_document(agent, Draft("Menus CE2", audience="class", class_level="CE2",
                                                     school_id=demo["schools"]["phare"].id),
                                        menus.id, None, uploads, upload=("menus.pdf", PDF))
    auth.login()
    page = _words(client.get("/documents"))
    assert "Menus : 2 documents, 2 nouveaux" in page and "Règlements de fonctionnement : 1 document, 1 nouveau" in page
    assert "Menus CE2" in page and "Tarifs" not in page  # empty categories are left out
    download = client.get(f"/documents/{secret.id}")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff" and download.data == PDF
    assert PublicationRead.select().where(PublicationRead.document == secret.id).count() == 1
    assert "Menus : 2 documents, 1 nouveau" in _words(client.get("/documents"))
    auth.logout()
    auth.login("famille.dupont@example.fr")
    page = _words(client.get("/documents"))
    assert "Menus CE2" not in page and "Menus : 1 document, 1 nouveau" in page
    assert client.get(f"/documents/{secret.id}").status_code == 404


def test_unpublished_and_scheduled_items_are_404(demo, staff, client, auth, freeze):
    agent, uploads = staff
    later = news.save_news(agent, Draft("Plus tard", body="x", publish_from=dt.datetime(2026, 12, 10, 8, 0)), uploads)
    gone = news.set_published(agent, news.save_news(agent, Draft("Retirée", body="x"), uploads), published=False)
    menus = categories.all_categories()[0]
    withdrawn = publications.set_published(agent, publications.save_document(
        agent, Draft("Vieux menu"), menus.id, None, uploads, upload=("m.pdf", PDF)), published=False)
    auth.login()
    for url in (f"/actualites/{later.id}", f"/actualites/{gone.id}", f"/documents/{withdrawn.id}"):
        assert client.get(url).status_code == 404, url
    page = _text(client.get("/actualites"))
    assert "Plus tard" not in page and "Retirée" not in page
    freeze("2026-12-10T08:00")
    assert client.get(f"/actualites/{later.id}").status_code == 200


HOSTILE_TITLE = '<script>alert("t")</script><img src=x onerror=alert(1)>'
HOSTILE_BODY = """<script>alert(1)</script>

[clic](javascript:alert(2)) <a href="javascript:alert(3)" onmouseover="alert(4)">a</a>

<img src=x onerror="alert(5)"> <b onclick="alert(6)">gras</b> <iframe src="https://evil.example"></iframe>"""


def test_hostile_news_and_file_names_are_inert_everywhere(demo, staff, client, auth):
    agent, uploads = staff
    item = news.save_news(agent, Draft(HOSTILE_TITLE, body=HOSTILE_BODY), uploads,
                          attachment=('"><script>alert(7)</script>.pdf', PDF))
    document = publications.save_document(agent, Draft(HOSTILE_TITLE), categories.all_categories()[0].id, None,
                                          uploads, upload=('<svg onload=alert(8)>.pdf', PDF))
    assert "<" not in item.attachment_name + document.original_name
    pages = []
    auth.login()
    pages += [client.get(url).get_data(as_text=True) for url in
              ("/actualites", f"/actualites/{item.id}", "/documents")]
    auth.logout()
    auth.login("agent@example.fr")
    pages += [client.get(url).get_data(as_text=True) for url in
              ("/gestion/actualites", f"/gestion/actualites/{item.id}", "/gestion/publications",
               f"/gestion/publications/{document.id}")]
    for number, page in enumerate(pages):
        main = page[page.index('<main'):page.index('</main>')]
        found = inert.elements(main)
        assert inert.problems(found, allowed_tags={"form"} if number >= 3 else None) == []  # staff pages have forms
        # Only a form input's value may hold the hostile text (escaped: it is what staff typed).
        assert not [attrs for _, attrs in found if "alert(" in " ".join(str(v) for k, v in attrs.items() if k != "value")]
        assert "<script" not in main, main[main.index("<script") - 200:main.index("<script") + 100]
    detail = pages[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail  # HTML typed in Markdown is shown as text


def test_staff_pages_are_closed_to_families_and_kitchen(demo, client, auth):
    auth.login()
    assert client.get("/gestion/actualites").status_code == 404
    auth.logout()
    auth.login("cuisine@example.fr")
    assert client.get("/gestion/actualites").status_code == 403
    assert client.get("/gestion/publications").status_code == 403
    assert NewsItem.select().count() >= 1 and PublishedDocument.select().count() >= 1


def test_pages_ask_the_same_number_of_queries_with_5_or_60_items(demo, staff, client, auth):
    """No query per news item or document (an N+1 would show as dozens more)."""
    import logging

    agent, uploads = staff
    phare, mercredi = demo["schools"]["phare"], demo["activities"]["alsh_mercredi"]
    menus = categories.all_categories()[0]

    def add(count):
        for number in range(count):
            target = [{}, {"audience": "school", "school_id": phare.id},
                      {"audience": "activity", "activity_id": mercredi.id}][number % 3]
            news.save_news(agent, Draft(f"N{number}", body="x", **target), uploads)
            publications.save_document(agent, Draft(f"D{number}", **target), menus.id, None, uploads,
                                       upload=("d.pdf", PDF))

    class Count(logging.Handler):
        total = 0

        def emit(self, record):
            Count.total += 1

    def queries(url):
        handler, logger = Count(), logging.getLogger("peewee")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        Count.total = 0
        try:
            assert client.get(url).status_code == 200, url
        finally:
            logger.removeHandler(handler)
        return Count.total

    urls = ["/actualites", "/documents", "/gestion/actualites", "/gestion/publications"]
    add(5)
    auth.login()
    small = [queries(url) for url in urls[:2]]
    auth.logout()
    auth.login("agent@example.fr")
    small += [queries(url) for url in urls[2:]]
    add(55)
    large = [queries(url) for url in urls[2:]]
    auth.logout()
    auth.login()
    large = [queries(url) for url in urls[:2]] + large
    assert all(b - a <= 2 for a, b in zip(small, large)), list(zip(urls, small, large))
