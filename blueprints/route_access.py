"""The role × route matrix: who may open each endpoint (blueprints/access.check_access applies it before
every request). Data only, one line per endpoint, so that it is read and reviewed in one place."""
from __future__ import annotations

# Who may open each endpoint, checked before every request by check_access(): PUBLIC (everyone),
# SIGNED_IN (any account), PARENT (a parent with a household; staff are sent to their own page), or
# the staff roles allowed (the administrator passes every staff rule). A dict gives a rule per method.
# An endpoint missing here answers 404; tests/test_sweep.py fails on it and checks every route × role
# against this table. Row-level rules stay in the views: a parent's objects (owned_or_404), an
# animateur's activities (activity_or_404), health data (User.can_see_health).
PUBLIC, SIGNED_IN, PARENT = "public", "signed_in", "parent"
STAFF = ("agent", "regisseur")  # the desk and the files; the kitchen and the animateur are named where they pass
AGENT, REGISSEUR, ADMIN = ("agent",), ("regisseur",), ()
EVERY_STAFF = ("agent", "regisseur", "cuisine", "animateur")
# The roles that read at least one service's inbox (services/communication/messaging.py DEFAULT_SERVICES);
# which threads each one sees is decided per service, row by row, inside the service.
READERS = ("agent", "regisseur", "animateur")

ACCESS: dict[str, str | tuple | dict] = {
    # account
    "account.access_codes": SIGNED_IN,
    "account.mail_preferences": PARENT,
    # auth
    "auth.confirm": PUBLIC,
    "auth.forgot": PUBLIC,
    "auth.initialise": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "auth.logout_page": PUBLIC,
    "auth.resend_code": PUBLIC,
    "auth.reset": PUBLIC,
    "auth.second_step": PUBLIC,
    "auth.signup": PUBLIC,
    "auth.suggest_password": PUBLIC,
    # billing
    "billing.certificate_pdf": PARENT,
    "billing.certificates_list": PARENT,
    "billing.direct_debit_page": PARENT,
    "billing.dummy_bank": PUBLIC,
    "billing.invoice": PARENT,
    "billing.invoice_pdf": PARENT,
    "billing.invoices": PARENT,
    "billing.pay": PARENT,
    "billing.payment_notification": PUBLIC,
    "billing.payment_return": PUBLIC,
    "billing.payments_list": PARENT,
    "billing.receipt_pdf": PARENT,
    # dev
    "dev.outbox": PUBLIC,
    "dev.test_clock": PUBLIC,
    # early_years (crèche requests, « Demandes d'accueil »)
    "early_years.index": PARENT,
    "early_years.new": PARENT,
    "early_years.withdraw": PARENT,
    # enrolments
    "enrolments.change_subscription": PARENT,
    "enrolments.index": PARENT,
    "enrolments.renew": PARENT,
    "enrolments.request_enrolment": PARENT,
    "enrolments.subscription_days": PARENT,
    # franceconnect
    "franceconnect.account": PARENT,
    "franceconnect.callback": PUBLIC,
    "franceconnect.link": PUBLIC,
    "franceconnect.logged_out": PUBLIC,
    "franceconnect.start": PUBLIC,
    # family
    "family.account": PARENT,
    "family.certify_child": PARENT,
    "family.child": PARENT,
    "family.close_account": PARENT,
    "family.delete_document": PARENT,
    "family.documents_page": PARENT,
    "family.download": PARENT,
    "family.edit_child": PARENT,
    "family.edit_foyer": PARENT,
    "family.edit_guardian": PARENT,
    "family.invite_guardian": PARENT,
    "family.my_data": PARENT,
    "family.my_data_zip": PARENT,
    "family.remove_child": PARENT,
    "family.step_besoins": PARENT,
    "family.step_enfants": PARENT,
    "family.step_foyer": PARENT,
    "family.step_responsables": PARENT,
    "family.withdraw_change": PARENT,
    "family.wizard": PARENT,
    # messages
    "messages.attachment": PARENT,
    "messages.index": PARENT,
    "messages.new": PARENT,
    "messages.thread": PARENT,
    # orders
    "orders.alerts": PARENT,
    "orders.basket": PARENT,
    "orders.clear": PARENT,
    "orders.detail": PARENT,
    "orders.index": PARENT,
    "orders.mark_alerts_read": PARENT,
    "orders.pay": PARENT,
    "orders.remove_line": PARENT,
    "orders.validate": PARENT,
    # outings (sorties, Espace jeunes, séjours: /activites)
    "outings.detail": PARENT,
    "outings.index": PARENT,
    "outings.register": PARENT,
    # portal
    "portal.home": PARENT,
    # public
    "public.accessibility": PUBLIC,
    "public.contact": PUBLIC,
    "public.home": PUBLIC,
    "public.legal": PUBLIC,
    "public.logo": PUBLIC,
    "public.personal_data": PUBLIC,
    "public.theme": PUBLIC,
    # publications (news and documents the commune publishes: the household's audience only)
    "publications.document_file": PARENT,
    "publications.documents": PARENT,
    "publications.news_file": PARENT,
    "publications.news_item": PARENT,
    "publications.news_list": PARENT,
    # reservations
    "reservations.absence": PARENT,
    "reservations.bulk": PARENT,
    "reservations.copy_week": PARENT,
    "reservations.ical": PUBLIC,
    "reservations.ical_settings": PARENT,
    "reservations.month": PARENT,
    "reservations.month_pdf": PARENT,
    "reservations.toggle": PARENT,
    "reservations.unit_week": PARENT,
    "reservations.update_basket": PARENT,
    "reservations.week": PARENT,
    # staff
    "staff.dashboard": STAFF,
    "staff.invite_parent": AGENT,
    "staff.test_mail": ADMIN,
    # staff_activities
    "staff_activities.activities": STAFF,
    "staff_activities.activity": {"GET": STAFF, "POST": AGENT},
    "staff_activities.add_closure": AGENT,
    "staff_activities.create_activity": AGENT,
    "staff_activities.decide_enrolment": AGENT,
    "staff_activities.delete_capacity": AGENT,
    "staff_activities.delete_closure": AGENT,
    "staff_activities.delete_extra_day": AGENT,
    "staff_activities.enrolment_queue": STAFF,
    "staff_activities.new_unit": AGENT,
    "staff_activities.refresh_holidays": AGENT,
    "staff_activities.unit": {"GET": STAFF, "POST": AGENT},
    # staff_attendance
    "staff_attendance.add_unbooked": ("agent", "animateur"),
    "staff_attendance.record": ("agent", "animateur"),
    "staff_attendance.record_times": ("agent", "animateur"),
    "staff_attendance.remove_unbooked": ("agent", "animateur"),
    "staff_attendance.sheet": ("agent", "animateur"),
    # staff_billing
    "staff_billing.export_direct_debits": REGISSEUR,
    "staff_billing.export_invoices": REGISSEUR,
    "staff_billing.export_payments": REGISSEUR,
    "staff_billing.invoice": REGISSEUR,
    "staff_billing.invoice_pdf": REGISSEUR,
    "staff_billing.invoicing": REGISSEUR,
    "staff_billing.record_direct_debits": REGISSEUR,
    "staff_billing.record_payment": REGISSEUR,
    "staff_billing.remind": REGISSEUR,
    "staff_billing.unpaid": REGISSEUR,
    # staff_bookings
    "staff_bookings.absence_certificate": AGENT,
    "staff_bookings.confirm_waiting": AGENT,
    "staff_bookings.decide_absence": AGENT,
    "staff_bookings.decide_line": AGENT,
    "staff_bookings.decide_order": AGENT,
    "staff_bookings.orders": AGENT,
    "staff_bookings.orders_queue": AGENT,
    # staff_desk
    "staff_custody.edit": AGENT,
    "staff_custody.end": AGENT,
    "staff_desk.absence": AGENT,
    "staff_desk.book": AGENT,
    "staff_desk.bookings": STAFF,
    "staff_desk.history": STAFF,
    "staff_desk.invoices": STAFF,
    "staff_desk.orders_list": STAFF,
    "staff_desk.payments_list": STAFF,
    "staff_desk.receipt_pdf": STAFF,
    "staff_desk.record_payment": REGISSEUR,
    # staff_early_years (crèche requests and structures: agents and the administrator)
    "staff_early_years.commission_csv": AGENT,
    "staff_early_years.decide": AGENT,
    "staff_early_years.detail": AGENT,
    "staff_early_years.queue": AGENT,
    "staff_early_years.structures": AGENT,
    "staff_early_years.to_commission": AGENT,
    # staff_family
    "staff_family.changes_queue": {"GET": STAFF, "POST": AGENT},
    "staff_family.closures_queue": {"GET": STAFF, "POST": AGENT},
    "staff_family.decide_household": AGENT,
    "staff_family.documents_queue": {"GET": STAFF, "POST": AGENT},
    "staff_family.download": STAFF,
    "staff_family.edit_child": AGENT,
    "staff_family.edit_foyer": AGENT,
    "staff_family.edit_guardian": AGENT,
    "staff_family.files_queue": {"GET": STAFF, "POST": AGENT},
    "staff_family.household": STAFF,
    "staff_family.household_data": AGENT,
    "staff_family.households": STAFF,
    "staff_family.settings": AGENT,
    # staff_headcounts
    "staff_headcounts.day": ("agent", "cuisine"),
    "staff_headcounts.export": ("agent", "cuisine"),
    # staff_invoicing_runs
    "staff_invoicing_runs.close": REGISSEUR,
    "staff_invoicing_runs.issue": REGISSEUR,
    "staff_invoicing_runs.reopen": REGISSEUR,
    "staff_invoicing_runs.resume": REGISSEUR,
    "staff_invoicing_runs.run": REGISSEUR,
    # staff_journal
    "staff_journal.index": ADMIN,
    # staff_mails
    "staff_mails.index": AGENT,
    "staff_mails.resend": AGENT,
    # staff_messages (a thread of a service the role does not read answers 404: messaging.staff_thread)
    "staff_messages.absence": AGENT,
    "staff_messages.assign": READERS,
    "staff_messages.attachment": READERS,
    "staff_messages.household": STAFF,
    "staff_messages.inbox": READERS,
    "staff_messages.status": READERS,
    "staff_messages.thread": READERS,
    # staff_news (agents and the régisseur write; the kitchen and the animateur do not)
    "staff_news.attachment": STAFF,
    "staff_news.edit": STAFF,
    "staff_news.index": STAFF,
    "staff_news.new": STAFF,
    "staff_news.republish": STAFF,
    "staff_news.unpublish": STAFF,
    # staff_online_payments
    "staff_online_payments.check": REGISSEUR,
    "staff_online_payments.export": REGISSEUR,
    "staff_online_payments.index": REGISSEUR,
    # staff_outings (the register shows PAI and allergies only to User.can_see_health)
    "staff_outings.edit": {"GET": STAFF, "POST": AGENT},
    "staff_outings.index": STAFF,
    "staff_outings.new": AGENT,
    "staff_outings.register": STAFF,
    "staff_outings.register_csv": STAFF,
    # staff_publications (categories: the administrator)
    "staff_publications.categories_page": ADMIN,
    "staff_publications.delete_category": ADMIN,
    "staff_publications.edit": STAFF,
    "staff_publications.file": STAFF,
    "staff_publications.index": STAFF,
    "staff_publications.move_category": ADMIN,
    "staff_publications.new": STAFF,
    "staff_publications.rename_category": ADMIN,
    "staff_publications.republish": STAFF,
    "staff_publications.unpublish": STAFF,
    # staff_regies
    "staff_regies.edit": REGISSEUR,
    "staff_regies.index": REGISSEUR,
    # staff_schools
    "staff_schools.edit": ADMIN,
    "staff_schools.index": ADMIN,
    # staff_security
    "staff_security.confirm": EVERY_STAFF,
    "staff_security.disable": EVERY_STAFF,
    "staff_security.index": EVERY_STAFF,
    "staff_security.renew_codes": EVERY_STAFF,
    "staff_security.start": EVERY_STAFF,
    # staff_settings
    "staff_settings.edit": ADMIN,
    "staff_settings.remove_logo": ADMIN,
    "staff_settings.save_logo": ADMIN,
    # staff_team
    "staff_team.deactivate": ADMIN,
    "staff_team.edit": ADMIN,
    "staff_team.index": ADMIN,
    "staff_team.new": ADMIN,
    "staff_team.reactivate": ADMIN,
    "staff_team.resend_invitation": ADMIN,
    "staff_team.reset_two_factor": ADMIN,
    # static
    "static": PUBLIC,
}
