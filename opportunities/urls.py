"""Routes of the opportunities app. Each area keeps its own list in its own module."""

from __future__ import annotations

from opportunities import urls_board, urls_scoring, urls_submission

app_name = "opportunities"
urlpatterns = [*urls_submission.urlpatterns, *urls_scoring.urlpatterns, *urls_board.urlpatterns]
