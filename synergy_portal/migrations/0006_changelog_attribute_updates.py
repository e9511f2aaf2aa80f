# An update of an opportunity that changes none of the columns its child facts depend on
# (status, is_restricted, submitted_at) is logged with op "A": the DDI extract then rewrites
# only the opportunity's fact_opportunity row, not its status changes, spans, supports,
# benefits and bridges. Editing a title or re-planning an owner no longer costs a rewrite of
# everything the opportunity has.

import importlib

from django.db import migrations, models

changelog = importlib.import_module("synergy_portal.migrations.0003_changelog")

TABLE = "opportunities_opportunity"
# Columns the child facts read from the opportunity row: whether it has left draft (status),
# whether its status-change reasons are hidden (is_restricted), and its submission moment
# (status spans, the application version on the bridge).
STRUCTURAL = ("status", "is_restricted", "submitted_at")


def _function_only(sql: str) -> str:
    """The CREATE FUNCTION part of 0003's SQL (the triggers exist and call it by name)."""
    return sql[: sql.index("CREATE TRIGGER")]


ORIGINAL = _function_only(changelog._function(TABLE, "id"))
old_cols = ", ".join(f"o.{c}" for c in STRUCTURAL)
new_cols = ", ".join(f"n.{c}" for c in STRUCTURAL)
UPDATED = ORIGINAL.replace(
    f"""SELECT '{TABLE}', n.id, n.id, 'U', pg_current_xact_id()::text::bigint, now() FROM ddi_new_rows n;""",
    f"""SELECT '{TABLE}', n.id, n.id,
               CASE WHEN ({old_cols}) IS DISTINCT FROM ({new_cols}) THEN 'U' ELSE 'A' END,
               pg_current_xact_id()::text::bigint, now()
        FROM ddi_new_rows n JOIN ddi_old_rows o ON o.id = n.id;""",
)
assert UPDATED != ORIGINAL, "the update branch of 0003's function was not found"


class Migration(migrations.Migration):
    dependencies = [
        ("synergy_portal", "0005_changelog_delivery_cycles"),
    ]

    operations = [
        migrations.AlterField(
            model_name="changelog",
            name="op",
            field=models.CharField(
                choices=[
                    ("I", "Insert"),
                    ("U", "Update"),
                    ("D", "Delete"),
                    ("A", "Attributes only"),
                ],
                max_length=1,
            ),
        ),
        migrations.RunSQL(UPDATED, ORIGINAL),
    ]
