"""Writes for identity: role groups and the demo users."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from journeys.models import Department
from journeys.models import Role as JobRole
from synergy_portal.demo_users import DEMO_USERS
from synergy_portal.models import Role, User


def role_groups_ensure() -> dict[Role, Group]:
    """One Django group per portal role (idempotent)."""
    return {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}


@transaction.atomic
def user_set_roles(*, user: User, roles: set[Role]) -> None:
    """Make the user's role groups exactly ``roles`` (Staff is implied and needs no group)."""
    groups = role_groups_ensure()
    user.groups.set([groups[role] for role in roles if role is not Role.STAFF])
    if hasattr(user, "_synergy_roles"):
        delattr(user, "_synergy_roles")


@transaction.atomic
def demo_users_ensure() -> list[User]:
    """Create or refresh the five demo users (one per role). Idempotent."""
    users = []
    for demo in DEMO_USERS:
        user, _ = User.objects.update_or_create(
            username=demo.username,
            defaults={
                "display_name": demo.display_name,
                "email": f"{demo.username}@demo.synergy.invalid",
                "is_demo": True,
                "is_staff": demo.role is Role.ADMIN,
                "is_superuser": demo.role is Role.ADMIN,
            },
        )
        if user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user_set_roles(user=user, roles={demo.role})
        users.append(user)
    return users


ENTRA_USERNAME_PREFIX = "entra:"


def roles_from_app_roles(app_roles: object) -> set[Role]:
    """Portal roles for Entra ID app role values (``settings.ENTRA_ROLE_MAP``); unknown ignored."""
    from django.conf import settings

    if isinstance(app_roles, str):
        app_roles = [app_roles]
    if not isinstance(app_roles, list | tuple):
        return set()
    mapping: dict[str, str] = settings.ENTRA_ROLE_MAP
    return {
        Role(mapping[value])
        for value in app_roles
        if isinstance(value, str) and mapping.get(value) in Role.values
    }


def _claim_text(claims: Mapping[str, Any], *names: str, max_length: int) -> str | None:
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:max_length]
    return None


def _claim_email(claims: Mapping[str, Any]) -> str | None:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    # `email` is the mailbox; `preferred_username` (the UPN) is usually the same address.
    for name in ("email", "preferred_username"):
        value = claims.get(name)
        if isinstance(value, str) and len(value) <= 254:
            try:
                validate_email(value)
            except ValidationError:
                continue
            return value.lower()
    return None


def _directory_placement(
    claims: Mapping[str, Any], user: User
) -> dict[str, Department | JobRole | None]:
    """Department and job role named in the claims, when they match reference data by name."""
    changes: dict[str, Department | JobRole | None] = {}
    department_name = _claim_text(claims, "department", max_length=120)
    if department_name:
        department = Department.objects.filter(name__iexact=department_name).first()
        if department is not None:
            changes["department"] = department
    job_title = _claim_text(claims, "jobTitle", "job_title", max_length=120)
    if job_title:
        department = changes.get("department") or user.department
        candidates = JobRole.objects.filter(name__iexact=job_title)
        if department is not None:
            candidates = candidates.filter(department=department)
        matches = list(candidates[:2])
        if len(matches) == 1:
            changes["job_role"] = matches[0]
    return changes


@transaction.atomic
def user_sign_in_from_claims(*, claims: Mapping[str, Any]) -> User:
    """Find or create the person (or machine identity) for verified Entra ID token claims.

    Keyed by ``tid`` + ``oid`` only, never the e-mail. At every sign-in the name, e-mail,
    department and job role follow the directory, and the role groups become exactly the
    roles the ``roles`` claim maps to (none: Staff), so a role removed in Entra ID is removed
    here too. The Admin role also grants the admin site.
    """
    tid, oid = str(claims["tid"]), str(claims["oid"])
    roles = roles_from_app_roles(claims.get("roles"))
    is_admin = Role.ADMIN in roles
    fields: dict[str, Any] = {"is_staff": is_admin, "is_superuser": is_admin}
    display_name = _claim_text(claims, "name", "app_displayname", max_length=200)
    if display_name is not None:
        fields["display_name"] = display_name
    email = _claim_email(claims)
    if email is not None:
        fields["email"] = email

    user = User.objects.select_for_update().filter(tid=tid, oid=oid).first()
    if user is None:
        user = User(username=f"{ENTRA_USERNAME_PREFIX}{oid}", tid=tid, oid=oid, **fields)
        if not user.display_name:
            user.display_name = _claim_text(claims, "azp", max_length=200) or user.username
        user.set_unusable_password()
        for name, value in _directory_placement(claims, user).items():
            setattr(user, name, value)
        # Uniqueness is left to the database: two first sign-ins may race.
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            user = User.objects.select_for_update().get(tid=tid, oid=oid)
        else:
            user_set_roles(user=user, roles=roles)
            return user

    fields.update(_directory_placement(claims, user))
    changed = [name for name, value in fields.items() if getattr(user, name) != value]
    if changed:
        for name in changed:
            setattr(user, name, fields[name])
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
        user.save(update_fields=changed)
    user_set_roles(user=user, roles=roles)
    return user
