"""Security on every response: no NUL character accepted, strict headers (CSP, frames, referrer,
permissions, HSTS in production), and htmx redirects turned into full navigations."""
from __future__ import annotations

from flask import Flask, abort, request

from services.accounts import franceconnect


def register(app: Flask) -> None:
    """The request and response hooks of this module."""
    # « Se déconnecter » (a form) redirects to FranceConnect's logout when signed in through it: browsers apply
    # form-action to that redirect, so FranceConnect's origin is allowed there.
    form_action = " ".join(["'self'", *franceconnect.origins(franceconnect.settings_from(app.config))])

    @app.before_request
    def _refuse_nul_characters():
        # No value of the portal holds a NUL character, and PostgreSQL refuses one in any text (a 500).
        if request.mimetype == "application/x-www-form-urlencoded":
            request.get_data()  # cached first: the bank's return reads the raw body after this hook
        values = [*request.args.items(multi=True), *request.form.items(multi=True)]
        if any("\x00" in value for _, value in values):
            abort(400)

    @app.after_request
    def _headers(response):
        # htmx follows a redirect invisibly; make it a full navigation instead.
        if request.htmx and response.status_code in (301, 302, 303):
            response.headers["HX-Redirect"] = response.headers["Location"]
            response.status_code = 200
            response.data = b""
        response.vary.add("HX-Request")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), "
                                                          "usb=(), interest-cohort=()")
        if app.config["PORTAIL_ENV"] == "production":  # HTTPS only, for a year, once seen
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            f"frame-ancestors 'none'; form-action {form_action}; base-uri 'self'")
        return response


