"""The files attached to news and published documents: checked like the households' documents (PDF,
JPEG or PNG by content, 10 MB), stored outside static/ under random names in UPLOAD_DIR/publications."""
from __future__ import annotations

import secrets
from pathlib import Path

from services.core import permissions
from services.core.errors import NotFound
from services.family.uploads import check_content

FOLDER = "publications"


def store(upload_dir: str | Path, filename: str, content: bytes) -> tuple[str, str, str]:
    """Check and write a file; (stored name, display name, content type). FileRefused when not acceptable."""
    content_type, extension = check_content(content)
    directory = permissions.private_dir(Path(upload_dir) / FOLDER)
    stored = secrets.token_hex(16) + extension
    permissions.private_file(directory / stored).write_bytes(content)
    return stored, display_name(filename, extension), content_type


def display_name(filename: str, extension: str) -> str:
    """The name shown and offered on download: the base name, letters, digits and « -_() » only (no markup)."""
    base = Path((filename or "").replace("\\", "/")).name
    stem = "".join(c for c in Path(base).stem if c.isalnum() or c in " -_()")[:80].strip() or "document"
    return stem + extension


def remove(upload_dir: str | Path, stored: str) -> None:
    if stored:
        (Path(upload_dir) / FOLDER / stored).unlink(missing_ok=True)


def path_of(upload_dir: str | Path, stored: str) -> Path:
    """The stored file; NotFound when it is gone."""
    path = Path(upload_dir) / FOLDER / stored
    if not stored or not path.is_file():
        raise NotFound("Le fichier n'est plus disponible.")
    return path
