"""The demo users, one per role, offered by the developer sign-in."""

from __future__ import annotations

from dataclasses import dataclass

from synergy_portal.models import Role


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: Role
    description: str


DEMO_USERS: list[DemoUser] = [
    DemoUser("staff", "Sam Staff", Role.STAFF, "An officer: submits and supports opportunities"),
    DemoUser("ci", "Casey Improvement", Role.CI_TEAM, "CI team: triages, scores, runs the board"),
    DemoUser("owner", "Jordan Owner", Role.JOURNEY_OWNER, "Journey owner: curates journey maps"),
    DemoUser("manager", "Morgan Manager", Role.MANAGER, "Senior leader: reads MI dashboards"),
    DemoUser("admin", "Alex Admin", Role.ADMIN, "Portal administrator"),
]
