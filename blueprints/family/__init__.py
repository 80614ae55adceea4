"""The parent's household file: the blueprint "family" and the modules that register its views.

household: the sign-up wizard (/mon-dossier) and Mon compte; records: the fiche enfant and the
documents; personal_data: « Mes données » (the export); forms: the WTForms forms (also used by the
staff side); common: helpers both share.
"""
from __future__ import annotations

from flask import Blueprint

from services.family import documents

bp = Blueprint("family", __name__)
bp.record(lambda state: documents.configure(state.app.config["UPLOAD_DIR"]))

# The view modules register their routes on bp: imported once bp exists.
from blueprints.family import household, personal_data, records  # noqa: E402,F401
