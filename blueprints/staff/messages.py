"""Staff messaging (/gestion/messagerie): the inbox of the services the member's role reads, a thread with
reply, assignment, « Traité » / « Rouvrir », the sick-child notice turned into absences, and a family's
threads on its desk page. A thread of a service the role does not read is a 404 (services check it)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.family.common import posted
from blueprints.message_forms import AbsenceForm, AssignForm, InboxFilterForm, ReplyForm, StatusForm, as_id
from blueprints.messages import family_link, send_message_file
from blueprints.staff import DASHBOARD_QUEUES
from blueprints.staff.desk import may
from blueprints.staff.family import household_or_404
from services.communication import messaging, sick_notices
from services.core.errors import DomainError, NotFound

bp = Blueprint("staff_messages", __name__, url_prefix="/gestion")

ABSENCE_ROLES = ("agent",)  # the desk's absence is the agents' (staff_desk.absence)


def _queue(index: int, label: str):
    """A dashboard line for the services this member reads (none for a role that reads no inbox)."""
    if not messaging.services_for(current_user):
        return None
    return {"label": label, "count": messaging.staff_counts(current_user)[index], "endpoint": "staff_messages.inbox"}


DASHBOARD_QUEUES.extend([lambda: _queue(0, "Messages non lus"), lambda: _queue(1, "Messages à traiter")])


@bp.get("/messagerie")
def inbox():
    """The inbox: filter by service, « À traiter » / « Traité », « Attribués à moi »; unread shown as text."""
    form = InboxFilterForm(request.args)
    form.validate()
    services = messaging.services_for(current_user)
    status = form.statut.data if form.statut.data in messaging.STATUS_LABELS else None
    service_id = form.service.data if form.service.data in {s.id for s in services} else None
    chosen = messaging.InboxFilter(service_id, status, bool(form.moi.data))
    unread, to_treat = messaging.staff_counts(current_user)
    return render_template("staff/messages/inbox.html", threads=messaging.inbox(current_user, chosen),
                           services=services, chosen=chosen, unread=unread, to_treat=to_treat,
                           is_unread=messaging.staff_unread, labels=messaging.STATUS_LABELS)


def _thread_page(thread_id: int, form: ReplyForm, status: int = 200, error=None):
    try:
        thread, messages = messaging.read_as_staff(current_user, thread_id)
    except NotFound:
        abort(404)
    assign = AssignForm(formdata=None)
    assign.assignee.choices = [("", "— Personne —")] + [(str(u.id), u.display_name)
                                                         for u in messaging.staff_who_read(thread.service)]
    assign.assignee.data = str(thread.assigned_to_id or "")
    return render_template("staff/messages/thread.html", thread=thread, messages=messages, form=form,
                           assign=assign, error=error, labels=messaging.STATUS_LABELS,
                           can_declare=thread.sick_notice and may(*ABSENCE_ROLES)), status


@bp.route("/messagerie/<int:thread_id>", methods=["GET", "POST"])
def thread(thread_id: int):
    """A thread as the service sees it; POST is the reply (the family is told by e-mail)."""
    form = ReplyForm(posted())
    if request.method == "GET":
        return _thread_page(thread_id, form)
    if not form.validate():
        return _thread_page(thread_id, form, 400)
    try:
        messaging.staff_reply(current_user, thread_id, form.body.data, form.attached(),
                              current_app.config["UPLOAD_DIR"], family_link)
    except NotFound:
        abort(404)
    except DomainError as refusal:
        if refusal.field in form:
            getattr(form, refusal.field).errors = [refusal.message]
        return _thread_page(thread_id, form, 400, refusal)
    flash("Réponse envoyée : la famille est prévenue par e-mail (sans le contenu du message).", "success")
    return redirect(url_for("staff_messages.thread", thread_id=thread_id))


@bp.post("/messagerie/<int:thread_id>/attribuer")
def assign(thread_id: int):
    form = AssignForm(request.form)
    chosen = (form.assignee.data or "").strip()
    if chosen and as_id(chosen) is None:  # not one of the list's values: nothing changes
        flash("Choisissez un membre de l'équipe dans la liste.", "error")
        return redirect(url_for("staff_messages.thread", thread_id=thread_id))
    try:
        thread = messaging.assign(current_user, thread_id, as_id(chosen))
    except NotFound:
        abort(404)
    except DomainError as refusal:
        flash(refusal.message, "error")
    else:
        flash(f"Conversation attribuée à {thread.assigned_to.display_name}." if thread.assigned_to
              else "La conversation n'est plus attribuée.", "success")
    return redirect(url_for("staff_messages.thread", thread_id=thread_id))


@bp.post("/messagerie/<int:thread_id>/statut")
def status(thread_id: int):
    """« Marquer comme traité » (done=1) or « Rouvrir » (done absent)."""
    done = bool(StatusForm(request.form).done.data)
    try:
        messaging.set_done(current_user, thread_id, done)
    except NotFound:
        abort(404)
    flash("Conversation marquée « Traité »." if done else "Conversation rouverte : « À traiter ».", "success")
    return redirect(url_for("staff_messages.thread", thread_id=thread_id))


@bp.route("/messagerie/<int:thread_id>/absence", methods=["GET", "POST"])
def absence(thread_id: int):
    """« Déclarer l'absence »: the child's booked days around the notice; the ticked ones become justified
    absences at the desk (not charged, family told, audited)."""
    error, status_code = None, 200
    if request.method == "POST":
        form = AbsenceForm(request.form)
        try:
            names = sick_notices.declare_absences(current_user, thread_id, form.bookings.data)
        except NotFound:
            abort(404)
        except DomainError as refusal:
            error, status_code = refusal, 400
        else:
            flash(f"Absence justifiée enregistrée pour {len(names)} jour(s) ; la famille est prévenue et la "
                  "conversation est marquée « Traité ».", "success")
            return redirect(url_for("staff_messages.thread", thread_id=thread_id))
    try:
        thread, options = sick_notices.absence_options(current_user, thread_id)
    except NotFound:
        abort(404)
    return render_template("staff/messages/absence.html", thread=thread, options=options, error=error), status_code


@bp.get("/messagerie/<int:thread_id>/pieces/<int:message_id>")
def attachment(thread_id: int, message_id: int):
    try:
        message, path = messaging.attachment_for_staff(current_user, thread_id, message_id,
                                                       current_app.config["UPLOAD_DIR"])
    except NotFound:
        abort(404)
    return send_message_file(message, path)


@bp.get("/familles/<int:household_id>/messages")
def household(household_id: int):
    """The desk's « Messages » tab: this family's threads with the services this member reads."""
    family = household_or_404(household_id)
    return render_template("staff/messages/household.html", household=family, may=may,
                           threads=messaging.household_threads(current_user, family),
                           is_unread=messaging.staff_unread, labels=messaging.STATUS_LABELS)
