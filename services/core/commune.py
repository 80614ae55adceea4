"""The commune's settings (/gestion/parametres): who runs the portal, how it looks, how it writes and
is paid; and whether it is still the demo commune, which production refuses to open to families."""
from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from models import Commune, User
from services.core import audit
from services.core.errors import InvalidInput
from services.core.transactions import write_transaction

LOGO_MAX_BYTES = 500 * 1024
# Checked by content (as services/family/uploads.py does): PNG or JPEG only; an SVG could carry script.
LOGO_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png", ".png"), (b"\xff\xd8\xff", "image/jpeg", ".jpg"))
LOGO_NAME = re.compile(r"logo-[0-9a-f]{32}\.(png|jpg)")

# The demo commune's identity (models' defaults): a production site must not show it to families.
DEMO_VALUES = {"name": "Mairie de Démo", "city": "Démo-sur-Mer", "phone": "01 23 45 67 89",
               "email": "mairie@example.fr", "postal_code": "00000"}
DEMO_LABELS = {"name": "le nom de la commune", "city": "la ville", "phone": "le téléphone",
               "email": "l'adresse e-mail", "postal_code": "le code postal"}
EDITABLE = ("name", "address", "postal_code", "city", "phone", "email", "opening_hours", "presentation",
            "school_zone", "publisher", "host", "main_color", "mail_sender", "payfip_client", "payfip_mode",
            "legal_notice", "accessibility_statement", "reminders_enabled", "dpo_name", "dpo_email",
            "retention_identity_months", "retention_accounting_years", "admin_two_factor_required")


@dataclass(frozen=True)
class Theme:
    """The colours of /theme.css: the commune's colour and a darker one for hover and focus."""

    main: str
    dark: str


def still_demo(commune: Commune) -> list[str]:
    """What still reads as the demo commune (French labels), empty once the commune is its own."""
    return [DEMO_LABELS[name] for name, value in DEMO_VALUES.items() if (getattr(commune, name) or "") == value]


def save_settings(staff: User, values: dict) -> Commune:
    """Write the settings an administrator entered (already checked by their form); audited field by field."""
    with write_transaction():
        commune = Commune.get_current()
        changed = [name for name in EDITABLE if name in values and getattr(commune, name) != values[name]]
        for name in changed:
            setattr(commune, name, values[name])
        if changed:
            commune.save()
            audit.record(staff, "paramètres de la commune modifiés", commune, ", ".join(changed))
    return commune


def theme(commune: Commune) -> Theme:
    """The main colour and its darker shade (each channel × 0.7)."""
    color = commune.main_color if is_color(commune.main_color) else "#1d4f91"
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return Theme(color, "#{:02x}{:02x}{:02x}".format(*(int(c * 0.7) for c in (r, g, b))))


def is_color(value: str) -> bool:
    return isinstance(value, str) and len(value) == 7 and value[0] == "#" and all(
        c in "0123456789abcdefABCDEF" for c in value[1:])


def contrast_with_white(color: str) -> float:
    """WCAG contrast ratio of a #rrggbb colour against white (white text on it, or it on white)."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(int(color[i:i + 2], 16)) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


def logo_type(content: bytes) -> tuple[str, str]:
    """(content type, extension) of an acceptable logo; InvalidInput with the French reason otherwise."""
    if not content:
        raise InvalidInput("Le fichier est vide : choisissez l'image du logo.", "logo")
    if len(content) > LOGO_MAX_BYTES:
        raise InvalidInput("Le logo dépasse 500 Ko : enregistrez-le en plus petit (200 pixels de haut suffisent).",
                           "logo")
    for magic, content_type, extension in LOGO_SIGNATURES:
        if content.startswith(magic):
            return content_type, extension
    raise InvalidInput("Le logo doit être une image PNG ou JPEG (son contenu a été vérifié, pas seulement son nom).",
                       "logo")


def logo_path(commune: Commune, upload_dir: str | Path) -> Path | None:
    """The stored logo file, or None (no logo, a name we did not write, or the file is gone)."""
    if not LOGO_NAME.fullmatch(commune.logo or ""):
        return None
    path = Path(upload_dir) / commune.logo
    return path if path.is_file() else None


def logo_content_type(name: str) -> str:
    return "image/png" if name.endswith(".png") else "image/jpeg"


def logo_data_uri(commune: Commune, upload_dir: str | Path) -> str:
    """The logo as a data: URI for PDFs (xhtml2pdf reads no file outside its font folder), or ''."""
    path = logo_path(commune, upload_dir)
    if path is None:
        return ""
    return f"data:{logo_content_type(path.name)};base64," + base64.b64encode(path.read_bytes()).decode()


def _forget(upload_dir: str | Path, name: str) -> None:
    if LOGO_NAME.fullmatch(name or ""):
        (Path(upload_dir) / name).unlink(missing_ok=True)


def save_logo(staff: User, content: bytes, upload_dir: str | Path) -> Commune:
    """Store a new logo under a random name (also its version in the URL) and drop the previous file."""
    _content_type, extension = logo_type(content)
    name = f"logo-{secrets.token_hex(16)}{extension}"
    path = Path(upload_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    try:
        with write_transaction():
            commune = Commune.get_current()
            previous = commune.logo
            Commune.update(logo=name).where(Commune.id == commune.id).execute()
            audit.record(staff, "logo de la commune modifié", commune, f"{len(content)} octets")
    except Exception:
        path.unlink(missing_ok=True)  # the row still names the previous logo: keep only that file
        raise
    _forget(upload_dir, previous)  # after commit: a rollback never leaves the row naming a deleted file
    return Commune.get_current()


def remove_logo(staff: User, upload_dir: str | Path) -> Commune:
    """« Supprimer le logo »: pages, PDFs and e-mails go back to the commune's name alone."""
    with write_transaction():
        commune = Commune.get_current()
        previous = commune.logo
        if previous:
            Commune.update(logo="").where(Commune.id == commune.id).execute()
            audit.record(staff, "logo de la commune supprimé", commune, "")
    _forget(upload_dir, previous)
    return Commune.get_current()
