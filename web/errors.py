"""French error pages: every error a user can meet gets a title and a sentence, never a stack trace."""
from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from peewee import DataError


def register(app: Flask) -> None:
    """The handlers of 400…500, CSRF failures and values out of range."""
    messages = {
        400: ("Requête invalide", "La requête n'a pas pu être traitée. Rechargez la page et réessayez."),
        403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
        404: ("Page introuvable", "Cette page n'existe pas ou n'est pas accessible avec votre compte."),
        405: ("Action impossible", "Cette action n'est pas possible sur cette page."),
        413: ("Fichier trop volumineux", "Le fichier dépasse la taille maximale autorisée (10 Mo)."),
        429: ("Trop de demandes", "Trop de demandes en peu de temps : patientez un instant."),
        500: ("Erreur du serveur", "Une erreur inattendue s'est produite. Réessayez dans un instant."),
    }

    def render_error(code: int, detail: str | None = None):
        title, text = messages[code]
        return render_template("errors/error.html", code=code, title=title, text=detail or text), code

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_error(400, "Le formulaire a expiré ou n'est pas valide (jeton de sécurité manquant). "
                                 "Rechargez la page et réessayez.")

    for code in messages:
        app.register_error_handler(code, lambda error, code=code: render_error(code))

    def out_of_range(error):
        # A number or a date beyond what the database or the calendar can hold: the transaction
        # rolled back, nothing was saved; the user gets a message, never a 500.
        return render_error(400, "Une valeur saisie est hors des limites acceptées (nombre ou date trop grand). "
                                 "Vérifiez-la et réessayez.")

    app.register_error_handler(OverflowError, out_of_range)
    app.register_error_handler(DataError, out_of_range)
