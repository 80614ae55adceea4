"""Weight: pages compressed, static files named with their content's version and cached a year."""
import re

import pytest


def test_pages_are_compressed_for_browsers_that_accept_it(client, demo):
    plain = client.get("/connexion")
    assert "Content-Encoding" not in plain.headers
    for encoding in ("br", "gzip"):
        response = client.get("/connexion", headers={"Accept-Encoding": encoding})
        assert response.headers["Content-Encoding"] == encoding
        assert "Accept-Encoding" in response.headers["Vary"]
        assert int(response.headers["Content-Length"]) < len(plain.data) / 2


def test_static_links_carry_the_files_version_and_are_cached_a_year(client, demo):
    page = client.get("/connexion").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert links and all(re.search(r"\?v=[0-9a-f]{12}$", link) for link in links), links
    for link in links:
        response = client.get(link, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["Content-Encoding"] == "gzip"
        response.close()


@pytest.mark.parametrize("query", ["", "?v=000000000000"])
def test_an_unversioned_or_stale_static_url_is_revalidated(client, demo, query):
    """An old page asking for a file that changed since must not keep the old one for a year."""
    response = client.get("/static/css/app.css" + query)
    assert response.status_code == 200
    assert "immutable" not in response.headers.get("Cache-Control", "")
    assert "max-age=31536000" not in response.headers.get("Cache-Control", "")
    response.close()


def test_the_version_changes_with_the_content(app, tmp_path):
    from web import static_files
    first = tmp_path / "a.css"
    first.write_text("body { color: black }")
    version = static_files.version_of(first)
    first.write_text("body { color: navy }")
    static_files.forget()
    assert static_files.version_of(first) != version and len(version) == 12


def test_htmx_is_loaded_only_where_a_page_uses_it(client, demo, auth):
    auth.login("famille.martin@example.fr")
    assert "vendor/htmx-" in client.get("/reservations").get_data(as_text=True)
    for url in ("/mon-espace", "/panier", "/commandes", "/reservations/mois"):
        page = client.get(url).get_data(as_text=True)
        assert "vendor/htmx-" not in page and "hx-" not in page.replace("hx-headers", ""), url
