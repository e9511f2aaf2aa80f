"""A local OpenID Connect provider shaped like Entra ID, for the test suite.

It serves HTTPS on 127.0.0.1 from a background thread, with a CA and server certificate made
on the spot, so the portal's real msal and PyJWT code paths run against it unchanged:

- ``/{tenant}/v2.0/.well-known/openid-configuration``: the OpenID metadata;
- ``/{tenant}/oauth2/v2.0/authorize``: issues a one-time code bound to the client, redirect
  URI, PKCE challenge (S256 only) and nonce, and redirects back with ``code`` and ``state``;
- ``/{tenant}/oauth2/v2.0/token``: checks the client secret, the code, the redirect URI and
  the PKCE verifier, and returns an RS256 ID token with the configured claims;
- ``/{tenant}/discovery/v2.0/keys``: the JWKS; ``/{tenant}/oauth2/v2.0/logout``: end session.

Tests shape the next ID token through :attr:`FakeIdentityProvider.user` (the person) and
:attr:`FakeIdentityProvider.id_token_overrides` (any claim; :data:`REMOVE` drops one), sign it
with another key through :attr:`FakeIdentityProvider.id_token_signer`, and mint access tokens
for the API with :meth:`FakeIdentityProvider.access_token`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REMOVE = object()


@dataclass
class Signer:
    key: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def generate(cls, kid: str) -> Signer:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid)

    def public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, claims: dict[str, Any], *, headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(
            claims, self.key, algorithm="RS256", headers={"kid": self.kid, **(headers or {})}
        )


@dataclass
class IssuedCode:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str
    scope: str


@dataclass
class TokenRequestRecord:
    grant_type: str
    client_authenticated: bool
    outcome: str


def _write_tls_material(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Synergy test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    ca_path = folder / "ca.pem"
    cert_path = folder / "server.pem"
    key_path = folder / "server-key.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@dataclass
class FakeIdentityProvider:
    tenant_id: str
    client_id: str
    client_secret: str
    redirect_uris: set[str]
    folder: Path
    signer: Signer = field(default_factory=lambda: Signer.generate("fake-idp-key-1"))
    # Per-test knobs (see reset()).
    user: dict[str, Any] = field(default_factory=dict)
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    id_token_signer: Signer | None = None
    authorize_error: str = ""
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    token_requests: list[TokenRequestRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ca_path, cert_path, key_path = _write_tls_material(self.folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_path, key_path)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()
        self.reset()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeIdentityProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        self.user = {
            "oid": "9f1c2a52-0000-4000-8000-000000000001",
            "name": "Priya Constable",
            "preferred_username": "priya.constable@force.police.example",
            "roles": [],
        }
        self.id_token_overrides = {}
        self.id_token_signer = None
        self.authorize_error = ""
        self.codes = {}
        self.token_requests = []

    # --- addresses ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def authority(self) -> str:
        return f"{self.base_url}/{self.tenant_id}"

    @property
    def issuer(self) -> str:
        return f"{self.authority}/v2.0"

    @property
    def end_session_endpoint(self) -> str:
        return f"{self.authority}/oauth2/v2.0/logout"

    def openid_configuration(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.authority}/oauth2/v2.0/authorize",
            "token_endpoint": f"{self.authority}/oauth2/v2.0/token",
            "jwks_uri": f"{self.authority}/discovery/v2.0/keys",
            "end_session_endpoint": self.end_session_endpoint,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.signer.public_jwk()]}

    # --- tokens ------------------------------------------------------------------------------

    def id_token_claims(self, issued: IssuedCode) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "ver": "2.0",
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "tid": self.tenant_id,
            "sub": "sub-" + hashlib.sha256(str(self.user.get("oid")).encode()).hexdigest()[:20],
            "nonce": issued.nonce,
            **self.user,
        }
        for name, value in self.id_token_overrides.items():
            if value is REMOVE:
                claims.pop(name, None)
            else:
                claims[name] = value
        if not claims.get("roles"):
            claims.pop("roles", None)  # Entra ID leaves the claim out when there are none
        return claims

    def access_token(
        self,
        *,
        audience: str,
        signer: Signer | None = None,
        remove: tuple[str, ...] = (),
        **overrides: Any,
    ) -> str:
        """An app-only v2 access token (a machine identity) unless overrides say otherwise."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "ver": "2.0",
            "iss": self.issuer,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "tid": self.tenant_id,
            "oid": "5b0e4a7e-0000-4000-8000-0000000000dd",
            "sub": "5b0e4a7e-0000-4000-8000-0000000000dd",
            "azp": "0c7a1d3e-0000-4000-8000-00000000dd11",
            "azpacr": "1",
            "idtyp": "app",
            "roles": ["Synergy.DDI"],
            **overrides,
        }
        for name in remove:
            claims.pop(name, None)
        return (signer or self.signer).sign(claims, headers={"typ": "JWT"})

    # --- endpoints ---------------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or redirect_uri not in self.redirect_uris:
            return 400, {}, b"unknown client or redirect_uri"
        state = query.get("state", "")
        if self.authorize_error:
            params = {"error": self.authorize_error, "state": state}
            return 302, {"Location": f"{redirect_uri}?{urlencode(params)}"}, b""
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return 400, {}, b"only response_type=code with PKCE S256"
        if not query.get("code_challenge") or "openid" not in query.get("scope", "").split():
            return 400, {}, b"code_challenge and the openid scope are required"
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = IssuedCode(
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                code_challenge=query["code_challenge"],
                nonce=query.get("nonce", ""),
                scope=query.get("scope", ""),
            )
        params = {"code": code, "state": state}
        return 302, {"Location": f"{redirect_uri}?{urlencode(params)}"}, b""

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            basic_id, _, basic_secret = decoded.partition(":")
            client_id, secret = unquote_plus(basic_id), unquote_plus(basic_secret)
        authenticated = client_id == self.client_id and secrets.compare_digest(
            secret, self.client_secret
        )

        def refuse(status: int, error: str, description: str) -> tuple[int, dict[str, Any]]:
            self.token_requests.append(
                TokenRequestRecord(form.get("grant_type", ""), authenticated, error)
            )
            return status, {"error": error, "error_description": description}

        if not authenticated:
            return refuse(401, "invalid_client", "client authentication failed")
        if form.get("grant_type") != "authorization_code":
            return refuse(400, "unsupported_grant_type", "authorization_code only")
        with self._lock:
            issued = self.codes.pop(form.get("code", ""), None)  # one use only
        if issued is None:
            return refuse(400, "invalid_grant", "unknown or used code")
        if form.get("redirect_uri") != issued.redirect_uri:
            return refuse(400, "invalid_grant", "redirect_uri differs from the authorize request")
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest())
            .rstrip(b"=")
            .decode("ascii")
        )
        if not verifier or not secrets.compare_digest(challenge, issued.code_challenge):
            return refuse(400, "invalid_grant", "PKCE verification failed")
        signer = self.id_token_signer or self.signer
        self.token_requests.append(TokenRequestRecord("authorization_code", True, "ok"))
        return 200, {
            "token_type": "Bearer",
            "scope": issued.scope,
            "expires_in": 3600,
            "ext_expires_in": 3600,
            "access_token": secrets.token_urlsafe(32),
            "id_token": signer.sign(self.id_token_claims(issued), headers={"typ": "JWT"}),
        }


def _handler_for(idp: FakeIdentityProvider) -> type[BaseHTTPRequestHandler]:
    prefix = f"/{idp.tenant_id}"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, document: dict[str, Any]) -> None:
            self._send(status, json.dumps(document).encode(), {"Content-Type": "application/json"})

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            query = {name: values[0] for name, values in parse_qs(parts.query).items()}
            route = parts.path.removeprefix(prefix) if parts.path.startswith(prefix) else None
            if route == "/v2.0/.well-known/openid-configuration":
                self._json(200, idp.openid_configuration())
            elif route == "/discovery/v2.0/keys":
                self._json(200, idp.jwks())
            elif route == "/oauth2/v2.0/authorize":
                status, headers, body = idp.authorize(query)
                self._send(status, body, headers)
            elif route == "/oauth2/v2.0/logout":
                target = query.get("post_logout_redirect_uri", "")
                if target:
                    self._send(302, b"", {"Location": target})
                else:
                    self._send(200, b"signed out", {"Content-Type": "text/plain"})
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            if urlsplit(self.path).path != f"{prefix}/oauth2/v2.0/token":
                self._json(404, {"error": "not_found"})
                return
            form = {name: values[0] for name, values in parse_qs(body).items()}
            status, document = idp.token(form, self.headers.get("Authorization", ""))
            self._json(status, document)

    return Handler
