"""Public pages: home, accessibility statement, legal notice, personal data (RGPD), contact, and the
commune's colours (/theme.css) and logo (/logo/<name>)."""
from flask import Blueprint, Response, abort, current_app, redirect, render_template, send_file, url_for
from flask_login import current_user

from blueprints.access import home_endpoint
from models import Commune
from services.core import commune as settings

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    """The commune's home page; signed-in users go straight to their space."""
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    return render_template("public/home.html")


@bp.get("/accessibilite")
def accessibility():
    return render_template("public/accessibility.html")


@bp.get("/mentions-legales")
def legal():
    return render_template("public/legal.html")


@bp.get("/donnees-personnelles")
def personal_data():
    """Who processes the families' data, why, for how long, and how to exercise one's rights (RGPD art. 13)."""
    return render_template("public/personal_data.html")


@bp.get("/contact")
def contact():
    return render_template("public/contact.html")


@bp.get("/theme.css")
def theme():
    """The commune's colour as CSS variables (a file: the security policy forbids inline styles)."""
    colors = settings.theme(Commune.get_current())
    css = f":root {{ --blue: {colors.main}; --blue-dark: {colors.dark}; }}\n"
    return Response(css, mimetype="text/css", headers={"Cache-Control": "max-age=300"})


@bp.get("/logo/<name>")
def logo(name: str):
    """The commune's logo; its random name changes with each upload, so it may be cached for a year."""
    commune = Commune.get_current()
    path = settings.logo_path(commune, current_app.config["UPLOAD_DIR"]) if name == commune.logo else None
    if path is None:  # only the current logo: never another file of the upload folder
        abort(404)
    response = send_file(path, mimetype=settings.logo_content_type(path.name), max_age=365 * 24 * 3600)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
