"""The single clock: Europe/Paris, frozen by PORTAIL_NOW outside production only."""
import datetime as dt

import pytest

from app import create_app
from services.core import clock


def test_now_is_paris_time():
    moment = clock.now()
    assert moment.tzinfo is not None and moment.utcoffset() in (dt.timedelta(hours=1), dt.timedelta(hours=2))


def test_freeze_naive_is_paris(freeze):
    freeze("2026-11-19T17:55")
    assert clock.now().isoformat() == "2026-11-19T17:55:00+01:00"
    assert clock.local_now() == dt.datetime(2026, 11, 19, 17, 55)
    freeze("2026-07-01T08:00")
    assert clock.now().utcoffset() == dt.timedelta(hours=2)


def test_portail_now_freezes_the_app(tmp_path):
    create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PORTAIL_NOW": "2026-11-19T17:55",
                "SECRET_KEY": "x"})
    try:
        assert clock.now().isoformat() == "2026-11-19T17:55:00+01:00"
    finally:
        clock.freeze(None)


def test_portail_now_refused_in_production(tmp_path):
    clock.freeze(None)  # the suite freezes every test's clock; this one starts from the real clock
    with pytest.raises(clock.FrozenClockRefused):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PORTAIL_NOW": "2026-11-19T17:55",
                    "PORTAIL_ENV": "production", "SECRET_KEY": "x"})
    assert not clock.is_frozen()


def test_production_requires_a_secret_key(tmp_path):
    with pytest.raises(RuntimeError):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PORTAIL_ENV": "production",
                    "SECRET_KEY": None})


def test_dev_clock_control_only_when_enabled(app, client, demo):
    assert client.get("/dev/horloge").status_code == 404
    app.config["DEV_CLOCK_CONTROL"] = True
    response = client.post("/dev/horloge", json={"now": "2026-11-19T18:01"})
    assert response.json["now"] == "2026-11-19T18:01:00+01:00"
    assert client.post("/dev/horloge", json={"now": "pas une date"}).status_code == 400
