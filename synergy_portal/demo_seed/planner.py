"""Plans for demo opportunities: opportunity ``i`` of seed ``s`` is a pure function of
(s, i, anchor, reference data), so any slice of indexes can be planned on its own, in any
order, in any process, and gives the same opportunities as one big run.

Pure Python: nothing here touches the database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from opportunities.models import Score, Status
from opportunities.scoring import (
    DEFAULT_PARAMETERS,
    DEFAULT_WEIGHTS,
    RISK_CLASSES,
    ScoreInputs,
    ScoreResult,
    score,
)
from opportunities.services.submission import TRIAGE_WORKING_DAYS
from synergy_portal.demo_seed import vocabulary as V
from synergy_portal.demo_seed.reference import Force, JourneyInfo, StepInfo
from synergy_portal.working_days import add_working_days

S = Status
LONDON = ZoneInfo("Europe/London")
DAY = 86_400.0

# The reason on each demo opportunity's first status-change row ("" -> draft, which the
# submission service also writes): it tells later runs which seed made an opportunity, its
# index, and the anchor date the seed used.
MARKER = "Demo data (seed {seed}, #{index}, as of {anchor})"


def marker_prefix(seed: int | None = None) -> str:
    return "Demo data (seed " if seed is None else f"Demo data (seed {seed}, #"


def marker_index(reason: str) -> int:
    return int(reason.split(", #", 1)[1].split(",", 1)[0])


def marker_anchor(reason: str) -> date:
    return date.fromisoformat(reason.rsplit(", as of ", 1)[1].rstrip(")"))


STATUS_WEIGHTS: dict[str, int] = {
    S.DRAFT: 6,
    S.SUBMITTED: 10,
    S.TRIAGE: 8,
    S.ASSESSING: 10,
    S.BACKLOG: 20,
    S.IN_DELIVERY: 4,
    S.DELIVERED: 12,
    S.BENEFITS_REALISED: 8,
    S.REJECTED: 10,
    S.DUPLICATE: 6,
    S.WITHDRAWN: 6,
}
_STATUSES = list(STATUS_WEIGHTS)
_WEIGHTS = list(STATUS_WEIGHTS.values())
# The first eleven opportunities of every seed take each status once, so even a tiny demo
# shows every column; a duplicate needs an earlier opportunity to point at.
FIRST_STATUSES = (
    S.SUBMITTED,
    S.BACKLOG,
    S.DELIVERED,
    S.TRIAGE,
    S.ASSESSING,
    S.IN_DELIVERY,
    S.BENEFITS_REALISED,
    S.REJECTED,
    S.DUPLICATE,
    S.WITHDRAWN,
    S.DRAFT,
)
# Days between creation and the anchor, by current status.
AGE_DAYS: dict[str, tuple[float, float]] = {
    S.DRAFT: (0.1, 120),
    S.SUBMITTED: (0.2, 14),
    S.TRIAGE: (2, 45),
    S.ASSESSING: (10, 150),
    S.BACKLOG: (20, 480),
    S.IN_DELIVERY: (25, 480),
    S.DELIVERED: (30, 540),
    S.BENEFITS_REALISED: (100, 545),
    S.REJECTED: (5, 545),
    S.DUPLICATE: (1, 545),
    S.WITHDRAWN: (2, 545),
}
# Mean days an opportunity waits before moving into each status.
MEAN_GAP_DAYS: dict[str, float] = {
    S.SUBMITTED: 0.2,
    S.TRIAGE: 2,
    S.ASSESSING: 10,
    S.BACKLOG: 15,
    S.IN_DELIVERY: 60,
    S.DELIVERED: 3,
    S.BENEFITS_REALISED: 60,
    S.REJECTED: 7,
    S.DUPLICATE: 3,
    S.WITHDRAWN: 10,
}
WORKFLOW = (
    S.SUBMITTED,
    S.TRIAGE,
    S.ASSESSING,
    S.BACKLOG,
    S.IN_DELIVERY,
    S.DELIVERED,
    S.BENEFITS_REALISED,
)
# Where closed opportunities were when they closed: (status reached, weight).
CLOSED_FROM: dict[str, tuple[tuple[str, int], ...]] = {
    S.REJECTED: ((S.SUBMITTED, 10), (S.TRIAGE, 45), (S.ASSESSING, 30), (S.BACKLOG, 15)),
    S.DUPLICATE: ((S.SUBMITTED, 35), (S.TRIAGE, 50), (S.ASSESSING, 15)),
    S.WITHDRAWN: ((S.SUBMITTED, 50), (S.TRIAGE, 35), (S.ASSESSING, 15)),
}
OPEN = frozenset({S.SUBMITTED, S.TRIAGE, S.ASSESSING, S.BACKLOG, S.IN_DELIVERY})
# The merge service refuses drafts and closed opportunities as targets.
DUPLICATE_TARGETS = frozenset(WORKFLOW)
RISK_NAMES = list(RISK_CLASSES)
EFFORT_DAYS = (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20)
EFFORT_WEIGHTS = (8, 14, 10, 14, 14, 12, 6, 5, 5, 4, 2, 1)
FREQUENCIES = ("0.5", "1", "1", "2", "3", "5", "5", "10", "15", "25")
MINUTES = ("1", "2", "3", "5", "5", "10", "10", "15", "20", "30", "45")
SHARE_OF_ROLE = (0.02, 0.05, 0.1, 0.1, 0.25, 0.5, 1.0)
# Where each score input came from, as the scoring service records it.
SCORE_SOURCES = {
    "people": "submission: people affected",
    "frequency_per_week": "submission: how often",
    "minutes": "submission: minutes each time",
    "hourly_cost": "headcount-weighted cost of the journey's roles",
    "supporters": "supporters on the portal",
    "themes": "DNA themes ticked",
    "severity": "assessor",
    "risk_class": "assessor",
    "effort_days": "assessor",
    "confidence": "assessor",
}
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
MAX_SCORES = 2  # an individual assessment, then the agreed score
# Statuses whose path can pass through assessment (rejected ones may have reached the backlog).
MAY_HAVE_SCORES = frozenset(
    {S.ASSESSING, S.BACKLOG, S.IN_DELIVERY, S.DELIVERED, S.BENEFITS_REALISED, S.REJECTED}
)


def _rng(seed: int, index: int) -> random.Random:
    return random.Random(seed * 4_294_967_296 + index)


def board_rank(seed: int, index: int) -> str:
    """Distinct and increasing with the index (the column order); sorts before the "n" a
    new card gets, so cards added on the board go after the demo ones."""
    parts = []
    for value, width in ((index, 5), (seed % 1296, 2)):
        digits = ""
        for _ in range(width):
            value, rest = divmod(value, 36)
            digits = BASE36[rest] + digits
        parts.append(digits)
    return "a" + "".join(parts)


@dataclass(frozen=True)
class Head:
    """The first draws of an opportunity: enough to allocate its reference up front."""

    index: int
    status: str
    created_at: datetime
    duplicate_of: int | None

    @property
    def year(self) -> int:
        # The submission service allocates the reference when the draft is created.
        return self.created_at.astimezone(LONDON).year


@dataclass(frozen=True)
class Topic:
    journey: JourneyInfo
    step: StepInfo
    app_id: int
    app2_id: int
    role_id: int
    thing: str
    search_field: str
    station: str
    station2: str
    issue: V.IssueSpec


@dataclass
class ScorePlan:
    kind: str
    inputs: dict[str, Any]
    result: ScoreResult
    scored_by: int
    created_at: datetime
    is_current: bool


@dataclass
class Plan:
    """One opportunity and everything that hangs off it. People are user ids."""

    index: int
    status: str
    title: str
    problem: str
    better: str
    journey_id: int
    step_id: int | None
    department_id: int | None
    application_ids: list[int]
    theme_ids: list[int]
    people_affected: int | None
    frequency: Decimal | None
    minutes: Decimal | None
    sensitive: bool
    show_submitter_name: bool
    submitter: int
    created_at: datetime
    submitted_at: datetime | None
    changes: list[tuple[str, str, int, str, datetime]]  # from, to, actor, reason, at
    hourly_cost: float
    owner: int | None = None
    supporters: list[tuple[int, datetime]] = field(default_factory=list)
    followers: list[tuple[int, datetime]] = field(default_factory=list)
    comments: list[tuple[int, str, datetime]] = field(default_factory=list)
    scores: list[ScorePlan] = field(default_factory=list)
    cycle_monday: date | None = None
    duplicate_of: int | None = None
    rejection_reason: str = ""
    delivery_note: str = ""
    benefit: tuple[Decimal, Decimal, str, str, date, int, datetime] | None = None

    @property
    def changed_at(self) -> datetime:
        return self.changes[-1][4]

    def due_dates(self) -> tuple[date | None, date | None]:
        """First response due (set on submission) and next update due (open or delivered)."""
        if self.submitted_at is None:
            return None, None
        first = add_working_days(self.submitted_at.astimezone(LONDON).date(), TRIAGE_WORKING_DAYS)
        changed = self.changed_at.astimezone(LONDON).date()
        if self.status in OPEN:
            return first, changed + timedelta(days=28)
        if self.status == S.DELIVERED:
            return first, changed + timedelta(days=90)  # time to look for the benefits
        return first, None


def _text(template: str, words: dict[str, str]) -> str:
    text = template.format(**words)
    return text[:1].upper() + text[1:]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


class Planner:
    """Plans opportunities for one seed and anchor (the demo's "today")."""

    def __init__(self, *, seed: int, anchor: date, force: Force) -> None:
        self.seed = seed
        self.anchor = anchor
        self.force = force
        midnight = datetime.combine(anchor, time(0), tzinfo=LONDON).astimezone(UTC)
        self.end = midnight - timedelta(minutes=10)
        self.first_cycle = min(force.cycles) if force.cycles else _monday(anchor)
        self.active_monday = force.active_cycle_monday or _monday(anchor)

    def _marker(self, index: int) -> str:
        return MARKER.format(seed=self.seed, index=index, anchor=self.anchor.isoformat())

    # --- the head: status, creation time and duplicate target, from the first draws --------

    def _head(self, index: int) -> tuple[Head, random.Random]:
        rng = _rng(self.seed, index)
        draw = rng.choices(_STATUSES, _WEIGHTS)[0]
        spread = rng.random()
        status = FIRST_STATUSES[index] if index < len(FIRST_STATUSES) else draw
        low, high = AGE_DAYS[status]
        duplicate_of = None
        if status == S.DUPLICATE:
            # Raised after the opportunity it repeats.
            duplicate_of = self._duplicate_target(rng, index)
            # A draft is submitted within a quarter of its age (see plan()), so anything created
            # in the last 70% of the target's age comes after the target was submitted.
            target_age = (self.end - self.head(duplicate_of).created_at).total_seconds() / DAY
            high = max(min(high, target_age * 0.7), 0.02)
            low = min(low, high / 2)
        age = low + (high - low) * spread**1.3  # more recent than old: the portal is growing
        created_at = self.end - timedelta(seconds=round(age * DAY))
        return Head(index, status, created_at, duplicate_of), rng

    def head(self, index: int) -> Head:
        return self._head(index)[0]

    def _duplicate_target(self, rng: random.Random, index: int) -> int:
        for _ in range(8):
            candidate = rng.randrange(index)
            if self.head_status(candidate) in DUPLICATE_TARGETS:
                return candidate
        return 0  # FIRST_STATUSES[0] is submitted

    def head_status(self, index: int) -> str:
        draw = _rng(self.seed, index).choices(_STATUSES, _WEIGHTS)[0]
        return FIRST_STATUSES[index] if index < len(FIRST_STATUSES) else draw

    # --- the topic: journey, step, applications, and the kind of issue ---------------------

    def _topic(self, rng: random.Random) -> Topic:
        force = self.force
        journey = rng.choice(force.journeys)
        step = rng.choice(journey.steps)
        apps = list(step.application_ids) or force.application_ids
        app = rng.choice(apps)
        others = [a for a in apps if a != app] or [a for a in force.application_ids if a != app]
        stations = rng.sample(V.STATIONS, 2)
        return Topic(
            journey=journey,
            step=step,
            app_id=app,
            app2_id=rng.choice(others),
            role_id=rng.choice(step.role_ids or journey.role_ids),
            thing=rng.choice(journey.things),
            search_field=rng.choice(V.SEARCH_FIELDS),
            station=stations[0],
            station2=stations[1],
            issue=rng.choice(V.ISSUES),
        )

    # --- the plan ------------------------------------------------------------------------

    def plan(self, index: int) -> Plan:
        force = self.force
        head, rng = self._head(index)
        status = head.status
        topic = self._topic(rng)
        if head.duplicate_of is not None:
            topic = self._topic(self._head(head.duplicate_of)[1])  # the same topic as its target
        journey, step = topic.journey, topic.step
        words = {
            "step": step.name,
            "app": force.application_names[topic.app_id],
            "app2": force.application_names[topic.app2_id],
            "thing": topic.thing,
            "Thing": topic.thing[:1].upper() + topic.thing[1:],
            "field": topic.search_field,
            "station": topic.station,
            "station2": topic.station2,
        }
        headcount = force.role_headcount[topic.role_id]
        people_affected: int | None = max(
            1, min(100_000, round(headcount * rng.choice(SHARE_OF_ROLE)))
        )
        frequency: Decimal | None = Decimal(rng.choice(FREQUENCIES))
        minutes: Decimal | None = Decimal(rng.choice(MINUTES))
        words["minutes"] = str(minutes)
        issue = topic.issue
        title = _text(rng.choice(issue.titles), words)[:120]
        problem = _text(issue.problem, words)
        better = _text(issue.better, words) if status != S.DRAFT or rng.random() < 0.6 else ""
        words["delivery"] = _text(issue.delivery, words)
        applications = [topic.app_id] + ([topic.app2_id] if rng.random() < 0.5 else [])
        themes = rng.sample(force.theme_ids, rng.choices((0, 1, 2, 3, 4), (10, 35, 30, 18, 7))[0])
        if status == S.DRAFT and rng.random() < 0.3:
            people_affected, frequency, minutes = None, None, None  # not filled in yet

        people = force.people
        pick = rng.random()
        if pick < 0.015:
            submitter = force.demo_user_ids["staff"]  # the demo users have their own too
        elif pick < 0.018:
            submitter = force.demo_user_ids["owner"]
        else:
            submitter = people[rng.randrange(len(force.demo_user_ids), len(people))]
        # The CI team member who handles it: often the demo "ci" user, so their board is busy.
        handler = force.demo_user_ids["ci"] if rng.random() < 0.35 else rng.choice(force.ci_ids)

        path = self._path(rng, status)
        created_at = head.created_at
        submitted_at = None
        times: list[datetime] = []
        if path:
            # Most submissions go in soon after the draft is started; some wait a few days.
            delay = rng.lognormvariate(8.0, 1.4)
            quarter = (self.end - created_at).total_seconds() / 4
            submitted_at = created_at + timedelta(seconds=max(round(min(delay, quarter)), 60))
            times = self._times(rng, status, path, submitted_at)

        changes: list[tuple[str, str, int, str, datetime]] = [
            ("", S.DRAFT, submitter, self._marker(index), created_at)
        ]
        previous = S.DRAFT
        for to, at in zip(path, times, strict=True):
            actor = submitter if to in (S.SUBMITTED, S.WITHDRAWN) else handler
            changes.append((previous, to, actor, "", at))
            previous = to

        plan = Plan(
            index=index,
            status=status,
            title=title,
            problem=problem,
            better=better,
            journey_id=journey.id,
            step_id=step.id if rng.random() < 0.85 else None,
            department_id=force.department_of.get(submitter) or journey.department_id,
            application_ids=applications,
            theme_ids=themes,
            people_affected=people_affected,
            frequency=frequency,
            minutes=minutes,
            sensitive=rng.random() < 0.03,
            show_submitter_name=rng.random() < 0.9,
            submitter=submitter,
            created_at=created_at,
            submitted_at=submitted_at,
            changes=changes,
            hourly_cost=force.journey_hourly_cost.get(
                journey.id, float(DEFAULT_PARAMETERS["default_hourly_cost"])
            ),
            duplicate_of=head.duplicate_of,
        )
        self._engagement(rng, plan, handler, words)
        self._assessment(rng, plan, path, times, handler, journey.risk, words)
        return plan

    def _path(self, rng: random.Random, status: str) -> list[str]:
        if status == S.DRAFT:
            return []
        if status in CLOSED_FROM:
            options = CLOSED_FROM[status]
            reached = rng.choices([o for o, _ in options], [w for _, w in options])[0]
            return [*WORKFLOW[: WORKFLOW.index(reached) + 1], status]
        path = list(WORKFLOW[: WORKFLOW.index(status) + 1])
        if S.BACKLOG in path and rng.random() < 0.15:
            path.remove(S.ASSESSING)  # triage straight to the backlog when the case is clear
        return path

    def _times(
        self, rng: random.Random, status: str, path: list[str], start: datetime
    ) -> list[datetime]:
        """Strictly increasing times for ``path`` (the first is ``start``), before the anchor."""
        gaps = [rng.expovariate(1 / MEAN_GAP_DAYS[s]) * DAY for s in path[1:]]
        limit = (self.end - start).total_seconds() * rng.uniform(0.5, 0.98)
        if status == S.IN_DELIVERY:
            # Delivery started in (or just before) the active cycle.
            cycle_start = datetime.combine(self.active_monday, time(8), tzinfo=LONDON)
            target = max(cycle_start - timedelta(days=2), start + timedelta(hours=1))
            limit = (target - start).total_seconds() + rng.uniform(
                0, max((self.end - target).total_seconds(), 0)
            )
        total = sum(gaps)
        if total > 0 and (total > limit or status == S.IN_DELIVERY):
            gaps = [gap * limit / total for gap in gaps]
        times = [start]
        for position, gap in enumerate(gaps, start=1):
            at = max(times[-1] + timedelta(seconds=round(gap)), times[-1] + timedelta(seconds=60))
            times.append(min(at, self.end - timedelta(seconds=60 * (len(path) - position))))
        return times

    def _cycle_for(self, at: datetime) -> date:
        local = at.astimezone(LONDON).date()
        monday = _monday(local) if local.weekday() <= 3 else _monday(local) + timedelta(days=7)
        return min(max(monday, self.first_cycle), self.active_monday)

    def _engagement(
        self, rng: random.Random, plan: Plan, handler: int, words: dict[str, str]
    ) -> None:
        if plan.submitted_at is None:
            plan.followers = [(plan.submitter, plan.created_at)]
            return
        people = self.force.people
        start = plan.submitted_at
        span = max((self.end - start).total_seconds(), 60.0)
        # Skewed: most opportunities have a handful of supporters, a few have hundreds.
        mu = {S.SUBMITTED: 0.1, S.TRIAGE: 0.5}.get(plan.status, 0.9)
        wanted = min(int(rng.lognormvariate(mu, 1.15)), 600, len(people) - 1)
        chosen = [people[i] for i in rng.sample(range(len(people)), wanted + 1)]
        chosen = [p for p in chosen if p != plan.submitter][:wanted]
        plan.supporters = [
            (p, start + timedelta(seconds=round(span * rng.random()))) for p in chosen
        ]
        followers = {plan.submitter: start}
        for person, at in plan.supporters[: len(plan.supporters) // 4]:
            followers.setdefault(person, at)
        plan.followers = list(followers.items())

        comments = []
        for _ in range(min(int(rng.lognormvariate(0.0, 1.0)), 15)):
            if chosen and rng.random() < 0.7:
                author = rng.choice(chosen)
            else:
                author = people[rng.randrange(len(self.force.demo_user_ids), len(people))]
            body = _text(rng.choice(V.COMMENTS), {**words, "station": rng.choice(V.STATIONS)})
            comments.append((author, body, start + timedelta(seconds=round(span * rng.random()))))
        if plan.status != S.SUBMITTED and rng.random() < 0.6:
            body = _text(rng.choice(V.CI_COMMENTS), words)
            at = start + timedelta(seconds=round(min(span, 5 * DAY) * rng.random()))
            comments.append((handler, body, at))
        plan.comments = sorted(comments, key=lambda comment: comment[2])

    def _score(
        self,
        rng: random.Random,
        plan: Plan,
        *,
        risk: str,
        kind: str,
        scored_by: int,
        at: datetime,
    ) -> ScorePlan:
        inputs = ScoreInputs(
            people=plan.people_affected or 1,
            frequency_per_week=float(plan.frequency or 0),
            minutes=float(plan.minutes or 0),
            severity=rng.choices((1, 2, 3, 4, 5), (1, 3, 4, 3, 1))[0],
            risk_class=risk,
            themes=len(plan.theme_ids),
            supporters=len(plan.supporters),
            effort_days=float(rng.choices(EFFORT_DAYS, EFFORT_WEIGHTS)[0]),
            confidence=rng.choices(("low", "medium", "high"), (2, 5, 3))[0],
            hourly_cost=plan.hourly_cost,
        )
        result = score(inputs, DEFAULT_WEIGHTS, DEFAULT_PARAMETERS)
        stored = {**vars(inputs), "sources": SCORE_SOURCES, "override_reason": ""}
        return ScorePlan(kind, stored, result, scored_by, at, kind != Score.Kind.ASSESSMENT)

    def _assessment(
        self,
        rng: random.Random,
        plan: Plan,
        path: list[str],
        times: list[datetime],
        handler: int,
        journey_risk: str,
        words: dict[str, str],
    ) -> None:
        status = plan.status
        at = dict(zip(path, times, strict=True))
        risk = journey_risk if rng.random() < 0.5 else rng.choice(RISK_NAMES)
        if S.BACKLOG in at:
            before = times[path.index(S.BACKLOG) - 1]
            agreed_at = max(
                at[S.BACKLOG] - timedelta(seconds=round(rng.uniform(600, DAY))),
                before + timedelta(seconds=30),
            )
            if rng.random() < 0.25:  # an individual assessment by someone else first
                plan.scores.append(
                    self._score(
                        rng,
                        plan,
                        risk=risk,
                        kind=Score.Kind.ASSESSMENT,
                        scored_by=rng.choice(self.force.ci_ids),
                        at=before + (agreed_at - before) / 2,
                    )
                )
            plan.scores.append(
                self._score(
                    rng, plan, risk=risk, kind=Score.Kind.AGREED, scored_by=handler, at=agreed_at
                )
            )
        elif status == S.ASSESSING and rng.random() < 0.4:
            scored_at = at[S.ASSESSING] + (self.end - at[S.ASSESSING]) * rng.random()
            plan.scores.append(
                self._score(
                    rng, plan, risk=risk, kind=Score.Kind.AGREED, scored_by=handler, at=scored_at
                )
            )
        if status in (S.IN_DELIVERY, S.DELIVERED, S.BENEFITS_REALISED) or (
            status in (S.ASSESSING, S.BACKLOG) and rng.random() < 0.5
        ):
            plan.owner = handler
        if S.IN_DELIVERY in at:
            plan.cycle_monday = (
                self.active_monday
                if status == S.IN_DELIVERY
                else self._cycle_for(at[S.IN_DELIVERY])
            )
        if status in (S.DELIVERED, S.BENEFITS_REALISED):
            plan.delivery_note = words["delivery"]
        if status == S.BENEFITS_REALISED:
            current = plan.scores[-1].result
            hours = Decimal(str(round(current.hours_per_year * rng.uniform(0.4, 1.1), 1)))
            cash = (hours * Decimal(str(plan.hourly_cost))).quantize(Decimal("0.01"))
            realised = at[S.BENEFITS_REALISED]
            plan.benefit = (
                hours,
                cash,
                _text(rng.choice(V.BENEFIT_NON_CASH), words),
                _text(rng.choice(V.BENEFIT_EVIDENCE), words),
                (realised - timedelta(days=rng.randrange(0, 14))).astimezone(LONDON).date(),
                handler,
                realised - timedelta(seconds=round(rng.uniform(60, 3600))),
            )
        reason = ""
        if status == S.REJECTED:
            reason = plan.rejection_reason = _text(rng.choice(V.REJECTION_REASONS), words)
        elif status == S.WITHDRAWN:
            reason = _text(rng.choice(V.WITHDRAWAL_REASONS), words)
        if reason:
            last = plan.changes[-1]
            plan.changes[-1] = (last[0], last[1], last[2], reason, last[4])
