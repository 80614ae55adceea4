"""« Messages » for parents (/messagerie): their threads with the mairie's services, a new message, a
thread with its replies (opening it marks it read), attachments of their own threads only."""
from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.access import current_household
from blueprints.family.common import posted, send_document
from blueprints.message_forms import NewThreadForm, ReplyForm, as_id
from services.communication import messaging
from services.core.errors import DomainError, NotFound

bp = Blueprint("messages", __name__, url_prefix="/messagerie")


def upload_dir() -> str:
    return current_app.config["UPLOAD_DIR"]


def staff_link(thread_id: int) -> str:
    """The staff page of a thread, for the service's e-mail address."""
    return url_for("staff_messages.thread", thread_id=thread_id, _external=True)


def family_link(thread_id: int) -> str:
    """The family's page of a thread, for the « Nouvelle réponse » e-mail."""
    return url_for("messages.thread", thread_id=thread_id, _external=True)


@bp.get("")
def index():
    """« Mes conversations », newest first, with « Non lu » on those holding a reply not yet read."""
    threads = messaging.family_threads(current_household())
    unread = [t for t in threads if messaging.family_unread(t)]
    return render_template("messages/index.html", threads=threads, unread=unread,
                           is_unread=messaging.family_unread, labels=messaging.STATUS_LABELS)


def _new_form() -> NewThreadForm:
    form = NewThreadForm(posted())
    form.set_choices(messaging.active_services(), current_household().children_in_file())
    return form


def _new_page(form: NewThreadForm, status: int = 200, error=None):
    return render_template("messages/new.html", form=form, error=error), status


@bp.route("/nouveau", methods=["GET", "POST"])
def new():
    """« Nouveau message »: service, subject, child concerned, text, attachment, « enfant malade »."""
    form = _new_form()
    if request.method == "GET":
        form.service.data = request.args.get("service", "")
        return _new_page(form)
    if not form.validate():
        return _new_page(form, 400)
    try:
        thread = messaging.start_thread(current_user, current_household(), as_id(form.service.data),
                                        form.subject.data, as_id(form.child.data), form.body.data,
                                        form.sick_notice.data, form.attached(), upload_dir(), staff_link)
    except DomainError as refusal:
        if refusal.field in form:
            getattr(form, refusal.field).errors = [refusal.message]
        return _new_page(form, 400, refusal)
    flash(f"Votre message a été envoyé au service {thread.service.name}.", "success")
    return redirect(url_for("messages.thread", thread_id=thread.id))


def _thread_page(thread_id: int, form: ReplyForm, status: int = 200, error=None):
    try:
        thread, messages = messaging.read_as_family(current_household(), thread_id)
    except NotFound:
        abort(404)
    return render_template("messages/thread.html", thread=thread, messages=messages, form=form, error=error,
                           labels=messaging.STATUS_LABELS), status


@bp.route("/<int:thread_id>", methods=["GET", "POST"])
def thread(thread_id: int):
    """A conversation in order; the reply form below it."""
    form = ReplyForm(posted())
    if request.method == "GET":
        return _thread_page(thread_id, form)
    if not form.validate():
        return _thread_page(thread_id, form, 400)
    try:
        messaging.family_reply(current_user, current_household(), thread_id, form.body.data, form.attached(),
                               upload_dir())
    except NotFound:
        abort(404)
    except DomainError as refusal:
        if refusal.field in form:
            getattr(form, refusal.field).errors = [refusal.message]
        return _thread_page(thread_id, form, 400, refusal)
    flash("Votre message a été envoyé.", "success")
    return redirect(url_for("messages.thread", thread_id=thread_id, _anchor="dernier"))


@bp.get("/<int:thread_id>/pieces/<int:message_id>")
def attachment(thread_id: int, message_id: int):
    """An attachment of one of the household's threads, as a download (never shown inline)."""
    try:
        message, path = messaging.attachment_for_family(current_household(), thread_id, message_id, upload_dir())
    except NotFound:
        abort(404)
    return send_message_file(message, path)


def send_message_file(message, path):
    """A message's attachment, downloaded under its cleaned name with the type found in its content."""
    return send_document(SimpleNamespace(content_type=message.attachment_type,
                                         original_name=message.attachment_name), path)
