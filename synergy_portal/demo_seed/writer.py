"""Writes planned opportunities with PostgreSQL COPY.

Ids come from the tables' own sequences and references from ``reference_allocate``, both
up front, so every row can be built (in a worker thread, as pure Python) before it is sent,
and opportunities, scores and child rows link up without round trips.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from opportunities.models import (
    Benefit,
    Comment,
    Follow,
    Opportunity,
    Score,
    StatusChange,
    Support,
)
from opportunities.scoring import ScoreResult
from opportunities.services.references import reference_allocate
from synergy_portal.demo_seed.planner import MAX_SCORES, MAY_HAVE_SCORES, Head, Plan, board_rank
from synergy_portal.demo_seed.reference import Force


def _table(model: Any) -> str:
    return str(model._meta.db_table)


OPPORTUNITY = _table(Opportunity)
SCORE = _table(Score)
STATUS_CHANGE = _table(StatusChange)
SUPPORT = _table(Support)
FOLLOW = _table(Follow)
COMMENT = _table(Comment)
APPLICATIONS = _table(Opportunity.applications.through)
DNA_THEMES = _table(Opportunity.dna_themes.through)
BENEFIT = _table(Benefit)
CARRY = "demo_seed_carry"

# Table -> (columns, PostgreSQL types for binary COPY), in the order the tables are loaded.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    OPPORTUNITY: (
        ("id", "int8"),
        ("reference", "text"),
        ("title", "text"),
        ("problem", "text"),
        ("better", "text"),
        ("status", "text"),
        ("journey_id", "int8"),
        ("step_id", "int8"),
        ("department_id", "int8"),
        ("people_affected", "int4"),
        ("frequency_per_week", "numeric"),
        ("minutes_per_occurrence", "numeric"),
        ("classification", "text"),
        ("is_restricted", "bool"),
        ("show_submitter_name", "bool"),
        ("submitter_id", "int8"),
        ("owner_id", "int8"),
        ("delivery_cycle_id", "int8"),
        ("merged_into_id", "int8"),
        ("current_score_id", "int8"),
        ("current_priority", "float8"),
        ("supporters_count", "int4"),
        ("rejection_reason", "text"),
        ("delivery_note", "text"),
        ("board_rank", "text"),
        ("version", "int4"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
        ("submitted_at", "timestamptz"),
        ("status_changed_at", "timestamptz"),
        ("first_response_due", "date"),
        ("next_update_due", "date"),
    ),
    SCORE: (
        ("id", "int8"),
        ("opportunity_id", "int8"),
        ("model_id", "int8"),
        ("kind", "text"),
        ("inputs", "jsonb"),
        ("breakdown", "jsonb"),
        ("hours_per_year", "float8"),
        ("cost_per_year", "float8"),
        ("impact", "float8"),
        ("priority", "float8"),
        ("effort_days", "float8"),
        ("fits_two_speed", "bool"),
        ("is_current", "bool"),
        ("scored_by_id", "int8"),
        ("note", "text"),
        ("created_at", "timestamptz"),
    ),
    STATUS_CHANGE: (
        ("opportunity_id", "int8"),
        ("from_status", "text"),
        ("to_status", "text"),
        ("actor_id", "int8"),
        ("reason", "text"),
        ("created_at", "timestamptz"),
    ),
    SUPPORT: (("opportunity_id", "int8"), ("user_id", "int8"), ("created_at", "timestamptz")),
    FOLLOW: (("opportunity_id", "int8"), ("user_id", "int8"), ("created_at", "timestamptz")),
    COMMENT: (
        ("opportunity_id", "int8"),
        ("author_id", "int8"),
        ("body", "text"),
        ("created_at", "timestamptz"),
        ("hidden_reason", "text"),
    ),
    APPLICATIONS: (("opportunity_id", "int8"), ("application_id", "int8")),
    DNA_THEMES: (("opportunity_id", "int8"), ("dnatheme_id", "int8")),
    BENEFIT: (
        ("opportunity_id", "int8"),
        ("hours_per_year", "numeric"),
        ("cash_per_year", "numeric"),
        ("non_cash", "text"),
        ("evidence", "text"),
        ("realised_on", "date"),
        ("recorded_by_id", "int8"),
        ("recorded_at", "timestamptz"),
    ),
    # A duplicate's supporters and submitter, carried over to the opportunity it repeats.
    CARRY: (("target_id", "int8"), ("user_id", "int8"), ("created_at", "timestamptz")),
}
TABLES = tuple(table for table in COLUMNS if table != CARRY)


@dataclass
class Allocation:
    """Ids and references of the opportunities being created, keyed by index."""

    ids: dict[int, int]
    refs: dict[int, str]
    score_ids: dict[int, list[int]]


def sequence_ids(table: str, count: int) -> list[int]:
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(nextval(pg_get_serial_sequence(%s, 'id'))) "
            "FROM generate_series(1, %s)",
            [table, count],
        )
        return list(cursor.fetchone()[0])


def allocate(heads: Sequence[Head], existing: dict[int, int]) -> Allocation:
    """Ids for the new opportunities (in index order) and their scores, and references
    numbered per year in index order, so topping up gives what one run would have."""
    ids = dict(existing)
    ids.update(zip((h.index for h in heads), sequence_ids(OPPORTUNITY, len(heads)), strict=True))
    refs: dict[int, str] = {}
    by_year: dict[int, list[int]] = {}
    for head in heads:
        by_year.setdefault(head.year, []).append(head.index)
    for year in sorted(by_year):
        indexes = by_year[year]
        refs.update(zip(indexes, reference_allocate(year=year, count=len(indexes)), strict=True))
    # Targets of new duplicates made by an earlier run.
    wanted = {ids[h.duplicate_of]: h.duplicate_of for h in heads if h.duplicate_of is not None}
    wanted = {pk: index for pk, index in wanted.items() if index not in refs}
    if wanted:
        for pk, reference in Opportunity.objects.filter(pk__in=list(wanted)).values_list(
            "id", "reference"
        ):
            refs[wanted[pk]] = reference
    # Room for every score a plan may have; unused ids are gaps, which sequences allow.
    room = {h.index: MAX_SCORES if h.status in MAY_HAVE_SCORES else 0 for h in heads}
    pool = iter(sequence_ids(SCORE, sum(room.values())))
    score_ids = {index: [next(pool) for _ in range(n)] for index, n in room.items()}
    return Allocation(ids=ids, refs=refs, score_ids=score_ids)


@dataclass
class Rows:
    tables: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {table: [] for table in COLUMNS}
    )

    def count(self, table: str) -> int:
        return len(self.tables[table])


def _breakdown(result: ScoreResult) -> list[dict[str, Any]]:
    # ScoreResult.breakdown() without dataclasses.asdict's deep copies: the terms are flat,
    # so this is the same list (a test checks) at a tenth of the cost, 60,000 times at 100k.
    return [dict(vars(term)) for term in result.terms]


def rows_build(plans: Iterable[Plan], *, seed: int, force: Force, allocation: Allocation) -> Rows:
    """Every row of every table for ``plans``. Pure Python (runs in a worker thread)."""
    rows = Rows()
    t = rows.tables
    ids, refs = allocation.ids, allocation.refs
    for plan in plans:
        pk = ids[plan.index]
        current_score_id = current_priority = None
        reserved = allocation.score_ids[plan.index]
        if len(plan.scores) > len(reserved):
            raise RuntimeError(f"opportunity {plan.index} has more scores than ids reserved")
        for item, score_id in zip(plan.scores, reserved, strict=False):
            result = item.result
            if item.is_current:
                current_score_id, current_priority = score_id, result.priority
            t[SCORE].append(
                (
                    score_id,
                    pk,
                    force.scoring_model_id,
                    item.kind,
                    item.inputs,
                    _breakdown(result),
                    result.hours_per_year,
                    result.cost_per_year,
                    result.impact,
                    result.priority,
                    result.effort_days,
                    result.fits_two_speed,
                    item.is_current,
                    item.scored_by,
                    "",
                    item.created_at,
                )
            )
        changes = plan.changes
        merged_into = None
        if plan.duplicate_of is not None:
            merged_into = ids[plan.duplicate_of]
            last = changes[-1]
            reason = f"Merged into {refs[plan.duplicate_of]}."  # as the merge service words it
            changes = [*changes[:-1], (last[0], last[1], last[2], reason, last[4])]
            carried = {user for user, _ in plan.supporters} | {plan.submitter}
            t[CARRY].extend((merged_into, user, last[4]) for user in sorted(carried))
        changed_at = plan.changed_at
        first_response_due, next_update_due = plan.due_dates()
        cycle = force.cycles.get(plan.cycle_monday) if plan.cycle_monday else None
        t[OPPORTUNITY].append(
            (
                pk,
                refs[plan.index],
                plan.title,
                plan.problem,
                plan.better,
                plan.status,
                plan.journey_id,
                plan.step_id,
                plan.department_id,
                plan.people_affected,
                plan.frequency,
                plan.minutes,
                "official_sensitive" if plan.sensitive else "official",
                plan.sensitive,
                plan.show_submitter_name,
                plan.submitter,
                plan.owner,
                cycle,
                merged_into,
                current_score_id,
                current_priority,
                len(plan.supporters),
                plan.rejection_reason,
                plan.delivery_note,
                board_rank(seed, plan.index),
                len(changes),
                plan.created_at,
                changed_at,
                plan.submitted_at,
                changed_at,
                first_response_due,
                next_update_due,
            )
        )
        t[STATUS_CHANGE].extend((pk, *change) for change in changes)
        t[SUPPORT].extend((pk, user, at) for user, at in plan.supporters)
        followers = dict(plan.followers)
        if plan.owner is not None:
            followers.setdefault(plan.owner, changed_at)
        t[FOLLOW].extend((pk, user, at) for user, at in followers.items())
        t[COMMENT].extend((pk, author, body, at, "") for author, body, at in plan.comments)
        t[APPLICATIONS].extend((pk, app) for app in plan.application_ids)
        t[DNA_THEMES].extend((pk, theme) for theme in plan.theme_ids)
        if plan.benefit:
            t[BENEFIT].append((pk, *plan.benefit))
    return rows


def _copy(table: str, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    names = ", ".join(name for name, _ in COLUMNS[table])
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types([kind for _, kind in COLUMNS[table]])
        for row in rows:
            copy.write_row(row)


def rows_copy(rows: Rows) -> None:
    """COPY one chunk, then check its deferred foreign keys now rather than at commit."""
    for table in COLUMNS:
        _copy(table, rows.tables[table])
    with connection.cursor() as cursor:
        # Retroactive: checks everything queued so far, so the queue never grows past a chunk.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def load_begin() -> None:
    """Prepare the current transaction for a bulk load."""
    _history_skip(TABLES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {CARRY} "
            "(target_id bigint, user_id bigint, created_at timestamptz) ON COMMIT DROP"
        )


def load_finish() -> int:
    """Carry duplicates' supporters and followers over to their targets, as the merge service
    does (never the target's own submitter as a supporter), and recount the targets."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SUPPORT} (opportunity_id, user_id, created_at) "
            f"SELECT c.target_id, c.user_id, min(c.created_at) FROM {CARRY} c "
            f"JOIN {OPPORTUNITY} t ON t.id = c.target_id AND t.submitter_id <> c.user_id "
            "GROUP BY c.target_id, c.user_id ON CONFLICT DO NOTHING"
        )
        carried = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {FOLLOW} (opportunity_id, user_id, created_at) "
            f"SELECT c.target_id, c.user_id, min(c.created_at) FROM {CARRY} c "
            "GROUP BY c.target_id, c.user_id ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            f"UPDATE {OPPORTUNITY} o SET supporters_count = s.n FROM ("
            f"  SELECT opportunity_id, count(*) AS n FROM {SUPPORT}"
            f"  WHERE opportunity_id IN (SELECT DISTINCT target_id FROM {CARRY})"
            "   GROUP BY opportunity_id"
            ") s WHERE o.id = s.opportunity_id AND o.supporters_count <> s.n"
        )
        cursor.execute(f"DROP TABLE {CARRY}")
    return carried


def _history_triggers(tables: Sequence[str]) -> list[str]:
    """The audit-history (django-pghistory) triggers on ``tables``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = ANY(%s::regclass[]) AND NOT t.tgisinternal "
            "AND p.prosrc LIKE %s ORDER BY t.tgname",
            [list(tables), "%_pgh_attach_context()%"],
        )
        return [row[0] for row in cursor.fetchall()]


def _history_skip(tables: Sequence[str]) -> None:
    """Skip per-row audit events in this transaction (pgtrigger's own ``ignore`` switch).

    Generated demo rows are nobody's action. And each history trigger catches a "setting not
    found" error, aborting a subtransaction per row, which makes PostgreSQL rescan the whole
    deferred foreign-key queue every time: quadratic, minutes instead of seconds at scale.
    """
    names = _history_triggers(tables)
    if names:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(names) + "}"]
            )


def counts(rows: Rows) -> dict[str, int]:
    return {table: rows.count(table) for table in TABLES}
