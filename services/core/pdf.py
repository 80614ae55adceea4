"""HTML → PDF with xhtml2pdf, with an embedded TTF font so accents and "€" print correctly.

The font is DejaVu Sans, vendored in static/fonts/ (Debian's fonts-dejavu-core is the fallback;
PDF_FONT_DIR overrides both). It is registered with ReportLab once per process as the family "DejaVu"
that every template names (no @font-face: xhtml2pdf would read and hash both files, 1.4 MB, for each
PDF). Rendering reads local files only from that font directory (a ResourceAccessPolicy) and never
fetches anything remote.
"""
from __future__ import annotations

import io
import os
from functools import lru_cache
from pathlib import Path

from reportlab import rl_config
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from xhtml2pdf import default as xhtml2pdf_default
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from services.core.errors import DomainError

FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
CANDIDATES = (Path(__file__).resolve().parents[2] / "static" / "fonts", Path("/usr/share/fonts/truetype/dejavu"))
FAMILY = "dejavu"  # font-family: "DejaVu" in the templates (xhtml2pdf compares names in lower case)


class PdfFailed(DomainError):
    pass


@lru_cache(maxsize=1)
def font_dir() -> Path:
    """The directory holding DejaVuSans.ttf and DejaVuSans-Bold.ttf."""
    override = os.environ.get("PDF_FONT_DIR")
    for folder in ([Path(override)] if override else []) + list(CANDIDATES):
        if all((folder / name).exists() for name in FONT_FILES):
            return folder.resolve()
    raise PdfFailed("Police DejaVu Sans introuvable : installez fonts-dejavu-core ou copiez-la dans static/fonts/.")


@lru_cache(maxsize=1)
def _prepare_process() -> None:
    """Register the "DejaVu" family (regular and bold faces) for every later document of this process."""
    regular, bold = f"{FAMILY}_00", f"{FAMILY}_10"  # the names xhtml2pdf's @font-face gave them
    for name, file in ((regular, FONT_FILES[0]), (bold, FONT_FILES[1])):
        pdfmetrics.registerFont(TTFont(name, str(font_dir() / file)))
    for italic in (0, 1):  # no italic face: italic text is drawn upright, in its weight
        addMapping(FAMILY, 0, italic, regular)
        addMapping(FAMILY, 1, italic, bold)
    xhtml2pdf_default.DEFAULT_FONT[FAMILY] = FAMILY  # each document's font list starts as a copy of it
    # Streams in binary, not also in ASCII85: ReportLab's pure-Python encoder took ~10 ms for a PNG logo.
    rl_config.useA85 = 0


def html_to_pdf(html: str) -> bytes:
    """Render a complete HTML document to PDF bytes."""
    _prepare_process()
    policy = ResourceAccessPolicy.server(base_dir=font_dir(), allow_remote=False)
    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8", resource_policy=policy)
    if result.err:
        raise PdfFailed("Le PDF n'a pas pu être produit.")
    return out.getvalue()
