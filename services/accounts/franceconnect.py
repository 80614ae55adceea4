"""FranceConnect, the protocol: OpenID Connect authorization code flow with state and nonce (authlib's
requests client), the id_token's signature and claims checked (iss, aud, exp, iat, nonce, at_hash), the
userinfo fetched (a signed JWT in FranceConnect v2, plain JSON elsewhere), and the end-session URL.
What the verified identity does to the accounts is in franceconnect_accounts.py."""
from __future__ import annotations

import datetime as dt
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.urls import add_params_to_uri
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from services.core.errors import DomainError

DEFAULT_SCOPES = "openid given_name family_name email birthdate gender birthplace"
METADATA_LIFETIME = 3600  # seconds a discovery document and its keys are kept in memory
LEEWAY = 60  # seconds of clock difference accepted between the provider and this server


class FranceConnectError(DomainError):
    """The sign-in through FranceConnect failed: the message says so in French, nothing is changed."""


class FranceConnectCancelled(FranceConnectError):
    """The user went back from FranceConnect without signing in (access_denied)."""


@dataclass(frozen=True)
class Settings:
    """The client registered at FranceConnect partenaires, and where its provider lives."""

    client_id: str = ""
    client_secret: str = ""
    issuer: str = ""  # e.g. https://oidc.franceconnect.gouv.fr/api/v2
    discovery_url: str = ""  # default: issuer + /.well-known/openid-configuration
    scopes: str = DEFAULT_SCOPES
    acr_values: str = "eidas1"
    timeout: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.client_id and self.client_secret and (self.issuer or self.discovery_url))

    @property
    def metadata_url(self) -> str:
        return self.discovery_url or self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def origins(settings: Settings) -> list[str]:
    """The origins of the provider (scheme://host[:port]) a form may lead to, when it is configured."""
    if not settings.enabled:
        return []
    found = []
    for url in (settings.issuer, settings.metadata_url):
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""
        if origin and origin not in found:
            found.append(origin)
    return found


def settings_from(config) -> Settings:
    """The FranceConnect settings of an app config (a mapping of FRANCECONNECT_* keys)."""
    return Settings(
        client_id=config.get("FRANCECONNECT_CLIENT_ID") or "",
        client_secret=config.get("FRANCECONNECT_CLIENT_SECRET") or "",
        issuer=config.get("FRANCECONNECT_ISSUER") or "",
        discovery_url=config.get("FRANCECONNECT_DISCOVERY_URL") or "",
        scopes=config.get("FRANCECONNECT_SCOPES") or DEFAULT_SCOPES,
        acr_values=config.get("FRANCECONNECT_ACR_VALUES", "eidas1") or "",
        timeout=float(config.get("FRANCECONNECT_TIMEOUT") or 10),
    )


@dataclass
class Identity:
    """Who FranceConnect says signed in: the pivot identity, the e-mail, and the id_token for the logout."""

    sub: str
    email: str = ""
    given_name: str = ""
    family_name: str = ""
    birthdate: dt.date | None = None
    gender: str = ""  # female, male
    birthplace: str = ""  # INSEE code of the commune of birth
    id_token: str = field(default="", repr=False)

    def as_dict(self) -> dict:
        """A JSON-friendly copy (kept in the session while the parent confirms a link)."""
        return {"sub": self.sub, "email": self.email, "given_name": self.given_name,
                "family_name": self.family_name, "birthdate": self.birthdate.isoformat() if self.birthdate else "",
                "gender": self.gender, "birthplace": self.birthplace, "id_token": self.id_token}

    @classmethod
    def from_dict(cls, data: dict) -> "Identity":
        values = {key: str(data.get(key) or "") for key in
                  ("sub", "email", "given_name", "family_name", "gender", "birthplace", "id_token")}
        return cls(birthdate=_date(data.get("birthdate")), **values)


@dataclass
class Authorization:
    """Where to send the browser, and what to keep in the session to check its return."""

    url: str
    state: str
    nonce: str


# --- Discovery and keys, cached per process -------------------------------------------------

_cache: dict[str, tuple[float, dict]] = {}
_cache_lock = threading.Lock()
UNREACHABLE = ("FranceConnect ne répond pas pour le moment : réessayez dans quelques minutes, ou connectez-vous "
               "avec votre adresse e-mail et votre mot de passe.")


def _get_json(url: str, timeout: float, force: bool = False) -> dict:
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(url)
    if cached and not force and now - cached[0] < METADATA_LIFETIME:
        return cached[1]
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as failure:
        raise FranceConnectError(UNREACHABLE) from failure
    with _cache_lock:
        _cache[url] = (now, data)
    return data


def metadata(settings: Settings) -> dict:
    """The provider's discovery document (endpoints, issuer, algorithms)."""
    data = _get_json(settings.metadata_url, settings.timeout)
    if not all(data.get(key) for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")):
        raise FranceConnectError(UNREACHABLE)
    return data


def _keys(meta: dict, settings: Settings, force: bool = False) -> KeySet:
    try:
        return KeySet.import_key_set(_get_json(meta["jwks_uri"], settings.timeout, force=force))
    except (JoseError, ValueError, TypeError, KeyError) as failure:
        raise FranceConnectError(UNREACHABLE) from failure


# --- The flow -------------------------------------------------------------------------------


def _session(settings: Settings, redirect_uri: str, meta: dict, token: dict | None = None) -> OAuth2Session:
    methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method = "client_secret_post" if "client_secret_post" in methods else "client_secret_basic"
    return OAuth2Session(settings.client_id, settings.client_secret, scope=settings.scopes,
                         redirect_uri=redirect_uri, token_endpoint_auth_method=method, token=token,
                         leeway=5)  # FranceConnect's access tokens live 60 s: authlib's 60 s margin voids them


def authorization(settings: Settings, redirect_uri: str) -> Authorization:
    """The provider's authorize URL with a fresh state and nonce (both kept in the session by the view)."""
    meta = metadata(settings)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    extra = {"acr_values": settings.acr_values} if settings.acr_values else {}
    url, _ = _session(settings, redirect_uri, meta).create_authorization_url(
        meta["authorization_endpoint"], state=state, nonce=nonce, **extra)
    return Authorization(url=url, state=state, nonce=nonce)


def finish(settings: Settings, redirect_uri: str, expected_state: str, expected_nonce: str,
           params: dict) -> Identity:
    """The provider sent the browser back: check the state, exchange the code, verify the id_token, read the
    userinfo. Raises FranceConnectError (FranceConnectCancelled when the user went back)."""
    error = params.get("error")
    if error == "access_denied":
        raise FranceConnectCancelled("Connexion avec FranceConnect annulée : vous pouvez réessayer, ou vous "
                                     "connecter avec votre adresse e-mail et votre mot de passe.")
    state = params.get("state") or ""
    if not expected_state or not expected_nonce or not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise FranceConnectError("La connexion avec FranceConnect n'a pas pu être vérifiée (demande expirée ou "
                                 "déjà utilisée) : recommencez depuis cette page.")
    if error:
        raise FranceConnectError("FranceConnect n'a pas pu vous identifier : réessayez dans quelques minutes, "
                                 "ou connectez-vous avec votre adresse e-mail et votre mot de passe.")
    code = params.get("code") or ""
    if not code:
        raise FranceConnectError("FranceConnect n'a renvoyé aucune autorisation : recommencez depuis cette page.")
    meta = metadata(settings)
    session = _session(settings, redirect_uri, meta)
    try:
        token = session.fetch_token(meta["token_endpoint"], grant_type="authorization_code", code=code,
                                    timeout=settings.timeout)
    except (AuthlibBaseError, requests.RequestException, ValueError) as failure:
        raise FranceConnectError(UNREACHABLE) from failure
    if not token.get("id_token") or not token.get("access_token"):
        raise FranceConnectError(UNREACHABLE)
    claims = verify_id_token(settings, meta, token["id_token"], expected_nonce, token["access_token"])
    info = _userinfo(settings, meta, session, claims["sub"])
    return _identity(claims, info, token["id_token"])


VERIFY_FAILED = ("L'identité transmise par FranceConnect n'a pas pu être vérifiée : recommencez, ou connectez-vous "
                 "avec votre adresse e-mail et votre mot de passe.")


def _decode(settings: Settings, meta: dict, value: str, algorithms_key: str):
    algorithms = [alg for alg in (meta.get(algorithms_key) or ["RS256", "ES256"]) if alg != "none"]
    try:
        try:
            return jwt.decode(value, _keys(meta, settings), algorithms=algorithms)
        except JoseError:  # a key rotated since the keys were cached: fetch them once more
            return jwt.decode(value, _keys(meta, settings, force=True), algorithms=algorithms)
    except (JoseError, ValueError) as failure:
        raise FranceConnectError(VERIFY_FAILED) from failure


def verify_id_token(settings: Settings, meta: dict, id_token: str, nonce: str, access_token: str) -> dict:
    """The id_token's claims once its signature (the provider's keys) and claims are right: issued by this
    provider, for this client, not expired, and carrying the nonce this session sent."""
    token = _decode(settings, meta, id_token, "id_token_signing_alg_values_supported")
    options = {"iss": {"essential": True, "value": meta["issuer"]},
               "aud": {"essential": True, "value": settings.client_id},
               "sub": {"essential": True}, "exp": {"essential": True}, "iat": {"essential": True}}
    claims = CodeIDToken(token.claims, token.header, options,
                         {"nonce": nonce, "client_id": settings.client_id, "access_token": access_token})
    try:
        # Real time, not the portal's clock: the provider stamps tokens with the real time, and a frozen
        # development clock (PORTAIL_NOW) must not refuse them.
        claims.validate(now=int(time.time()), leeway=LEEWAY)
    except JoseError as failure:
        raise FranceConnectError(VERIFY_FAILED) from failure
    if claims.get("nonce") != nonce:  # never accept a token without the nonce of this session
        raise FranceConnectError(VERIFY_FAILED)
    return dict(claims)


def _userinfo(settings: Settings, meta: dict, session: OAuth2Session, sub: str) -> dict:
    """The userinfo claims; FranceConnect v2 signs them (application/jwt), other providers answer JSON."""
    if not meta.get("userinfo_endpoint"):
        return {}
    try:
        response = session.get(meta["userinfo_endpoint"], timeout=settings.timeout)
        response.raise_for_status()
    except (AuthlibBaseError, requests.RequestException) as failure:
        raise FranceConnectError(UNREACHABLE) from failure
    if response.headers.get("Content-Type", "").split(";")[0].strip() == "application/jwt":
        info = dict(_decode(settings, meta, response.text.strip(), "userinfo_signing_alg_values_supported").claims)
    else:
        try:
            info = response.json()
        except ValueError as failure:
            raise FranceConnectError(UNREACHABLE) from failure
    if not isinstance(info, dict) or info.get("sub") != sub:  # OpenID Connect Core 5.3.2
        raise FranceConnectError(VERIFY_FAILED)
    return info


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _text(value, limit: int = 200) -> str:
    return " ".join(str(value or "").split())[:limit]


def _identity(claims: dict, info: dict, id_token: str) -> Identity:
    merged = {**claims, **info}
    return Identity(sub=_text(claims["sub"], 255), email=_text(merged.get("email"), 254).lower(),
                    given_name=_text(merged.get("given_name")), family_name=_text(merged.get("family_name")),
                    birthdate=_date(merged.get("birthdate")), gender=_text(merged.get("gender"), 20),
                    birthplace=_text(merged.get("birthplace"), 20), id_token=id_token)


def logout_url(settings: Settings, id_token: str, post_logout_uri: str) -> tuple[str, str] | None:
    """The provider's end-session URL for this id_token, and its state; None when the provider has none."""
    try:
        meta = metadata(settings)
    except FranceConnectError:
        return None
    endpoint = meta.get("end_session_endpoint")
    if not endpoint or not id_token:
        return None
    state = secrets.token_urlsafe(16)
    url = add_params_to_uri(endpoint, [("id_token_hint", id_token), ("state", state),
                                       ("post_logout_redirect_uri", post_logout_uri)])
    return url, state
