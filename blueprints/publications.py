"""What the commune publishes, for parents: /actualites (news, « Nouveau » until read) and /documents
(files by category with their count of new ones). Everything is scoped to the household's audience:
an item it does not see is a 404, its file too."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, send_file

from blueprints.access import current_household
from services.communication import news, publications, rendering
from services.core.errors import NotFound

bp = Blueprint("publications", __name__)


def send_published(path, content_type: str, name: str, inline: bool = False):
    """A published file: as an attachment, except an image shown in a news item (inline, typed, nosniff)."""
    response = send_file(path, mimetype=content_type, as_attachment=not inline, download_name=name or "document")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/actualites")
def news_list():
    """The household's news, newest first, 10 a page."""
    page = request.args.get("page", "1")
    page_number = int(page) if page.isdigit() and len(page) < 6 else 1
    return render_template("publications/news.html", result=news.news_for(current_household(), page_number))


@bp.get("/actualites/<int:news_id>")
def news_item(news_id: int):
    """One news item, cleaned HTML; opening it marks it read for the family."""
    household = current_household()
    try:
        item = news.news_item_for(household, news_id)
    except NotFound:
        abort(404)
    news.mark_read(household, item)
    return render_template("publications/news_item.html", item=item, body=rendering.to_html(item.body))


@bp.get("/actualites/<int:news_id>/fichier")
def news_file(news_id: int):
    """The image or PDF of a news item the household sees: an image inline (shown in the page), a PDF
    as a download."""
    try:
        item = news.news_item_for(current_household(), news_id)
        path = news.attachment_path(item, current_app.config["UPLOAD_DIR"])
    except NotFound:
        abort(404)
    inline = item.attachment_mime.startswith("image/") and request.args.get("telecharger") is None
    return send_published(path, item.attachment_mime, item.attachment_name, inline=inline)


@bp.get("/documents")
def documents():
    """The household's published documents by category, each with its date and count of new ones."""
    return render_template("publications/documents.html", categories=publications.documents_for(current_household()))


@bp.get("/documents/<int:publication_id>")
def document_file(publication_id: int):
    """Download a published document (as an attachment); opening it marks it read for the family."""
    household = current_household()
    try:
        document = publications.document_for(household, publication_id)
        path = publications.file_path(document, current_app.config["UPLOAD_DIR"])
    except NotFound:
        abort(404)
    publications.mark_read(household, document)
    return send_published(path, document.content_type, document.original_name)
