"""Static files named by their content (`/static/css/app.css?v=3f2a…`) and cached a year, and responses
compressed (Flask-Compress: Brotli or gzip, whichever the browser accepts)."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request
from flask_compress import Compress

ONE_YEAR = 365 * 24 * 3600
_versions: dict[tuple[str, float], str] = {}


def register(app: Flask) -> None:
    """Version every static URL, cache versioned files a year, compress what is worth it."""
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)  # quick enough per request; static files are cached
    app.config.setdefault("COMPRESS_MIMETYPES", ["text/html", "text/css", "application/javascript",
                                                 "text/javascript", "application/json", "image/svg+xml",
                                                 "text/calendar", "text/csv"])
    Compress(app)
    static = Path(app.static_folder)

    @app.url_defaults
    def _add_version(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            path = static / values["filename"]
            if path.is_file():
                values["v"] = version_of(path)

    def max_age(filename: str | None) -> int | None:
        # Only the URL of the file as it is now is immutable; any other one is checked again.
        if filename and request.args.get("v") == version_of(static / filename):
            return ONE_YEAR
        return None

    app.get_send_file_max_age = max_age

    @app.after_request  # runs before Flask-Compress's hook (registered earlier, run later)
    def _static_file(response):
        if request.endpoint != "static" or response.status_code != 200:
            return response
        if response.cache_control.max_age == ONE_YEAR:
            response.cache_control.immutable = True
        # A file is sent as a stream, which Flask-Compress compresses without gzip (Chromium over plain
        # HTTP asks for gzip): read it, the largest is htmx at 53 KB, and each browser fetches it once.
        response.direct_passthrough = False
        response.set_data(response.get_data())
        return response


def version_of(path: Path) -> str:
    """The first 12 hex digits of the file's SHA-256, recomputed when the file changes."""
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError:
        return ""
    if key not in _versions:
        _versions[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return _versions[key]


def forget() -> None:
    """Drop the remembered versions (tests that rewrite a file within the same second)."""
    _versions.clear()
