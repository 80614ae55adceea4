"""The parent's home after sign-in: the household's situation and shortcuts."""
from flask import Blueprint, render_template

from blueprints.access import current_household

bp = Blueprint("portal", __name__)


@bp.get("/mon-espace")
def home():
    household = current_household()
    children = sorted(household.children, key=lambda c: (c.position, c.id))
    return render_template("portal/home.html", household=household, children=children)
