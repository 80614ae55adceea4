"""Plain text typed by users (messages), shown inert: escaped first, then only http(s) links made clickable."""
from __future__ import annotations

import re

from markupsafe import Markup, escape

# On the escaped text: a web address runs until a space or an escaped quote or bracket (&#34; &#39; &lt; &gt;).
URL = re.compile(r"\bhttps?://(?:(?!&#34;|&#39;|&lt;|&gt;)[^\s])+", re.IGNORECASE)
TRAILING = ".,;:!?)]"  # punctuation after an address belongs to the sentence


def linkify(text: str | None) -> Markup:
    """The text escaped, each http:// or https:// address a link (rel noopener noreferrer nofollow)."""
    escaped = str(escape(text or ""))

    def link(match: re.Match) -> str:
        url = match.group(0)
        tail = ""
        while url and url[-1] in TRAILING:
            url, tail = url[:-1], url[-1] + tail
        return f'<a href="{url}" rel="noopener noreferrer nofollow">{url}</a>{tail}'
    return Markup(URL.sub(link, escaped))
