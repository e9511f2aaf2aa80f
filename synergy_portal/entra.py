"""Entra ID: browser sign-in (OpenID Connect auth-code flow with PKCE, through msal) and the
checks on the tokens Entra ID issues (ID tokens at sign-in, access tokens for the API).

msal (>= 1.38) no longer validates ID tokens, so every token is verified here with PyJWT
against the tenant's published keys: RS256 signature, issuer from the tenant's OpenID
metadata, audience, tenant, lifetime, and (for ID tokens) the nonce of this sign-in.

The pending flow (state, PKCE verifier, nonce) lives only in the server-side session and is
removed before it is used, so a callback URL works once. Tokens are never stored or logged.
"""

from __future__ import annotations

import hmac
import re
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import msal
import requests
from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.urls import reverse

from synergy_portal.models import User
from synergy_portal.security_log import security_event
from synergy_portal.services import user_sign_in_from_claims

# The session cookie is SameSite=Lax, so it comes back with Entra ID's redirect (a top-level
# GET) but not with a cross-site form_post: the response must come in the query string. The
# code in it is useless without the PKCE verifier and client secret, which never leave here.
warnings.filterwarnings(
    "ignore", message="response_mode='form_post' is recommended", category=UserWarning
)

FLOWS_SESSION_KEY = "entra_pending_sign_ins"
AUTH_METHOD_SESSION_KEY = "synergy_auth_method"
AUTH_METHOD_ENTRA = "entra"
# Several tabs may start a sign-in at once; each keeps its own flow, keyed by its state.
MAX_PENDING_SIGN_INS = 5
PENDING_SIGN_IN_SECONDS = 15 * 60
CLOCK_LEEWAY_SECONDS = 60
METADATA_TTL_SECONDS = 3600
JWKS_TTL_SECONDS = 3600
# An unknown key id triggers a re-fetch of the keys (Entra ID rotates them), but not more often
# than this, so forged tokens cannot make the portal hammer the identity provider.
JWKS_REFETCH_MIN_SECONDS = 60

SSO_NOT_CONFIGURED = "Single sign-on with your force Microsoft account is not configured."
SIGN_IN_EXPIRED = (
    "This sign-in has expired or has already been used. Start again from the sign-in page."
)
SIGN_IN_CANCELLED = "Microsoft did not sign you in. Start again from the sign-in page."
SIGN_IN_NOT_VERIFIED = "We could not verify your sign-in. Start again from the sign-in page."
SIGN_IN_WRONG_TENANT = "That account does not belong to the force's Microsoft tenant."
SIGN_IN_ACCOUNT_DISABLED = "Your portal account is disabled. Contact the portal administrators."
IDP_UNAVAILABLE = "The sign-in service cannot be reached just now. Try again in a few minutes."


class IdentityProviderUnavailable(Exception):
    """Entra ID (its metadata, keys or token endpoint) could not be reached."""


class TokenInvalid(Exception):
    """A token failed verification. ``reason`` is a short code for logs and tests."""

    def __init__(self, reason: str, claims: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        # Only set once the signature has been verified, so the claims can be trusted.
        self.claims = claims or {}


class SignInRefused(Exception):
    def __init__(self, reason: str, message: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status


@dataclass(frozen=True)
class EntraConfig:
    tenant_id: str
    client_id: str
    client_secret: str
    authority: str
    redirect_uri: str
    api_audience: str
    ca_bundle: str
    timeout: float

    @property
    def sso_configured(self) -> bool:
        return bool(self.tenant_id and self.client_id and self.client_secret and self.authority)

    @property
    def api_configured(self) -> bool:
        return bool(self.tenant_id and self.authority and self.api_audience)

    @property
    def metadata_url(self) -> str:
        # `appid` makes Entra ID publish the app's own signing keys too, which it uses when a
        # claims-mapping policy (e.g. department, jobTitle) is assigned to the app.
        query = urlencode({"appid": self.client_id}) if self.client_id else ""
        url = f"{self.authority.rstrip('/')}/v2.0/.well-known/openid-configuration"
        return f"{url}?{query}" if query else url


def entra_config() -> EntraConfig:
    return EntraConfig(
        tenant_id=settings.ENTRA_TENANT_ID,
        client_id=settings.ENTRA_CLIENT_ID,
        client_secret=settings.ENTRA_CLIENT_SECRET,
        authority=settings.ENTRA_AUTHORITY,
        redirect_uri=settings.ENTRA_REDIRECT_URI,
        api_audience=settings.ENTRA_API_AUDIENCE,
        ca_bundle=settings.ENTRA_CA_BUNDLE,
        timeout=float(settings.ENTRA_HTTP_TIMEOUT),
    )


def sso_configured() -> bool:
    return entra_config().sso_configured


# --- HTTP to the identity provider ------------------------------------------------------------


class _IdentityProviderSession(requests.Session):
    """requests has no session-wide timeout; a hung identity provider must not hang a worker."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)


def http_session(config: EntraConfig) -> requests.Session:
    session = _IdentityProviderSession(config.timeout)
    if config.ca_bundle:
        # REQUESTS_CA_BUNDLE (set on many hosts) silently overrides `verify=` unless the
        # environment is ignored altogether.
        session.trust_env = False
        session.verify = config.ca_bundle
    return session


_cache_lock = threading.Lock()
_documents: dict[str, tuple[float, dict[str, Any]]] = {}
_jwks_refetched_at: dict[str, float] = {}
_msal_apps: dict[EntraConfig, msal.ConfidentialClientApplication] = {}


def clear_caches() -> None:
    """Forget cached metadata and keys (tests; or after changing the identity settings)."""
    with _cache_lock:
        _documents.clear()
        _jwks_refetched_at.clear()
        _msal_apps.clear()


def _fetch_json(config: EntraConfig, url: str, *, ttl: float, refresh: bool = False) -> dict:
    now = time.monotonic()
    with _cache_lock:
        cached = _documents.get(url)
    if cached and not refresh and now - cached[0] < ttl:
        return cached[1]
    try:
        response = http_session(config).get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise IdentityProviderUnavailable(f"GET {url.split('?')[0]} failed") from exc
    if not isinstance(document, dict):
        raise IdentityProviderUnavailable(f"GET {url.split('?')[0]} did not return an object")
    with _cache_lock:
        _documents[url] = (now, document)
    return document


def oidc_metadata(config: EntraConfig) -> dict[str, Any]:
    metadata = _fetch_json(config, config.metadata_url, ttl=METADATA_TTL_SECONDS)
    for field in ("issuer", "jwks_uri", "authorization_endpoint", "token_endpoint"):
        if not metadata.get(field):
            raise IdentityProviderUnavailable(f"OpenID metadata lacks {field}")
    return metadata


def expected_issuer(config: EntraConfig) -> str:
    # The multi-tenant endpoints publish a template; this portal trusts one tenant only.
    return str(oidc_metadata(config)["issuer"]).replace("{tenantid}", config.tenant_id)


def _key_in(document: dict[str, Any], kid: str) -> Any | None:
    for jwk in document.get("keys", []):
        if (
            isinstance(jwk, dict)
            and jwk.get("kid") == kid
            and jwk.get("kty") == "RSA"
            and jwk.get("use", "sig") == "sig"
        ):
            try:
                return jwt.PyJWK(jwk, algorithm="RS256").key
            except jwt.PyJWTError as exc:
                raise TokenInvalid("bad_key") from exc
    return None


def _may_refetch_keys(jwks_uri: str) -> bool:
    now = time.monotonic()
    with _cache_lock:
        if now - _jwks_refetched_at.get(jwks_uri, float("-inf")) < JWKS_REFETCH_MIN_SECONDS:
            return False
        _jwks_refetched_at[jwks_uri] = now
        return True


def _signing_key(config: EntraConfig, kid: str) -> Any:
    jwks_uri = str(oidc_metadata(config)["jwks_uri"])
    key = _key_in(_fetch_json(config, jwks_uri, ttl=JWKS_TTL_SECONDS), kid)
    if key is None and _may_refetch_keys(jwks_uri):
        key = _key_in(_fetch_json(config, jwks_uri, ttl=JWKS_TTL_SECONDS, refresh=True), kid)
    if key is None:
        raise TokenInvalid("unknown_key")
    return key


# --- Token verification -----------------------------------------------------------------------

_JWT_ERRORS: list[tuple[type[Exception], str]] = [
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidAudienceError, "audience"),
    (jwt.InvalidIssuerError, "issuer"),
    (jwt.InvalidSignatureError, "signature"),
    (jwt.MissingRequiredClaimError, "missing_claim"),
    (jwt.InvalidIssuedAtError, "issued_at"),
    (jwt.InvalidAlgorithmError, "algorithm"),
]


def _verify_jwt(
    token: str, *, config: EntraConfig, audience: str, required: list[str]
) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenInvalid("malformed") from exc
    if header.get("alg") != "RS256":
        raise TokenInvalid("algorithm")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenInvalid("unknown_key")
    key = _signing_key(config, kid)
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            audience=audience,
            issuer=expected_issuer(config),
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": required, "strict_aud": True},
        )
    except jwt.PyJWTError as exc:
        for error_type, reason in _JWT_ERRORS:
            if isinstance(exc, error_type):
                raise TokenInvalid(reason) from exc
        raise TokenInvalid("malformed") from exc
    # A token dated in the future was not issued by a provider with a sane clock.
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or iat > time.time() + CLOCK_LEEWAY_SECONDS:
        raise TokenInvalid("issued_at", claims)
    for name in ("tid", "oid"):
        value = claims.get(name)
        if not isinstance(value, str) or not 0 < len(value) <= 64:
            raise TokenInvalid("missing_claim", claims)
    if claims["tid"] != config.tenant_id:
        raise TokenInvalid("tenant", claims)
    return claims


def verify_id_token(id_token: str, *, expected_nonce: str, config: EntraConfig) -> dict[str, Any]:
    """Claims of a valid ID token for this app, this tenant and this sign-in (by its nonce)."""
    claims = _verify_jwt(
        id_token,
        config=config,
        audience=config.client_id,
        required=["iss", "aud", "exp", "iat", "nbf", "sub", "oid", "tid", "nonce"],
    )
    if not expected_nonce or not hmac.compare_digest(str(claims["nonce"]), expected_nonce):
        raise TokenInvalid("nonce", claims)
    return claims


def verify_access_token(token: str, *, config: EntraConfig) -> dict[str, Any]:
    """Claims of a valid Entra ID (v2) access token issued for this portal's API.

    ``azp`` is required: access tokens carry it and ID tokens do not, so an ID token is never
    accepted as an access token, even when the API and the sign-in share an app registration.
    """
    return _verify_jwt(
        token,
        config=config,
        audience=config.api_audience,
        required=["iss", "aud", "exp", "iat", "nbf", "sub", "oid", "tid", "azp"],
    )


def user_key(claims: dict[str, Any]) -> str:
    return f"{claims.get('tid', '')}/{claims.get('oid', '')}" if claims.get("oid") else ""


# --- Browser sign-in ---------------------------------------------------------------------------


class _DiscardingTokenCache(msal.TokenCache):
    """The portal keeps no tokens: msal hands them to its cache, which forgets them at once."""

    def add(self, event: dict[str, Any], now: Any = None) -> None:
        return None


def _msal_app(config: EntraConfig) -> msal.ConfidentialClientApplication:
    """One msal application per configuration, so its discovery cache outlives a request."""
    with _cache_lock:
        app = _msal_apps.get(config)
    if app is not None:
        return app
    try:
        app = msal.ConfidentialClientApplication(
            config.client_id,
            client_credential=config.client_secret,
            authority=config.authority,
            http_client=http_session(config),
            token_cache=_DiscardingTokenCache(),
            # A non-Microsoft authority (the test provider) must not be checked with Microsoft.
            instance_discovery=False,
            # No refresh token: the portal only signs people in and keeps no tokens.
            exclude_scopes=["offline_access"],
        )
    except (requests.RequestException, ValueError, RuntimeError) as exc:
        raise IdentityProviderUnavailable("msal could not load the authority") from exc
    with _cache_lock:
        return _msal_apps.setdefault(config, app)


def _redirect_uri(request: HttpRequest, config: EntraConfig) -> str:
    return config.redirect_uri or request.build_absolute_uri(reverse("accounts:callback"))


def sign_in_begin(request: HttpRequest, *, next_url: str) -> str:
    """Start a sign-in: remember its flow in the session and return Entra ID's authorize URL."""
    config = entra_config()
    if not config.sso_configured:
        raise SignInRefused("not_configured", SSO_NOT_CONFIGURED, 400)
    try:
        flow = _msal_app(config).initiate_auth_code_flow(
            scopes=[], redirect_uri=_redirect_uri(request, config), response_mode="query"
        )
    except IdentityProviderUnavailable as exc:
        security_event("sign_in.start", request=request, outcome="error", reason="idp_unavailable")
        raise SignInRefused("idp_unavailable", IDP_UNAVAILABLE, 503) from exc
    now = int(time.time())
    pending = {
        state: entry
        for state, entry in (request.session.get(FLOWS_SESSION_KEY) or {}).items()
        if now - int(entry.get("created", 0)) < PENDING_SIGN_IN_SECONDS
    }
    pending[flow["state"]] = {"flow": flow, "next": next_url, "created": now}
    newest = sorted(pending.items(), key=lambda item: item[1]["created"])[-MAX_PENDING_SIGN_INS:]
    request.session[FLOWS_SESSION_KEY] = dict(newest)
    return str(flow["auth_uri"])


def _take_pending(request: HttpRequest, state: str) -> dict[str, Any] | None:
    """Remove and return the pending sign-in for ``state``: whatever happens next, it is spent."""
    pending = dict(request.session.get(FLOWS_SESSION_KEY) or {})
    entry = pending.pop(state, None) if state else None
    request.session[FLOWS_SESSION_KEY] = pending
    if entry is None or time.time() - int(entry.get("created", 0)) >= PENDING_SIGN_IN_SECONDS:
        return None
    return entry


def _error_code(value: object) -> str:
    """An OAuth error code for the log; anything else (it may come from the URL) is not logged."""
    text = str(value)
    return text if re.fullmatch(r"[a-z_]{1,40}", text) else "unrecognised"


def _refuse(
    request: HttpRequest, reason: str, message: str, status: int, claims: dict[str, Any] | None
) -> SignInRefused:
    security_event(
        "sign_in",
        request=request,
        outcome="refused",
        reason=reason,
        user_key=user_key(claims or {}),
    )
    return SignInRefused(reason, message, status)


def sign_in_complete(request: HttpRequest) -> str:
    """Finish a sign-in from Entra ID's redirect; sign the person in and return where to go.

    Raises :class:`SignInRefused` (and signs nobody in) for any problem.
    """
    config = entra_config()
    if not config.sso_configured:
        raise _refuse(request, "not_configured", SSO_NOT_CONFIGURED, 400, None)
    auth_response = request.GET.dict()
    entry = _take_pending(request, auth_response.get("state", ""))
    if entry is None:
        raise _refuse(request, "no_pending_sign_in", SIGN_IN_EXPIRED, 400, None)
    flow: dict[str, Any] = entry["flow"]
    if "error" in auth_response:
        reason = "idp_error:" + _error_code(auth_response["error"])
        raise _refuse(request, reason, SIGN_IN_CANCELLED, 403, None)
    try:
        result = _msal_app(config).acquire_token_by_auth_code_flow(flow, auth_response)
    except IdentityProviderUnavailable as exc:
        raise _refuse(request, "idp_unavailable", IDP_UNAVAILABLE, 503, None) from exc
    except requests.RequestException as exc:
        raise _refuse(request, "idp_unavailable", IDP_UNAVAILABLE, 503, None) from exc
    except ValueError as exc:  # msal: state mismatch or a response with neither code nor error
        raise _refuse(request, "bad_response", SIGN_IN_EXPIRED, 400, None) from exc
    except RuntimeError as exc:  # msal: the ID token's nonce is not this flow's
        raise _refuse(request, "nonce", SIGN_IN_NOT_VERIFIED, 403, None) from exc
    if "error" in result or not result.get("id_token"):
        reason = "token_endpoint:" + _error_code(result.get("error", "no_id_token"))
        raise _refuse(request, reason, SIGN_IN_NOT_VERIFIED, 403, None)
    expected_nonce = parse_qs(urlsplit(flow.get("auth_uri", "")).query).get("nonce", [""])[0]
    try:
        claims = verify_id_token(result["id_token"], expected_nonce=expected_nonce, config=config)
    except TokenInvalid as exc:
        message = SIGN_IN_WRONG_TENANT if exc.reason == "tenant" else SIGN_IN_NOT_VERIFIED
        raise _refuse(request, exc.reason, message, 403, exc.claims) from exc
    except IdentityProviderUnavailable as exc:
        raise _refuse(request, "idp_unavailable", IDP_UNAVAILABLE, 503, None) from exc
    user = user_sign_in_from_claims(claims=claims)
    if not user.is_active:
        raise _refuse(request, "account_disabled", SIGN_IN_ACCOUNT_DISABLED, 403, claims)
    _log_in(request, user)
    security_event("sign_in", request=request, outcome="ok", user_key=user_key(claims))
    return str(entry.get("next") or resolve_url(settings.LOGIN_REDIRECT_URL))


def _log_in(request: HttpRequest, user: User) -> None:
    # login() cycles the session key (no session fixation) and keeps the session's data.
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.pop(FLOWS_SESSION_KEY, None)
    request.session[AUTH_METHOD_SESSION_KEY] = AUTH_METHOD_ENTRA


def sign_out(request: HttpRequest) -> str:
    """Sign out here; return Entra ID's end-session URL after an Entra ID sign-in, else home."""
    signed_in_with_entra = request.session.get(AUTH_METHOD_SESSION_KEY) == AUTH_METHOD_ENTRA
    was_signed_in = request.user.is_authenticated
    if was_signed_in:
        security_event("sign_out", request=request, outcome="ok")
    logout(request)
    home = resolve_url(settings.LOGOUT_REDIRECT_URL)
    config = entra_config()
    if not (signed_in_with_entra and config.sso_configured):
        return home
    try:
        end_session = oidc_metadata(config).get("end_session_endpoint")
    except IdentityProviderUnavailable:
        return home
    if not end_session:
        return home
    post_logout = settings.ENTRA_POST_LOGOUT_REDIRECT_URI or request.build_absolute_uri(home)
    query = urlencode({"post_logout_redirect_uri": post_logout, "client_id": config.client_id})
    return f"{end_session}{'&' if '?' in end_session else '?'}{query}"
