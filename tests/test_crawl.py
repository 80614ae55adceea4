"""Every page a demo user can reach by following links answers without a server error."""
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from tests.conftest import Auth

SKIP = ("/deconnexion", "/dev/horloge", "/static/")
LINK = re.compile(r'href="([^"#]+)"')
DOM_ID = re.compile(r'\sid="([^"]+)"')
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Untargeted(HTMLParser):
    """The hx-post/hx-get elements with no hx-target, on themselves or inherited from an ancestor
    (the week grid's table gives its boxes « closest td »)."""

    def __init__(self):
        super().__init__()
        self.open: list[tuple[str, bool]] = []  # (tag, an hx-target on it or above)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        targeted = "hx-target" in names or (bool(self.open) and self.open[-1][1])
        if ("hx-post" in names or "hx-get" in names) and not targeted:
            self.found.append(self.get_starttag_text())
        if tag not in VOID:
            self.open.append((tag, targeted))

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break


def untargeted_htmx(html: str) -> list[str]:
    """The start tags of htmx requests without an explicit target (own or inherited)."""
    parser = _Untargeted()
    parser.feed(html)
    return parser.found


def _markup_problems(url: str, html: str) -> list[str]:
    """Duplicate DOM ids, and htmx requests without an explicit target."""
    ids = DOM_ID.findall(html)
    problems = [f"{url}: id « {i} » en double" for i in sorted({i for i in ids if ids.count(i) > 1})]
    problems += [f"{url}: {tag[:80]} sans hx-target" for tag in untargeted_htmx(html)]
    return problems


def _crawl(client, start: str, limit: int = 250, problems: list | None = None) -> dict[str, int]:
    seen: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code in (301, 302, 303, 307, 308) and response.headers["Location"].startswith("/"):
            queue.append(response.headers["Location"])
        if response.status_code == 200 and response.mimetype == "text/html":
            if problems is not None:
                problems += _markup_problems(url, response.get_data(as_text=True))
            for href in LINK.findall(response.get_data(as_text=True)):
                href = href.replace("&amp;", "&")
                target = urlsplit(urljoin(url, href))
                if target.scheme in ("mailto", "tel") or target.netloc not in ("", "portail.test") or any(target.path.startswith(s) for s in SKIP):
                    continue
                path = target.path + (f"?{target.query}" if target.query else "")
                if path not in seen:
                    queue.append(path)
    return seen


@pytest.mark.parametrize("email", ["famille.martin@example.fr", "famille.dupont@example.fr", "agent@example.fr",
                                   "admin@example.fr", "regisseur@example.fr", "cuisine@example.fr", None])
def test_no_link_leads_to_a_server_error(client, demo, freeze, email):
    freeze("2026-11-19T17:55")
    if email:
        Auth(client).login(email)
    problems: list[str] = []
    pages = _crawl(client, "/", problems=problems)
    assert not problems, problems[:10]
    errors = {url: code for url, code in pages.items() if code >= 500 or code == 404}
    assert not errors, errors  # no server error, and no link to a missing page
    assert len(pages) > 5
