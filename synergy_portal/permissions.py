"""The one place that answers "may this user do this action (on this object)".

Roles are Django groups named after :class:`synergy_portal.models.Role`, mapped from Entra ID
app roles at every sign-in. Views, htmx partials and API endpoints all ask :func:`can`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from synergy_portal.models import Role

ROLE_CACHE_ATTR = "_synergy_roles"


class Action(StrEnum):
    VIEW = "view"
    SUBMIT = "submit"
    EDIT_DRAFT = "edit_draft"
    WITHDRAW = "withdraw"
    SUPPORT = "support"
    COMMENT = "comment"
    FOLLOW = "follow"
    MODERATE_COMMENT = "moderate_comment"
    TRIAGE = "triage"
    SCORE = "score"
    MOVE_CARD = "move_card"
    MERGE = "merge"
    PLAN_CYCLE = "plan_cycle"
    RECORD_BENEFIT = "record_benefit"
    VIEW_BOARD = "view_board"
    EDIT_JOURNEY = "edit_journey"
    VIEW_DASHBOARDS = "view_dashboards"
    DOWNLOAD_CSV = "download_csv"
    READ_EXTRACTS = "read_extracts"
    RUN_EXTRACT = "run_extract"
    ADMIN = "admin"


def roles_of(user: Any) -> frozenset[Role]:
    """The user's portal roles (cached on the user object for the request)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, ROLE_CACHE_ATTR, None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(role for role in Role if role.value in names)
        if Role.DDI_SERVICE not in cached:
            cached = cached | {Role.STAFF}
        setattr(user, ROLE_CACHE_ATTR, cached)
    return cached


_PEOPLE = {Role.STAFF, Role.CI_TEAM, Role.JOURNEY_OWNER, Role.MANAGER, Role.ADMIN}

# Actions that depend only on the role (no object needed).
_ROLE_ACTIONS: dict[Action, set[Role]] = {
    Action.SUBMIT: _PEOPLE,
    Action.SUPPORT: _PEOPLE,
    Action.COMMENT: _PEOPLE,
    Action.FOLLOW: _PEOPLE,
    Action.MODERATE_COMMENT: {Role.CI_TEAM, Role.ADMIN},
    Action.TRIAGE: {Role.CI_TEAM, Role.ADMIN},
    Action.SCORE: {Role.CI_TEAM, Role.ADMIN},
    Action.MOVE_CARD: {Role.CI_TEAM, Role.ADMIN},
    Action.MERGE: {Role.CI_TEAM, Role.ADMIN},
    Action.PLAN_CYCLE: {Role.CI_TEAM, Role.ADMIN},
    Action.RECORD_BENEFIT: {Role.CI_TEAM, Role.ADMIN},
    Action.VIEW_BOARD: {Role.CI_TEAM, Role.ADMIN, Role.JOURNEY_OWNER, Role.MANAGER},
    Action.EDIT_JOURNEY: {Role.CI_TEAM, Role.ADMIN, Role.JOURNEY_OWNER},
    Action.VIEW_DASHBOARDS: {Role.MANAGER, Role.CI_TEAM, Role.ADMIN},
    Action.DOWNLOAD_CSV: {Role.MANAGER, Role.CI_TEAM, Role.ADMIN},
    Action.READ_EXTRACTS: {Role.DDI_SERVICE},
    Action.RUN_EXTRACT: {Role.ADMIN},
    Action.ADMIN: {Role.ADMIN},
}

_SEES_RESTRICTED = {Role.CI_TEAM, Role.ADMIN}


def can_see_restricted(user: Any) -> bool:
    return bool(roles_of(user) & _SEES_RESTRICTED)


def _may_view_opportunity(user: Any, roles: frozenset[Role], opp: Any) -> bool:
    if not roles & _PEOPLE:
        return False
    if opp.submitter_id == user.pk:
        return True
    if opp.status == "draft":
        return False
    return not opp.is_restricted or bool(roles & _SEES_RESTRICTED)


def can(user: Any, action: Action | str, obj: Any = None) -> bool:
    """May ``user`` do ``action`` (on ``obj``, an opportunity or a journey where it matters)?"""
    action = Action(action)
    roles = roles_of(user)
    if not roles:
        return False
    if action is Action.VIEW:
        return (
            obj is None
            and bool(roles & _PEOPLE)
            or (obj is not None and _may_view_opportunity(user, roles, obj))
        )
    if action is Action.EDIT_DRAFT:
        return (
            bool(roles & _PEOPLE)
            and obj is not None
            and obj.status == "draft"
            and obj.submitter_id == user.pk
        )
    if action is Action.WITHDRAW:
        return (
            bool(roles & _PEOPLE)
            and obj is not None
            and obj.submitter_id == user.pk
            and obj.status in {"draft", "submitted", "triage", "assessing", "backlog"}
        )
    if action is Action.EDIT_JOURNEY and obj is not None and Role.JOURNEY_OWNER in roles:
        if roles & {Role.CI_TEAM, Role.ADMIN}:
            return True
        return getattr(obj, "owner_id", None) == user.pk
    allowed = bool(roles & _ROLE_ACTIONS[action])
    if allowed and obj is not None and action in {Action.SUPPORT, Action.COMMENT, Action.FOLLOW}:
        return _may_view_opportunity(user, roles, obj)
    return allowed


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    active: bool


_NAV: list[tuple[str, str, Action]] = [
    ("Home", "home", Action.VIEW),
    ("Opportunities", "opportunities:browse", Action.VIEW),
    ("Submit", "opportunities:new", Action.SUBMIT),
    ("My opportunities", "opportunities:me", Action.VIEW),
    ("Journeys", "journeys:list", Action.VIEW),
    ("Applications", "journeys:applications", Action.VIEW),
    ("Board", "opportunities:board", Action.VIEW_BOARD),
    ("Cycles", "opportunities:cycles", Action.PLAN_CYCLE),
    ("Scoring models", "opportunities:scoring_models", Action.ADMIN),
    ("Dashboards", "dashboards:index", Action.VIEW_DASHBOARDS),
    ("Extracts", "reporting:extracts", Action.RUN_EXTRACT),
    ("Admin", "admin:index", Action.ADMIN),
]


def navigation_for(user: Any, path: str) -> list[NavItem]:
    """Navigation links the user's roles allow; the longest matching one is the current page."""
    from django.urls import NoReverseMatch, reverse

    links: list[tuple[str, str, str]] = []
    for label, url_name, action in _NAV:
        if not can(user, action):
            continue
        try:
            links.append((label, url_name, reverse(url_name)))
        except NoReverseMatch:
            continue
    matches = [url for _, _, url in links if (path == url if url == "/" else path.startswith(url))]
    current = max(matches, key=len, default=None)
    return [
        NavItem(label=label, url_name=name, active=url == current) for label, name, url in links
    ]
