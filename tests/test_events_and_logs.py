"""Application events on the « portail.events » logger (ids, never a secret) and the access log's masks."""
import datetime as dt
import json
import logging

import pytest
from gunicorn.config import Config

from models import Regie
from services.accounts import users
from services.billing import invoicing_runs, payments
from services.core import events, outbox
from services.core.errors import LoginRefused
from tests.conftest import DEMO_PASSWORD
from tests.test_outbox import smtp_port  # noqa: F401 - the fixture (SMTP configured, nobody listening)
from web.access_log import MaskingLogger, mask_url


@pytest.fixture
def logged(caplog):
    caplog.set_level(logging.INFO, logger="portail.events")

    def read() -> list[dict]:
        return [{"event": r.event, **r.fields} for r in caplog.records if r.name == "portail.events"]
    read.text = lambda: caplog.text
    return read


def test_sign_in_success_failure_and_lockout_carry_the_account_id_and_no_secret(demo, logged):
    martin = demo["users"]["martin"]
    users.authenticate("famille.martin@example.fr", DEMO_PASSWORD, ip="203.0.113.5")
    for _ in range(2):
        with pytest.raises(LoginRefused):
            users.authenticate("famille.martin@example.fr", "Mauvais-Mot-2026!", ip="203.0.113.5")
    with pytest.raises(LoginRefused):
        users.authenticate("inconnu@example.fr", "Mauvais-Mot-2026!", ip="203.0.113.5")
    seen = logged()
    assert seen[0] == {"event": "sign_in", "user": martin.id, "role": "parent", "ip": "203.0.113.5"}
    assert seen[1] == {"event": "sign_in_failed", "user": martin.id, "ip": "203.0.113.5"}
    assert {"event": "sign_in_failed", "ip": "203.0.113.5"} in seen  # an unknown address: no id, no address
    text = logged.text()
    assert "example.fr" not in text and DEMO_PASSWORD not in text and "Mauvais-Mot" not in text


def test_lockout_is_an_event(demo, logged, freeze):
    start = dt.datetime(2026, 11, 19, 10, 0)
    for attempt in range(12):
        freeze(start + dt.timedelta(minutes=attempt))  # past every wait: only the count matters
        try:
            users.authenticate("famille.dupont@example.fr", "Mauvais-Mot-2026!")
        except LoginRefused:
            pass
    names = [e["event"] for e in logged()]
    assert "account_locked" in names and "sign_in_throttled" in names


def test_payment_mail_failure_and_invoicing_run_are_events(app, demo, logged, smtp_port):  # noqa: F811
    admin = demo["users"]["admin"]
    payment = payments.record_payment(demo["households"]["martin"], "cheque", 1500, dt.date(2026, 11, 28), "n° 123",
                                      admin)
    outbox.send("famille.martin@example.fr", "Essai", "Bonjour")
    outbox.deliver_due()  # nobody listens on the SMTP port: a recorded failure
    regie = Regie.get(Regie.code == "PERI")
    invoicing_runs.issue_run(regie, 2026, 10)
    seen = logged()
    assert {"event": "payment_recorded", "payment": payment.id, "mode": "cheque", "amount": 1500,
            "household": demo["households"]["martin"].id, "user": admin.id} in seen
    failed = [e for e in seen if e["event"] == "mail_failed"]
    assert failed and failed[0]["attempts"] == 1 and failed[0]["gave_up"] is False
    assert [e["event"] for e in seen if e["event"].startswith("invoicing_run")] == [
        "invoicing_run_started", "invoicing_run_finished"]
    assert "famille.martin@example.fr" not in logged.text()


def test_json_lines_for_the_communes_log_system():
    record = logging.LogRecord("portail.events", logging.INFO, __file__, 1, "sign_in user=3", None, None)
    record.event, record.fields = "sign_in", {"user": 3, "ip": "203.0.113.5"}
    line = json.loads(events.JsonFormatter().format(record))
    assert line["event"] == "sign_in" and line["user"] == 3 and line["level"] == "INFO"
    assert line["time"].endswith("+00:00")
    plain = logging.LogRecord("portail.jobs", logging.WARNING, __file__, 1, "file %s", ("x",), None)
    assert json.loads(events.JsonFormatter().format(plain))["message"] == "file x"


@pytest.mark.parametrize("target, expected", [
    ("/mot-de-passe/AbCdEf123", "/mot-de-passe/***"),
    ("/activer-mon-compte/tok-en_1?x=1", "/activer-mon-compte/***?x=1"),
    ("/calendrier/3f9a8b.ics", "/calendrier/***.ics"),
    ("/factures/paiement/retour?transaction_id=T123&montant=2900", "/factures/paiement/retour?transaction_id=***&montant=***"),
    ("/connexion?next=/mot-de-passe/abc", "/connexion?next=***"),
    ("/reservations?semaine=2026-W49", "/reservations?semaine=2026-W49"),
    ("https://famille.example.fr/mot-de-passe/abc", "https://famille.example.fr/mot-de-passe/***"),
])
def test_secrets_are_masked_in_urls(target, expected):
    assert mask_url(target) == expected


def test_gunicorn_access_line_is_masked(capsys):
    config = Config()
    config.set("accesslog", "-")
    config.set("logger_class", "web.access_log.MaskingLogger")
    assert config.logger_class is MaskingLogger
    logger = MaskingLogger(config)

    class Response:
        status, sent, headers = "200 OK", 120, []

    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/calendrier/secret-token.ics", "PATH_INFO": "/calendrier/secret-token.ics",
               "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.5",
               "HTTP_REFERER": "https://famille.example.fr/mot-de-passe/other-secret"}
    logger.access(Response(), {}, environ, dt.timedelta(milliseconds=12))
    for handler in logger.access_log.handlers:
        handler.flush()
    line = capsys.readouterr().out
    assert "/calendrier/***.ics" in line and "/mot-de-passe/***" in line
    assert "secret-token" not in line and "other-secret" not in line
