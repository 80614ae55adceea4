"""Checks of an uploaded file by its content: not empty, 10 MB at most, a PDF, JPEG or PNG.

A leaf module: household documents and absence certificates both use it, and it imports no other
module of the family area.
"""
from __future__ import annotations

from services.core.errors import InvalidInput

MAX_BYTES = 10 * 1024 * 1024
SIGNATURES = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
]


class FileRefused(InvalidInput):
    """The uploaded file is empty, too big or not a PDF/JPEG/PNG."""


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the first bytes, or None when it is not an accepted format."""
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    return None


def read_upload(stream) -> bytes:
    """Read at most MAX_BYTES + 1 bytes, enough to tell that a file is too big."""
    return stream.read(MAX_BYTES + 1)


def check_content(content: bytes) -> tuple[str, str]:
    """(content type, extension) of an acceptable file; FileRefused with the French reason otherwise."""
    if not content:
        raise FileRefused("Le fichier est vide (0 octet) : choisissez un autre fichier.", field="file")
    if len(content) > MAX_BYTES:
        raise FileRefused("Le fichier dépasse 10 Mo : réduisez-le (photo moins lourde, PDF compressé).",
                          field="file")
    kind = sniff(content[:16])
    if kind is None:
        raise FileRefused("Ce fichier n'est pas un PDF, un JPEG ou un PNG (son contenu a été vérifié, pas seulement "
                          "son nom) : envoyez un document dans l'un de ces formats.", field="file")
    return kind
