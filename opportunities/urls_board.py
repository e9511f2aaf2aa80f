"""Routes for the triage board, the triage panel, delivery cycles and benefits."""

from __future__ import annotations

from django.urls import URLPattern, path

from opportunities.views import benefits, board, board_panel, cycles

urlpatterns: list[URLPattern] = [
    path("board/", board.board, name="board"),
    path("board/changes/", board.board_changes_view, name="board_changes"),
    path("board/settings/", board.board_settings_view, name="board_settings"),
    path("board/columns/<str:status>/", board.board_more, name="board_more"),
    path("board/cards/<str:reference>/", board_panel.card, name="board_card"),
    path("board/cards/<str:reference>/move/", board.card_move, name="board_move"),
    path("board/cards/<str:reference>/triage/", board_panel.card_triage, name="board_triage"),
    path("board/cards/<str:reference>/comment/", board_panel.card_comment, name="board_comment"),
    path("board/cards/<str:reference>/reject/", board_panel.card_reject, name="board_reject"),
    path("board/cards/<str:reference>/merge/", board_panel.card_merge, name="board_merge"),
    path("board/cards/<str:reference>/plan/", board_panel.card_plan, name="board_plan"),
    path("board/cards/<str:reference>/deliver/", board_panel.card_deliver, name="board_deliver"),
    path("board/cards/<str:reference>/benefit/", benefits.card_benefit, name="board_benefit"),
    path("cycles/", cycles.cycles, name="cycles"),
    path("cycles/<int:cycle_id>/", cycles.cycle, name="cycle"),
    path("cycles/<int:cycle_id>/plan/", cycles.cycle_plan_view, name="cycle_plan"),
    path("cycles/<int:cycle_id>/unplan/", cycles.cycle_unplan_view, name="cycle_unplan"),
    path("cycles/<int:cycle_id>/update/", cycles.cycle_update_view, name="cycle_update"),
]
