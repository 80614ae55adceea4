"""Staff: the commune's schools (/gestion/ecoles, administrators): list, add, edit name, address, classes."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import Form, SelectMultipleField, StringField
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.family.form_fields import squash
from services.core.errors import InvalidInput, NotFound
from services.family import schools
from services.family.household_fields import CLASS_LEVELS

bp = Blueprint("staff_schools", __name__, url_prefix="/gestion/ecoles")


class SchoolForm(Form):
    name = StringField("Nom de l'école", filters=[squash(120)],
                       validators=[DataRequired("Indiquez le nom de l'école (par exemple « École du Phare »).")])
    address = StringField("Adresse", filters=[squash(200)])
    classes = SelectMultipleField("Classes", choices=[(level, level) for level in CLASS_LEVELS],
                                  option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
                                  validate_choice=True)


def _saved(form: SchoolForm, school=None) -> bool:
    """Save the posted form; False when refused (its errors are then on its fields)."""
    if not form.validate():
        if form.classes.errors:  # WTForms' own message is English
            form.classes.errors = ["Cochez des classes de la liste (TPS à CM2)."]
        return False
    try:
        schools.save_school(current_user, form.name.data, form.address.data or "", form.classes.data or [], school)
    except InvalidInput as refusal:
        form.name.errors = [refusal.message]
        return False
    return True


@bp.route("", methods=["GET", "POST"])
def index():
    """The schools and « Ajouter une école »."""
    form = SchoolForm(request.form if request.method == "POST" else None)
    if request.method == "POST":
        if _saved(form):
            flash(f"École « {form.name.data} » ajoutée.", "success")
            return redirect(url_for("staff_schools.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/schools/index.html", rows=schools.school_rows(), form=form), status


@bp.route("/<int:school_id>", methods=["GET", "POST"])
def edit(school_id: int):
    try:
        school = schools.get_school(school_id)
    except NotFound:
        abort(404)
    form = SchoolForm(request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.name.data, form.address.data, form.classes.data = school.name, school.address, school.class_list
    elif _saved(form, school):
        flash(f"École « {form.name.data} » enregistrée.", "success")
        return redirect(url_for("staff_schools.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("staff/schools/edit.html", school=school, form=form), status
