"""A parent's browser for the rush, light enough to share 2 cores with the server it measures.

`requests` costs about a millisecond of a core per request (sessions, adapters, urllib3's pool, cookie
jars); at 300 requests a second the load generator took a third of the machine from the portal. This
client writes HTTP/1.1 on an asyncio stream and reads the answer back: one connection per request, as
gunicorn's sync workers close it anyway; cookies kept by name; gzip answers unzipped as a browser does
(it asks for them, so the server compresses as in production)."""
from __future__ import annotations

import asyncio
import random
import time
import zlib
from urllib.parse import urlencode, urlsplit

from harness import CELL, CHECKED, CSRF_FIELD, CSRF_HEADER, ORDER, Finished, Unexpected, answered


class Answer:
    """What came back: status, headers (lower-case names), body as text; as much of requests' Response
    as harness.Unexpected reads."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status_code, self.headers = status, headers
        self.text = body.decode("utf-8", "replace")


class AsyncBrowser:
    """One parent's session: cookies, the page's CSRF token, the grid's boxes (as harness.Browser)."""

    def __init__(self, base: str, record, timeout: float = 60, deadline: float | None = None, think: float = 0.0,
                 rng: random.Random | None = None):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.record, self.timeout, self.deadline = record, timeout, deadline
        # A parent reads, then taps: `think` seconds on average between an answer and the next request.
        self.think, self.rng, self.started = think, rng or random.Random(), False
        # Each parent has its own client address (per-address sign-in limits apply to each, not to the bench).
        self.address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.cells: dict[str, bool] = {}

    async def call(self, label: str, method: str, path: str, expect: tuple[int, ...], data: dict | None = None,
                   headers: dict | None = None) -> Answer:
        if self.think and self.started:
            await asyncio.sleep(self.rng.expovariate(1 / self.think))
        self.started = True
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise Finished
        started = time.perf_counter()
        try:
            answer = await asyncio.wait_for(self._exchange(method, path, data, headers or {}), self.timeout)
        except (OSError, asyncio.TimeoutError, ValueError) as error:
            return answered(self.record, label, started, None, expect, error)
        return answered(self.record, label, started, answer, expect)

    async def _exchange(self, method: str, path: str, data: dict | None, headers: dict) -> Answer:
        body = urlencode(data).encode() if data is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept-Encoding: gzip",
                 "Connection: close", f"X-Forwarded-For: {self.address}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if data is not None:
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            head = await reader.readuntil(b"\r\n\r\n")
            status, answer_headers = self._head(head)
            length = answer_headers.get("content-length")
            payload = await (reader.readexactly(int(length)) if length is not None else reader.read())
        finally:
            writer.close()
        if answer_headers.get("content-encoding") == "gzip":
            payload = zlib.decompress(payload, 16 + zlib.MAX_WBITS)
        return Answer(status, answer_headers, payload)

    def _head(self, head: bytes) -> tuple[int, dict[str, str]]:
        """The status and headers; Set-Cookie kept (an empty value deletes the cookie, as Flask sends it)."""
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookie, _, attributes = value.partition(";")
                key, _, cookie_value = cookie.partition("=")
                if cookie_value.strip('"') and "max-age=0" not in attributes.lower():
                    self.cookies[key.strip()] = cookie_value
                else:
                    self.cookies.pop(key.strip(), None)
            headers[name] = value
        return int(status_line.split()[1]), headers

    async def page(self, label: str, path: str) -> str:
        html = (await self.call(label, "GET", path, (200,))).text
        match = CSRF_HEADER.search(html) or CSRF_FIELD.search(html)
        if match:
            self.csrf = match.group(1)
        return html

    async def sign_in(self, email: str, password: str) -> None:
        self.cookies.clear()
        await self.page("GET /connexion", "/connexion")
        answer = await self.call("POST /connexion", "POST", "/connexion", (302,),
                                 data={"csrf_token": self.csrf, "email": email, "password": password})
        location = answer.headers.get("location", "")
        if not location or "/connexion" in location:
            raise Unexpected("POST /connexion", answer, "renvoyé vers la connexion")
        await self.page("GET / (accueil)", urlsplit(location).path)

    async def week(self, week: str) -> list[str]:
        """Open a week of the grid; returns the cells that can change."""
        html = await self.page("GET /reservations", f"/reservations?semaine={week}")
        keys = CELL.findall(html)
        checked = set(CHECKED.findall(html))
        self.cells = {key: key in checked for key in keys}
        return keys

    async def tick(self, key: str, want: bool) -> Answer:
        """A box ticked (`want`) or unticked as htmx posts it: the cell's key, and `cells` when ticked."""
        return await self.call("POST /reservations/case", "POST", "/reservations/case", (200,),
                               data={"cell": key, **({"cells": key} if want else {})},
                               headers={"HX-Request": "true", "X-CSRFToken": self.csrf})

    async def toggle(self, key: str) -> None:
        answer = await self.tick(key, not self.cells.get(key, False))
        self.cells[key] = f'value="{key}" checked' in answer.text

    async def validate(self) -> int | None:
        """« Valider » on /panier; returns the order id it led to, if any."""
        await self.page("GET /panier", "/panier")
        answer = await self.call("POST /panier/valider", "POST", "/panier/valider", (302,),
                                 data={"csrf_token": self.csrf})
        match = ORDER.search(urlsplit(answer.headers.get("location", "")).path)
        return int(match.group(1)) if match else None
