"""« Mes données »: what the portal holds about the household, downloaded as one zip (RGPD right of access)."""
from __future__ import annotations

import io

from flask import render_template, send_file

from blueprints.access import current_household
from blueprints.family import bp
from blueprints.family.common import upload_dir
from services.family import personal_data


@bp.get("/mon-compte/mes-donnees")
def my_data():
    return render_template("family/my_data.html", household=current_household())


@bp.get("/mon-compte/mes-donnees/archive.zip")
def my_data_zip():
    household = current_household()
    content = personal_data.build_zip(household, upload_dir())
    return send_file(io.BytesIO(content), mimetype="application/zip", as_attachment=True,
                     download_name=personal_data.file_name(household), max_age=0)
