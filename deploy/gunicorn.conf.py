"""gunicorn settings for Portail Famille (see README, « Deployment » and the concurrency figures)."""
import multiprocessing
import os

bind = "127.0.0.1:8000"
# Sync workers: each request holds one process. On SQLite the write lock is short (IMMEDIATE transactions
# queued at the gate, password hashing and PDFs outside it), so 2 per core plus one keeps the CPU busy
# without queueing (README « Heure de pointe »: 337 requests a second at p95 57 ms on 2 cores). On
# PostgreSQL a worker also waits for the server at each statement: 4 per core plus one (2 cores: 9 workers
# served 196 requests a second where 5 served 136–156; 13 gave no more).
POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
workers = multiprocessing.cpu_count() * (4 if POSTGRES else 2) + 1
worker_class = "sync"
timeout = 30  # long work (invoicing runs, mail) is done by the worker, never in a request
graceful_timeout = 20
max_requests = 2000  # recycle workers now and then; jitter spreads the restarts
max_requests_jitter = 200
accesslog = "-"
# The access log masks the tokens of reset, activation and iCal links and the bank's answers (web/access_log.py).
logger_class = "web.access_log.MaskingLogger"
forwarded_allow_ips = "127.0.0.1"
