"""The commune's settings (/gestion/parametres): who runs the portal, how it looks, how it writes and
is paid; and whether it is still the demo commune, which production refuses to open to families."""
from __future__ import annotations

from dataclasses import dataclass

from models import Commune, User
from services.core import audit
from services.core.transactions import write_transaction

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
