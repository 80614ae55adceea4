"""The small shared core: the app's clock, locked write transactions and counters, formatting
(dates, euros), domain errors, the mail outbox, PDFs, CSV, file permissions, backups, migrations, audit.
"""
