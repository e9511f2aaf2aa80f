"""The triage board: moves (between and within columns), ranks, WIP limits, stale and
concurrent moves, permissions, the page, filters, swimlanes, "load more", live updates and a
query count that does not grow with the cards."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opportunities.errors import ApplicationError
from opportunities.models import (
    BoardColumn,
    DeliveryCycle,
    Opportunity,
    OpportunityEvent,
    Score,
    ScoringModel,
    Status,
    StatusChange,
)
from opportunities.services import workflow
from opportunities.services.board import (
    MSG_MOVE_FORBIDDEN,
    MSG_OVER_LIMIT,
    board_move,
    rank_between,
)
from synergy_portal.models import OutboxMessage, Role
from tests.journeys.factories import ApplicationFactory, DepartmentFactory, JourneyFactory
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/board/"}


@pytest.fixture
def ci(db):  # type: ignore[no-untyped-def]
    return UserFactory(roles={Role.CI_TEAM})


def column(status: str) -> list[str]:
    return list(
        Opportunity.objects.filter(status=status)
        .order_by("board_rank", "pk")
        .values_list("reference", flat=True)
    )


def cards(status: str, n: int) -> list[Opportunity]:
    """``n`` cards in ``status`` with distinct, increasing ranks."""
    made = []
    key = None
    for _ in range(n):
        key = rank_between(key, None)
        made.append(OpportunityFactory(status=status, board_rank=key))
    return made


def score(opp: Opportunity) -> Score:
    model, _ = ScoringModel.objects.get_or_create(
        version=1, defaults={"name": "v1", "is_active": True}
    )
    s = Score.objects.create(
        opportunity=opp,
        model=model,
        inputs={},
        breakdown=[],
        hours_per_year=10,
        cost_per_year=300,
        impact=300,
        priority=150,
        effort_days=2,
        fits_two_speed=True,
        is_current=True,
    )
    Opportunity.objects.filter(pk=opp.pk).update(current_score=s, current_priority=150)
    return s


# --- Moves --------------------------------------------------------------------------------


def test_a_move_to_another_column_goes_through_the_workflow_and_lands_between_neighbours(
    ci,
) -> None:
    a, b, c = cards(Status.TRIAGE, 3)
    moving = OpportunityFactory(status=Status.SUBMITTED)
    result = board_move(
        actor=ci,
        opportunity_id=moving.pk,
        to_status=Status.TRIAGE,
        expected_version=1,
        before_id=a.pk,
        after_id=b.pk,
    )
    assert result.changed_column and result.opportunity.version == 2
    assert column(Status.TRIAGE) == [a.reference, moving.reference, b.reference, c.reference]
    change = StatusChange.objects.get(opportunity=moving)
    assert (change.from_status, change.to_status, change.actor) == ("submitted", "triage", ci)
    assert OutboxMessage.objects.filter(topic="opportunity.status_changed").count() == 1


def test_a_reorder_writes_one_row_and_renumbers_nothing(ci) -> None:
    a, b, c, d = cards(Status.BACKLOG, 4)
    ranks_before = dict(Opportunity.objects.values_list("pk", "board_rank"))
    events_before = OpportunityEvent.objects.count()
    board_move(
        actor=ci,
        opportunity_id=d.pk,
        to_status=Status.BACKLOG,
        expected_version=1,
        before_id=a.pk,
        after_id=b.pk,
    )
    assert column(Status.BACKLOG) == [a.reference, d.reference, b.reference, c.reference]
    ranks_after = dict(Opportunity.objects.values_list("pk", "board_rank"))
    assert {pk for pk in ranks_after if ranks_after[pk] != ranks_before[pk]} == {d.pk}
    # Audited: one update event for the moved card, with its new rank and version.
    event = OpportunityEvent.objects.order_by("-pgh_id").first()
    assert OpportunityEvent.objects.count() == events_before + 1
    assert (event.pgh_obj_id, event.board_rank, event.version) == (d.pk, ranks_after[d.pk], 2)
    assert not StatusChange.objects.exists()


def test_cards_sharing_the_default_key_are_spread_once_then_moves_touch_one_row(ci) -> None:
    tied = [OpportunityFactory(status=Status.ASSESSING) for _ in range(5)]  # all rank "n"
    moving = tied[4]
    board_move(
        actor=ci,
        opportunity_id=moving.pk,
        to_status=Status.ASSESSING,
        expected_version=1,
        before_id=tied[1].pk,
        after_id=tied[2].pk,
    )
    order = [tied[0], tied[1], moving, tied[2], tied[3]]
    assert column(Status.ASSESSING) == [o.reference for o in order]
    ranks = dict(Opportunity.objects.values_list("pk", "board_rank"))
    assert len({ranks[o.pk] for o in order}) == 5
    board_move(
        actor=ci,
        opportunity_id=tied[0].pk,
        to_status=Status.ASSESSING,
        expected_version=1,
        before_id=tied[3].pk,
    )
    again = dict(Opportunity.objects.values_list("pk", "board_rank"))
    assert {pk for pk in again if again[pk] != ranks[pk]} == {tied[0].pk}
    assert column(Status.ASSESSING)[-1] == tied[0].reference


@pytest.mark.parametrize(
    ("position", "expected"),
    [("top", [3, 0, 1, 2]), ("bottom", [0, 1, 2, 3]), (2, [0, 3, 1, 2])],
)
def test_positions_from_the_move_menu(ci, position, expected) -> None:  # type: ignore[no-untyped-def]
    existing = cards(Status.TRIAGE, 3)
    moving = OpportunityFactory(status=Status.SUBMITTED)
    board_move(
        actor=ci,
        opportunity_id=moving.pk,
        to_status=Status.TRIAGE,
        expected_version=1,
        position=position,
    )
    everyone = [*existing, moving]
    assert column(Status.TRIAGE) == [everyone[i].reference for i in expected]


def test_up_and_down_one_within_a_column(ci) -> None:
    a, b, c = cards(Status.TRIAGE, 3)
    board_move(
        actor=ci, opportunity_id=c.pk, to_status=Status.TRIAGE, expected_version=1, position="up"
    )
    assert column(Status.TRIAGE) == [a.reference, c.reference, b.reference]
    board_move(
        actor=ci, opportunity_id=a.pk, to_status=Status.TRIAGE, expected_version=1, position="down"
    )
    assert column(Status.TRIAGE) == [c.reference, a.reference, b.reference]


def test_a_card_entering_a_column_from_elsewhere_joins_its_end(ci) -> None:
    a, b = cards(Status.TRIAGE, 2)
    other = OpportunityFactory(status=Status.SUBMITTED)
    workflow.opportunity_transition(actor=ci, opportunity_id=other.pk, to_status=Status.TRIAGE)
    assert column(Status.TRIAGE) == [a.reference, b.reference, other.reference]


# --- Refusals -----------------------------------------------------------------------------


def test_a_stale_move_is_refused_with_the_current_state_and_changes_nothing(ci) -> None:
    opp = OpportunityFactory(status=Status.SUBMITTED)
    board_move(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE, expected_version=1)
    rank = Opportunity.objects.get(pk=opp.pk).board_rank
    with pytest.raises(ApplicationError) as caught:
        board_move(actor=ci, opportunity_id=opp.pk, to_status=Status.ASSESSING, expected_version=1)
    assert "it is now “In triage” (version 2)" in caught.value.message
    opp.refresh_from_db()
    assert (opp.status, opp.version, opp.board_rank) == ("triage", 2, rank)
    assert StatusChange.objects.filter(opportunity=opp).count() == 1


def test_an_illegal_jump_is_refused(ci) -> None:
    opp = OpportunityFactory(status=Status.SUBMITTED)
    with pytest.raises(ApplicationError) as caught:
        board_move(actor=ci, opportunity_id=opp.pk, to_status=Status.BACKLOG, expected_version=1)
    assert (
        caught.value.message == "An opportunity cannot move from “Submitted” to “In the backlog”."
    )
    opp.refresh_from_db()
    assert opp.status == Status.SUBMITTED and opp.version == 1


def test_a_column_that_is_not_on_the_board_is_refused(ci) -> None:
    opp = OpportunityFactory(status=Status.IN_DELIVERY)
    with pytest.raises(ApplicationError):
        board_move(actor=ci, opportunity_id=opp.pk, to_status=Status.DELIVERED, expected_version=1)


@pytest.mark.parametrize(
    ("from_", "to", "message"),
    [
        (Status.TRIAGE, Status.BACKLOG, workflow.MSG_NEEDS_SCORE),
        (Status.BACKLOG, Status.IN_DELIVERY, workflow.MSG_NEEDS_OWNER_AND_CYCLE),
    ],
)
def test_moves_without_the_guards_data_are_refused_whole(ci, from_, to, message) -> None:  # type: ignore[no-untyped-def]
    opp = OpportunityFactory(status=from_)
    rank = opp.board_rank
    with pytest.raises(ApplicationError) as caught:
        board_move(actor=ci, opportunity_id=opp.pk, to_status=to, expected_version=1)
    assert caught.value.message == message
    opp.refresh_from_db()
    assert (opp.status, opp.version, opp.board_rank) == (from_, 1, rank)
    assert not OutboxMessage.objects.exists()


def test_backlog_to_delivery_with_owner_and_cycle_is_allowed(ci) -> None:
    opp = OpportunityFactory(status=Status.BACKLOG, owner=ci)
    score(opp)
    cycle = DeliveryCycle.objects.create(
        name="C1", starts_on=date(2026, 11, 2), ends_on=date(2026, 11, 5), capacity_days=8
    )
    Opportunity.objects.filter(pk=opp.pk).update(delivery_cycle=cycle)
    board_move(actor=ci, opportunity_id=opp.pk, to_status=Status.IN_DELIVERY, expected_version=1)
    assert Opportunity.objects.get(pk=opp.pk).status == Status.IN_DELIVERY


def test_staff_cannot_move_cards(ci) -> None:
    staff = UserFactory()
    opp = OpportunityFactory(status=Status.SUBMITTED, submitter=staff)
    with pytest.raises(ApplicationError) as caught:
        board_move(actor=staff, opportunity_id=opp.pk, to_status=Status.TRIAGE, expected_version=1)
    assert caught.value.message == MSG_MOVE_FORBIDDEN and caught.value.extra == {"forbidden": True}


def test_a_full_column_asks_before_taking_another_card(ci) -> None:
    BoardColumn.objects.create(status=Status.TRIAGE, wip_limit=2)
    cards(Status.TRIAGE, 2)
    opp = OpportunityFactory(status=Status.SUBMITTED)
    with pytest.raises(ApplicationError) as caught:
        board_move(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE, expected_version=1)
    assert caught.value.message == MSG_OVER_LIMIT.format(column="In triage", limit=2, count=2)
    assert caught.value.extra["over_limit"] is True
    assert Opportunity.objects.get(pk=opp.pk).status == Status.SUBMITTED
    board_move(
        actor=ci,
        opportunity_id=opp.pk,
        to_status=Status.TRIAGE,
        expected_version=1,
        confirm_over_limit=True,
    )
    assert Opportunity.objects.get(pk=opp.pk).status == Status.TRIAGE


@pytest.mark.django_db(transaction=True)
def test_two_people_moving_the_same_card_at_once_exactly_one_wins() -> None:
    ci_a, ci_b = UserFactory(roles={Role.CI_TEAM}), UserFactory(roles={Role.CI_TEAM})
    a, b = cards(Status.TRIAGE, 2)
    opp = OpportunityFactory(status=Status.SUBMITTED)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def move(name: str, actor, before_id: int) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=10)
            board_move(
                actor=actor,
                opportunity_id=opp.pk,
                to_status=Status.TRIAGE,
                expected_version=1,
                before_id=before_id,
            )
            outcomes[name] = "won"
        except ApplicationError as exc:
            outcomes[name] = exc.message
        finally:
            connection.close()

    threads = [
        threading.Thread(target=move, args=("a", ci_a, a.pk)),
        threading.Thread(target=move, args=("b", ci_b, b.pk)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(v == "won" for v in outcomes.values()) == [False, True]
    assert "Someone else changed this opportunity" in next(
        v for v in outcomes.values() if v != "won"
    )
    opp.refresh_from_db()
    assert opp.version == 2 and opp.status == Status.TRIAGE
    assert StatusChange.objects.filter(opportunity=opp).count() == 1


# --- The page and its endpoints -------------------------------------------------------------


def test_staff_get_403_and_managers_and_journey_owners_see_it_read_only(client) -> None:
    OpportunityFactory(status=Status.SUBMITTED)
    client.force_login(UserFactory())
    assert client.get("/board/").status_code == 403
    assert client.post("/board/cards/SO-2026-00001/move/", {"version": 1}).status_code == 403
    for role in (Role.MANAGER, Role.JOURNEY_OWNER):
        client.force_login(UserFactory(roles={role}))
        page = client.get("/board/")
        assert page.status_code == 200
        assert b"Only the CI team can move cards" in page.content
        assert b"app-board-card__move" not in page.content


def test_the_move_menu_carries_the_version_the_card_showed(client, ci) -> None:
    opp = OpportunityFactory(status=Status.TRIAGE)
    client.force_login(ci)
    board = client.get("/board/").content.decode()
    assert f"/board/cards/{opp.reference}/move/?menu=1&amp;version=1" in board
    menu = client.get(f"/board/cards/{opp.reference}/move/?menu=1&version=1", **HX).content.decode()
    assert 'name="version" value="1"' in menu
    assert 'value="to:assessing"' in menu and 'value="to:backlog"' in menu
    assert 'value="to:submitted"' not in menu  # not a move the workflow allows
    # Without JavaScript the same address is a page with the whole form.
    page = client.get(f"/board/cards/{opp.reference}/move/").content.decode()
    assert "<h1" in page and "At the top" in page


def test_a_move_by_form_without_javascript_redirects_back_to_the_board(client, ci) -> None:
    opp = OpportunityFactory(status=Status.SUBMITTED)
    client.force_login(ci)
    response = client.post(
        f"/board/cards/{opp.reference}/move/",
        {"version": 1, "move": "to:triage", "next": "owner=none"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/board/?owner=none#card-{opp.reference}"
    assert Opportunity.objects.get(pk=opp.pk).status == Status.TRIAGE


def test_an_htmx_move_answers_with_both_columns_out_of_band(client, ci) -> None:
    opp = OpportunityFactory(status=Status.SUBMITTED)
    client.force_login(ci)
    response = client.post(
        f"/board/cards/{opp.reference}/move/",
        {"version": 1, "to": "triage", "shown_triage": 15},
        **HX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="col-list-submitted" hx-swap-oob="innerHTML"' in body
    assert 'id="col-list-triage" hx-swap-oob="innerHTML"' in body
    assert f'id="card-{opp.reference}"' in body and 'data-version="2"' in body
    assert "HX-Trigger-After-Settle" in response.headers


def test_a_stale_drag_is_refused_with_409_the_message_and_the_card_where_it_is(client, ci) -> None:
    opp = OpportunityFactory(status=Status.SUBMITTED)
    board_move(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE, expected_version=1)
    client.force_login(ci)
    response = client.post(
        f"/board/cards/{opp.reference}/move/", {"version": 1, "to": "assessing"}, **HX
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "Someone else changed this opportunity" in body and "“In triage” (version 2)" in body
    triage = body.split('id="col-list-triage"')[1].split("</ol>")[0]
    assert f'id="card-{opp.reference}"' in triage and 'data-version="2"' in triage
    assert Opportunity.objects.get(pk=opp.pk).status == Status.TRIAGE


def test_an_over_limit_drag_offers_to_move_it_anyway(client, ci) -> None:
    BoardColumn.objects.create(status=Status.TRIAGE, wip_limit=1)
    cards(Status.TRIAGE, 1)
    opp = OpportunityFactory(status=Status.SUBMITTED)
    client.force_login(ci)
    response = client.post(
        f"/board/cards/{opp.reference}/move/", {"version": 1, "to": "triage"}, **HX
    )
    assert response.status_code == 409
    assert b"Move it anyway" in response.content and b'name="confirm" value="1"' in response.content
    again = client.post(
        f"/board/cards/{opp.reference}/move/", {"version": 1, "to": "triage", "confirm": "1"}, **HX
    )
    assert again.status_code == 200
    assert Opportunity.objects.get(pk=opp.pk).status == Status.TRIAGE


def test_the_board_shows_columns_cards_and_wip(client, ci) -> None:
    BoardColumn.objects.create(status=Status.TRIAGE, wip_limit=1)
    journey = JourneyFactory(name="Custody booking-in")
    opp = OpportunityFactory(status=Status.TRIAGE, journey=journey, owner=ci, supporters_count=4)
    cards(Status.TRIAGE, 1)
    client.force_login(ci)
    body = client.get("/board/").content.decode()
    for label in ("Submitted", "In triage", "Being assessed", "In the backlog", "In delivery"):
        assert f">{label}</h2>" in body
    assert opp.reference in body and "Custody booking-in" in body
    assert "WIP limit 1" in body and "over by 1" in body
    assert 'src="/static/js/board.js" type="module"' in body
    assert "<script>" not in body and " onclick=" not in body and " style=" not in body


def test_filters_narrow_the_cards_and_stay_in_the_urls(client, ci) -> None:
    journey, dept, app = JourneyFactory(), DepartmentFactory(), ApplicationFactory()
    mine = OpportunityFactory(status=Status.TRIAGE, owner=ci, journey=journey, department=dept)
    mine.applications.add(app)
    score(mine)
    other = OpportunityFactory(status=Status.TRIAGE, title="Something else entirely")
    client.force_login(ci)
    for query in (
        "owner=me",
        f"owner={ci.pk}",
        f"journey={journey.pk}",
        f"department={dept.pk}",
        f"application={app.pk}",
        "two_speed=1",
        f"q={mine.reference}",
    ):
        body = client.get(f"/board/?{query}").content.decode()
        assert f'id="card-{mine.reference}"' in body, query
        assert f'id="card-{other.reference}"' not in body, query
        assert f"{query}&amp;card={mine.reference}" in body, query
    body = client.get("/board/?owner=none").content.decode()
    assert f'id="card-{other.reference}"' in body and f'id="card-{mine.reference}"' not in body


@pytest.mark.parametrize("lanes", ["journey", "department", "theme"])
def test_swimlanes(client, ci, lanes) -> None:  # type: ignore[no-untyped-def]
    journey = JourneyFactory(name="Stop and search recording")
    opp = OpportunityFactory(status=Status.BACKLOG, journey=journey)
    client.force_login(ci)
    body = client.get(f"/board/?lanes={lanes}").content.decode()
    assert 'id="board-lanes"' in body and f'id="card-{opp.reference}"' in body
    if lanes == "journey":
        assert "Stop and search recording" in body


def _lane_cells(body: str) -> dict[tuple[str, str], list[str]]:
    """{(lane title, status): [card references, in order]} from a swimlane board."""
    cells = {}
    for section in body.split('<section class="app-board__lane"')[1:]:
        title = (
            section.split('class="app-board__lane-title"')[1].split(">", 1)[1].split(" <span")[0]
        )
        for cell in section.split('<ol class="app-board__list app-board__list--lane"')[1:]:
            status = cell.split('data-status="')[1].split('"')[0]
            listed = cell.split("</ol>")[0]
            cells[(title, status)] = [
                chunk.split('"')[0]
                for chunk in listed.split('<li class="app-board-card')[1:]
                for chunk in [chunk.split('id="card-')[1]]
            ]
    return cells


def test_swimlanes_put_each_card_in_its_lane_and_column_with_counts(client, ci) -> None:
    crime, custody = JourneyFactory(name="Crime recording"), JourneyFactory(name="Custody")
    key, made = None, []
    for _ in range(5):
        key = rank_between(key, None)
        made.append(OpportunityFactory(status=Status.TRIAGE, journey=crime, board_rank=key))
    held = OpportunityFactory(status=Status.BACKLOG, journey=custody, owner=ci)
    loose = OpportunityFactory(status=Status.SUBMITTED, journey=None)
    client.force_login(ci)
    body = client.get("/board/?lanes=journey").content.decode()
    cells = _lane_cells(body)
    # The top three of a cell in board order, and a link to the rest.
    assert cells[("Crime recording", "triage")] == [o.reference for o in made[:3]]
    assert "All 5 in Crime recording" in body
    assert cells[("Custody", "backlog")] == [held.reference]
    assert cells[("No journey yet", "submitted")] == [loose.reference]
    assert all(
        not refs
        for (lane, status), refs in cells.items()
        if lane == "Custody" and status != "backlog"
    )
    # Filters narrow every lane; a lane left empty is not drawn.
    mine = _lane_cells(client.get("/board/?lanes=journey&owner=me").content.decode())
    assert {lane for lane, _status in mine} == {"Custody"}
    assert mine[("Custody", "backlog")] == [held.reference]


def test_load_more_pages_through_a_column_without_repeats(client, ci) -> None:
    made = cards(Status.ASSESSING, 40)
    client.force_login(ci)
    seen: list[str] = []
    body = client.get("/board/").content.decode()
    listed = body.split('id="col-list-assessing"')[1].split("</ol>")[0]
    seen += [o.reference for o in made if f'id="card-{o.reference}"' in listed]
    url = (
        listed.split('class="app-board__more"')[1]
        .split('href="')[1]
        .split('"')[0]
        .replace("&amp;", "&")
    )
    while url:
        page = client.get(url, **HX).content.decode()
        seen += [o.reference for o in made if f'id="card-{o.reference}"' in page]
        url = (
            page.split('class="app-board__more"')[1]
            .split('href="')[1]
            .split('"')[0]
            .replace("&amp;", "&")
            if 'class="app-board__more"' in page
            else ""
        )
    assert seen == [o.reference for o in made]
    # Without JavaScript the same link is a page of its own.
    assert client.get("/board/columns/assessing/").status_code == 200


def test_live_updates_answer_204_until_something_changes(client, ci) -> None:
    opp = OpportunityFactory(status=Status.SUBMITTED)
    client.force_login(ci)
    marker = OpportunityEvent.objects.order_by("-pgh_id").values_list("pgh_id", flat=True).first()
    assert client.get(f"/board/changes/?since={marker}", **HX).status_code == 204
    board_move(actor=ci, opportunity_id=opp.pk, to_status=Status.TRIAGE, expected_version=1)
    response = client.get(f"/board/changes/?since={marker}", **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="col-list-submitted"' in body and 'id="col-list-triage"' in body
    assert 'id="col-list-backlog"' not in body
    assert 'id="board-poller"' in body and "since=" in body


def _bulk(n: int, submitter, journey) -> None:  # type: ignore[no-untyped-def]
    statuses = [
        Status.SUBMITTED,
        Status.TRIAGE,
        Status.ASSESSING,
        Status.BACKLOG,
        Status.IN_DELIVERY,
    ]
    now = timezone.now()
    Opportunity.objects.bulk_create(
        [
            Opportunity(
                reference=f"SO-2020-{i:05d}",
                title=f"Card {i}",
                problem="Slow",
                status=statuses[i % 5],
                submitter=submitter,
                owner=submitter if i % 3 else None,
                journey=journey,
                submitted_at=now,
                board_rank=f"a{i:07d}1",
            )
            for i in range(n)
        ],
        batch_size=1000,
    )


def test_the_board_costs_the_same_queries_at_50_and_5000_cards(client, ci) -> None:
    journey = JourneyFactory()
    _bulk(50, ci, journey)
    client.force_login(ci)
    client.get("/board/")
    with CaptureQueriesContext(connection) as small:
        assert client.get("/board/").status_code == 200
    Opportunity.objects.all().delete()
    _bulk(5000, ci, journey)
    client.get("/board/")  # column counts are cached per board change: warm, as above
    with CaptureQueriesContext(connection) as large:
        body = client.get("/board/").content.decode()
    assert len(large.captured_queries) == len(small.captured_queries) <= 20
    assert body.count('<li class="app-board-card') == 5 * 15
    with CaptureQueriesContext(connection) as more:
        client.get("/board/columns/triage/?cursor=a00000001|1", **HX)
    assert len(more.captured_queries) <= 8


@pytest.mark.parametrize("role", [Role.CI_TEAM, Role.ADMIN, Role.MANAGER, Role.JOURNEY_OWNER])
def test_the_board_shows_exactly_what_the_visibility_rules_allow(role) -> None:  # type: ignore[no-untyped-def]
    from opportunities.models import OPEN_STATUSES
    from opportunities.selectors import opportunity_visible_to
    from opportunities.selectors_board import board_base

    viewer = UserFactory(roles={role})
    OpportunityFactory(status=Status.TRIAGE)
    OpportunityFactory(
        status=Status.TRIAGE, is_restricted=True, classification="official_sensitive"
    )
    OpportunityFactory(status=Status.BACKLOG, is_restricted=True, submitter=viewer)
    OpportunityFactory(status=Status.DRAFT, submitter=viewer, submitted_at=None)
    OpportunityFactory(status=Status.REJECTED, rejection_reason="No")
    expected = set(
        opportunity_visible_to(user=viewer)
        .filter(status__in=OPEN_STATUSES)
        .values_list("pk", flat=True)
    )
    assert set(board_base(user=viewer).values_list("pk", flat=True)) == expected
