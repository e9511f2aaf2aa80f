"""The browse page's search, filters and sort (django-filter), all in the query string so a
filtered list is a URL that can be shared."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F, QuerySet

from journeys.models import Application, Department, DnaTheme, Journey
from opportunities.models import Opportunity, Status

SORTS = {
    "newest": ("Newest first", [F("submitted_at").desc(nulls_last=True), F("id").desc()]),
    "supported": (
        "Most supported",
        [F("supporters_count").desc(), F("submitted_at").desc(nulls_last=True), F("id").desc()],
    ),
    "priority": (
        "Highest priority",
        [
            F("current_priority").desc(nulls_last=True),
            F("submitted_at").desc(nulls_last=True),
            F("id").desc(),
        ],
    ),
    "relevance": ("Best match", None),
}
BROWSE_STATUSES = [(s.value, s.label) for s in Status if s is not Status.DRAFT]
MAX_QUERY_LENGTH = 200


class OpportunityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label="Search", max_length=MAX_QUERY_LENGTH, strip=True
    )
    # A column, not a join: no DISTINCT (which would sort every matching row).
    status = django_filters.MultipleChoiceFilter(
        choices=BROWSE_STATUSES, widget=forms.CheckboxSelectMultiple, label="Status", distinct=False
    )
    journey = django_filters.ModelChoiceFilter(
        queryset=Journey.objects.order_by("name"), empty_label="Any journey"
    )
    application = django_filters.ModelChoiceFilter(
        field_name="applications",
        queryset=Application.objects.order_by("name"),
        empty_label="Any application",
    )
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.order_by("name"), empty_label="Any department"
    )
    theme = django_filters.ModelChoiceFilter(
        field_name="dna_themes", queryset=DnaTheme.objects.all(), empty_label="Any DNA theme"
    )
    sort = django_filters.ChoiceFilter(
        method="sort_by",
        choices=[(key, label) for key, (label, _) in SORTS.items()],
        empty_label=None,
        label="Sort by",
    )

    class Meta:
        model = Opportunity
        fields: list[str] = []

    def search(
        self, queryset: QuerySet[Opportunity], name: str, value: str
    ) -> QuerySet[Opportunity]:
        if not value:
            return queryset
        query = SearchQuery(value, search_type="websearch", config="english")
        return queryset.filter(search_vector=query).annotate(
            rank=SearchRank(F("search_vector"), query, cover_density=True)
        )

    def sort_by(
        self, queryset: QuerySet[Opportunity], name: str, value: str
    ) -> QuerySet[Opportunity]:
        return queryset  # applied in filter_queryset, after every filter

    def current_sort(self) -> str:
        data = self.form.cleaned_data if self.form.is_valid() else {}
        chosen = data.get("sort") or ""
        if chosen == "relevance" and not data.get("q"):
            chosen = ""
        if not chosen:
            chosen = "relevance" if data.get("q") else "newest"
        return chosen

    def filter_queryset(self, queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
        queryset = super().filter_queryset(queryset)
        sort = self.current_sort()
        if sort == "relevance":
            return queryset.order_by(F("rank").desc(), F("id").desc())
        return queryset.order_by(*SORTS[sort][1])

    def active_filters(self) -> list[tuple[str, str]]:
        """(label, value) of each filter in use, for the "filters in use" summary."""
        if not self.form.is_valid():
            return []
        data: dict[str, Any] = self.form.cleaned_data
        labels = dict(BROWSE_STATUSES)
        used: list[tuple[str, str]] = []
        if data.get("q"):
            used.append(("Search", data["q"]))
        for status in data.get("status") or []:
            used.append(("Status", labels.get(status, status)))
        for name, label in (
            ("journey", "Journey"),
            ("application", "Application"),
            ("department", "Department"),
            ("theme", "DNA theme"),
        ):
            if data.get(name) is not None:
                used.append((label, str(data[name])))
        return used
