"""Scoring model versions and re-scoring every open opportunity when a new one is activated.

Activating a model writes a ``RescoreRun`` and an outbox row in the same transaction; the
outbox hands the run to a Celery task (``opportunities.tasks.rescore_run_task``) after
commit, and re-sends it if the broker was down. The task works in batches, each one short
transaction: it locks the batch's opportunities, re-computes their scores from the inputs of
their current scores with the new model, makes the new scores current (the old ones stay as
history, each new one naming the score it came from and the run that made it) and moves the
run's cursor on. A run that stops for any reason resumes from its cursor; a redelivered task
finds the run locked or done and does nothing twice. When the last batch commits, every open
opportunity's ranking comes from the new model.

Short batches rather than one big switch-over: a single transaction over 100,000 rows holds
every opportunity locked for most of a minute (no one can score meanwhile) and its queue of
row triggers grows with it; batches keep the work linear and the locks brief. While a run
goes, the model page shows its progress.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import pghistory
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from opportunities import scoring
from opportunities.errors import ApplicationError
from opportunities.models import OPEN_STATUSES, Opportunity, RescoreRun, Score, ScoringModel
from synergy_portal.models import OutboxMessage
from synergy_portal.outbox import outbox_handler
from synergy_portal.permissions import Action, can

logger = logging.getLogger(__name__)

TOPIC = "scoring.rescore"
BATCH_SIZE = 2000
MSG_ADMIN_ONLY = "Only a portal administrator can change scoring models."
MSG_INVALID = "Version {version} cannot be activated: {message}"
MSG_ALREADY_ACTIVE = "Version {version} is already the active model."
MSG_NAME_REQUIRED = "Enter a name for this version."
DEFAULT_HOURLY_COST_SOURCE = "the scoring model's default hourly cost"


@dataclass(frozen=True)
class BatchOutcome:
    state: str  # "more", "done", "stopped" (not running) or "busy" (another worker has it)
    processed: int = 0
    applied: int = 0


def _require_admin(actor: Any) -> None:
    if not can(actor, Action.ADMIN):
        raise ApplicationError(MSG_ADMIN_ONLY, {"forbidden": True})


def model_problem(model: ScoringModel) -> scoring.ScoringError | None:
    """Why the model cannot be activated, or None when its weights are usable."""
    weights = {**scoring.DEFAULT_WEIGHTS, **(model.weights or {})}
    parameters = {**scoring.DEFAULT_PARAMETERS, **(model.parameters or {})}
    try:
        scoring.validate_weights(weights, parameters)
    except scoring.ScoringError as problem:
        return problem
    ratio = parameters.get("disagreement_ratio")
    if ratio is not None:
        try:
            usable = 1 < float(ratio) <= 100
        except (TypeError, ValueError):
            usable = False
        if not usable:
            return scoring.ScoringError(
                "disagreement_ratio", "disagreement_ratio must be a number above 1 and up to 100."
            )
    return None


@transaction.atomic
def scoring_model_create(
    *, actor: Any, name: str, weights: dict[str, Any], parameters: dict[str, Any]
) -> ScoringModel:
    """Save a new, inactive version. Weights are checked when it is activated, so a draft
    can be saved and corrected; the editor shows what is wrong straight away."""
    _require_admin(actor)
    name = " ".join((name or "").split())
    if not name:
        raise ApplicationError(MSG_NAME_REQUIRED, {"field": "name"})
    for _attempt in range(3):
        last = ScoringModel.objects.aggregate(v=Max("version"))["v"] or 0
        model = ScoringModel(
            version=last + 1, name=name[:120], weights=weights, parameters=parameters
        )
        model.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                model.save()
        except IntegrityError:  # another admin took the number: take the next
            continue
        return model
    raise ApplicationError("Could not number the new version; try again.")


@transaction.atomic
def scoring_model_activate(*, actor: Any, model_id: int) -> RescoreRun:
    """Make ``model_id`` the active model and start re-scoring every open opportunity."""
    _require_admin(actor)
    model = ScoringModel.objects.select_for_update().get(pk=model_id)
    if model.is_active:
        raise ApplicationError(MSG_ALREADY_ACTIVE.format(version=model.version))
    problem = model_problem(model)
    if problem is not None:
        raise ApplicationError(
            MSG_INVALID.format(version=model.version, message=problem.message),
            {"field": problem.field},
        )
    now = timezone.now()
    # A run still going for an older model would only be overtaken: stop it. What it has
    # re-scored stays (as history once this run re-scores those opportunities again).
    for old in RescoreRun.objects.select_for_update().filter(state=RescoreRun.State.RUNNING):
        old.state = RescoreRun.State.SUPERSEDED
        old.finished_at = old.updated_at = now
        old.save(update_fields=["state", "finished_at", "updated_at"])
    for previous in ScoringModel.objects.select_for_update().filter(is_active=True):
        previous.is_active = False
        previous.save(update_fields=["is_active"])
    model.is_active = True
    model.activated_at = now
    model.save(update_fields=["is_active", "activated_at"])
    total = Opportunity.objects.filter(
        status__in=OPEN_STATUSES, current_score__isnull=False
    ).count()
    run = RescoreRun(model=model, started_by=actor, total=total, started_at=now, updated_at=now)
    run.full_clean()
    run.save()
    from synergy_portal.outbox import outbox_enqueue

    outbox_enqueue(topic=TOPIC, payload={"run_id": run.pk})
    return run


def _inputs_for(stored: dict[str, Any], parameters: dict[str, Any]) -> scoring.ScoreInputs:
    hourly_cost = stored["hourly_cost"]
    source = str((stored.get("sources") or {}).get("hourly_cost", ""))
    if source.startswith(DEFAULT_HOURLY_COST_SOURCE):
        # That figure was the old model's default, not a fact about the journey.
        hourly_cost = parameters["default_hourly_cost"]
    return scoring.ScoreInputs(
        people=int(stored["people"]),
        frequency_per_week=float(stored["frequency_per_week"]),
        minutes=float(stored["minutes"]),
        severity=int(stored["severity"]),
        risk_class=str(stored["risk_class"]),
        themes=int(stored["themes"]),
        supporters=int(stored["supporters"]),
        effort_days=float(stored["effort_days"]),
        confidence=str(stored["confidence"]),
        hourly_cost=float(hourly_cost),
    )


def rescore_batch(*, run_id: int, batch_size: int | None = None) -> BatchOutcome:
    """Re-score the next ``batch_size`` open opportunities after the run's cursor, in one
    short transaction: lock them, re-compute from their current scores' inputs with the
    run's model, make the new scores current and move the cursor on. Safe to repeat."""
    batch_size = batch_size or BATCH_SIZE
    with transaction.atomic(), pghistory.context(service="rescore", rescore_run=run_id):
        run = (
            RescoreRun.objects.select_for_update(skip_locked=True)
            .select_related("model")
            .filter(pk=run_id)
            .first()
        )
        if run is None:
            return BatchOutcome(
                "busy" if RescoreRun.objects.filter(pk=run_id).exists() else "stopped"
            )
        if run.state != RescoreRun.State.RUNNING:
            return BatchOutcome("stopped")
        model = run.model
        weights = {**scoring.DEFAULT_WEIGHTS, **(model.weights or {})}
        parameters = {**scoring.DEFAULT_PARAMETERS, **(model.parameters or {})}
        # Opportunity rows first, as a scorer locks them (opportunity, then its scores): a CI
        # member scoring one of these meanwhile waits for this short transaction.
        rows = list(
            Opportunity.objects.select_for_update(of=("self",))
            .filter(status__in=OPEN_STATUSES, current_score__isnull=False, pk__gt=run.cursor)
            .order_by("pk")
            .values_list(
                "pk", "current_score_id", "current_score__model_id", "current_score__inputs"
            )[:batch_size]
        )
        now = timezone.now()
        if not rows:
            run.state = RescoreRun.State.DONE
            run.finished_at = run.updated_at = now
            run.total = run.processed
            run.save(update_fields=["state", "finished_at", "updated_at", "total"])
            logger.info(
                "rescore run %s done: %s re-scored, %s skipped", run.pk, run.applied, run.skipped
            )
            return BatchOutcome("done")
        new_rows: list[tuple[Any, ...]] = []
        skipped = 0
        note = f"Re-scored with model v{model.version}."
        for opp_id, score_id, model_id, stored in rows:
            if model_id == model.pk:  # scored with this model since activation
                skipped += 1
                continue
            try:
                inputs = _inputs_for(stored, parameters)
                result = scoring.score(inputs, weights, parameters)
            except (scoring.ScoringError, KeyError, TypeError, ValueError):
                skipped += 1
                continue
            new_rows.append(
                (
                    opp_id,
                    model.pk,
                    Score.Kind.RESCORE.value,
                    json.dumps({**stored, "hourly_cost": inputs.hourly_cost}),
                    json.dumps(_breakdown(result), ensure_ascii=False),
                    result.hours_per_year,
                    result.cost_per_year,
                    result.impact,
                    result.priority,
                    result.effort_days,
                    result.fits_two_speed,
                    True,
                    note,
                    now,
                    run.pk,
                    score_id,
                )
            )
        _make_current(new_rows, now=now)
        run.cursor = rows[-1][0]
        run.processed += len(rows)
        run.total = max(run.total, run.processed)
        run.applied += len(new_rows)
        run.skipped += skipped
        run.batches += 1
        run.updated_at = now
        run.save(
            update_fields=[
                "cursor",
                "processed",
                "total",
                "applied",
                "skipped",
                "batches",
                "updated_at",
            ]
        )
        return BatchOutcome("more", processed=len(rows), applied=len(new_rows))


_STAGED_COLUMNS = (
    "id", "opportunity_id", "model_id", "kind", "inputs", "breakdown", "hours_per_year",
    "cost_per_year", "impact", "priority", "effort_days", "fits_two_speed", "is_current",
    "note", "created_at", "rescore_run_id", "rescored_from_id",
)  # fmt: skip


def _breakdown(result: scoring.ScoreResult) -> list[dict[str, Any]]:
    """``result.breakdown()`` without ``dataclasses.asdict``'s deep copies, which cost more
    than the scoring itself at a hundred thousand scores."""
    return [
        {"key": t.key, "label": t.label, "value": t.value, "formula": t.formula}
        for t in result.terms
    ]


def _make_current(rows: list[tuple[Any, ...]], *, now: Any) -> None:
    """Retire the batch's old current scores, add the new ones (COPY: a multi-row INSERT of
    thousands of rows spends longer building its SQL than PostgreSQL spends storing them)
    and point the opportunities at them. Three set-based statements; the table constraints
    check the rows and the audit triggers record them like any other write."""
    if not rows:
        return
    table = Score._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"UPDATE {table} SET is_current = FALSE WHERE id = ANY(%s) AND is_current",
            [[row[-1] for row in rows]],
        )
        with cursor.copy(f"COPY {table} ({', '.join(_STAGED_COLUMNS)}) FROM STDIN") as copy:
            for score_id, row in zip(ids, rows, strict=True):
                copy.write_row((score_id, *row))
        cursor.execute(
            f"UPDATE {Opportunity._meta.db_table} o "
            "SET current_score_id = v.score_id, current_priority = v.priority, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::float8[]) AS v(opp_id, score_id, priority) "
            "WHERE o.id = v.opp_id",
            [now, [row[0] for row in rows], ids, [row[8] for row in rows]],
        )


def rescore_run(*, run_id: int, batch_size: int | None = None) -> str:
    """Work through a run batch by batch until it is done (or another worker has it)."""
    while True:
        try:
            outcome = rescore_batch(run_id=run_id, batch_size=batch_size)
        except Exception as exc:
            with transaction.atomic():
                RescoreRun.objects.filter(pk=run_id, state=RescoreRun.State.RUNNING).update(
                    last_error=f"{type(exc).__name__}: {exc}"[:2000], updated_at=timezone.now()
                )
            raise
        if outcome.state != "more":
            return outcome.state


@outbox_handler(TOPIC)
def rescore_dispatch(payload: dict[str, Any], message: OutboxMessage) -> None:
    """Hand the run to its Celery task (a broker error leaves the outbox row to retry)."""
    from opportunities.tasks import rescore_run_task
    from synergy_portal.celery import app

    # A connection of its own (as the outbox's dispatcher uses), not the shared producer pool.
    with app.connection_for_write() as connection:
        rescore_run_task.apply_async(args=[payload["run_id"]], retry=False, connection=connection)
