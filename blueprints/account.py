"""The signed-in user's own settings: access codes (sign-in e-mail and password) and, for parents, which
optional e-mails they receive (« Préférences de courriels »)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired

from blueprints.family.form_fields import TICKED
from services.accounts import mail_preferences, users
from services.core.errors import DomainError

bp = Blueprint("account", __name__)


class EmailChangeForm(FlaskForm):
    email = StringField("Nouvelle adresse e-mail", validators=[DataRequired("Saisissez la nouvelle adresse.")],
                        render_kw={"type": "email", "autocomplete": "email", "inputmode": "email"})
    current_password = PasswordField("Mot de passe actuel",
                                     validators=[DataRequired("Saisissez votre mot de passe actuel.")],
                                     render_kw={"autocomplete": "current-password"})
    submit = SubmitField("Modifier l'adresse")


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Mot de passe actuel",
                                     validators=[DataRequired("Saisissez votre mot de passe actuel.")],
                                     render_kw={"autocomplete": "current-password"})
    password = PasswordField("Nouveau mot de passe", validators=[DataRequired("Choisissez un mot de passe.")],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Confirmez le nouveau mot de passe",
                            validators=[DataRequired("Confirmez le mot de passe.")],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Modifier le mot de passe")


@bp.route("/mon-compte/codes-acces", methods=["GET", "POST"])
def access_codes():
    email_form = EmailChangeForm(prefix="email")
    password_form = PasswordChangeForm(prefix="pwd")
    status = 200
    if request.method == "POST":
        status = 400
        if email_form.submit.data and email_form.validate_on_submit():
            try:
                users.change_email(current_user, email_form.current_password.data, email_form.email.data)
            except DomainError as refusal:
                getattr(email_form, refusal.field or "email").errors.append(refusal.message)
            else:
                login_user(current_user._get_current_object())  # this session continues; every other one ends
                flash("Votre adresse de connexion est modifiée. Un message a été envoyé à l'ancienne adresse.",
                      "success")
                return redirect(url_for("account.access_codes"))
        elif password_form.submit.data and password_form.validate_on_submit():
            try:
                users.change_password(current_user, password_form.current_password.data,
                                      password_form.password.data, password_form.confirm.data)
            except DomainError as refusal:
                getattr(password_form, refusal.field or "password").errors.append(refusal.message)
            else:
                login_user(current_user._get_current_object())  # this session continues; every other one ends
                flash("Votre mot de passe est modifié. Vos autres sessions sont fermées.", "success")
                return redirect(url_for("account.access_codes"))
    return render_template("account/access_codes.html", email_form=email_form,
                           password_form=password_form), status


class ChoiceBox(BooleanField):
    """A checkbox that refuses a value no browser sends (instead of reading it as « non »)."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] not in TICKED:
            self.data = False
            raise ValueError("Choix non reconnu : cochez ou décochez la case.")
        self.data = bool(valuelist)


class MailPreferencesForm(FlaskForm):
    replies = ChoiceBox(mail_preferences.OPTIONAL_KINDS[mail_preferences.REPLIES])
    news = ChoiceBox(mail_preferences.OPTIONAL_KINDS[mail_preferences.NEWS])
    reminders = ChoiceBox(mail_preferences.OPTIONAL_KINDS[mail_preferences.REMINDERS])


@bp.route("/mon-compte/courriels", methods=["GET", "POST"], endpoint="mail_preferences")
def mail_preferences_page():
    """Tick the optional e-mails to receive; the mandatory ones are listed, without a switch."""
    user = current_user._get_current_object()
    if request.method == "GET":
        form = MailPreferencesForm(data=mail_preferences.choices_of(user))
        return render_template("account/mail_preferences.html", form=form, mandatory=mail_preferences.MANDATORY)
    form = MailPreferencesForm()
    if not form.validate_on_submit():
        flash("Vos préférences n'ont pas été enregistrées : corrigez le formulaire.", "error")
        return render_template("account/mail_preferences.html", form=form, mandatory=mail_preferences.MANDATORY), 400
    mail_preferences.save(user, {kind: getattr(form, kind).data for kind in mail_preferences.OPTIONAL_KINDS})
    flash("Vos préférences de courriels sont enregistrées.", "success")
    return redirect(url_for("account.mail_preferences"))
