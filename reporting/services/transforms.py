"""The transform, in SQL: what the extract reads from the portal and how it merges into ``ddi``.

Portal side: each :class:`Stage` is a ``SELECT`` streamed with ``COPY (…) TO STDOUT`` into a
temporary staging table on the reporting connection (``COPY … FROM STDIN``), in text format,
so no row is parsed in Python. Reporting side: staging rows are merged into the star schema:
dimensions by comparison (only changed rows are rewritten), facts by replacing every row of
the touched opportunities. Nothing here reads the clock: a batch's rows depend only on the
portal's data in the snapshot, the batch's window and its ``as_of`` day.
"""

from __future__ import annotations

from dataclasses import dataclass

from opportunities.models import OPEN_STATUSES, Status

# The portal-side condition restricting a fact stage to the touched opportunities: the extract
# fills this temporary table on the portal connection from the change log.
TOUCHED = "ddi_touched"

# Stable status keys: never renumber; a new status takes the next free key.
STATUS_KEYS: dict[str, int] = {
    Status.DRAFT: 1,
    Status.SUBMITTED: 2,
    Status.TRIAGE: 3,
    Status.ASSESSING: 4,
    Status.BACKLOG: 5,
    Status.IN_DELIVERY: 6,
    Status.DELIVERED: 7,
    Status.BENEFITS_REALISED: 8,
    Status.REJECTED: 9,
    Status.DUPLICATE: 10,
    Status.WITHDRAWN: 11,
}
_WORKFLOW = (
    Status.DRAFT,
    Status.SUBMITTED,
    Status.TRIAGE,
    Status.ASSESSING,
    Status.BACKLOG,
    Status.IN_DELIVERY,
    Status.DELIVERED,
    Status.BENEFITS_REALISED,
)
CLOSED_CODES = ("rejected", "duplicate", "withdrawn")


def status_rows() -> list[tuple[int, str, str, str, bool, int | None]]:
    """Rows of dim_status (without batch id), from the workflow's own definition."""
    rows = []
    for status in Status:
        if status is Status.DRAFT:
            stage = "draft"
        elif status in OPEN_STATUSES:
            stage = "open"
        elif status in (Status.DELIVERED, Status.BENEFITS_REALISED):
            stage = "done"
        else:
            stage = "closed"
        position = _WORKFLOW.index(status) if status in _WORKFLOW else None
        rows.append(
            (
                STATUS_KEYS[status],
                status.value,
                str(status.label),
                stage,
                status in OPEN_STATUSES,
                position,
            )
        )
    return rows


def local_date(expr: str, tz: str) -> str:
    return f"(({expr}) AT TIME ZONE '{tz}')::date"


def date_key(expr: str, tz: str) -> str:
    return f"to_char(({expr}) AT TIME ZONE '{tz}', 'YYYYMMDD')::int"


@dataclass(frozen=True)
class Stage:
    """A portal ``SELECT`` and the temporary table on the reporting side that receives it."""

    name: str
    columns: tuple[tuple[str, str], ...]
    source: str

    def create_sql(self) -> str:
        cols = ", ".join(f"{name} {kind}" for name, kind in self.columns)
        return f"CREATE TEMP TABLE {self.name} ({cols}) ON COMMIT DROP"

    def copy_in_sql(self) -> str:
        return f"COPY {self.name} ({', '.join(n for n, _ in self.columns)}) FROM STDIN"

    def copy_out_sql(self) -> str:
        return f"COPY ({self.source}) TO STDOUT"


def dimension_stages(tz: str) -> list[Stage]:
    return [
        Stage(
            "stage_department",
            (("id", "bigint"), ("code", "text"), ("name", "text"), ("is_active", "boolean")),
            "SELECT id, code, name, is_active FROM journeys_department",
        ),
        Stage(
            "stage_role",
            (
                ("id", "bigint"),
                ("code", "text"),
                ("name", "text"),
                ("department_id", "bigint"),
                ("headcount", "integer"),
                ("hourly_cost", "numeric"),
            ),
            "SELECT id, code, name, department_id, headcount, hourly_cost FROM journeys_role",
        ),
        Stage("stage_application", APPLICATION_COLUMNS, APPLICATION_VERSIONS),
        Stage(
            "stage_journey",
            (
                ("id", "bigint"),
                ("slug", "text"),
                ("name", "text"),
                ("department_id", "bigint"),
                ("owner_id", "bigint"),
                ("is_active", "boolean"),
            ),
            "SELECT id, slug, name, department_id, owner_id, is_active FROM journeys_journey",
        ),
        Stage(
            "stage_step",
            (
                ("id", "bigint"),
                ("journey_id", "bigint"),
                ("position", "integer"),
                ("name", "text"),
                ("typical_minutes", "integer"),
                ("is_retired", "boolean"),
                ("retired_date_key", "integer"),
            ),
            f"""SELECT id, journey_id, position, name, typical_minutes, retired_at IS NOT NULL,
                {date_key("retired_at", tz)} FROM journeys_journeystep""",
        ),
        Stage(
            "stage_dna_theme",
            (("id", "bigint"), ("code", "text"), ("name", "text"), ("position", "integer")),
            "SELECT id, code, name, position FROM journeys_dnatheme",
        ),
        # Not the outcome: free text that may name people.
        Stage(
            "stage_delivery_cycle",
            (
                ("id", "bigint"),
                ("name", "text"),
                ("starts_date_key", "integer"),
                ("ends_date_key", "integer"),
                ("capacity_days", "numeric"),
                ("state", "text"),
            ),
            """SELECT id, name, to_char(starts_on, 'YYYYMMDD')::int,
                to_char(ends_on, 'YYYYMMDD')::int, capacity_days, state
                FROM opportunities_deliverycycle""",
        ),
    ]


APPLICATION_COLUMNS = (
    ("application_key", "bigint"),
    ("application_id", "bigint"),
    ("slug", "text"),
    ("name", "text"),
    ("vendor", "text"),
    ("hosting", "text"),
    ("lifecycle", "text"),
    ("debt_rating", "smallint"),
    ("valid_from", "timestamptz"),
    ("valid_to", "timestamptz"),
    ("is_current", "boolean"),
)

# Type 2 history of applications, rebuilt from the audit trail (django-pghistory events), so
# a full rebuild gives the same versions, keys and dates as a chain of incremental batches.
# A version starts at each event that changes lifecycle or debt rating; the first version
# reaches back to 1900 (opportunities may predate the application's entry in the register).
APPLICATION_VERSIONS = """
WITH ev AS (
    SELECT e.pgh_id, e.pgh_obj_id AS application_id, e.pgh_created_at AS at,
           e.pgh_label AS label, e.lifecycle, e.debt_rating,
           lag(e.pgh_label) OVER w AS prev_label,
           lag(e.lifecycle) OVER w AS prev_lifecycle,
           lag(e.debt_rating) OVER w AS prev_debt_rating
    FROM journeys_applicationevent e
    WINDOW w AS (PARTITION BY e.pgh_obj_id ORDER BY e.pgh_id)
), starts AS (
    SELECT pgh_id, application_id, at, lifecycle, debt_rating FROM ev
    WHERE label <> 'delete'
      AND (prev_label IS NULL OR prev_label = 'delete'
           OR lifecycle IS DISTINCT FROM prev_lifecycle
           OR debt_rating IS DISTINCT FROM prev_debt_rating)
), versions AS (
    SELECT s.*, row_number() OVER v AS n, lead(s.at) OVER v AS next_at
    FROM starts s WINDOW v AS (PARTITION BY s.application_id ORDER BY s.pgh_id)
), deleted AS (
    SELECT application_id, max(at) AS at FROM ev WHERE label = 'delete' GROUP BY application_id
), latest AS (
    SELECT DISTINCT ON (pgh_obj_id) pgh_obj_id AS application_id, slug, name, vendor, hosting
    FROM journeys_applicationevent ORDER BY pgh_obj_id, pgh_id DESC
)
SELECT v.pgh_id, v.application_id,
       coalesce(a.slug, l.slug), coalesce(a.name, l.name), coalesce(a.vendor, l.vendor),
       coalesce(a.hosting, l.hosting), v.lifecycle, v.debt_rating,
       CASE WHEN v.n = 1 THEN '1900-01-01 00:00:00+00'::timestamptz ELSE v.at END,
       coalesce(v.next_at,
                CASE WHEN a.id IS NULL THEN d.at END,
                '9999-12-31 00:00:00+00'::timestamptz),
       v.next_at IS NULL AND a.id IS NOT NULL
FROM versions v
LEFT JOIN journeys_application a ON a.id = v.application_id
LEFT JOIN latest l ON l.application_id = v.application_id
LEFT JOIN deleted d ON d.application_id = v.application_id
UNION ALL
SELECT -a.id, a.id, a.slug, a.name, a.vendor, a.hosting, a.lifecycle, a.debt_rating,
       '1900-01-01 00:00:00+00'::timestamptz, '9999-12-31 00:00:00+00'::timestamptz, true
FROM journeys_application a
WHERE NOT EXISTS (SELECT 1 FROM journeys_applicationevent e WHERE e.pgh_obj_id = a.id)
"""


def _scope(column: str, scoped: bool, *, deep: bool = False) -> str:
    if not scoped:
        return EVERY
    return (IN_TOUCHED_DEEP if deep else IN_TOUCHED).format(col=column)


def fact_stages(tz: str, *, scoped: bool) -> list[Stage]:
    """Stages of the facts, for every opportunity that has left draft, or (``scoped``) only
    for the touched ones: every touched opportunity's fact_opportunity row, and the other facts
    and bridges only of those touched "deep" (see :data:`TOUCHED_TABLE`)."""
    in_scope = _scope("o.id", scoped)
    deep_scope = _scope("o.id", scoped, deep=True)
    closed = ", ".join(f"'{code}'" for code in CLOSED_CODES)

    def ld(expr: str) -> str:
        return local_date(expr, tz)

    def dk(expr: str) -> str:
        return date_key(expr, tz)

    def join(alias: str) -> str:
        # Scoped, the aggregates read only the touched opportunities' rows. In full they read
        # whole tables (a draft's rows find no partner in the final join): three joins fewer.
        return f"JOIN o ON o.id = {alias}.opportunity_id" if scoped else ""

    opportunity = f"""
WITH o AS (
    SELECT id, reference, title, classification, is_restricted, status, department_id,
           journey_id, step_id, delivery_cycle_id, submitter_id, owner_id, merged_into_id,
           submitted_at, first_response_due, next_update_due, people_affected, current_score_id
    FROM opportunities_opportunity o WHERE o.status <> 'draft' AND {in_scope}
), sc AS (
    SELECT c.opportunity_id,
           min(c.created_at) FILTER (WHERE c.to_status = 'triage') AS triaged_at,
           min(c.created_at) FILTER (WHERE c.to_status = 'assessing') AS assessing_at,
           min(c.created_at) FILTER (WHERE c.to_status = 'backlog') AS backlog_at,
           min(c.created_at) FILTER (WHERE c.to_status = 'in_delivery') AS in_delivery_at,
           min(c.created_at) FILTER (WHERE c.to_status = 'delivered') AS delivered_at,
           min(c.created_at) FILTER (WHERE c.to_status = 'benefits_realised') AS benefits_at,
           max(c.created_at) FILTER (WHERE c.to_status IN ({closed})) AS closed_at,
           max(c.created_at) AS last_change_at
    FROM opportunities_statuschange c {join("c")}
    GROUP BY c.opportunity_id
), sup AS (
    SELECT s.opportunity_id, count(*) AS n
    FROM opportunities_support s {join("s")} GROUP BY s.opportunity_id
), ben AS (
    SELECT b.opportunity_id, sum(b.cash_per_year) AS cash, sum(b.hours_per_year) AS hours,
           count(*) AS n
    FROM opportunities_benefit b {join("b")} GROUP BY b.opportunity_id
)
SELECT o.id, o.reference, CASE WHEN o.is_restricted THEN NULL ELSE o.title END,
       o.classification, o.is_restricted, o.status, o.department_id, o.journey_id, o.step_id,
       o.delivery_cycle_id, o.submitter_id, o.owner_id, s.scored_by_id,
       CASE WHEN o.merged_into_id IS NOT NULL THEN (
           SELECT m.reference FROM opportunities_opportunity m WHERE m.id = o.merged_into_id)
       END,
       o.submitted_at, {dk("o.submitted_at")}, {dk("sc.triaged_at")}, {dk("sc.assessing_at")},
       {dk("sc.backlog_at")}, {dk("sc.in_delivery_at")}, {dk("sc.delivered_at")},
       {dk("sc.benefits_at")},
       CASE WHEN o.status IN ({closed}) THEN {dk("sc.closed_at")} END,
       {dk("sc.last_change_at")},
       to_char(o.first_response_due, 'YYYYMMDD')::int,
       to_char(o.next_update_due, 'YYYYMMDD')::int,
       {ld("sc.triaged_at")} - {ld("o.submitted_at")},
       {ld("sc.backlog_at")} - {ld("sc.triaged_at")},
       {ld("sc.delivered_at")} - {ld("sc.backlog_at")},
       {ld("sc.benefits_at")} - {ld("sc.delivered_at")},
       {ld("sc.delivered_at")} - {ld("o.submitted_at")},
       o.people_affected, sm.version, s.hours_per_year, s.cost_per_year, s.impact, s.priority,
       s.effort_days, s.fits_two_speed, coalesce(sup.n, 0), round(s.cost_per_year::numeric, 2),
       ben.cash, ben.hours, coalesce(ben.n, 0)
FROM o
LEFT JOIN sc ON sc.opportunity_id = o.id
LEFT JOIN sup ON sup.opportunity_id = o.id
LEFT JOIN ben ON ben.opportunity_id = o.id
LEFT JOIN opportunities_score s ON s.id = o.current_score_id
LEFT JOIN opportunities_scoringmodel sm ON sm.id = s.model_id
"""
    joined = "JOIN opportunities_opportunity o ON o.id = t.opportunity_id"
    where = f"WHERE o.status <> 'draft' AND {deep_scope}"
    return [
        Stage("stage_opportunity", OPPORTUNITY_COLUMNS, opportunity),
        Stage(
            "stage_status_change",
            (
                ("id", "bigint"),
                ("opportunity_id", "bigint"),
                ("from_status", "text"),
                ("to_status", "text"),
                ("changed_at", "timestamptz"),
                ("date_key", "integer"),
                ("actor_id", "bigint"),
                ("days_in_previous_status", "numeric"),
                ("reason", "text"),
                # For the status spans: the day before the next change's day (empty for the
                # latest change), and the day the opportunity was submitted.
                ("next_day_before_key", "integer"),
                ("submitted_date_key", "integer"),
            ),
            f"""SELECT t.id, t.opportunity_id, nullif(t.from_status, ''), t.to_status,
                t.created_at, {dk("t.created_at")}, t.actor_id,
                round((extract(epoch FROM t.created_at - lag(t.created_at) OVER w) / 86400)
                    ::numeric, 2),
                CASE WHEN o.is_restricted THEN NULL ELSE t.reason END,
                to_char({ld("lead(t.created_at) OVER w")} - 1, 'YYYYMMDD')::int,
                {dk("o.submitted_at")}
                FROM opportunities_statuschange t {joined} {where}
                WINDOW w AS (PARTITION BY t.opportunity_id ORDER BY t.created_at, t.id)""",
        ),
        Stage(
            "stage_support",
            (
                ("id", "bigint"),
                ("opportunity_id", "bigint"),
                ("user_id", "bigint"),
                ("created_at", "timestamptz"),
                ("date_key", "integer"),
            ),
            f"""SELECT t.id, t.opportunity_id, t.user_id, t.created_at, {dk("t.created_at")}
                FROM opportunities_support t {joined} {where}""",
        ),
        Stage(
            "stage_benefit",
            (
                ("id", "bigint"),
                ("opportunity_id", "bigint"),
                ("realised_date_key", "integer"),
                ("recorded_date_key", "integer"),
                ("hours_per_year", "numeric"),
                ("cash_per_year", "numeric"),
                ("recorded_by_id", "bigint"),
            ),
            f"""SELECT t.id, t.opportunity_id, to_char(t.realised_on, 'YYYYMMDD')::int,
                {dk("t.recorded_at")}, t.hours_per_year, t.cash_per_year, t.recorded_by_id
                FROM opportunities_benefit t {joined} {where}""",
        ),
        Stage(
            "stage_bridge_dna",
            (("opportunity_id", "bigint"), ("dna_theme_id", "bigint"), ("weight", "numeric")),
            f"""SELECT t.opportunity_id, t.dnatheme_id,
                round(1.0 / count(*) OVER (PARTITION BY t.opportunity_id), 6)
                FROM opportunities_opportunity_dna_themes t {joined} {where}""",
        ),
        Stage(
            "stage_bridge_app",
            (
                ("opportunity_id", "bigint"),
                ("application_id", "bigint"),
                ("submitted_at", "timestamptz"),
                ("weight", "numeric"),
            ),
            f"""SELECT t.opportunity_id, t.application_id, o.submitted_at,
                round(1.0 / count(*) OVER (PARTITION BY t.opportunity_id), 6)
                FROM opportunities_opportunity_applications t {joined} {where}""",
        ),
    ]


OPPORTUNITY_COLUMNS = (
    ("opportunity_id", "bigint"),
    ("reference", "text"),
    ("title", "text"),
    ("classification", "text"),
    ("is_restricted", "boolean"),
    ("status", "text"),
    ("department_key", "bigint"),
    ("journey_key", "bigint"),
    ("step_key", "bigint"),
    ("delivery_cycle_key", "bigint"),
    ("submitter_id", "bigint"),
    ("owner_id", "bigint"),
    ("scorer_id", "bigint"),
    ("merged_into_reference", "text"),
    ("submitted_at", "timestamptz"),
    ("submitted_date_key", "integer"),
    ("triaged_date_key", "integer"),
    ("assessing_date_key", "integer"),
    ("backlog_date_key", "integer"),
    ("in_delivery_date_key", "integer"),
    ("delivered_date_key", "integer"),
    ("benefits_date_key", "integer"),
    ("closed_date_key", "integer"),
    ("status_since_date_key", "integer"),
    ("first_response_due_date_key", "integer"),
    ("next_update_due_date_key", "integer"),
    ("days_submitted_to_triage", "integer"),
    ("days_triage_to_backlog", "integer"),
    ("days_backlog_to_delivered", "integer"),
    ("days_delivered_to_benefits", "integer"),
    ("days_submitted_to_delivered", "integer"),
    ("people_affected", "integer"),
    ("score_model_version", "integer"),
    ("hours_per_year", "double precision"),
    ("cost_per_year", "double precision"),
    ("impact", "double precision"),
    ("priority", "double precision"),
    ("effort_days", "double precision"),
    ("fits_two_speed", "boolean"),
    ("supporters", "integer"),
    ("estimated_cash_per_year", "numeric"),
    ("realised_cash_per_year", "numeric"),
    ("realised_hours_per_year", "numeric"),
    ("benefits_recorded", "integer"),
)

# --- Reporting side ------------------------------------------------------------------------

# The opportunities an incremental batch rewrites. ``deep``: something its status changes,
# spans, supports, benefits or bridges depend on changed too; otherwise (a title edited, a
# new owner, a new score) only its fact_opportunity row is rewritten.
TOUCHED_TABLE = (
    f"CREATE TEMP TABLE {TOUCHED} (opportunity_id bigint PRIMARY KEY, deep boolean NOT NULL) "
    "ON COMMIT DROP"
)
PERSON_MAP_TABLE = """CREATE TEMP TABLE ddi_person_map (
    user_id bigint PRIMARY KEY, person_key text NOT NULL, department_id bigint, role_id bigint
) ON COMMIT DROP"""
STATUS_TABLE = """CREATE TEMP TABLE stage_status (
    status_key smallint, status_code text, label text, stage text, is_open boolean,
    workflow_position smallint
) ON COMMIT DROP"""


@dataclass(frozen=True)
class DimensionMerge:
    """A dimension's source rows (a query over the staging tables) merged by comparison."""

    table: str
    key: str
    columns: tuple[str, ...]
    source: str


DIMENSION_MERGES = [
    DimensionMerge(
        "dim_department",
        "department_key",
        ("department_key", "department_code", "name", "is_active"),
        "SELECT id, code, name, is_active FROM stage_department",
    ),
    DimensionMerge(
        "dim_role",
        "role_key",
        ("role_key", "role_code", "name", "department_key", "headcount", "hourly_cost"),
        "SELECT id, code, name, department_id, headcount, hourly_cost FROM stage_role",
    ),
    DimensionMerge(
        "dim_application",
        "application_key",
        tuple(name for name, _ in APPLICATION_COLUMNS),
        "SELECT * FROM stage_application",
    ),
    DimensionMerge(
        "dim_journey",
        "journey_key",
        ("journey_key", "slug", "name", "department_key", "owner_person_key", "is_active"),
        """SELECT j.id, j.slug, j.name, j.department_id, p.person_key, j.is_active
           FROM stage_journey j LEFT JOIN ddi_person_map p ON p.user_id = j.owner_id""",
    ),
    DimensionMerge(
        "dim_journey_step",
        "step_key",
        (
            "step_key",
            "journey_key",
            "position",
            "name",
            "typical_minutes",
            "is_retired",
            "retired_date_key",
        ),
        "SELECT * FROM stage_step",
    ),
    DimensionMerge(
        "dim_dna_theme",
        "dna_theme_key",
        ("dna_theme_key", "code", "name", "position"),
        "SELECT * FROM stage_dna_theme",
    ),
    DimensionMerge(
        "dim_delivery_cycle",
        "delivery_cycle_key",
        (
            "delivery_cycle_key",
            "name",
            "starts_date_key",
            "ends_date_key",
            "capacity_days",
            "state",
        ),
        "SELECT * FROM stage_delivery_cycle",
    ),
    DimensionMerge(
        "dim_person",
        "person_key",
        ("person_key", "department_key", "role_key"),
        "SELECT DISTINCT person_key, department_id, role_id FROM ddi_person_map",
    ),
]
STATUS_MERGE = DimensionMerge(
    "dim_status",
    "status_key",
    ("status_key", "status_code", "label", "stage", "is_open", "workflow_position"),
    "SELECT * FROM stage_status",
)


def merge_dimension_sql(merge: DimensionMerge) -> tuple[str, str]:
    """(delete, insert): drop rows that are gone or differ from the source, add the rest.

    Deleting a changed row and inserting its new version (rather than updating in place)
    keeps "one current version per application" true after every statement.
    """
    cols = ", ".join(merge.columns)
    src_cols = ", ".join(f"s.{c}" for c in merge.columns)
    dim_cols = ", ".join(f"d.{c}" for c in merge.columns)
    source = f"SELECT * FROM ({merge.source}) AS src ({cols})"
    delete = f"""
        DELETE FROM {merge.table} d WHERE NOT EXISTS (
            SELECT 1 FROM ({source}) s
            WHERE s.{merge.key} = d.{merge.key} AND ({src_cols}) IS NOT DISTINCT FROM ({dim_cols})
        )"""
    insert = f"""
        INSERT INTO {merge.table} ({cols}, batch_id)
        SELECT {src_cols}, %(batch)s FROM ({source}) s
        WHERE NOT EXISTS (SELECT 1 FROM {merge.table} d WHERE d.{merge.key} = s.{merge.key})"""
    return delete, insert


def dim_date_sql(tz: str) -> str:
    return """
INSERT INTO dim_date (date_key, date, day_of_week, day_name, day_of_month, month, month_name,
    calendar_quarter, calendar_year, iso_year, iso_week, week_start_date, fiscal_year,
    fiscal_year_start, fiscal_quarter, fiscal_month, is_weekend, batch_id)
SELECT to_char(d, 'YYYYMMDD')::int, d, extract(isodow FROM d), trim(to_char(d, 'Day')),
       extract(day FROM d), extract(month FROM d), trim(to_char(d, 'Month')),
       extract(quarter FROM d), extract(year FROM d), extract(isoyear FROM d),
       extract(week FROM d), date_trunc('week', d)::date,
       fy || '/' || lpad(((fy + 1) %% 100)::text, 2, '0'), fy,
       ((extract(month FROM d)::int + 8) %% 12) / 3 + 1, (extract(month FROM d)::int + 8) %% 12 + 1,
       extract(isodow FROM d) >= 6, %(batch)s
FROM (
    SELECT g::date AS d,
           CASE WHEN extract(month FROM g) >= 4 THEN extract(year FROM g)::int
                ELSE extract(year FROM g)::int - 1 END AS fy
    FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS g
) days
ON CONFLICT (date_key) DO NOTHING"""


FACT_TABLES = (
    "fact_opportunity",
    "fact_opportunity_status_span",
    "fact_status_change",
    "fact_support",
    "fact_benefit",
    "bridge_opportunity_dna_theme",
    "bridge_opportunity_application",
)


def fact_inserts() -> list[tuple[str, str]]:
    """(table, INSERT … SELECT from staging) for every fact but the status spans."""
    opportunity_cols = [name for name, _ in OPPORTUNITY_COLUMNS]
    # Portal user ids become pseudonymous keys here; no id reaches the star schema.
    person_cols = {
        "submitter_id": "submitter_person_key",
        "owner_id": "owner_person_key",
        "scorer_id": "scorer_person_key",
    }
    targets, values = [], []
    for name in opportunity_cols:
        if name == "status":
            targets.append("status_key")
            values.append("st.status_key")
        elif name in person_cols:
            targets.append(person_cols[name])
            values.append(f"p_{name}.person_key")
        else:
            targets.append(name)
            values.append(f"s.{name}")
    person_joins = "\n".join(
        f"LEFT JOIN ddi_person_map p_{name} ON p_{name}.user_id = s.{name}" for name in person_cols
    )
    return [
        (
            "fact_opportunity",
            f"""INSERT INTO fact_opportunity ({", ".join(targets)}, batch_id)
                SELECT {", ".join(values)}, %(batch)s FROM stage_opportunity s
                JOIN dim_status st ON st.status_code = s.status
                {person_joins}""",
        ),
        (
            "fact_status_change",
            """INSERT INTO fact_status_change (status_change_id, opportunity_id, from_status_key,
                   to_status_key, changed_at, date_key, actor_person_key,
                   days_in_previous_status, reason, batch_id)
               SELECT s.id, s.opportunity_id, f.status_key, t.status_key, s.changed_at,
                   s.date_key, p.person_key, s.days_in_previous_status, s.reason, %(batch)s
               FROM stage_status_change s
               JOIN dim_status t ON t.status_code = s.to_status
               LEFT JOIN dim_status f ON f.status_code = s.from_status
               LEFT JOIN ddi_person_map p ON p.user_id = s.actor_id""",
        ),
        (
            "fact_support",
            """INSERT INTO fact_support (support_id, opportunity_id, person_key, supported_at,
                   date_key, batch_id)
               SELECT s.id, s.opportunity_id, p.person_key, s.created_at, s.date_key, %(batch)s
               FROM stage_support s LEFT JOIN ddi_person_map p ON p.user_id = s.user_id""",
        ),
        (
            "fact_benefit",
            """INSERT INTO fact_benefit (benefit_id, opportunity_id, realised_date_key,
                   recorded_date_key, hours_per_year, cash_per_year, recorded_by_person_key,
                   batch_id)
               SELECT s.id, s.opportunity_id, s.realised_date_key, s.recorded_date_key,
                   s.hours_per_year, s.cash_per_year, p.person_key, %(batch)s
               FROM stage_benefit s LEFT JOIN ddi_person_map p ON p.user_id = s.recorded_by_id""",
        ),
        (
            "bridge_opportunity_dna_theme",
            """INSERT INTO bridge_opportunity_dna_theme (opportunity_id, dna_theme_key, weight,
                   batch_id)
               SELECT s.opportunity_id, s.dna_theme_id, s.weight, %(batch)s
               FROM stage_bridge_dna s""",
        ),
        (
            "bridge_opportunity_application",
            # The version valid when the opportunity was submitted; failing that (an
            # application deleted before), its latest version.
            # Two hash joins and one sort (a lookup per row cost 4 s at a million
            # opportunities). Versions take their times from the audit trail, where two
            # concurrent transactions can leave ranges that overlap: DISTINCT ON keeps one
            # row per pair whatever happens, the latest version valid at submission.
            """INSERT INTO bridge_opportunity_application (opportunity_id, application_id,
                   application_key, weight, batch_id)
               WITH latest AS (
                   SELECT DISTINCT ON (application_id) application_id, application_key
                   FROM dim_application ORDER BY application_id, valid_from DESC,
                       application_key DESC
               )
               SELECT DISTINCT ON (s.opportunity_id, s.application_id)
                      s.opportunity_id, s.application_id,
                      coalesce(v.application_key, l.application_key), s.weight, %(batch)s
               FROM stage_bridge_app s
               JOIN latest l ON l.application_id = s.application_id
               LEFT JOIN dim_application v ON v.application_id = s.application_id
                   AND s.submitted_at >= v.valid_from AND s.submitted_at < v.valid_to
               ORDER BY s.opportunity_id, s.application_id, v.valid_from DESC NULLS LAST,
                   v.application_key DESC""",
        ),
    ]


def span_insert_sql(*, scope: str) -> str:
    """Rows of fact_opportunity_status_span, from the staged status changes (which hold every
    change of the opportunities in the batch) and the facts just loaded.

    ``scope`` is a condition on ``opportunity_id``. An opportunity's status at the end of a
    day is the one set by its last change that day or before, so a status left on the day it
    was entered spans no day; an opportunity with no status history (created directly in its
    status) counts from its submission. Rows depend on the data only, never on the day the
    batch runs: an open span has no end. The stage query orders each opportunity's changes
    once (the window that also gives ``days_in_previous_status``), so nothing is sorted here.
    """
    return f"""
INSERT INTO fact_opportunity_status_span (opportunity_id, status_key, from_date_key,
    to_date_key, submitted_date_key, batch_id)
SELECT c.opportunity_id, st.status_key, c.date_key, c.next_day_before_key,
       c.submitted_date_key, %(batch)s::uuid
FROM stage_status_change c
JOIN dim_status st ON st.status_code = c.to_status AND st.is_open
WHERE c.next_day_before_key IS NULL OR c.next_day_before_key >= c.date_key
UNION ALL
SELECT f.opportunity_id, f.status_key, f.submitted_date_key, NULL, f.submitted_date_key,
       %(batch)s::uuid
FROM fact_opportunity f
JOIN dim_status st ON st.status_key = f.status_key AND st.is_open
WHERE {scope.format(col="f.opportunity_id")}
  AND NOT EXISTS (
      -- Each opportunity with a history has one first change (nothing before it).
      SELECT 1 FROM stage_status_change c
      WHERE c.opportunity_id = f.opportunity_id AND c.days_in_previous_status IS NULL)"""


# The periodic snapshot, expanded from the spans up to the last successful batch's day.
DAILY_VIEW = """
CREATE VIEW fact_opportunity_daily AS
WITH as_of AS (
    SELECT to_char(as_of, 'YYYYMMDD')::int AS date_key
    FROM etl_batch WHERE state = 'succeeded' ORDER BY started_at DESC LIMIT 1
)
SELECT s.opportunity_id, d.date_key, s.status_key,
       d.date - to_date(s.submitted_date_key::text, 'YYYYMMDD') AS age_days,
       d.date - to_date(s.from_date_key::text, 'YYYYMMDD') AS days_in_status,
       s.batch_id
FROM fact_opportunity_status_span s
CROSS JOIN as_of
JOIN dim_date d ON d.date_key >= s.from_date_key
 AND d.date_key <= least(coalesce(s.to_date_key, as_of.date_key), as_of.date_key)"""


# Conditions on an opportunity id column ``{col}``: touched, touched deep, or any.
IN_TOUCHED = "{col} IN (SELECT opportunity_id FROM " + TOUCHED + ")"
IN_TOUCHED_DEEP = "{col} IN (SELECT opportunity_id FROM " + TOUCHED + " WHERE deep)"
EVERY = "TRUE"
