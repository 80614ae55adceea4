"""Templates remember the URLs that take no value (web/__init__.py): the same links as Flask builds, under
the prefix each request is served at, and a URL with values is built for its values."""
from __future__ import annotations

from flask import render_template_string


def test_links_follow_the_prefix_the_portal_is_served_under(demo, client, auth):
    auth.login()
    plain = client.get("/mon-espace").get_data(as_text=True)
    mounted = client.get("/mon-espace", environ_overrides={"SCRIPT_NAME": "/portail"}).get_data(as_text=True)
    assert 'href="/reservations"' in plain and 'href="/portail/reservations"' not in plain
    assert 'href="/portail/reservations"' in mounted and 'action="/portail/deconnexion"' in mounted
    again = client.get("/mon-espace").get_data(as_text=True)
    assert 'href="/reservations"' in again and "/portail/" not in again


def test_a_url_with_values_is_built_for_them(app):
    template = "{{ url_for('reservations.week') }} {{ url_for('reservations.week', semaine=week) }}"
    with app.test_request_context("/"):
        assert render_template_string(template, week="2026-W48") == "/reservations /reservations?semaine=2026-W48"
        assert render_template_string(template, week="2026-W49") == "/reservations /reservations?semaine=2026-W49"
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/portail"}):
        assert render_template_string(template, week="2026-W48") == \
            "/portail/reservations /portail/reservations?semaine=2026-W48"
