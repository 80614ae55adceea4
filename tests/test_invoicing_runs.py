"""The invoicing run as a job: « Émettre » queues an InvoicingRun, the worker's task issues household by
household with exact progress, one run per régie × month at a time, a failed or killed run resumes
with no duplicate and no gap; `flask invoice` in a terminal; the htmx-polled progress and the page
without JavaScript. SQLite and PostgreSQL."""
from __future__ import annotations

import re

import pytest

import jobs
from models import Invoice, InvoicingRun, NumberCounter
from services.billing import billing_periods, invoicing, invoicing_runs
from tests.conftest import post_form
from tests.test_invoicing import DAYS, book, clear_billing, make_household

RUN_URL = "/gestion/facturation/campagnes/{}"


@pytest.fixture
def january(demo, freeze):
    """Five households with January meals (Martin and four new ones), clock on 1 February 2027."""
    freeze("2027-02-01T09:00")
    clear_billing()
    repas = demo["units"]["repas_phare"]
    for day in DAYS[:2]:
        book(demo["households"]["martin"], demo["children"]["lea"], repas, day, price=290, attendance="present")
    for n in range(4):
        household, child = make_household(f"Famille Job{n}")
        for day in DAYS[:n + 1]:
            book(household, child, repas, day, price=290, attendance="present")
    demo["regie"] = demo["regies"]["periscolaire"]
    return demo


def _numbers() -> list[str]:
    return sorted(i.number for i in Invoice.select())


def test_queued_then_done_by_the_worker_with_progress(january):
    run = invoicing_runs.request_run(january["regie"], 2027, 1)
    assert (run.status, run.households_done, Invoice.select().count()) == ("queued", 0, 0)
    seen = []
    done = invoicing_runs.execute_run(run.id, on_progress=lambda *counts: seen.append(counts))
    assert done.status == "done" and done.finished_at is not None
    assert (done.households_total, done.households_done, done.invoices_issued, done.skipped) == (5, 5, 5, 0)
    assert done.amount_issued == sum(i.amount for i in Invoice.select()) == (2 + 1 + 2 + 3 + 4) * 290
    assert seen[0] == (1, 5, 1) and seen[-1] == (5, 5, 5)
    assert {i.run_id for i in Invoice.select()} == {run.id}
    assert _numbers() == [f"PERI-2027-02-{n:05d}" for n in range(1, 6)]
    assert invoicing_runs.progress(done).percent == 100 and not invoicing_runs.progress(done).active


def test_the_huey_task_runs_it_and_a_second_call_changes_nothing(january):
    run = invoicing_runs.request_run(january["regie"], 2027, 1)
    assert "5 / 5 foyers, 5 facture(s) : done" == jobs.run_invoicing.call_local(run.id)
    assert jobs.run_invoicing.call_local(run.id).startswith("5 / 5 foyers")  # not queued any more: no-op
    assert Invoice.select().count() == 5


def test_one_run_per_regie_and_month_at_a_time(january):
    regie = january["regie"]
    first = invoicing_runs.request_run(regie, 2027, 1)
    with pytest.raises(invoicing_runs.RunInProgress, match="déjà en cours"):
        invoicing_runs.request_run(regie, 2027, 1)
    other = invoicing_runs.request_run(january["regies"]["loisirs"], 2027, 1)  # another régie: fine
    invoicing_runs.execute_run(first.id)
    again = invoicing_runs.execute_run(invoicing_runs.request_run(regie, 2027, 1).id)
    assert (again.status, again.invoices_issued, again.skipped) == ("done", 0, 5)  # all invoiced already
    assert invoicing_runs.execute_run(other.id).invoices_issued == 0


def test_a_household_invoiced_since_the_run_started_is_skipped_without_gap(january, monkeypatch):
    run = invoicing_runs.request_run(january["regie"], 2027, 1)
    monkeypatch.setattr(invoicing_runs, "_already_invoiced", lambda *args: set())  # as read before it was issued
    start, end = billing_periods.month_bounds(2027, 1)
    draft = next(iter(invoicing.collect(start, end, regie=january["regie"]).values()))
    first = invoicing.issue_invoice(january["regie"], draft.household, start, end, draft.lines)  # at the desk, meanwhile
    done = invoicing_runs.execute_run(run.id)
    assert (done.status, done.households_done, done.invoices_issued, done.skipped) == ("done", 5, 4, 1)
    assert Invoice.select().where(Invoice.household == draft.household.id).count() == 1  # no duplicate
    assert first.number == "PERI-2027-02-00001" and _numbers() == [f"PERI-2027-02-{n:05d}" for n in range(1, 6)]


def test_a_failed_run_resumes_without_duplicate_or_gap(january, monkeypatch):
    run = invoicing_runs.request_run(january["regie"], 2027, 1)
    real = invoicing.InvoicePeriodLock.create
    calls = {"n": 0}

    def crash_on_third(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disque plein")
        return real(**kwargs)

    monkeypatch.setattr(invoicing.InvoicePeriodLock, "create", crash_on_third)
    failed = invoicing_runs.execute_run(run.id)
    assert failed.status == "failed" and "disque plein" in failed.error
    assert (failed.households_done, failed.invoices_issued, Invoice.select().count()) == (2, 2, 2)
    assert NumberCounter.get().last == 2  # the third invoice rolled back with its number
    assert invoicing_runs.progress(failed).can_resume
    monkeypatch.setattr(invoicing.InvoicePeriodLock, "create", real)
    resumed = invoicing_runs.resume_run(failed)
    assert resumed.status == "queued" and resumed.error == ""
    done = invoicing_runs.execute_run(run.id)
    assert (done.status, done.attempt, done.households_done, done.invoices_issued) == ("done", 2, 5, 5)
    assert _numbers() == [f"PERI-2027-02-{n:05d}" for n in range(1, 6)]
    with pytest.raises(invoicing_runs.RunRefused, match="rien à reprendre"):
        invoicing_runs.resume_run(done)


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing of the worker runs after it (no « failed » written)."""


def test_a_killed_worker_leaves_nothing_half_written_and_the_run_resumes(january, monkeypatch, freeze):
    run = invoicing_runs.request_run(january["regie"], 2027, 1)
    real = invoicing.InvoiceLine.insert_many
    calls = {"n": 0}

    def killed_on_fourth(rows):
        calls["n"] += 1
        if calls["n"] == 4:
            raise WorkerKilled()
        return real(rows)

    monkeypatch.setattr(invoicing.InvoiceLine, "insert_many", killed_on_fourth)
    with pytest.raises(WorkerKilled):
        invoicing_runs.execute_run(run.id)
    monkeypatch.setattr(invoicing.InvoiceLine, "insert_many", real)
    killed = InvoicingRun.get_by_id(run.id)
    assert (killed.status, killed.households_done, Invoice.select().count()) == ("running", 3, 3)
    assert all(invoice.lines.count() for invoice in Invoice.select())  # no invoice without its lines
    assert invoicing_runs.progress(killed).active  # still within its heartbeat: not resumable yet
    with pytest.raises(invoicing_runs.RunInProgress):
        invoicing_runs.request_run(january["regie"], 2027, 1)
    with pytest.raises(invoicing_runs.RunRefused):
        invoicing_runs.resume_run(killed)
    freeze("2027-02-01T09:05")  # no sign of life for 5 minutes
    assert invoicing_runs.progress(killed).stalled and invoicing_runs.progress(killed).status_label == "Interrompue"
    invoicing_runs.resume_run(killed)
    done = invoicing_runs.execute_run(run.id)
    assert (done.status, done.households_done, done.invoices_issued, done.attempt) == ("done", 5, 5, 2)
    assert _numbers() == [f"PERI-2027-02-{n:05d}" for n in range(1, 6)]
    # Had the first worker come back to life, its next household would roll back and stop it.
    with pytest.raises(invoicing_runs._Superseded):
        invoicing_runs._update(run.id, 1, households_done=0)


def test_a_month_not_over_and_not_closed_is_refused(january, freeze):
    freeze("2027-01-20T10:00")
    with pytest.raises(invoicing_runs.billing_periods.PeriodNotOver):
        invoicing_runs.request_run(january["regie"], 2027, 1)
    assert InvoicingRun.select().count() == 0
    run = invoicing_runs.issue_run(january["regie"], 2027, 1, close=True).run
    assert run.status == "done" and run.invoices_issued == 5


# --- Terminal -------------------------------------------------------------------------------------------


def test_cli_invoice(january, app, freeze):
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["invoice", "--regie", "NOPE", "--month", "2027-01"])
    assert unknown.exit_code != 0 and "régie inconnue « NOPE » (codes : ALSH, PERI)" in unknown.output
    bad = runner.invoke(args=["invoice", "--regie", "PERI", "--month", "janvier"])
    assert bad.exit_code != 0 and "Mois invalide : utilisez la forme 2026-11." in bad.output
    freeze("2027-01-20T10:00")
    early = runner.invoke(args=["invoice", "--regie", "peri", "--month", "2027-01"])
    assert early.exit_code != 0 and "n'est pas terminé" in early.output and Invoice.select().count() == 0
    result = runner.invoke(args=["invoice", "--regie", "PERI", "--month", "2027-01", "--close"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Facturation de janvier 2027 – Régie périscolaire (PERI)"
    assert "  5 / 5 foyers – 5 facture(s) émise(s)" in lines
    assert lines[-1].startswith("Terminé : 5 facture(s) émise(s) (PERI-2027-01-00001 à PERI-2027-01-00005) pour 34,80")
    assert InvoicingRun.get().origin == "terminal"
    again = runner.invoke(args=["invoice", "--regie", "PERI", "--month", "2027-01"])
    assert again.exit_code == 0 and "Terminé : 0 facture(s) émise(s) pour 0,00" in again.output


# --- Pages ---------------------------------------------------------------------------------------------


@pytest.fixture
def regisseur(january, auth):
    auth.login("admin@example.fr")
    return january


def _issue(client, regie, year=2027, month=1):
    return post_form(client, "/gestion/facturation/emettre", {"regie": regie.id, "annee": year, "mois": month},
                     token_page="/gestion/facturation/")


def test_emettre_queues_and_the_page_polls_until_done(regisseur, client):
    response = _issue(client, regisseur["regie"])
    run = InvoicingRun.get()
    assert response.headers["Location"].endswith(RUN_URL.format(run.id)) and run.status == "queued"
    page = client.get(RUN_URL.format(run.id)).get_data(as_text=True)
    assert 'role="status"' in page and 'hx-trigger="every 2s"' in page and f'hx-get="{RUN_URL.format(run.id)}"' in page
    assert ">Rafraîchir</a>" in page and "En attente" in page  # without JavaScript: a link
    partial = client.get(RUN_URL.format(run.id), headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.get_data(as_text=True)
    assert "HX-Request" in partial.headers["Vary"]
    jobs.run_invoicing.call_local(run.id)
    partial = client.get(RUN_URL.format(run.id), headers={"HX-Request": "true"})
    text = partial.get_data(as_text=True)
    assert partial.status_code == 286  # htmx stops polling
    assert "5 / 5 foyers" in text and "5 facture(s) émise(s)" in text and "34,80" in text
    assert re.search(r'<progress id="run-bar-\d+" max="5" value="5">5 / 5 foyers</progress>', text)
    page = client.get(RUN_URL.format(run.id)).get_data(as_text=True)
    assert "hx-trigger" not in page and "PERI-2027-02-00005" in page and "Rafraîchir" not in page
    assert "campagne=" in page  # the CSV of this run's invoices
    csv_text = client.get(f"/gestion/facturation/export/factures.csv?campagne={run.id}").get_data(as_text=True)
    assert csv_text.count("PERI-2027-02-") == 5
    overview = client.get(f"/gestion/facturation/?regie={regisseur['regie'].id}&annee=2027&mois=1").get_data(as_text=True)
    assert "Clôturée" in overview and f"Facturation n° {run.id}" in overview and "Émettre" not in overview


def test_failed_run_page_offers_reprendre(regisseur, client, monkeypatch):
    _issue(client, regisseur["regie"])
    run = InvoicingRun.get()
    monkeypatch.setattr(invoicing, "issue_invoice", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("panne")))
    jobs.run_invoicing.call_local(run.id)
    monkeypatch.undo()
    page = client.get(RUN_URL.format(run.id)).get_data(as_text=True)
    assert "Échec : Erreur inattendue : panne" in page and ">Reprendre</button>" in page
    response = post_form(client, RUN_URL.format(run.id) + "/reprendre", token_page=RUN_URL.format(run.id))
    assert response.status_code == 302 and InvoicingRun.get_by_id(run.id).status == "queued"
    jobs.run_invoicing.call_local(run.id)
    assert InvoicingRun.get_by_id(run.id).invoices_issued == 5
    again = post_form(client, RUN_URL.format(run.id) + "/reprendre", token_page=RUN_URL.format(run.id))
    assert "rien à reprendre" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_close_reopen_and_refusals_on_the_page(regisseur, client, freeze):
    freeze("2027-01-20T10:00")
    regie = regisseur["regie"]
    url = f"/gestion/facturation/?regie={regie.id}&annee=2027&mois=1"
    page = client.get(url).get_data(as_text=True)
    assert ">Clôturer la période</button>" in page and "Émettre les" not in page
    refused = _issue(client, regie)
    assert "clôturez la période" in client.get(refused.headers["Location"]).get_data(as_text=True)
    period = {"regie": regie.id, "annee": 2027, "mois": 1}
    closed = post_form(client, "/gestion/facturation/cloturer", period, token_page=url)
    page = client.get(closed.headers["Location"]).get_data(as_text=True)
    assert "Période clôturée" in page and ">Rouvrir la période</button>" in page and "Émettre les 5 facture(s)" in page
    reopened = post_form(client, "/gestion/facturation/rouvrir", period, token_page=url)
    assert "Période rouverte" in client.get(reopened.headers["Location"]).get_data(as_text=True)
    bad = post_form(client, "/gestion/facturation/cloturer", {"regie": "x", "annee": 2027, "mois": 13}, token_page=url)
    assert "Choisissez une régie et un mois valides." in client.get(bad.headers["Location"]).get_data(as_text=True)
    assert client.get(RUN_URL.format(999999)).status_code == 404
    assert post_form(client, RUN_URL.format(999999) + "/reprendre", token_page=url).status_code == 404


def test_runs_are_for_the_regisseur_only(january, client, auth):
    run = invoicing_runs.request_run(january["regie"], 2027, 1)
    auth.login("agent@example.fr")
    assert client.get(RUN_URL.format(run.id)).status_code == 403
    auth.logout()
    auth.login("famille.martin@example.fr")
    assert client.get(RUN_URL.format(run.id)).status_code == 404
