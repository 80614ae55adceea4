"""Sign-in with FranceConnect: the start and the return of the OpenID Connect flow, « Lier mon compte »,
the landing after FranceConnect's logout, and « Délier FranceConnect » on Mon compte. The protocol is in
services/accounts/franceconnect.py, what it does to accounts in franceconnect_accounts.py."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField
from wtforms.validators import DataRequired

from blueprints.access import home_endpoint, is_safe_next
from models import User
from services.accounts import franceconnect as fc
from services.accounts import franceconnect_accounts as accounts
from services.accounts import users
from services.core import clock
from services.core.errors import DomainError

bp = Blueprint("franceconnect", __name__)

FLOW = "franceconnect_flow"  # state, nonce and target of the sign-in under way
PENDING_LINK = "franceconnect_link"  # the identity waiting for the password of the account to link
ID_TOKEN = "franceconnect_id_token"  # for the logout at FranceConnect (id_token_hint)
LOGOUT_STATE = "franceconnect_logout_state"
FLOW_LIFETIME = 10 * 60  # seconds from the button to the return, and from the return to the password


class PasswordForm(FlaskForm):
    password = PasswordField("Mot de passe de votre compte", validators=[DataRequired("Saisissez votre mot de passe.")],
                             render_kw={"autocomplete": "current-password"})


class UnlinkForm(FlaskForm):
    action = HiddenField()
    password = PasswordField("Mot de passe actuel", render_kw={"autocomplete": "current-password"})


def settings() -> fc.Settings:
    return fc.settings_from(current_app.config)


def enabled() -> bool:
    """Whether the « S'identifier avec FranceConnect » button shows (client id, secret and issuer set)."""
    return settings().enabled


def _external(endpoint: str) -> str:
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint)
    return url_for(endpoint, _external=True)


def _fresh(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("at"), (int, float)) and \
        0 <= clock.now().timestamp() - data["at"] <= FLOW_LIFETIME


def _refused(message: str):
    flash(message, "error")
    return redirect(url_for("auth.login"))


def _signed_in(user: User, id_token: str, target: str | None = None, message: str = ""):
    session.clear()  # a new session at sign-in: nothing of the anonymous one is kept
    login_user(user)
    session[ID_TOKEN] = id_token
    if message:
        flash(message, "success")
    return redirect(target if is_safe_next(target) else url_for(home_endpoint(user)))


@bp.get("/connexion/franceconnect")
def start():
    """« S'identifier avec FranceConnect »: off to FranceConnect with a fresh state and nonce (a link, not a
    form: nothing changes here but this session, and a form could not lead to another site under the CSP)."""
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    if not enabled():
        return _refused("La connexion avec FranceConnect n'est pas proposée par cette commune.")
    try:
        started = fc.authorization(settings(), _external("franceconnect.callback"))
    except DomainError as refusal:
        return _refused(refusal.message)
    target = request.args.get("next")
    session[FLOW] = {"state": started.state, "nonce": started.nonce, "at": clock.now().timestamp(),
                     "next": target if is_safe_next(target) else None}
    return redirect(started.url)


@bp.get("/connexion/franceconnect/retour")
def callback():
    """FranceConnect sends the browser back here: signed in, asked to link, or a new account."""
    flow = session.pop(FLOW, None)  # single use: a replayed return finds nothing
    if not _fresh(flow):
        flow = {}
    params = {key: request.args.get(key, "")[:2000] for key in ("code", "state", "error")}
    try:
        identity = fc.finish(settings(), _external("franceconnect.callback"), flow.get("state", ""),
                             flow.get("nonce", ""), params)
        outcome = accounts.sign_in(identity, ip=request.remote_addr or "")
    except DomainError as refusal:
        return _refused(refusal.message)
    if outcome.kind == accounts.LINK_NEEDED:
        session[PENDING_LINK] = {"identity": identity.as_dict(), "user": outcome.user.id,
                                 "at": clock.now().timestamp(), "next": flow.get("next")}
        return redirect(url_for("franceconnect.link"))
    if outcome.kind == accounts.CREATED:
        return _signed_in(outcome.user, identity.id_token, url_for("family.step_responsables"),
                          "Votre compte est créé avec votre identité FranceConnect. Complétez votre dossier famille : "
                          "vos nom, prénoms et civilité sont déjà remplis.")
    return _signed_in(outcome.user, identity.id_token, flow.get("next"))


@bp.route("/connexion/franceconnect/lier", methods=["GET", "POST"])
def link():
    """« Lier mon compte »: the account with FranceConnect's e-mail is linked once its password is typed."""
    pending = session.get(PENDING_LINK)
    if not _fresh(pending):
        session.pop(PENDING_LINK, None)
        return _refused("La liaison avec FranceConnect a expiré (10 minutes) : identifiez-vous à nouveau.")
    identity = fc.Identity.from_dict(pending.get("identity") or {})
    form = PasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            user = accounts.link_account(identity, pending.get("user"), form.password.data,
                                         ip=request.remote_addr or "")
        except DomainError as refusal:
            if refusal.field == "password":
                form.password.errors.append(refusal.message)
            else:
                error = refusal.message
        else:
            return _signed_in(user, identity.id_token, pending.get("next"),
                              "Votre compte est relié à FranceConnect : vous pourrez désormais vous identifier avec "
                              "FranceConnect.")
    status = 400 if request.method == "POST" else 200
    return render_template("auth/franceconnect_link.html", form=form, error=error, email=identity.email), status


@bp.get("/deconnexion/franceconnect")
def logged_out():
    """Where FranceConnect sends the browser back after its own logout."""
    session.pop(LOGOUT_STATE, None)
    flash("Vous êtes déconnecté(e), du portail et de FranceConnect.", "success")
    return redirect(url_for("public.home"))


def end_session_redirect(id_token: str | None):
    """After « Se déconnecter »: the redirect to FranceConnect's logout when signed in through it, else None."""
    if not id_token or not enabled():
        return None
    ended = fc.logout_url(settings(), id_token, _external("franceconnect.logged_out"))
    if ended is None:
        return None
    url, state = ended
    session[LOGOUT_STATE] = state
    return redirect(url)


@bp.route("/mon-compte/franceconnect", methods=["GET", "POST"])
def account():
    """« FranceConnect » on Mon compte: whether the account is linked, and « Délier FranceConnect »."""
    user = current_user._get_current_object()
    form = UnlinkForm()
    if form.validate_on_submit():
        if form.action.data == "password_link":
            users.request_password_reset(user.email, lambda token: _external_reset(token),
                                         ip=request.remote_addr or "")
            flash("Un lien pour définir votre mot de passe vient de vous être envoyé par e-mail (valable 24 heures).",
                  "success")
            return redirect(url_for("franceconnect.account"))
        try:
            accounts.unlink(user, form.password.data or "")
        except DomainError as refusal:
            form.password.errors.append(refusal.message)
        else:
            session.pop(ID_TOKEN, None)
            flash("FranceConnect n'est plus relié à votre compte : connectez-vous avec votre adresse e-mail et votre "
                  "mot de passe.", "success")
            return redirect(url_for("franceconnect.account"))
    status = 400 if request.method == "POST" else 200
    return render_template("account/franceconnect.html", form=form, link=accounts.link_of(user),
                           has_password=bool(user.password_hash), enabled=enabled()), status


def _external_reset(token: str) -> str:
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return base.rstrip("/") + url_for("auth.reset", token=token)
    return url_for("auth.reset", token=token, _external=True)
