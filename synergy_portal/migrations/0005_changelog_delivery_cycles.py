# The DDI extract now reads delivery cycles (dim_delivery_cycle): log their changes as
# reference data (no opportunity), so an incremental batch reloads the dimensions when a cycle
# is added, renamed, re-planned or removed. An opportunity moving to another cycle is logged
# already, as a change of opportunities_opportunity.

import importlib

from django.db import migrations

# The change-log trigger as 0003 builds it, so every tracked table logs the same way.
changelog = importlib.import_module("synergy_portal.migrations.0003_changelog")

TABLE = "opportunities_deliverycycle"


class Migration(migrations.Migration):
    dependencies = [
        ("synergy_portal", "0004_changelog_brin"),
        ("opportunities", "0003_attachmentevent_benefitevent_commentevent_and_more"),
    ]

    operations = [
        migrations.RunSQL(changelog._function(TABLE, None), changelog._drop(TABLE)),
    ]
