"""Cross-cutting data: the person (keyed by Entra ID tenant + object id) and the outbox."""

from __future__ import annotations

import pghistory
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin, UserManager
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone

from synergy_portal.audit import audited


class PortalUserManager(UserManager):
    def _create_user(self, username, email, password, **extra_fields):  # type: ignore[override]
        email = self.normalize_email(email or "")
        user = self.model(username=username, email=email, **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user


class Role(models.TextChoices):
    """Portal roles. Each is a Django group of the same name, mapped from Entra ID app roles."""

    STAFF = "staff", "Staff"
    CI_TEAM = "ci_team", "CI Team"
    JOURNEY_OWNER = "journey_owner", "Journey Owner"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"
    DDI_SERVICE = "ddi_service", "DDI service"


@audited(exclude=["password", "last_login"])
class User(AbstractBaseUser, PermissionsMixin):
    """A person (or machine identity). Stable key: ``tid`` + ``oid``, never the e-mail."""

    username = models.CharField(max_length=150, unique=True)
    tid = models.CharField("tenant id", max_length=64, blank=True, default="")
    oid = models.CharField("object id", max_length=64, blank=True, default="")
    display_name = models.CharField(max_length=200, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    department = models.ForeignKey(
        "journeys.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job_role = models.ForeignKey(
        "journeys.Role", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_staff = models.BooleanField("admin site access", default=False)
    is_active = models.BooleanField(default=True)
    is_demo = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = PortalUserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = ["email"]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tid", "oid"], condition=~Q(oid=""), name="user_unique_entra_identity"
            ),
            models.CheckConstraint(condition=Q(oid="") | ~Q(tid=""), name="user_oid_needs_tid"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    def get_full_name(self) -> str:
        return self.display_name or self.username

    def get_short_name(self) -> str:
        return (self.display_name or self.username).split(" ")[0]


class OutboxMessage(models.Model):
    """A side effect written in the same transaction as the change that causes it.

    A dispatcher hands it to Celery after commit; a periodic sweeper re-sends any row not yet
    done, so a broker outage delays side effects but never loses them. The task is keyed by
    this row, so it runs its handler at most once to completion.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    topic = models.CharField(max_length=80)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(state="pending"),
                name="outbox_pending_idx",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="done", done_at__isnull=False) | ~Q(state="done"),
                name="outbox_done_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk} ({self.state})"


# Role changes: a row each time a person gains or loses a role group (at sign-in or by hand).
pghistory.track(
    pghistory.InsertEvent("role.added"),
    pghistory.DeleteEvent("role.removed"),
    obj_field=None,
    append_only=True,
    model_name="UserRoleEvent",
    app_label="synergy_portal",
)(User.groups.through)


class ChangeLog(models.Model):
    """Append-only log of row changes in the tables the DDI extract reads.

    Written by database triggers (migration 0003) in the same transaction as each change, so
    bulk and raw-SQL writes are logged too. ``txid`` is the writing transaction's id: the
    extract reads only rows whose ``txid`` is below the oldest transaction still running when
    its snapshot was taken, so a transaction that commits late is picked up by the next run
    instead of being skipped (an id or time watermark would skip it). Rows cannot be updated;
    they are deleted only by the extract's retention pruning.
    """

    class Op(models.TextChoices):
        INSERT = "I", "Insert"
        UPDATE = "U", "Update"
        DELETE = "D", "Delete"
        # An opportunity's own attributes changed (title, journey, owner, score…), but none
        # that its status changes, supports, benefits or bridges depend on: the extract
        # rewrites only its fact_opportunity row.
        ATTRIBUTES = "A", "Attributes only"

    id = models.BigAutoField(primary_key=True)
    table_name = models.CharField(max_length=63)
    row_id = models.BigIntegerField()
    opportunity_id = models.BigIntegerField(null=True, blank=True)
    op = models.CharField(max_length=1, choices=Op.choices)
    txid = models.BigIntegerField()
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["txid"], name="changelog_txid_idx"),
            # Retention deletes by age; rows arrive in time order, so a BRIN index (a few
            # pages, next to nothing to maintain) finds the old ones without a full scan.
            BrinIndex(fields=["changed_at"], name="changelog_changed_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.op} {self.table_name} {self.row_id} (tx {self.txid})"
