"""Similar opportunities: rare shared words count, common ones alone do not; permissions
apply; everything shown is escaped."""

from __future__ import annotations

import pytest

from opportunities.models import Status
from opportunities.selectors_similar import lexeme_stats, opportunity_similar
from tests.opportunities.factories import DraftFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

VIDEO = {
    "title": "Body-worn video upload times out in the car",
    "problem": "Uploading body-worn video from the car keeps timing out, so I queue at the station.",
    "better": "",
}


def titles(matches) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.opportunity.title for m in matches]


def test_a_rewording_finds_the_existing_one(staff) -> None:
    OpportunityFactory(**VIDEO)
    OpportunityFactory(
        title="Duty rota not visible on phones", problem="I ring the office.", better=""
    )

    matches = opportunity_similar(
        user=staff,
        title="Video upload keeps failing",
        problem="Body-worn video will not upload from the car.",
    )

    assert titles(matches) == [VIDEO["title"]]
    assert {"video", "upload"} <= {w.lower() for w in matches[0].shared_words}
    assert "<mark>video</mark>" in matches[0].title_html


def test_one_shared_word_is_not_similar(staff) -> None:
    OpportunityFactory(**VIDEO)

    assert (
        opportunity_similar(
            user=staff, title="Printer jams", problem="The printer by the car park jams."
        )
        == []
    )


def test_restricted_drafts_and_merged_are_never_suggested(staff, other_staff) -> None:
    OpportunityFactory(**VIDEO, classification="official_sensitive", is_restricted=True)
    DraftFactory(**VIDEO, submitter=other_staff)
    OpportunityFactory(**VIDEO, status=Status.WITHDRAWN)

    assert opportunity_similar(user=staff, title=VIDEO["title"], problem=VIDEO["problem"]) == []


def test_the_ci_team_is_shown_restricted_ones(ci) -> None:
    OpportunityFactory(**VIDEO, classification="official_sensitive", is_restricted=True)

    assert titles(opportunity_similar(user=ci, title=VIDEO["title"], problem=VIDEO["problem"])) == [
        VIDEO["title"]
    ]


def test_the_draft_being_typed_is_excluded(staff) -> None:
    mine = DraftFactory(**VIDEO, submitter=staff)
    other = OpportunityFactory(**VIDEO)

    matches = opportunity_similar(
        user=staff, title=VIDEO["title"], problem=VIDEO["problem"], exclude_id=mine.pk
    )

    assert [m.opportunity.pk for m in matches] == [other.pk]


def test_markup_in_existing_text_is_escaped(staff) -> None:
    OpportunityFactory(
        title="<script>alert(1)</script> video upload times out",
        problem="<img src=x onerror=alert(1)> video upload from the car times out",
        better="",
    )

    match = opportunity_similar(user=staff, title="video upload times out", problem="from the car")[
        0
    ]

    assert "<script>" not in match.title_html and "&lt;script&gt;" in match.title_html
    unmarked = match.snippet_html.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in unmarked and ">" not in unmarked


def test_at_most_five_and_nothing_for_empty_text(staff) -> None:
    for n in range(8):
        OpportunityFactory(
            title=f"Video upload times out in car {n}", problem=VIDEO["problem"], better=""
        )

    assert len(opportunity_similar(user=staff, title=VIDEO["title"], problem=VIDEO["problem"])) == 5
    assert opportunity_similar(user=staff, title="  ", problem="") == []
    assert opportunity_similar(user=staff, title="the and of", problem="") == []


def test_word_statistics_come_from_pg_stats(staff) -> None:
    stats = lexeme_stats()

    assert stats.floor > 0
    assert isinstance(stats.frequencies, dict)
