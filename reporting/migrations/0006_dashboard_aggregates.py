"""Schema ``dash``: the dashboards' aggregate tables, rebuilt from ``ddi`` after each batch by
reporting.dashboards.aggregates. Not part of what DDI receives (the reader role is granted
``ddi`` only), so they are not Django models and not in the data dictionary.

Unlogged: they are derived, so they skip the write-ahead log. After a server crash PostgreSQL
empties them all, ``dash.built`` included, and the dashboards read ``ddi`` until the next
build."""

import re

from django.db import migrations

SLICE = """
    theme_key bigint NOT NULL,       -- 0: every DNA theme
    department_key bigint,           -- 0: every department; empty: none given
    journey_key bigint,              -- 0: every journey; empty: none given
"""
CREATE = """
CREATE SCHEMA IF NOT EXISTS dash;
CREATE UNLOGGED TABLE dash.built (
    batch_id uuid PRIMARY KEY,
    built_at timestamptz NOT NULL,
    seconds double precision NOT NULL,
    settings jsonb NOT NULL,
    row_counts jsonb NOT NULL,
    generation smallint NOT NULL,
    fingerprint text NOT NULL,
    first_benefit_date_key integer
);
"""
# Two generations of each table: a build fills the one not on show (emptied first) and then
# points dash.built at it, so nobody ever reads a half-built generation and no dead rows pile
# up. The build creates the indexes after loading.
TABLES = """
CREATE UNLOGGED TABLE dash.{gen}submitted ({SLICE}
    date_key integer,
    status_key smallint NOT NULL,
    position integer NOT NULL,
    outcome text NOT NULL,
    reason text,
    n bigint NOT NULL
);
CREATE UNLOGGED TABLE dash.{gen}delivered ({SLICE}
    date_key integer NOT NULL,
    sized text NOT NULL,
    cycle text NOT NULL,
    planned boolean NOT NULL,
    by_end boolean NOT NULL,
    n bigint NOT NULL,
    recorded bigint NOT NULL,
    estimated_hours double precision,
    estimated_cash numeric,
    realised_cash numeric,
    realised_hours numeric
);
CREATE UNLOGGED TABLE dash.{gen}lags ({SLICE}
    measure text NOT NULL,
    date_key integer NOT NULL,
    days integer NOT NULL,
    n bigint NOT NULL
);
CREATE UNLOGGED TABLE dash.{gen}open ({SLICE}
    status_key smallint NOT NULL,
    age_bucket smallint,
    step_key bigint,
    n bigint NOT NULL,
    impact double precision,
    scored bigint NOT NULL
);
CREATE UNLOGGED TABLE dash.{gen}overdue ({SLICE}
    owner_person_key varchar(64),
    first_response bigint NOT NULL,
    update_due bigint NOT NULL
);
CREATE UNLOGGED TABLE dash.{gen}applications ({SLICE}
    application_id bigint NOT NULL,
    name text,
    debt smallint,
    lifecycle text,
    n bigint NOT NULL,
    impact double precision NOT NULL
);
CREATE UNLOGGED TABLE dash.{gen}calibrated ({SLICE}
    date_key integer NOT NULL,
    assessor_person_key varchar(64),
    row_theme_key bigint NOT NULL,   -- 0: the opportunity; else one of its DNA themes
    n bigint NOT NULL,
    estimated_cash numeric NOT NULL,
    realised_cash numeric NOT NULL
);
CREATE UNLOGGED TABLE dash.{gen}benefits ({SLICE}
    date_key integer NOT NULL,
    n bigint NOT NULL,
    cash numeric,
    hours numeric
);
CREATE UNLOGGED TABLE dash.{gen}engaged ({SLICE}
    person_key varchar(64) NOT NULL,
    submitted boolean NOT NULL,      -- submissions; else supports
    days integer[] NOT NULL          -- the distinct days (date keys), in order
);
CREATE UNLOGGED TABLE dash.{gen}supported (
    theme_key bigint NOT NULL,
    department_key bigint,
    journey_key bigint,
    opportunity_id bigint NOT NULL,
    reference varchar(16) NOT NULL,
    title text,
    status_key smallint NOT NULL,
    supporters integer NOT NULL,
    impact double precision,
    is_restricted boolean NOT NULL
);
"""
GENERATIONS = "".join(
    re.sub(r"dash\.\{gen\}(\w+)", rf"dash.\g<1>_{n}", TABLES.replace("{SLICE}", SLICE))
    for n in (0, 1)
)


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0005_status_since"),
    ]

    operations = [migrations.RunSQL(CREATE + GENERATIONS, reverse_sql="DROP SCHEMA dash CASCADE")]
