"""A tiny OpenID Connect provider for the tests, shaped like FranceConnect v2: discovery document, JWKS,
authorize (auto-consent), token (RS256 id_token), userinfo (a signed JWT, as FranceConnect v2 answers) and
end_session. It runs on 127.0.0.1 in a thread of the test process: no outside network.

Who signs in is `provider.next_identity` (or `?fc_user=<sub>` of a known identity on the authorize URL);
`provider.next_error` makes the next authorize answer an error (e.g. "access_denied", the user cancelled);
`provider.tamper` overrides claims of the next id_token (a wrong nonce or audience, an expired token).
"""
from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "portail-famille-test"
CLIENT_SECRET = "secret-du-fournisseur-de-test"

# Identities as FranceConnect gives them (the « identité pivot » and the e-mail).
NEW_PARENT = {"sub": "fc-sub-nouveau-parent", "given_name": "Camille Anne", "family_name": "LEROY",
              "email": "camille.leroy@example.fr", "birthdate": "1988-04-12", "gender": "female",
              "birthplace": "29019", "birthcountry": "99100"}
MARTIN = {"sub": "fc-sub-claire-martin", "given_name": "Claire", "family_name": "MARTIN",
          "email": "famille.martin@example.fr", "birthdate": "1985-06-02", "gender": "female",
          "birthplace": "29019", "birthcountry": "99100"}
AGENT = {"sub": "fc-sub-agent", "given_name": "Paul", "family_name": "AGENT", "email": "agent@example.fr",
         "birthdate": "1979-01-20", "gender": "male", "birthplace": "75056", "birthcountry": "99100"}
IDENTITIES = {identity["sub"]: identity for identity in (NEW_PARENT, MARTIN, AGENT)}


class Provider:
    """The provider's state: its key, the next identity, the codes and tokens it issued, the logouts."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "cle-test", "use": "sig", "alg": "RS256"})
        self.next_identity: dict = dict(NEW_PARENT)
        self.next_error: str | None = None
        self.tamper: dict = {}
        self.rogue_key: RSAKey | None = None  # signs the next id_token with a key the JWKS does not publish
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.logouts: list[dict] = []
        self.authorize_requests: list[dict] = []
        self.redirect_uris: set[str] | None = None  # None: any (the tests' hosts vary)
        self.server: ThreadingHTTPServer | None = None
        self.url = ""

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "Provider":
        provider = self

        class Handler(_Handler):
            state = provider

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v2"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def reset(self) -> None:
        self.next_identity, self.next_error, self.tamper, self.rogue_key = dict(NEW_PARENT), None, {}, None
        self.logouts.clear()
        self.authorize_requests.clear()

    @property
    def discovery_url(self) -> str:
        return self.url + "/.well-known/openid-configuration"

    def settings(self) -> dict:
        """The portal's settings (app config keys) for this provider."""
        return {"FRANCECONNECT_CLIENT_ID": CLIENT_ID, "FRANCECONNECT_CLIENT_SECRET": CLIENT_SECRET,
                "FRANCECONNECT_ISSUER": self.url}

    # --- tokens ------------------------------------------------------------------------------

    def metadata(self) -> dict:
        return {
            "issuer": self.url,
            "authorization_endpoint": self.url + "/authorize",
            "token_endpoint": self.url + "/token",
            "userinfo_endpoint": self.url + "/userinfo",
            "jwks_uri": self.url + "/jwks",
            "end_session_endpoint": self.url + "/session/end",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "userinfo_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "acr_values_supported": ["eidas1"],
            "scopes_supported": ["openid", "given_name", "family_name", "email", "birthdate", "gender",
                                 "birthplace", "birthcountry", "preferred_username"],
        }

    def sign(self, claims: dict, key: RSAKey | None = None) -> str:
        return jwt.encode({"alg": "RS256", "kid": "cle-test"}, claims, key or self.key)

    def id_token(self, grant: dict, access_token: str) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "sub": grant["identity"]["sub"], "aud": grant["client_id"], "exp": now + 60,
                  "iat": now, "nonce": grant["nonce"], "acr": "eidas1", "amr": ["pwd"]}
        claims.update(self.tamper)
        key, self.tamper, self.rogue_key = self.rogue_key, {}, None
        return self.sign({name: value for name, value in claims.items() if value is not None}, key)


class _Handler(BaseHTTPRequestHandler):
    state: Provider

    def log_message(self, *args):  # quiet test output
        pass

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json",
              headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: dict) -> None:
        self._send(status, json.dumps(data).encode())

    def _redirect(self, url: str) -> None:
        self._send(302, b"", "text/plain", {"Location": url})

    def do_GET(self):
        parsed = urlparse(self.path)
        query = {key: values[0] for key, values in parse_qs(parsed.query).items()}
        path = parsed.path.removeprefix("/api/v2")
        if path == "/.well-known/openid-configuration":
            return self._json(200, self.state.metadata())
        if path == "/jwks":
            return self._json(200, {"keys": [self.state.key.as_dict(private=False)]})
        if path == "/authorize":
            return self._authorize(query)
        if path == "/userinfo":
            return self._userinfo()
        if path == "/session/end":
            self.state.logouts.append(query)
            target = query.get("post_logout_redirect_uri")
            if target:
                return self._redirect(target + "?" + urlencode({"state": query.get("state", "")}))
            return self._send(200, "Vous êtes déconnecté de FranceConnect.".encode(), "text/plain; charset=utf-8")
        return self._json(404, {"error": "not_found"})

    def do_POST(self):
        path = urlparse(self.path).path.removeprefix("/api/v2")
        length = int(self.headers.get("Content-Length") or 0)
        form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
        if path == "/token":
            return self._token(form)
        return self._json(404, {"error": "not_found"})

    def _authorize(self, query: dict) -> None:
        state = self.state
        state.authorize_requests.append(query)
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or not redirect_uri or (
                state.redirect_uris is not None and redirect_uri not in state.redirect_uris):
            return self._send(400, "Requête invalide".encode(), "text/plain; charset=utf-8")
        if state.next_error:
            error, state.next_error = state.next_error, None
            return self._redirect(redirect_uri + "?" + urlencode({"error": error, "state": query.get("state", ""),
                                                                  "error_description": "User auth aborted"}))
        identity = IDENTITIES.get(query.get("fc_user", ""), state.next_identity)
        code = secrets.token_urlsafe(24)
        state.codes[code] = {"identity": dict(identity), "nonce": query.get("nonce"), "client_id": CLIENT_ID,
                             "redirect_uri": redirect_uri, "scope": query.get("scope", "")}
        self._redirect(redirect_uri + "?" + urlencode({"code": code, "state": query.get("state", "")}))

    def _client_authenticated(self, form: dict) -> bool:
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id == CLIENT_ID and secret == CLIENT_SECRET

    def _token(self, form: dict) -> None:
        if not self._client_authenticated(form):
            return self._json(401, {"error": "invalid_client"})
        grant = self.state.codes.pop(form.get("code", ""), None)  # a code is used once
        if form.get("grant_type") != "authorization_code" or grant is None or \
                form.get("redirect_uri") != grant["redirect_uri"]:
            return self._json(400, {"error": "invalid_grant"})
        access_token = secrets.token_urlsafe(24)
        self.state.access_tokens[access_token] = grant
        self._json(200, {"access_token": access_token, "token_type": "Bearer", "expires_in": 60,
                         "scope": grant["scope"], "id_token": self.state.id_token(grant, access_token)})

    def _userinfo(self) -> None:
        header = self.headers.get("Authorization", "")
        grant = self.state.access_tokens.get(header.removeprefix("Bearer ").strip()) if header.startswith(
            "Bearer ") else None
        if grant is None:
            return self._json(401, {"error": "invalid_token"})
        now = int(time.time())
        claims = {**grant["identity"], "iss": self.state.url, "aud": grant["client_id"], "iat": now, "exp": now + 60}
        self._send(200, self.state.sign(claims).encode(), "application/jwt")
