from __future__ import annotations

from django.contrib import admin

from opportunities.models import (
    Attachment,
    Benefit,
    Comment,
    DeliveryCycle,
    Follow,
    Notification,
    Opportunity,
    Score,
    ScoringModel,
    StatusChange,
    Support,
)


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "actor", "reason", "created_at")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = (
        "reference",
        "title",
        "status",
        "journey",
        "current_priority",
        "supporters_count",
    )
    list_filter = ("status", "classification", "journey", "department")
    search_fields = ("reference", "title")
    raw_id_fields = ("submitter", "owner", "merged_into", "current_score", "step")
    readonly_fields = ("reference", "status", "version", "current_priority", "supporters_count")
    filter_horizontal = ("applications", "dna_themes")
    inlines = (StatusChangeInline,)
    list_select_related = ("journey",)
    show_full_result_count = False


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ("opportunity", "from_status", "to_status", "actor", "created_at")
    list_filter = ("to_status",)
    raw_id_fields = ("opportunity", "actor")


@admin.register(Support, Follow)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ("opportunity", "user", "created_at")
    raw_id_fields = ("opportunity", "user")


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("opportunity", "author", "created_at", "hidden_at")
    raw_id_fields = ("opportunity", "author", "hidden_by")


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("original_name", "opportunity", "content_type", "size", "created_at")
    raw_id_fields = ("opportunity", "uploaded_by")


@admin.register(ScoringModel)
class ScoringModelAdmin(admin.ModelAdmin):
    list_display = ("version", "name", "is_active", "activated_at")


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    list_display = ("opportunity", "model", "kind", "priority", "is_current", "created_at")
    list_filter = ("kind", "is_current", "model")
    raw_id_fields = ("opportunity", "scored_by")


@admin.register(DeliveryCycle)
class DeliveryCycleAdmin(admin.ModelAdmin):
    list_display = ("name", "starts_on", "ends_on", "capacity_days", "state")


@admin.register(Benefit)
class BenefitAdmin(admin.ModelAdmin):
    list_display = ("opportunity", "hours_per_year", "cash_per_year", "realised_on")
    raw_id_fields = ("opportunity", "recorded_by")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "message", "created_at", "read_at")
    raw_id_fields = ("recipient", "opportunity")
