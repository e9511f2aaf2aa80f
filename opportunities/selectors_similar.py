"""Similar opportunities while a new one is typed: full-text search weighted by how rare each
shared word is, plus trigram similarity of the titles.

Why not a plain OR of the typed words: in a force's vocabulary words like "time", "check" or
"crime" are in most opportunities, so an OR matches most of the table and ranking it is slow
and meaningless. Instead the words' document frequencies come from PostgreSQL's own
statistics on ``search_vector`` (ANALYZE keeps the most common lexemes with their
frequencies in ``pg_stats``: no extra table, no extra index), and the lookup asks the GIN
index for opportunities sharing at least two of the rarest typed words. Those few candidates
are ranked by rarity-weighted coverage of what was typed, with the titles' trigram
similarity (pg_trgm) added in. Suggestions only: nothing is merged.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from django.contrib.postgres.search import SearchQueryField
from django.db import connection
from django.db.models import BooleanField, F, Func, QuerySet, TextField, Value
from django.db.models.functions import Substr
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from opportunities.models import Opportunity, Status
from opportunities.selectors import opportunity_visible_to

# Opportunities a suggestion may point at: not unfinished, merged or withdrawn.
SIMILAR_STATUSES_EXCLUDED = (Status.DRAFT, Status.DUPLICATE, Status.WITHDRAWN)
SIMILAR_LIMIT = 5
SIMILAR_CANDIDATES = 40
SIMILAR_MAX_TERMS = 24
# The rarest typed words the index is asked about (pairs of them: 8 words, 28 pairs).
SIMILAR_SEARCH_TERMS = 8
# How many index matches are read and ranked at most (bounds the work at any table size).
SIMILAR_SCAN_CAP = 300
# Words in more than this share of opportunities say nothing about which one is meant.
SIMILAR_COMMON_FREQUENCY = 0.25
# A suggestion shares at least two of the typed words and covers this share of what was typed
# (each word weighted by its rarity, a word in the existing title counting half as much
# again); or its title is this alike (pg_trgm similarity) to the typed title.
SIMILAR_MIN_SHARED = 2
SIMILAR_MIN_COVERAGE = 0.34
SIMILAR_MIN_TITLE_SIMILARITY = 0.5
STATS_TTL_SECONDS = 600
PAIR_PLACEHOLDER = "'-pair-'"
_MARK_START, _MARK_END = "\x02", "\x03"


class _Headline(Func):
    """ts_headline with markers that cannot come from HTML, so the text is escaped first
    and the markers turned into <mark> after (Django's SearchHeadline quotes its options)."""

    function = "ts_headline"
    output_field = TextField()

    def __init__(self, expression: Any, query: Any, options: str) -> None:
        super().__init__(Value("english"), expression, query, Value(options))


class _LexemeQuery(Func):
    """A tsquery of already-normalised lexemes (no second pass through a dictionary)."""

    template = "CAST(%(expressions)s AS tsquery)"
    output_field = SearchQueryField()


class _Matches(Func):
    """``search_vector @@ query`` as a filter the GIN index serves."""

    template = "%(expressions)s"
    arg_joiner = " @@ "
    output_field = BooleanField()


@dataclass(frozen=True)
class LexemeStats:
    frequencies: dict[str, float]
    # Lexemes missing from the statistics are rarer than this.
    floor: float


_stats_lock = threading.Lock()
_stats_cache: dict[str, tuple[float, LexemeStats]] = {}


def lexeme_stats() -> LexemeStats:
    """Document frequency of the common lexemes, from pg_stats (cached for ten minutes)."""
    key = connection.settings_dict["NAME"]
    now = time.monotonic()
    with _stats_lock:
        cached = _stats_cache.get(key)
        if cached and now - cached[0] < STATS_TTL_SECONDS:
            return cached[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE tablename = %s AND attname = 'search_vector' "
            "AND schemaname = ANY (current_schemas(false)) LIMIT 1",
            [Opportunity._meta.db_table],
        )
        row = cursor.fetchone()
    stats = LexemeStats(frequencies={}, floor=0.001)
    if row and row[0]:
        elems, freqs = row[0], [float(f) for f in row[1]]
        # After one frequency per lexeme come the minimum, maximum and null frequencies.
        stats = LexemeStats(
            frequencies=dict(zip(elems, freqs, strict=False)), floor=freqs[len(elems)]
        )
    with _stats_lock:
        _stats_cache[key] = (now, stats)
    return stats


def similar_lexemes(*, title: str, problem: str) -> tuple[list[str], set[str]]:
    """The typed text's English lexemes as PostgreSQL normalises them, and the title's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tsvector_to_array(to_tsvector('english', %s)),"
            " tsvector_to_array(to_tsvector('english', %s))",
            [title, problem],
        )
        title_lexemes, problem_lexemes = cursor.fetchone()
    ordered = dict.fromkeys([*title_lexemes, *problem_lexemes])
    lexemes = [lexeme for lexeme in ordered if not lexeme.isdigit()][:SIMILAR_MAX_TERMS]
    return lexemes, set(title_lexemes)


def _quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _any_of(lexemes: list[str]) -> str:
    return " | ".join(_quoted(lexeme) for lexeme in lexemes)


def _two_of(lexemes: list[str]) -> str:
    if len(lexemes) < 2:
        return _any_of(lexemes)
    return " | ".join(f"({_quoted(a)} & {_quoted(b)})" for a, b in combinations(lexemes, 2))


def _highlight(text: str) -> tuple[SafeString, list[str]]:
    """Escape ``text`` (from ts_headline) and mark its matched words; return them too."""
    words: list[str] = []
    out: list[str] = []
    for i, part in enumerate(re.split(f"({_MARK_START}.*?{_MARK_END})", text or "")):
        if i % 2:
            word = part[1:-1]
            words.append(word)
            out.append(f"<mark>{escape(word)}</mark>")
        else:
            out.append(escape(part.replace(_MARK_START, "").replace(_MARK_END, "")))
    return mark_safe("".join(out)), words  # noqa: S308 - every piece is escaped above


def _candidates(
    matching: QuerySet[Opportunity],
    pairs: list[str],
    *,
    typed: list[str],
    title: str,
) -> list[tuple[int, list[str], list[str], float]]:
    """(id, shared lexemes, shared lexemes in its title, title similarity) of the best-ranked
    SIMILAR_CANDIDATES among the first SIMILAR_SCAN_CAP opportunities matching any of
    ``pairs`` (tsquery texts, the most selective pair first); ``matching`` is the visible
    opportunities filtered by the placeholder query PAIR_PLACEHOLDER.

    A UNION ALL of two-word AND queries under one LIMIT: each is a GIN bitmap scan that only
    reads the rarer word's entries, and the scans stop once the LIMIT is met, so the work is
    bounded however common the words are. (One OR of all the pairs makes GIN test every entry
    of every word; with the LIMIT inside a single query PostgreSQL prefers a sequential scan
    testing every row, which is slower still.)
    """
    sql, template_params = matching.values("pk").query.sql_with_params()
    slot = template_params.index(PAIR_PLACEHOLDER)
    params: list[Any] = []
    for pair in pairs:
        params += [*template_params[:slot], pair, *template_params[slot + 1 :]]
    union = " UNION ALL ".join([f"({sql})"] * len(pairs))
    table = Opportunity._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.id,"
            " ARRAY(SELECT unnest(tsvector_to_array(o.search_vector)) INTERSECT"
            "  SELECT unnest(%s::text[])),"
            " ARRAY(SELECT unnest(tsvector_to_array(ts_filter(o.search_vector, '{a}'))) INTERSECT"
            "  SELECT unnest(%s::text[])),"
            f" similarity(o.title, %s) FROM {table} o"
            f" WHERE o.id IN (SELECT * FROM ({union}) AS u LIMIT %s)"
            " ORDER BY ts_rank(o.search_vector, CAST(%s AS tsquery)) DESC, o.id DESC LIMIT %s",
            [typed, typed, title, *params, SIMILAR_SCAN_CAP, _any_of(typed), SIMILAR_CANDIDATES],
        )
        return cursor.fetchall()


@dataclass(frozen=True)
class SimilarMatch:
    opportunity: Opportunity
    title_html: SafeString
    snippet_html: SafeString
    shared_words: list[str]
    title_similarity: float
    coverage: float

    @property
    def title_alike_percent(self) -> int:
        return round(self.title_similarity * 100)


def opportunity_similar(
    *,
    user: Any,
    title: str,
    problem: str = "",
    exclude_id: int | None = None,
    limit: int = SIMILAR_LIMIT,
) -> list[SimilarMatch]:
    """Up to ``limit`` existing opportunities like the one being typed, best first.

    Three queries: the typed lexemes, the candidates (GIN: at least two of the rarest typed
    words; at most SIMILAR_SCAN_CAP read, the best SIMILAR_CANDIDATES by ts_rank kept, with
    their titles' trigram similarity), and the highlighted rows; pg_stats every ten minutes.
    """
    title = (title or "").strip()[:200]
    problem = (problem or "")[:2000]
    if not (title or problem).strip():
        return []
    lexemes, title_lexemes = similar_lexemes(title=title, problem=problem)
    if len(lexemes) < SIMILAR_MIN_SHARED:
        return []
    stats = lexeme_stats()

    def frequency(lexeme: str) -> float:
        return stats.frequencies.get(lexeme, stats.floor / 2)

    weight = {lexeme: -math.log(max(frequency(lexeme), 1e-6)) for lexeme in lexemes}
    informative = [lx for lx in lexemes if frequency(lx) <= SIMILAR_COMMON_FREQUENCY] or lexemes
    search = sorted(informative, key=frequency)[:SIMILAR_SEARCH_TERMS]
    typed_weight = sum(weight.values())

    base = opportunity_visible_to(user=user).exclude(status__in=SIMILAR_STATUSES_EXCLUDED)
    if exclude_id is not None:
        base = base.exclude(pk=exclude_id)
    any_typed = _LexemeQuery(Value(_any_of(lexemes)))
    pairs = sorted(
        combinations(search, 2), key=lambda pair: frequency(pair[0]) * frequency(pair[1])
    )
    matching = base.filter(
        _Matches(F("search_vector"), _LexemeQuery(Value(PAIR_PLACEHOLDER)))
    ).order_by()
    scored: dict[int, tuple[float, float, float]] = {}
    for pk, shared, shared_in_title, alike in _candidates(
        matching,
        [_two_of(list(pair)) for pair in pairs],
        typed=lexemes,
        title=title or problem[:120],
    ):
        if len(shared) < SIMILAR_MIN_SHARED:
            continue
        in_title = set(shared_in_title) & title_lexemes
        covered = sum(weight[lx] * (1.5 if lx in in_title else 1) for lx in shared)
        coverage = min(1.0, covered / typed_weight)
        if coverage >= SIMILAR_MIN_COVERAGE or alike >= SIMILAR_MIN_TITLE_SIMILARITY:
            scored[pk] = (coverage + 0.5 * alike, coverage, alike)
    best = sorted(scored, key=lambda pk: (-scored[pk][0], -pk))[:limit]
    if not best:
        return []
    marks = f"StartSel={_MARK_START}, StopSel={_MARK_END}"
    rows = (
        Opportunity.objects.filter(pk__in=best)
        .select_related("journey")
        .only(
            "reference",
            "title",
            "status",
            "supporters_count",
            "journey__name",
            "submitter_id",
            "is_restricted",
            "submitted_at",
        )
        .annotate(
            title_hl=_Headline(F("title"), any_typed, f"{marks}, HighlightAll=true"),
            problem_hl=_Headline(
                Substr("problem", 1, 1500),
                any_typed,
                f"{marks}, MaxWords=28, MinWords=12, ShortWord=3, MaxFragments=2, "
                'FragmentDelimiter=" … "',
            ),
        )
    )
    by_pk = {row.pk: row for row in rows}
    matches = []
    for pk in best:
        row = by_pk[pk]
        title_html, title_words = _highlight(row.title_hl)
        snippet_html, snippet_words = _highlight(row.problem_hl)
        first_seen: dict[str, str] = {}
        for word in title_words + snippet_words:
            first_seen.setdefault(word.lower(), word)
        matches.append(
            SimilarMatch(
                opportunity=row,
                title_html=title_html,
                snippet_html=snippet_html,
                shared_words=list(first_seen.values())[:8],
                title_similarity=scored[pk][2],
                coverage=scored[pk][1],
            )
        )
    return matches
