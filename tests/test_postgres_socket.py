"""PostgreSQL on the same host through its Unix socket (README « PostgreSQL »): Debian's default
pg_hba.conf lets the `portail` system user in over the socket by its name (peer authentication), where a
TCP connection to 127.0.0.1 asks for a password the README's URL never gave."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from app import create_app
from models import BasketLine, db
from services.core import backup as backups
from tests.conftest import PG_URL, USE_PG, Auth, csrf_token

WEEK = "2026-W50"


def socket_url() -> str:
    """The test database's URL, through the server's first Unix socket directory instead of TCP."""
    parts = urlsplit(PG_URL)
    directory = db.execute_sql("SHOW unix_socket_directories").fetchone()[0].split(",")[0].strip()
    user = f"{parts.username}@" if parts.username else ""
    return f"postgresql://{user}/{parts.path.lstrip('/')}?host={directory}"


def test_a_socket_url_becomes_pg_dump_arguments():
    """The README's URL: no host, no user (the system user's own name), the socket's directory as an option."""
    location = backups.DatabaseLocation.from_url("postgresql:///portail?host=/var/run/postgresql")
    assert location.pg_arguments() == ["--dbname", "dbname='portail' host='/var/run/postgresql'"]


def test_a_family_ticks_a_cell_through_postgresqls_unix_socket(demo, tmp_path):
    if not USE_PG:
        pytest.skip("PostgreSQL only")
    url = socket_url()
    assert "127.0.0.1" not in url and "?host=/" in url, url
    db.close_all()
    application = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "PORTAIL_ENV": "development",
                              "PORTAIL_NOW": "", "DATABASE_URL": url, "OUTBOX_DIR": str(tmp_path / "outbox"),
                              "UPLOAD_DIR": str(tmp_path / "uploads"), "MAIL_SERVER": "",
                              "SERVER_NAME": "portail.test"})
    client = application.test_client()
    Auth(client).login("famille.dupont@example.fr")
    page = client.get(f"/reservations?semaine={WEEK}")
    assert page.status_code == 200 and "Panier (" in page.get_data(as_text=True)
    # A tick, as htmx sends it: a write transaction over the socket too.
    key = f"{demo['children']['ines'].id}:{demo['units']['repas_phare'].id}:2026-12-07"
    headers = {"HX-Request": "true", "X-CSRFToken": csrf_token(client, f"/reservations?semaine={WEEK}")}
    answer = client.post("/reservations/case", data={"cell": key, "cells": key}, headers=headers)
    assert answer.status_code == 200 and f'value="{key}" checked' in answer.get_data(as_text=True)
    with db.connection_context():
        assert BasketLine.select().where(BasketLine.child == demo["children"]["ines"].id,
                                         BasketLine.unit == demo["units"]["repas_phare"].id).count() == 1
        # inet_server_addr() is NULL on a Unix socket: the requests above did not come over TCP.
        assert db.execute_sql("SELECT inet_server_addr()").fetchone()[0] is None
    db.close_all()
