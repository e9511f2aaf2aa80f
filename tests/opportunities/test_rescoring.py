"""Re-scoring every open opportunity when a new scoring model is activated: in batches,
resumable, history kept, the new ranking when done; and with a real Celery worker."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker

from opportunities import scoring
from opportunities.errors import ApplicationError
from opportunities.models import OPEN_STATUSES, Opportunity, RescoreRun, Score, ScoringModel, Status
from opportunities.services import rescoring
from opportunities.services.scoring import opportunity_score
from opportunities.tasks import rescore_run_task
from synergy_portal.models import OutboxMessage, Role
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

JUDGEMENT = {"severity": 3, "effort_days": 2, "confidence": "medium"}


def _v2_weights() -> dict:  # type: ignore[type-arg]
    # Safeguarding counts five times as much as before; everything else as in v1.
    return {**scoring.DEFAULT_WEIGHTS, "risk": {**scoring.RISK_CLASSES, "safeguarding": 10.0}}


def _setup() -> dict:  # type: ignore[type-arg]
    ScoringModel.objects.create(
        version=1,
        name="v1",
        weights=scoring.DEFAULT_WEIGHTS,
        parameters=scoring.DEFAULT_PARAMETERS,
        is_active=True,
    )
    ci = UserFactory(roles={Role.CI_TEAM})
    admin = UserFactory(roles={Role.ADMIN})
    # With v1 the operational ones rank above the safeguarding ones; with v2 the reverse.
    opps = {}
    for name, risk, people in [
        ("op-big", "operational", 400),
        ("op-small", "operational", 300),
        ("sg-1", "safeguarding", 150),
        ("sg-2", "safeguarding", 100),
        ("none", "none", 50),
    ]:
        opp = OpportunityFactory(title=name, people_affected=people)
        opportunity_score(actor=ci, opportunity_id=opp.pk, values={**JUDGEMENT, "risk_class": risk})
        opps[name] = opp
    closed = OpportunityFactory(title="closed", status=Status.WITHDRAWN)
    opportunity_score(
        actor=ci, opportunity_id=closed.pk, values={**JUDGEMENT, "risk_class": "none"}
    )
    unscored = OpportunityFactory(title="unscored")
    v2 = rescoring.scoring_model_create(
        actor=admin,
        name="Safeguarding first",
        weights=_v2_weights(),
        parameters=scoring.DEFAULT_PARAMETERS,
    )
    return {
        "ci": ci,
        "admin": admin,
        "opps": opps,
        "closed": closed,
        "unscored": unscored,
        "v2": v2,
    }


def _ranking() -> list[str]:
    return list(
        Opportunity.objects.filter(status__in=OPEN_STATUSES, current_priority__isnull=False)
        .order_by("-current_priority")
        .values_list("title", flat=True)
    )


@pytest.mark.django_db
def test_activation_rescores_open_opportunities_in_batches_and_keeps_the_old_scores() -> None:
    data = _setup()
    assert _ranking()[:2] == ["op-big", "op-small"]
    old_current = dict(Opportunity.objects.values_list("title", "current_score_id"))

    run = rescoring.scoring_model_activate(actor=data["admin"], model_id=data["v2"].pk)
    assert run.total == 5
    assert OutboxMessage.objects.filter(topic=rescoring.TOPIC).count() == 1

    outcome = rescoring.rescore_batch(run_id=run.pk, batch_size=2)
    assert (outcome.state, outcome.processed, outcome.applied) == ("more", 2, 2)
    assert rescoring.rescore_run(run_id=run.pk, batch_size=2) == "done"

    run.refresh_from_db()
    assert (run.state, run.processed, run.applied, run.batches) == ("done", 5, 5, 3)
    assert _ranking()[:2] == ["sg-1", "sg-2"]
    for name, opp in data["opps"].items():
        opp.refresh_from_db()
        new = opp.current_score
        assert new.kind == Score.Kind.RESCORE and new.model == data["v2"] and new.is_current
        assert new.rescored_from_id == old_current[name] and new.rescore_run == run
        assert not Score.objects.get(pk=old_current[name]).is_current  # history kept
        inputs = {k: v for k, v in new.inputs.items() if k not in ("sources", "override_reason")}
        expected = scoring.score(scoring.ScoreInputs(**inputs), _v2_weights())
        assert new.priority == pytest.approx(expected.priority)
        assert new.breakdown == expected.breakdown()
        assert opp.current_priority == new.priority
        assert Score.objects.filter(opportunity=opp, is_current=True).count() == 1
    data["closed"].refresh_from_db()
    assert data["closed"].current_score_id == old_current["closed"]  # closed: left alone
    data["unscored"].refresh_from_db()
    assert data["unscored"].current_score_id is None
    assert rescoring.rescore_batch(run_id=run.pk).state == "stopped"  # done runs do nothing


@pytest.mark.django_db
def test_rescoring_is_audited_with_the_run_named() -> None:
    from opportunities.models import OpportunityEvent, ScoreEvent  # type: ignore[attr-defined]

    data = _setup()
    run = rescoring.scoring_model_activate(actor=data["admin"], model_id=data["v2"].pk)
    rescoring.rescore_run(run_id=run.pk)
    inserted = ScoreEvent.objects.filter(pgh_label="insert", rescore_run=run).select_related(
        "pgh_context"
    )
    assert inserted.count() == 5
    assert {e.pgh_context.metadata["rescore_run"] for e in inserted} == {run.pk}
    updates = OpportunityEvent.objects.filter(
        pgh_label="update", pgh_context__metadata__service="rescore"
    )
    assert updates.count() == 5


@pytest.mark.django_db
def test_a_run_that_fails_midway_resumes_from_its_cursor(monkeypatch) -> None:
    data = _setup()
    run = rescoring.scoring_model_activate(actor=data["admin"], model_id=data["v2"].pk)
    real_make_current = rescoring._make_current
    calls = {"n": 0}

    def flaky(rows, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost")
        return real_make_current(rows, **kwargs)

    monkeypatch.setattr(rescoring, "_make_current", flaky)
    with pytest.raises(RuntimeError):
        rescoring.rescore_run(run_id=run.pk, batch_size=2)
    run.refresh_from_db()
    assert (run.state, run.processed, run.batches) == ("running", 2, 1)
    assert "worker lost" in run.last_error
    assert Score.objects.filter(rescore_run=run).count() == 2  # the failed batch left nothing
    assert _ranking()  # and every opportunity still has exactly one current score

    assert rescoring.rescore_run(run_id=run.pk, batch_size=2) == "done"
    run.refresh_from_db()
    assert (run.processed, run.applied) == (5, 5)
    assert Score.objects.filter(rescore_run=run).count() == 5  # nothing twice


@pytest.mark.django_db
def test_scores_recorded_during_the_run_are_kept() -> None:
    data = _setup()
    run = rescoring.scoring_model_activate(actor=data["admin"], model_id=data["v2"].pk)
    rescoring.rescore_batch(run_id=run.pk, batch_size=2)  # op-big and op-small
    op_big, sg_2 = data["opps"]["op-big"], data["opps"]["sg-2"]
    after = opportunity_score(  # already re-scored: a CI member scores it again
        actor=data["ci"],
        opportunity_id=op_big.pk,
        values={**JUDGEMENT, "risk_class": "none"},
    )
    before = opportunity_score(  # not reached yet: scored with the new model meanwhile
        actor=data["ci"],
        opportunity_id=sg_2.pk,
        values={**JUDGEMENT, "risk_class": "none"},
    )
    assert before.model == data["v2"]
    assert rescoring.rescore_run(run_id=run.pk) == "done"
    op_big.refresh_from_db()
    sg_2.refresh_from_db()
    assert op_big.current_score == after and sg_2.current_score == before
    run.refresh_from_db()
    assert (run.applied, run.skipped) == (4, 1)


@pytest.mark.django_db
def test_activating_another_version_mid_run_supersedes_it() -> None:
    data = _setup()
    run = rescoring.scoring_model_activate(actor=data["admin"], model_id=data["v2"].pk)
    rescoring.rescore_batch(run_id=run.pk, batch_size=2)
    v3 = rescoring.scoring_model_create(
        actor=data["admin"],
        name="v3",
        weights=scoring.DEFAULT_WEIGHTS,
        parameters={**scoring.DEFAULT_PARAMETERS, "working_weeks": 44},
    )
    second = rescoring.scoring_model_activate(actor=data["admin"], model_id=v3.pk)
    run.refresh_from_db()
    assert run.state == RescoreRun.State.SUPERSEDED
    assert rescoring.rescore_run(run_id=run.pk) == "stopped"
    assert rescoring.rescore_run(run_id=second.pk) == "done"
    current = Opportunity.objects.filter(current_score__rescore_run=second)
    assert set(current.values_list("title", flat=True)) == set(data["opps"])
    # The two the first run reached have three scores each: v1, v2 (now history) and v3.
    assert Score.objects.filter(opportunity__title="op-big").count() == 3


@pytest.mark.django_db
def test_the_old_models_default_hourly_cost_is_replaced_by_the_new_ones() -> None:
    data = _setup()
    opp = data["opps"]["none"]  # no journey: its hourly cost was the model's default (£30)
    opp.refresh_from_db()
    assert opp.current_score.inputs["hourly_cost"] == 30.0
    v3 = rescoring.scoring_model_create(
        actor=data["admin"],
        name="Dearer hours",
        weights=scoring.DEFAULT_WEIGHTS,
        parameters={**scoring.DEFAULT_PARAMETERS, "default_hourly_cost": 40.0},
    )
    run = rescoring.scoring_model_activate(actor=data["admin"], model_id=v3.pk)
    rescoring.rescore_run(run_id=run.pk)
    opp.refresh_from_db()
    assert opp.current_score.inputs["hourly_cost"] == 40.0
    assert opp.current_score.cost_per_year == pytest.approx(opp.current_score.hours_per_year * 40)


@pytest.mark.django_db
def test_invalid_weights_or_a_non_admin_cannot_activate() -> None:
    data = _setup()
    bad = rescoring.scoring_model_create(
        actor=data["admin"],
        name="Broken",
        weights={**scoring.DEFAULT_WEIGHTS, "risk": {"none": 1}},
        parameters=scoring.DEFAULT_PARAMETERS,
    )
    with pytest.raises(ApplicationError, match="cannot be activated: risk must give a multiplier"):
        rescoring.scoring_model_activate(actor=data["admin"], model_id=bad.pk)
    with pytest.raises(ApplicationError, match=rescoring.MSG_ADMIN_ONLY):
        rescoring.scoring_model_activate(actor=data["ci"], model_id=data["v2"].pk)
    assert ScoringModel.objects.get(is_active=True).version == 1


def _wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the worker")
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_rescoring_runs_on_a_real_celery_worker(celery_broker, monkeypatch) -> None:
    from synergy_portal.celery import app

    assert rescore_run_task.name in app.tasks
    monkeypatch.setattr(rescoring, "BATCH_SIZE", 2)  # several batches even for a handful
    data = _setup()
    old = dict(Opportunity.objects.values_list("title", "current_score_id"))

    run = rescoring.scoring_model_activate(actor=data["admin"], model_id=data["v2"].pk)
    message = OutboxMessage.objects.get(topic=rescoring.TOPIC)
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        _wait_for(lambda: RescoreRun.objects.get(pk=run.pk).state == RescoreRun.State.DONE)
        _wait_for(
            lambda: OutboxMessage.objects.get(pk=message.pk).state == OutboxMessage.State.DONE
        )

    run.refresh_from_db()
    assert (run.processed, run.applied, run.batches) == (5, 5, 3)
    assert _ranking()[:2] == ["sg-1", "sg-2"]
    for name in data["opps"]:
        opp = Opportunity.objects.select_related("current_score").get(title=name)
        assert opp.current_score.model_id == data["v2"].pk
        assert Score.objects.filter(pk=old[name], is_current=False).exists()


def test_the_staged_breakdown_is_the_scoring_modules_own() -> None:
    result = scoring.score(scoring.ScoreInputs(200, 5, 6, 3, "operational", 2, 9, 2, "medium", 30))
    assert rescoring._breakdown(result) == result.breakdown()
