"""Writes for identity: role groups and the demo users."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

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
