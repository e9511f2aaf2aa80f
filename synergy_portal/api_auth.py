"""API authentication with Entra ID access tokens, and role checks for API views.

A caller sends ``Authorization: Bearer <access token>`` issued by the force's tenant for this
portal's API (``ENTRA_API_AUDIENCE``). The token's ``roles`` map to portal roles exactly as at
browser sign-in; a machine identity (an app-only token, e.g. DDI's ingestion) becomes a user
of its own, keyed by the service principal's ``tid`` + ``oid``.
"""

from __future__ import annotations

from typing import Any, NoReturn

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from synergy_portal import entra
from synergy_portal.models import User
from synergy_portal.permissions import Action, can
from synergy_portal.security_log import security_event
from synergy_portal.services import roles_from_app_roles, user_sign_in_from_claims

BEARER_NOT_ACCEPTED = "Bearer tokens are not accepted by this server."
BEARER_MALFORMED = "The Authorization header must be 'Bearer <token>'."
TOKEN_EXPIRED = "The access token has expired."
TOKEN_INVALID = "The access token is not valid for this API."
APP_WITHOUT_ROLE = "This application has been given no role in the portal."
ACCOUNT_DISABLED = "This account is disabled."
ROLE_MISSING = "Your roles do not allow this."


class IdentityProviderUnavailableError(exceptions.APIException):
    status_code = 503
    default_detail = entra.IDP_UNAVAILABLE
    default_code = "identity_provider_unavailable"


class EntraBearerAuthentication(BaseAuthentication):
    """DRF authentication for Entra ID (v2) access tokens; other schemes are left to others."""

    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[User, dict[str, Any]] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.encode():
            return None
        if len(parts) != 2:
            self._fail(request, "malformed_header", BEARER_MALFORMED)
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            self._fail(request, "malformed_header", BEARER_MALFORMED)
        config = entra.entra_config()
        if not config.api_configured:
            self._fail(request, "not_configured", BEARER_NOT_ACCEPTED)
        try:
            claims = entra.verify_access_token(token, config=config)
        except entra.TokenInvalid as exc:
            message = TOKEN_EXPIRED if exc.reason == "expired" else TOKEN_INVALID
            self._fail(request, exc.reason, message, claims=exc.claims)
        except entra.IdentityProviderUnavailable as exc:
            security_event(
                "api.token", request=request._request, outcome="error", reason="idp_unavailable"
            )
            raise IdentityProviderUnavailableError from exc
        # Delegated tokens carry the scopes the person consented to; app-only tokens have none
        # and act on their app roles alone, so an app without a portal role gets nothing.
        if "scp" not in claims and not roles_from_app_roles(claims.get("roles")):
            security_event(
                "api.token",
                request=request._request,
                outcome="refused",
                reason="app_without_role",
                user_key=entra.user_key(claims),
            )
            raise exceptions.PermissionDenied(APP_WITHOUT_ROLE)
        user = user_sign_in_from_claims(claims=claims)
        if not user.is_active:
            self._fail(request, "account_disabled", ACCOUNT_DISABLED, claims=claims)
        return user, claims

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="synergy-portal"'

    @staticmethod
    def _fail(
        request: Request, reason: str, message: str, *, claims: dict[str, Any] | None = None
    ) -> NoReturn:
        security_event(
            "api.token",
            request=request._request,
            outcome="refused",
            reason=reason,
            user_key=entra.user_key(claims or {}),
        )
        raise exceptions.AuthenticationFailed(message)


class EntraBearerScheme(OpenApiAuthenticationExtension):
    """Describes the bearer scheme in the OpenAPI schema."""

    target_class = EntraBearerAuthentication
    name = "entraIdBearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An Entra ID (v2) access token issued for ENTRA_API_AUDIENCE.",
        }


def requires(action: Action) -> type[BasePermission]:
    """A DRF permission class: the caller's roles must allow ``action`` (see permissions.can)."""

    class RoleAllows(BasePermission):
        message = ROLE_MISSING

        def has_permission(self, request: Request, view: Any) -> bool:
            return bool(request.user and request.user.is_authenticated) and can(
                request.user, action
            )

    RoleAllows.__name__ = f"Requires{''.join(p.title() for p in action.value.split('_'))}"
    return RoleAllows
