"""Public pages: home, accessibility statement, legal notice, personal data (RGPD), contact."""
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from blueprints.access import home_endpoint

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
