"""Staff: published documents (/gestion/publications: menus, tarifs, règlements… for an audience and a
window, « Dépublier ») and their categories (/gestion/publications/categories, administrator).
/gestion/documents stays the review of the households' own documents."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.publications import send_published
from blueprints.staff.publication_forms import CategoryForm, DocumentForm, posted_with_files, show_refusal
from services.communication import audience as audiences
from services.communication import categories, publications
from services.core import clock
from services.core.errors import DomainError, NotFound

bp = Blueprint("staff_publications", __name__, url_prefix="/gestion/publications")


def _document_or_404(publication_id: int):
    try:
        return publications.get_document(publication_id)
    except NotFound:
        abort(404)


def _category_or_404(category_id: int):
    try:
        return categories.get_category(category_id)
    except NotFound:
        abort(404)


@bp.get("")
def index():
    """Every published document, newest first, with its category, audience, window and state."""
    return render_template("staff/publications/index.html", documents=publications.all_documents(),
                           now=clock.local_now(), audience_label=audiences.audience_label, state_of=audiences.state_of)


def _form_page(document=None):
    form = DocumentForm(posted_with_files())
    form.set_choices()
    if request.method == "GET":
        if document is not None:
            form.fill(document)
        return render_template("staff/publications/form.html", form=form, document=document)
    if form.validate():
        try:
            document = publications.save_document(
                current_user, form.draft(), _category_id(form), form.document_date.data,
                current_app.config["UPLOAD_DIR"], upload=form.file.data, document=document)
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            flash(f"Document « {document.title} » enregistré "
                  f"({audiences.state_of(document, clock.local_now()).lower()}).", "success")
            return redirect(url_for("staff_publications.index"))
    return render_template("staff/publications/form.html", form=form, document=document), 400


def _category_id(form: DocumentForm) -> int | None:
    text = str(form.category.data or "")
    return int(text) if text.isdigit() and len(text) < 18 else None


@bp.route("/nouveau", methods=["GET", "POST"])
def new():
    return _form_page()


@bp.route("/<int:publication_id>", methods=["GET", "POST"])
def edit(publication_id: int):
    return _form_page(_document_or_404(publication_id))


@bp.post("/<int:publication_id>/depublier")
def unpublish(publication_id: int):
    document = publications.set_published(current_user, _document_or_404(publication_id), published=False)
    flash(f"Document « {document.title} » dépublié : les familles ne le voient plus.", "success")
    return redirect(url_for("staff_publications.index"))


@bp.post("/<int:publication_id>/republier")
def republish(publication_id: int):
    document = publications.set_published(current_user, _document_or_404(publication_id), published=True)
    flash(f"Document « {document.title} » republié.", "success")
    return redirect(url_for("staff_publications.index"))


@bp.get("/<int:publication_id>/fichier")
def file(publication_id: int):
    document = _document_or_404(publication_id)
    try:
        path = publications.file_path(document, current_app.config["UPLOAD_DIR"])
    except NotFound:
        abort(404)
    return send_published(path, document.content_type, document.original_name)


# --- Categories (administrator) -------------------------------------------------------------------

def _categories_page(form: CategoryForm, status: int = 200, rename_errors: dict | None = None):
    return render_template("staff/publications/categories.html", form=form, categories=categories.all_categories(),
                           rename_errors=rename_errors or {}), status


@bp.route("/categories", methods=["GET", "POST"])
def categories_page():
    """The categories in their order; « Ajouter une catégorie »."""
    form = CategoryForm(request.form if request.method == "POST" else None)
    if request.method == "GET":
        return _categories_page(form)
    if form.validate():
        try:
            category = categories.add_category(current_user, form.name.data)
        except DomainError as refusal:
            form.name.errors = [refusal.message]
        else:
            flash(f"Catégorie « {category.name} » ajoutée.", "success")
            return redirect(url_for("staff_publications.categories_page"))
    return _categories_page(form, 400)


@bp.post("/categories/<int:category_id>")
def rename_category(category_id: int):
    category = _category_or_404(category_id)
    form = CategoryForm(request.form)
    try:
        if not form.validate():
            raise DomainError(form.name.errors[0])
        category = categories.rename_category(current_user, category, form.name.data)
    except DomainError as refusal:
        return _categories_page(CategoryForm(), 400, {category.id: refusal.message})
    flash(f"Catégorie renommée « {category.name} ».", "success")
    return redirect(url_for("staff_publications.categories_page"))


@bp.post("/categories/<int:category_id>/deplacer")
def move_category(category_id: int):
    category = _category_or_404(category_id)
    categories.move_category(current_user, category, request.form.get("direction", ""))
    flash(f"Catégorie « {category.name} » déplacée.", "success")
    return redirect(url_for("staff_publications.categories_page"))


@bp.post("/categories/<int:category_id>/supprimer")
def delete_category(category_id: int):
    category = _category_or_404(category_id)
    try:
        categories.delete_category(current_user, category)
    except DomainError as refusal:
        flash(refusal.message, "error")
    else:
        flash(f"Catégorie « {category.name} » supprimée.", "success")
    return redirect(url_for("staff_publications.categories_page"))
