"""Sign-in, sign-out, sign-up with an e-mailed code, forgotten password and invitation links."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from blueprints import franceconnect
from blueprints.access import home_endpoint, is_safe_next
from models import User
from services.accounts import signup as signups
from services.accounts import two_factor, users
from services.core import clock
from services.core.errors import DomainError, InvalidToken

bp = Blueprint("auth", __name__)

REQUIRED_EMAIL = DataRequired("Saisissez votre adresse e-mail.")
REQUIRED_PASSWORD = DataRequired("Saisissez votre mot de passe.")


class LoginForm(FlaskForm):
    email = StringField("Adresse e-mail", validators=[REQUIRED_EMAIL],
                        render_kw={"autocomplete": "username", "type": "email", "inputmode": "email"})
    password = PasswordField("Mot de passe", validators=[REQUIRED_PASSWORD],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Se souvenir de moi")


class SignupForm(FlaskForm):
    email = StringField("Adresse e-mail", validators=[REQUIRED_EMAIL],
                        render_kw={"autocomplete": "email", "type": "email", "inputmode": "email"})
    password = PasswordField("Mot de passe", validators=[DataRequired("Choisissez un mot de passe.")],
                             render_kw={"autocomplete": "new-password"})


class CodeForm(FlaskForm):
    code = StringField("Code reçu par e-mail (4 chiffres)", validators=[DataRequired("Saisissez le code reçu.")],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 4,
                                  "pattern": "[0-9]{4}"})


class SecondStepForm(FlaskForm):
    code = StringField("Code de l'application d'authentification",
                       validators=[DataRequired("Saisissez le code affiché par votre application."),
                                   Length(max=40, message="Saisissez le code à 6 chiffres ou un code de secours.")],
                       render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none"})


class ForgotForm(FlaskForm):
    email = StringField("Adresse e-mail", validators=[REQUIRED_EMAIL],
                        render_kw={"autocomplete": "email", "type": "email", "inputmode": "email"})


class NewPasswordForm(FlaskForm):
    password = PasswordField("Nouveau mot de passe", validators=[DataRequired("Choisissez un mot de passe.")],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Confirmez le mot de passe", validators=[DataRequired("Confirmez le mot de passe.")],
                            render_kw={"autocomplete": "new-password"})


def _home_for(user: User) -> str:
    return url_for(home_endpoint(user))


def _commune_name() -> str:
    from flask import g
    return g.commune.name if "commune" in g else "la commune"


def _external(endpoint: str, **values) -> str:
    from flask import current_app
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = users.authenticate(form.email.data, form.password.data, ip=request.remote_addr or "")
        except DomainError as refusal:
            error = refusal.message
        else:
            target = request.args.get("next")
            session.clear()  # a new session at sign-in: nothing of the anonymous one is kept
            if two_factor.is_enabled(user):
                # Nobody is signed in yet: the second step finds who typed the right password here.
                session[PENDING] = {"user": user.id, "version": user.session_version,
                                    "at": clock.now().timestamp(), "remember": bool(form.remember.data),
                                    "next": target if is_safe_next(target) else None}
                return redirect(url_for("auth.second_step"))
            login_user(user, remember=form.remember.data)
            return redirect(target if is_safe_next(target) else _home_for(user))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error,
                           franceconnect=franceconnect.enabled()), status


PENDING = "second_step"
PENDING_LIFETIME = 5 * 60  # seconds between the right password and the code


def _pending() -> dict | None:
    """The sign-in waiting for its code in this session, if it is under 5 minutes old."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), (int, float)):
        return None
    if not 0 <= clock.now().timestamp() - pending["at"] <= PENDING_LIFETIME:
        session.pop(PENDING, None)
        return None
    return pending


@bp.route("/connexion/code", methods=["GET", "POST"])
def second_step():
    """Second step of a sign-in with two-factor authentication: the code, then the session."""
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    pending = _pending()
    if pending is None:
        flash("Votre connexion a expiré (5 minutes) : saisissez à nouveau votre mot de passe.", "info")
        return redirect(url_for("auth.login"))
    form = SecondStepForm()
    error = None
    if form.validate_on_submit():
        try:
            user = two_factor.sign_in_with_code(pending["user"], pending["version"], form.code.data,
                                                ip=request.remote_addr or "")
        except DomainError as refusal:
            if refusal.field == "code":
                form.code.errors.append(refusal.message)
            else:
                error = refusal.message
        else:
            session.clear()
            login_user(user, remember=pending.get("remember", False))
            target = pending.get("next")
            return redirect(target if is_safe_next(target) else _home_for(user))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/second_step.html", form=form, error=error), status


@bp.get("/deconnexion")
def logout_page():
    """A sign-out link opened by GET shows a button: signing out changes state, so it is a POST."""
    return render_template("auth/logout.html", form=FlaskForm())


@bp.post("/deconnexion")
def logout():
    """« Se déconnecter »: this session ends, and so does any copy of its cookie."""
    if current_user.is_authenticated:
        users.sign_out(current_user)
    id_token = session.get(franceconnect.ID_TOKEN)
    logout_user()
    session.clear()
    # Signed in through FranceConnect: its session ends too (it sends the browser back to /deconnexion/franceconnect).
    if (leave := franceconnect.end_session_redirect(id_token)) is not None:
        return leave
    flash("Vous êtes déconnecté(e).", "success")
    return redirect(url_for("public.home"))


@bp.route("/creer-mon-compte", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            email = signups.register(form.email.data, form.password.data, commune_name=_commune_name(),
                                     ip=request.remote_addr or "")
        except DomainError as refusal:
            getattr(form, refusal.field or "email").errors.append(refusal.message)
        else:
            session["signup_email"] = email
            return redirect(url_for("auth.confirm"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/signup.html", form=form, suggestion=users.generate_password()), status


@bp.get("/creer-mon-compte/mot-de-passe-suggere")
def suggest_password():
    """A fresh generated password (htmx fragment, or the sign-up page without JavaScript)."""
    suggestion = users.generate_password()
    if request.htmx:
        return render_template("auth/_suggestion.html", suggestion=suggestion)
    form = SignupForm()
    return render_template("auth/signup.html", form=form, suggestion=suggestion)


@bp.route("/creer-mon-compte/confirmation", methods=["GET", "POST"])
def confirm():
    """The code page: the same for every address, whether or not a code was really sent."""
    email = session.get("signup_email")
    if not email:
        flash("Commencez par créer votre compte.", "info")
        return redirect(url_for("auth.signup"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            user = signups.confirm_code(email, form.code.data, ip=request.remote_addr or "")
        except DomainError as refusal:
            form.code.errors.append(refusal.message)
        else:
            session.clear()
            login_user(user)
            flash("Votre compte est activé. Bienvenue !", "success")
            return redirect(url_for("portal.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/confirm.html", form=form, email=email), status


@bp.post("/creer-mon-compte/nouveau-code")
def resend_code():
    email = session.get("signup_email")
    if not email:
        return redirect(url_for("auth.signup"))
    try:
        signups.resend_code(email, commune_name=_commune_name(), ip=request.remote_addr or "")
    except DomainError as refusal:
        flash(refusal.message, "error")
    else:
        flash("Un nouveau code vient de vous être envoyé (le précédent n'est plus valable).", "success")
    return redirect(url_for("auth.confirm"))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        users.request_password_reset(form.email.data, lambda token: _external("auth.reset", token=token),
                                     ip=request.remote_addr or "")
        # Same answer whether or not the address has an account.
        flash("Si un compte existe avec cette adresse, un lien pour choisir un nouveau mot de passe vient de lui "
              "être envoyé. Il est valable 24 heures.", "success")
        return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot.html", form=form), status


def _password_page(token: str, purpose: str, title: str):
    try:
        users.user_for_token(token, purpose)
    except InvalidToken as refusal:
        return render_template("auth/token_invalid.html", message=refusal.message, title=title), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            users.set_password_with_token(token, purpose, form.password.data, form.confirm.data)
        except DomainError as refusal:
            getattr(form, refusal.field or "password").errors.append(refusal.message)
        else:
            logout_user()
            flash("Votre mot de passe est enregistré : vous pouvez vous connecter.", "success")
            return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/new_password.html", form=form, title=title), status


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
def reset(token: str):
    return _password_page(token, "reset", "Choisir un nouveau mot de passe")


@bp.route("/activer-mon-compte/<token>", methods=["GET", "POST"])
def initialise(token: str):
    return _password_page(token, "init", "Définir un nouveau mot de passe")
