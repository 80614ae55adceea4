"""gunicorn's access log without secrets (deploy/gunicorn.conf.py: `logger_class`): the tokens in the
links of password reset, account activation and the iCal feed, and the bank's answer on the payment
return and notification URLs, are replaced by « *** » in the request line, the path, the query and
the referrer."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from gunicorn.glogging import Logger

TOKEN_PATHS = re.compile(r"(/(?:mot-de-passe|activer-mon-compte|calendrier)/)[^/?#\s]+?(\.ics)?(?=$|[/?#\s])")
BANK_PATHS = ("/factures/paiement/",)  # every value of the bank's answer (ids, amounts, signatures)
SECRET_PARAMS = {"token", "code", "transaction_id", "idop", "signature", "mac", "refdet", "next"}
MASK = "***"


def mask_path(path: str) -> str:
    return TOKEN_PATHS.sub(lambda m: m.group(1) + MASK + (m.group(2) or ""), path)


def mask_query(path: str, query: str) -> str:
    """The query string with secret values (all of them on the bank's URLs) masked."""
    if not query:
        return query
    every = any(path.startswith(prefix) for prefix in BANK_PATHS)
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, MASK if every or k.lower() in SECRET_PARAMS else v) for k, v in pairs], safe="*")


def mask_url(target: str) -> str:
    """A request target or a full URL (the referrer) with its secrets masked."""
    if not target or target == "-":
        return target
    parts = urlsplit(target)
    path = mask_path(parts.path)
    return urlunsplit(parts._replace(path=path, query=mask_query(parts.path, parts.query)))


class MaskingLogger(Logger):
    """gunicorn's logger, masking secrets before the access line is written."""

    def access(self, resp, req, environ, request_time):
        path = environ.get("PATH_INFO", "")
        masked = dict(environ, PATH_INFO=mask_path(path), QUERY_STRING=mask_query(path, environ.get("QUERY_STRING", "")),
                      RAW_URI=mask_url(environ.get("RAW_URI", "")))
        if "HTTP_REFERER" in environ:
            masked["HTTP_REFERER"] = mask_url(environ["HTTP_REFERER"])
        super().access(resp, req, masked, request_time)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["{referer}i"] = environ.get("HTTP_REFERER", "-")  # the header atom, masked like %(f)s
        return atoms
