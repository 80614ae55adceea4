"""HTML → PDF with xhtml2pdf, with an embedded TTF font so accents and "€" print correctly.

The font is DejaVu Sans, vendored in static/fonts/ (Debian's fonts-dejavu-core is the fallback;
PDF_FONT_DIR overrides both). Rendering reads local files only from that font
directory (a ResourceAccessPolicy) and never fetches anything remote.
"""
from __future__ import annotations

import io
import os
from functools import lru_cache
from pathlib import Path

from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from services.core.errors import DomainError

FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
CANDIDATES = (Path(__file__).resolve().parents[2] / "static" / "fonts", Path("/usr/share/fonts/truetype/dejavu"))


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


def font_css() -> str:
    """@font-face rules for the templates (family "DejaVu", regular and bold)."""
    folder = font_dir()
    return (f'@font-face {{ font-family: "DejaVu"; src: url("{folder / FONT_FILES[0]}"); }}\n'
            f'@font-face {{ font-family: "DejaVu"; font-weight: bold; src: url("{folder / FONT_FILES[1]}"); }}\n')


def html_to_pdf(html: str) -> bytes:
    """Render a complete HTML document to PDF bytes."""
    policy = ResourceAccessPolicy.server(base_dir=font_dir(), allow_remote=False)
    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8", resource_policy=policy)
    if result.err:
        raise PdfFailed("Le PDF n'a pas pu être produit.")
    return out.getvalue()
