"""The seven Synergy DNA themes of the force technology strategy, with a hint for officers."""

from __future__ import annotations

from django.db import migrations

# (code, name, hint): the order is the position shown on forms and dashboards.
DNA_THEMES = [
    (
        "data-first",
        "Data First",
        "Data is captured once, correctly, and flows to where it is needed.",
    ),
    (
        "unparalleled-user-experience",
        "Unparalleled User Experience",
        "Systems are quick and simple to use, on any device, first time.",
    ),
    (
        "ci-as-standard",
        "CI as Standard",
        "We keep making small improvements, led by the people who do the work.",
    ),
    (
        "eradicate-technical-debt",
        "Eradicate Technical Debt",
        "Old, unsupported or duplicated systems are fixed or retired, not worked around.",
    ),
    (
        "ubiquitous-connectivity",
        "Ubiquitous Connectivity",
        "Officers and staff can work and stay connected wherever the job takes them.",
    ),
    (
        "platform-for-future",
        "Platform for Future",
        "Shared platforms we can build on again, not one-off fixes for one team.",
    ),
    (
        "uplift-our-capability",
        "Uplift our Capability",
        "People have the skills, training and support to get the most from technology.",
    ),
]


def themes_create(apps, schema_editor):
    DnaTheme = apps.get_model("journeys", "DnaTheme")
    for position, (code, name, hint) in enumerate(DNA_THEMES, start=1):
        DnaTheme.objects.update_or_create(
            code=code, defaults={"name": name, "hint": hint, "position": position}
        )


def themes_delete(apps, schema_editor):
    DnaTheme = apps.get_model("journeys", "DnaTheme")
    DnaTheme.objects.filter(code__in=[code for code, _, _ in DNA_THEMES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("journeys", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(themes_create, themes_delete),
    ]
