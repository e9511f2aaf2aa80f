"""The dashboards' sections, one module each, and the cached way to read one.

Figures change only when an extract batch lands, so a section's figures are cached under the
batch's id and the filters: a new batch is a new key, and nothing is ever invalidated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from reporting.dashboards.charts import Section
from reporting.dashboards.filters import FilterOptions
from reporting.dashboards.selectors import engagement, flow, overview, pain, pipeline, value
from reporting.dashboards.selectors.base import Batch, Context, filter_options


@dataclass(frozen=True)
class SectionInfo:
    slug: str
    title: str
    intro: str
    build: Callable[[Context], Section]


SECTIONS: dict[str, SectionInfo] = {
    module.SLUG: SectionInfo(module.SLUG, module.TITLE, module.INTRO, build)
    for module, build in (
        (overview, overview.overview_section),
        (pipeline, pipeline.pipeline_section),
        (flow, flow.flow_section),
        (value, value.value_section),
        (pain, pain.pain_section),
        (engagement, engagement.engagement_section),
    )
}
CACHE_VERSION = 1


def cache_seconds() -> int:
    return int(getattr(settings, "DASHBOARD_CACHE_SECONDS", 3600))


def section_get(slug: str, ctx: Context, *, prefix: str = "") -> Section:
    """A section's figures for the filters, from the batch in ``ctx``."""
    info = SECTIONS[slug]
    seconds = cache_seconds()
    if seconds <= 0:
        return info.build(ctx)
    key = (
        f"dashboards:{prefix}{CACHE_VERSION}:{ctx.batch.batch_id}:{slug}:{ctx.filters.cache_key()}"
    )
    found = cache.get(key)
    if found is None:
        found = info.build(ctx)
        cache.set(key, found, seconds)
    return found


def options_get(cursor: object, batch: Batch) -> FilterOptions:
    """The filters' choices (departments, journeys, themes) of the batch, cached with it."""
    seconds = cache_seconds()
    if seconds <= 0:
        return filter_options(cursor)
    key = f"dashboards:{CACHE_VERSION}:{batch.batch_id}:options"
    found = cache.get(key)
    if found is None:
        found = filter_options(cursor)
        cache.set(key, found, seconds)
    return found
