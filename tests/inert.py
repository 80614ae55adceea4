"""What « inert » means for published text in a page: no element or attribute that runs code."""
from __future__ import annotations

from html.parser import HTMLParser

ACTIVE_TAGS = {"script", "iframe", "object", "embed", "style", "img", "svg", "form", "base", "meta", "link"}
SAFE_SCHEMES = ("http://", "https://", "mailto:", "/", "#")


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict]]:
    """Every start tag of an HTML fragment with its attributes."""
    parser = _Collect()
    parser.feed(html)
    return parser.found


def problems(found: list[tuple[str, dict]], allowed_tags: set[str] | None = None) -> list[str]:
    """The active tags, event attributes and unsafe links among `found` (an empty list: inert)."""
    bad = []
    for tag, attrs in found:
        if tag in ACTIVE_TAGS - (allowed_tags or set()):
            bad.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                bad.append(f"<{tag} {name}>")
            if name in ("href", "src", "action", "formaction") and value is not None \
                    and not value.strip().lower().startswith(SAFE_SCHEMES):
                bad.append(f"<{tag} {name}={value}>")
    return bad
