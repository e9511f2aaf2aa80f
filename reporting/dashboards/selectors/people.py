"""Names for the pseudonymous person keys of ``ddi`` (owners and assessors), inside the portal.

The DDI schema holds keyed HMACs, never names. The portal knows its own people, so the
dashboards name the CI team members and administrators (who own and assess opportunities)
by computing their keys, and nobody else: anyone else stays anonymous here too.
"""

from __future__ import annotations

from collections.abc import Iterable

from reporting.services.pseudonyms import person_key, pseudonym_key
from synergy_portal.models import Role, User

NAMED_ROLES = (Role.CI_TEAM.value, Role.ADMIN.value)


def person_names(keys: Iterable[str]) -> dict[str, str]:
    """{person key: display name} for the keys that belong to the CI team or admins (one
    query, only when there is a key to name)."""
    wanted = set(keys)
    if not wanted:
        return {}
    secret = pseudonym_key()
    people = (
        User.objects.filter(groups__name__in=NAMED_ROLES)
        .distinct()
        .values_list("pk", "tid", "oid", "display_name", "username")
    )
    names = {}
    for pk, tid, oid, display_name, username in people:
        key = person_key(user_id=pk, tid=tid or "", oid=oid or "", key=secret)
        if key in wanted:
            names[key] = display_name or username
    return names
