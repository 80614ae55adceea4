"""Staff: the news (/gestion/actualites): list, write with a preview, schedule, target, attach an image
or a PDF, « Dépublier » / « Republier ». Agents, the régisseur and the administrator write."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.publications import send_published
from blueprints.staff.publication_forms import NewsForm, posted_with_files, show_refusal
from services.communication import audience as audiences
from services.communication import news, rendering
from services.core import clock
from services.core.errors import DomainError, NotFound

bp = Blueprint("staff_news", __name__, url_prefix="/gestion/actualites")


def _item_or_404(news_id: int):
    try:
        return news.get_news(news_id)
    except NotFound:
        abort(404)


@bp.get("")
def index():
    """Every news item, newest first, with its audience, window and state."""
    return render_template("staff/news/index.html", items=news.all_news(), now=clock.local_now(),
                           audience_label=audiences.audience_label, state_of=audiences.state_of)


def _form_page(item=None):
    """New or edit: « Prévisualiser » shows the cleaned text without saving, « Enregistrer » saves."""
    form = NewsForm(posted_with_files())
    form.set_choices()
    if request.method == "GET":
        if item is not None:
            form.fill(item)
        return render_template("staff/news/form.html", form=form, item=item, preview=None)
    if request.form.get("action") == "preview":  # nothing saved, the file is not kept either
        return render_template("staff/news/form.html", form=form, item=item,
                               preview=rendering.to_html(form.body.data or ""))
    if form.validate():
        try:
            item = news.save_news(current_user, form.draft(form.body.data), current_app.config["UPLOAD_DIR"],
                                  attachment=form.attachment.data, remove_attachment=form.remove_attachment.data,
                                  item=item)
        except DomainError as refusal:
            show_refusal(form, refusal, {"file": "attachment"})
        else:
            flash(f"Actualité « {item.title} » enregistrée ({audiences.state_of(item, clock.local_now()).lower()}).",
                  "success")
            return redirect(url_for("staff_news.index"))
    return render_template("staff/news/form.html", form=form, item=item, preview=None), 400


@bp.route("/nouvelle", methods=["GET", "POST"])
def new():
    return _form_page()


@bp.route("/<int:news_id>", methods=["GET", "POST"])
def edit(news_id: int):
    return _form_page(_item_or_404(news_id))


@bp.post("/<int:news_id>/depublier")
def unpublish(news_id: int):
    item = news.set_published(current_user, _item_or_404(news_id), published=False)
    flash(f"Actualité « {item.title} » dépubliée : les familles ne la voient plus.", "success")
    return redirect(url_for("staff_news.index"))


@bp.post("/<int:news_id>/republier")
def republish(news_id: int):
    item = news.set_published(current_user, _item_or_404(news_id), published=True)
    flash(f"Actualité « {item.title} » republiée.", "success")
    return redirect(url_for("staff_news.index"))


@bp.get("/<int:news_id>/fichier")
def attachment(news_id: int):
    """The attached file, for staff checking what parents will get (always as a download)."""
    item = _item_or_404(news_id)
    try:
        path = news.attachment_path(item, current_app.config["UPLOAD_DIR"])
    except NotFound:
        abort(404)
    return send_published(path, item.attachment_mime, item.attachment_name)
