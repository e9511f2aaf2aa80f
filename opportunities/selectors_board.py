"""Reads for the triage board: columns of cards, swimlanes, "load more", the live-update marker
and the triage panel.

The board costs a fixed number of queries however many cards there are: one UNION ALL of
per-column (or per-cell) ``ORDER BY … LIMIT`` subqueries picks the card ids (each an index
scan on ``(status, board_rank)`` or ``(status, -current_priority)``), one query loads those
cards with their journey, step, owner and score, one counts each column.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib.postgres.search import SearchQuery
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from journeys.models import Application, Department, DnaTheme, Journey
from opportunities.models import (
    OPEN_STATUSES,
    BoardColumn,
    BoardSettings,
    Opportunity,
    OpportunityEvent,
    Status,
)
from opportunities.services.deadlines import Deadline, board_settings, deadline_for
from opportunities.services.workflow import TRANSITIONS
from synergy_portal.permissions import Action, can, can_see_restricted

PAGE_SIZE = 15
MAX_SHOWN = 300
LANE_PAGE_SIZE = 3
LANE_KINDS = {"journey": "Journey", "department": "Department", "theme": "DNA theme"}
SORTS = {"rank": "Board order", "priority": "Priority (highest first)"}
COLUMN_HINTS = {
    Status.SUBMITTED: "New, not yet looked at",
    Status.TRIAGE: "Being understood",
    Status.ASSESSING: "Being scored",
    Status.BACKLOG: "Scored, waiting for a cycle",
    Status.IN_DELIVERY: "In a 2-Speed cycle",
}
CARD_FIELDS = (
    "reference",
    "title",
    "status",
    "version",
    "board_rank",
    "current_priority",
    "supporters_count",
    "submitted_at",
    "created_at",
    "status_changed_at",
    "first_response_due",
    "next_update_due",
    "is_restricted",
    "delivery_cycle_id",
    "journey__name",
    "step__name",
    "step__position",
    "owner__display_name",
    "owner__username",
    "current_score__fits_two_speed",
    "current_score__effort_days",
)


# --- Filters ------------------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


@dataclass(frozen=True)
class BoardFilters:
    """What the board shows, read from (and written back to) the URL."""

    owner: str = ""  # a user id, "me" or "none"
    journey: int | None = None
    application: int | None = None
    department: int | None = None
    theme: int | None = None
    two_speed: bool = False
    q: str = ""
    sort: str = "rank"
    lanes: str = ""

    @classmethod
    def from_query(cls, data: QueryDict) -> BoardFilters:
        owner = (data.get("owner") or "").strip()
        if owner not in ("me", "none") and _int(owner) is None:
            owner = ""
        sort = data.get("sort") or "rank"
        lanes = data.get("lanes") or ""
        return cls(
            owner=owner,
            journey=_int(data.get("journey")),
            application=_int(data.get("application")),
            department=_int(data.get("department")),
            theme=_int(data.get("theme")),
            two_speed=data.get("two_speed") in ("1", "on", "true"),
            q=(data.get("q") or "").strip()[:200],
            sort=sort if sort in SORTS else "rank",
            lanes=lanes if lanes in LANE_KINDS else "",
        )

    def params(self, **changes: Any) -> dict[str, str]:
        values = {
            "owner": self.owner,
            "journey": self.journey,
            "application": self.application,
            "department": self.department,
            "theme": self.theme,
            "two_speed": "1" if self.two_speed else "",
            "q": self.q,
            "sort": "" if self.sort == "rank" else self.sort,
            "lanes": self.lanes,
            **changes,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "", False)}

    def querystring(self, **changes: Any) -> str:
        return urlencode(self.params(**changes))

    @property
    def narrowed(self) -> bool:
        """True when the cards shown are not the whole column (so counts differ)."""
        return bool(
            self.owner
            or self.journey
            or self.application
            or self.department
            or self.theme
            or self.two_speed
            or self.q
        )

    @property
    def active_count(self) -> int:
        return sum(
            bool(v)
            for v in (
                self.owner,
                self.journey,
                self.application,
                self.department,
                self.theme,
                self.two_speed,
                self.q,
            )
        )

    def apply(self, qs: QuerySet[Opportunity], *, user: Any) -> QuerySet[Opportunity]:
        if self.owner == "me":
            qs = qs.filter(owner_id=user.pk)
        elif self.owner == "none":
            qs = qs.filter(owner__isnull=True)
        elif self.owner:
            qs = qs.filter(owner_id=int(self.owner))
        if self.journey:
            qs = qs.filter(journey_id=self.journey)
        if self.department:
            qs = qs.filter(department_id=self.department)
        if self.application:
            through = Opportunity.applications.through
            qs = qs.filter(
                Exists(
                    through.objects.filter(
                        opportunity_id=OuterRef("pk"), application_id=self.application
                    )
                )
            )
        if self.theme:
            through = Opportunity.dna_themes.through
            qs = qs.filter(
                Exists(
                    through.objects.filter(opportunity_id=OuterRef("pk"), dnatheme_id=self.theme)
                )
            )
        if self.two_speed:
            qs = qs.filter(current_score__fits_two_speed=True)
        if self.q:
            query = SearchQuery(self.q, search_type="websearch", config="english")
            qs = qs.filter(Q(search_vector=query) | Q(reference__iexact=self.q))
        return qs


# --- Cards and columns --------------------------------------------------------------------


@dataclass
class Card:
    opportunity: Opportunity
    deadline: Deadline | None
    age_days: int
    targets: list[tuple[str, str]]
    # Worked out once per board rather than by {% url %} per card: reverse() costs more than
    # the rest of a card's rendering.
    panel_url: str = ""
    move_url: str = ""
    priority_label: str = ""

    @property
    def ref(self) -> str:
        return self.opportunity.reference


_PLACEHOLDER = "SO-0000-00000"


def _url_pattern(name: str) -> str:
    return reverse(f"opportunities:{name}", kwargs={"reference": _PLACEHOLDER})


def _priority_label(priority: float | None) -> str:
    return "Not scored" if priority is None else f"£{priority:,.0f} a day"


@dataclass
class Column:
    status: str
    label: str
    hint: str
    cards: list[Card]
    count: int
    total: int
    wip_limit: int | None
    has_more: bool
    cursor: str = ""

    @property
    def over_limit(self) -> bool:
        return self.wip_limit is not None and self.total > self.wip_limit

    @property
    def over_by(self) -> int:
        return max(0, self.total - (self.wip_limit or self.total))

    @property
    def at_limit(self) -> bool:
        return self.wip_limit is not None and self.total >= self.wip_limit


@dataclass
class Lane:
    key: str
    label: str
    cells: list[Column]
    filter_params: dict[str, str]
    more_qs: str = ""

    @property
    def count(self) -> int:
        return sum(c.count for c in self.cells)


@dataclass
class FilterOptions:
    """Each a list of {"pk": …, "name": …} (owners: display_name and username)."""

    owners: list[dict[str, Any]]
    journeys: list[dict[str, Any]]
    applications: list[dict[str, Any]]
    departments: list[dict[str, Any]]
    themes: list[dict[str, Any]]


@dataclass
class Board:
    filters: BoardFilters
    columns: list[Column]
    lanes: list[Lane]
    marker: int
    can_move: bool
    settings: BoardSettings
    options: FilterOptions | None = None
    today: date = field(default_factory=timezone.localdate)


def board_base(*, user: Any) -> QuerySet[Opportunity]:
    """Cards the user may see on the board: ``opportunity_visible_to`` narrowed to the open
    columns, written without its clause for one's own drafts (no draft is on the board), so
    that counting a column stays an index-only scan at any size."""
    qs = Opportunity.objects.filter(status__in=OPEN_STATUSES)
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if can_see_restricted(user):
        return qs
    return qs.filter(Q(is_restricted=False) | Q(submitter_id=user.pk))


def _order(sort: str) -> list[Any]:
    if sort == "priority":
        return [F("current_priority").desc(nulls_last=True), "pk"]
    return ["board_rank", "pk"]


def _cursor_filter(sort: str, cursor: str) -> Q | None:
    """Keyset pagination: rank order continues after "rank|id"; priority after an offset."""
    if sort == "rank" and "|" in cursor:
        rank, _, raw_id = cursor.rpartition("|")
        if raw_id.isdigit():
            return Q(board_rank__gt=rank) | Q(board_rank=rank, pk__gt=int(raw_id))
    return None


def _cursor_for(sort: str, cards: list[Card], offset: int) -> str:
    if not cards:
        return ""
    if sort == "rank":
        last = cards[-1].opportunity
        return f"{last.board_rank}|{last.pk}"
    return str(offset + len(cards))


def cards_load(ids: list[int], *, today: date, config: BoardSettings) -> dict[int, Card]:
    """The cards for ``ids`` in one query, with what each shows."""
    if not ids:
        return {}
    rows = (
        Opportunity.objects.filter(pk__in=ids)
        .select_related("journey", "step", "owner", "current_score")
        .only(*CARD_FIELDS)
    )
    cards = {}
    panel_pattern, move_pattern = _url_pattern("board_card"), _url_pattern("board_move")
    for opp in rows:
        started = opp.submitted_at or opp.created_at
        targets = [
            (s.value, s.label) for s in OPEN_STATUSES if s in TRANSITIONS[Status(opp.status)]
        ]
        cards[opp.pk] = Card(
            opportunity=opp,
            deadline=deadline_for(opp, today=today, config=config),
            age_days=(today - timezone.localdate(started)).days,
            targets=targets,
            panel_url=panel_pattern.replace(_PLACEHOLDER, opp.reference),
            move_url=move_pattern.replace(_PLACEHOLDER, opp.reference),
            priority_label=_priority_label(opp.current_priority),
        )
    return cards


def _counts(qs: QuerySet[Opportunity]) -> dict[str, int]:
    return dict(qs.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n"))


COUNTS_TTL = 120


def _database_key() -> str:
    """The database's OID: entries cached for one database (a dropped and re-created test
    database, say) are never read for another that reuses its name and markers."""
    name = connection.settings_dict["NAME"]
    known: dict[str, str] = connection.__dict__.setdefault("_board_database_keys", {})
    if name not in known:
        with connection.cursor() as cursor:
            cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
            known[name] = str(cursor.fetchone()[0])
    return known[name]


def counts_cached(qs: QuerySet[Opportunity], *, marker: int, scope: str) -> dict[str, int]:
    """Cards per column, counted once per board change (``marker``) and viewer ``scope``:
    counting is the one part of the board whose cost grows with the number of cards."""
    digest = hashlib.sha256(f"{scope}|{qs.query}".encode()).hexdigest()[:24]
    key = f"board:counts:{_database_key()}:{marker}:{digest}"
    found = cache.get(key)
    if found is None:
        found = _counts(qs)
        cache.set(key, found, COUNTS_TTL)
    return found


def board_marker() -> int:
    """The newest audit event on any opportunity: it moves whenever any card changes."""
    return (
        OpportunityEvent.objects.order_by("-pgh_id").values_list("pgh_id", flat=True).first() or 0
    )


OPTIONS_TTL = 60


def filter_options() -> FilterOptions:
    """The filter form's choices (reference data: cached for a minute)."""
    key = f"board:options:{_database_key()}"
    found = cache.get(key)
    if found is None:
        found = _filter_options()
        cache.set(key, found, OPTIONS_TTL)
    return found


def _filter_options() -> FilterOptions:
    from synergy_portal.models import Role, User

    def rows(qs: QuerySet[Any], *fields: str) -> list[dict[str, Any]]:
        return list(qs.values("pk", *fields))

    return FilterOptions(
        owners=rows(
            User.objects.filter(
                is_active=True, groups__name__in=[Role.CI_TEAM.value, Role.ADMIN.value]
            )
            .distinct()
            .order_by("display_name", "username"),
            "display_name",
            "username",
        ),
        journeys=rows(Journey.objects.filter(is_active=True).order_by("name"), "name"),
        applications=rows(Application.objects.order_by("name"), "name"),
        departments=rows(Department.objects.filter(is_active=True).order_by("name"), "name"),
        themes=rows(DnaTheme.objects.order_by("position"), "name"),
    )


def board_get(
    *,
    user: Any,
    filters: BoardFilters,
    shown: dict[str, int] | None = None,
    statuses: list[str] | None = None,
    with_options: bool = True,
) -> Board:
    """The whole board (or just ``statuses``' columns), ``shown[status]`` cards deep."""
    config = board_settings()
    today = timezone.localdate()
    base = board_base(user=user)
    narrowed = filters.apply(base, user=user)
    wanted = [s for s in OPEN_STATUSES if statuses is None or s.value in statuses]
    limits = dict(BoardColumn.objects.values_list("status", "wip_limit"))
    board = Board(
        filters=filters,
        columns=[],
        lanes=[],
        marker=board_marker(),
        can_move=can(user, Action.MOVE_CARD),
        settings=config,
        today=today,
        options=filter_options() if with_options else None,
    )
    scope = "all" if can_see_restricted(user) else f"user:{user.pk}"
    if filters.lanes:
        board.lanes = _lanes(
            narrowed, filters, today=today, config=config, marker=board.marker, scope=scope
        )
        totals = counts_cached(base, marker=board.marker, scope=scope)
        board.columns = [
            Column(
                s.value,
                s.label,
                COLUMN_HINTS[s],
                [],
                totals.get(s.value, 0),
                totals.get(s.value, 0),
                limits.get(s.value),
                False,
            )
            for s in OPEN_STATUSES
        ]
        return board
    if not wanted:
        return board
    depth = {
        s.value: min(max((shown or {}).get(s.value, PAGE_SIZE), PAGE_SIZE), MAX_SHOWN)
        for s in wanted
    }
    order = _order(filters.sort)
    parts = [
        narrowed.filter(status=s.value)
        .order_by(*order)
        .values_list("pk", flat=True)[: depth[s.value] + 1]
        for s in wanted
    ]
    ids = list(parts[0].union(*parts[1:], all=True)) if len(parts) > 1 else list(parts[0])
    cards = cards_load(ids, today=today, config=config)
    totals = counts_cached(base, marker=board.marker, scope=scope)
    counts = (
        counts_cached(narrowed, marker=board.marker, scope=scope) if filters.narrowed else totals
    )
    by_status: dict[str, list[Card]] = {s.value: [] for s in wanted}
    for pk in ids:
        card = cards.get(pk)
        # A card can change column between the two queries: it shows at the next refresh.
        bucket = by_status.get(card.opportunity.status) if card is not None else None
        if bucket is not None:
            bucket.append(card)
    for s in wanted:
        listed = _sorted(by_status[s.value], filters.sort)
        visible = listed[: depth[s.value]]
        board.columns.append(
            Column(
                status=s.value,
                label=s.label,
                hint=COLUMN_HINTS[s],
                cards=visible,
                count=counts.get(s.value, 0),
                total=totals.get(s.value, 0),
                wip_limit=limits.get(s.value),
                has_more=len(listed) > len(visible),
                cursor=_cursor_for(filters.sort, visible, 0),
            )
        )
    return board


def _sorted(cards: list[Card], sort: str) -> list[Card]:
    if sort == "priority":
        return sorted(
            cards,
            key=lambda c: (
                c.opportunity.current_priority is None,
                -(c.opportunity.current_priority or 0),
                c.opportunity.pk,
            ),
        )
    return sorted(cards, key=lambda c: (c.opportunity.board_rank, c.opportunity.pk))


def column_more(
    *, user: Any, filters: BoardFilters, status: str, cursor: str
) -> tuple[list[Card], bool, str]:
    """The next page of one column after ``cursor``: (cards, more after them, next cursor)."""
    qs = filters.apply(board_base(user=user), user=user).filter(status=status)
    qs = qs.order_by(*_order(filters.sort))
    offset = 0
    after = _cursor_filter(filters.sort, cursor)
    if after is not None:
        qs = qs.filter(after)
    elif filters.sort == "priority" and cursor.isdigit():
        offset = min(int(cursor), 100_000)
    ids = list(qs.values_list("pk", flat=True)[offset : offset + PAGE_SIZE + 1])
    cards_by_id = cards_load(ids, today=timezone.localdate(), config=board_settings())
    cards = [cards_by_id[pk] for pk in ids if pk in cards_by_id]
    page = cards[:PAGE_SIZE]
    return page, len(cards) > PAGE_SIZE, _cursor_for(filters.sort, page, offset)


# --- Swimlanes ----------------------------------------------------------------------------


def _lane_defs(kind: str) -> list[tuple[str, str, Q, dict[str, str]]]:
    """(key, label, filter, URL parameters) for each lane, then the "none" lane."""
    if kind == "journey":
        rows = Journey.objects.filter(is_active=True).order_by("name").values_list("pk", "name")
        lanes = [(str(pk), name, Q(journey_id=pk), {"journey": str(pk)}) for pk, name in rows]
        return [*lanes, ("none", "No journey yet", Q(journey__isnull=True), {})]
    if kind == "department":
        rows = Department.objects.filter(is_active=True).order_by("name").values_list("pk", "name")
        lanes = [(str(pk), name, Q(department_id=pk), {"department": str(pk)}) for pk, name in rows]
        return [*lanes, ("none", "No department", Q(department__isnull=True), {})]
    through = Opportunity.dna_themes.through
    rows = DnaTheme.objects.order_by("position").values_list("pk", "name")
    lanes = [
        (
            str(pk),
            name,
            Q(Exists(through.objects.filter(opportunity_id=OuterRef("pk"), dnatheme_id=pk))),
            {"theme": str(pk)},
        )
        for pk, name in rows
    ]
    none = ~Q(Exists(through.objects.filter(opportunity_id=OuterRef("pk"))))
    return [*lanes, ("none", "No DNA theme", none, {})]


def _lanes(
    qs: QuerySet[Opportunity],
    filters: BoardFilters,
    *,
    today: date,
    config: BoardSettings,
    marker: int,
    scope: str,
) -> list[Lane]:
    """Top cards of every (lane, column) cell and every cell's count: two UNION ALL queries,
    each part tagged with its cell, plus one query for the cards."""
    defs = _lane_defs(filters.lanes)
    order = _order(filters.sort)
    ncols = len(OPEN_STATUSES)
    # One compiled statement per lane, run for each column with its status as the parameter:
    # compiling forty ORM querysets costs more than the statement does to run. The status is
    # compiled as an unguessable placeholder, so no filter value typed by a user matches it.
    placeholder = f"lane-status-{uuid.uuid4()}"
    pieces, params = [], []
    for lane, (_key, _label, condition, _params) in enumerate(defs):
        part = (
            qs.filter(condition, status=placeholder)
            .order_by(*order)
            .values_list("pk")[: LANE_PAGE_SIZE + 1]
        )
        sql, part_params = part.query.sql_with_params()
        at = part_params.index(placeholder)
        for col, s in enumerate(OPEN_STATUSES):
            pieces.append(f"(SELECT cell_part.*, {lane * ncols + col} FROM ({sql}) cell_part)")
            params.extend((*part_params[:at], s.value, *part_params[at + 1 :]))
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(pieces), params)
        rows = cursor.fetchall()
    key = "board:lanes:{}:{}:{}".format(
        _database_key(),
        marker,
        hashlib.sha256(f"{scope}|{filters.querystring()}".encode()).hexdigest()[:24],
    )
    counted = cache.get(key)
    if counted is None:
        tagged = [
            qs.filter(condition)
            .order_by()
            .values("status")
            .annotate(n=Count("pk"), lane=Value(lane, output_field=IntegerField()))
            .values_list("lane", "status", "n")
            for lane, (_key, _label, condition, _params) in enumerate(defs)
        ]
        counted = list(tagged[0].union(*tagged[1:], all=True))
        cache.set(key, counted, COUNTS_TTL)
    counts: dict[tuple[int, str], int] = {(lane, status): n for lane, status, n in counted}
    cards = cards_load(list({pk for pk, _cell in rows}), today=today, config=config)
    by_cell: dict[int, list[Card]] = {}
    for pk, cell in rows:
        if pk in cards:
            by_cell.setdefault(cell, []).append(cards[pk])
    lanes = []
    for lane, (key, label, _condition, params) in enumerate(defs):
        cells = []
        for col, s in enumerate(OPEN_STATUSES):
            listed = _sorted(by_cell.get(lane * ncols + col, []), filters.sort)
            cells.append(
                Column(
                    status=s.value,
                    label=s.label,
                    hint=COLUMN_HINTS[s],
                    cards=listed[:LANE_PAGE_SIZE],
                    count=counts.get((lane, s.value), 0),
                    total=counts.get((lane, s.value), 0),
                    wip_limit=None,
                    has_more=len(listed) > LANE_PAGE_SIZE,
                )
            )
        if any(c.count for c in cells):
            more_qs = filters.querystring(**params, lanes="")
            lanes.append(
                Lane(key=key, label=label, cells=cells, filter_params=params, more_qs=more_qs)
            )
    return lanes


# --- Live updates -------------------------------------------------------------------------

CHANGES_LIMIT = 200


def board_changes(*, since: int) -> tuple[int, set[str] | None]:
    """(new marker, the columns whose cards changed since ``since``); None means "all"."""
    marker = board_marker()
    if marker <= since:
        return marker, set()
    rows = list(
        OpportunityEvent.objects.filter(pgh_id__gt=since)
        .order_by("pgh_id")
        .values_list("pgh_obj_id", "status")[: CHANGES_LIMIT + 1]
    )
    if len(rows) > CHANGES_LIMIT or since <= 0:
        return marker, None
    changed = {status for _id, status in rows}
    ids = {obj_id for obj_id, _status in rows}
    # Where those cards were before: the last event of each at or before ``since``.
    before = (
        OpportunityEvent.objects.filter(pgh_obj_id__in=ids, pgh_id__lte=since)
        .order_by("pgh_obj_id", "-pgh_id")
        .distinct("pgh_obj_id")
        .values_list("status", flat=True)
    )
    changed |= set(before)
    return marker, {s for s in changed if s in {o.value for o in OPEN_STATUSES}}
