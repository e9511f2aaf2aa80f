"""Schema ``dash``: the dashboards' aggregate tables, rebuilt from ``ddi`` after each batch by
reporting.dashboards.aggregates. Not part of what DDI receives (the reader role is granted
``ddi`` only), so they are not Django models and not in the data dictionary."""

from django.db import migrations

SLICE = """
    theme_key bigint NOT NULL,       -- 0: every DNA theme
    department_key bigint,           -- 0: every department; empty: none given
    journey_key bigint,              -- 0: every journey; empty: none given
"""
CREATE = f"""
CREATE SCHEMA IF NOT EXISTS dash;
CREATE TABLE dash.built (
    batch_id uuid PRIMARY KEY,
    built_at timestamptz NOT NULL,
    seconds double precision NOT NULL,
    settings jsonb NOT NULL,
    row_counts jsonb NOT NULL
);
CREATE TABLE dash.submitted ({SLICE}
    date_key integer,
    status_key smallint NOT NULL,
    position integer NOT NULL,
    outcome text NOT NULL,
    reason text,
    n bigint NOT NULL
);
CREATE INDEX dash_submitted_slice ON dash.submitted (theme_key, department_key, journey_key, date_key);
CREATE TABLE dash.delivered ({SLICE}
    date_key integer NOT NULL,
    sized text NOT NULL,
    cycle text NOT NULL,
    planned boolean NOT NULL,
    by_end boolean NOT NULL,
    n bigint NOT NULL,
    estimated_cash numeric,
    realised_cash numeric,
    realised_hours numeric
);
CREATE INDEX dash_delivered_slice ON dash.delivered (theme_key, department_key, journey_key, date_key);
CREATE TABLE dash.lags ({SLICE}
    measure text NOT NULL,
    date_key integer NOT NULL,
    days integer NOT NULL,
    n bigint NOT NULL
);
CREATE INDEX dash_lags_slice ON dash.lags (theme_key, department_key, journey_key, measure, date_key);
CREATE TABLE dash.open ({SLICE}
    status_key smallint NOT NULL,
    age_bucket smallint,
    step_key bigint,
    n bigint NOT NULL,
    impact double precision,
    scored bigint NOT NULL
);
CREATE INDEX dash_open_slice ON dash.open (theme_key, department_key, journey_key);
CREATE TABLE dash.overdue ({SLICE}
    owner_person_key varchar(64),
    first_response bigint NOT NULL,
    update_due bigint NOT NULL
);
CREATE INDEX dash_overdue_slice ON dash.overdue (theme_key, department_key, journey_key);
CREATE TABLE dash.applications ({SLICE}
    application_id bigint NOT NULL,
    name text,
    debt smallint,
    lifecycle text,
    n bigint NOT NULL,
    impact double precision NOT NULL
);
CREATE INDEX dash_applications_slice ON dash.applications (theme_key, department_key, journey_key);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0005_status_since"),
    ]

    operations = [migrations.RunSQL(CREATE, reverse_sql="DROP SCHEMA dash CASCADE")]
