"""News text: Markdown (CommonMark, raw HTML off) rendered by markdown-it-py, then cleaned by nh3 to an
allow-list, so nothing staff type (or paste) can run in a parent's browser."""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

TAGS = {"p", "a", "strong", "em", "ul", "ol", "li", "h2", "h3", "h4", "blockquote", "code", "pre", "br"}
SCHEMES = ("http://", "https://", "mailto:")

# html=False: HTML typed in the text is shown as text, never interpreted.
_markdown = MarkdownIt("commonmark", {"html": False})


def _keep_safe_links(tag: str, attribute: str, value: str) -> str | None:
    """Only absolute http(s) and mailto links survive (no javascript:, data:, relative or odd ones)."""
    if tag == "a" and attribute == "href":
        return value if value.strip().lower().startswith(SCHEMES) else None
    return value


def to_html(markdown_text: str) -> str:
    """The cleaned HTML of a Markdown text, safe to insert in a page as it is."""
    html = _markdown.render(markdown_text or "")
    return nh3.clean(html, tags=TAGS, attributes={"a": {"href"}}, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer", attribute_filter=_keep_safe_links, strip_comments=True)
