from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from synergy_portal.models import OutboxMessage, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "email", "department", "job_role", "is_active")
    list_filter = ("is_active", "is_staff", "groups", "department")
    search_fields = ("username", "display_name", "email", "oid")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Entra ID identity", {"fields": ("tid", "oid")}),
        ("Profile", {"fields": ("display_name", "email", "department", "job_role")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
    )
    add_fieldsets = ((None, {"fields": ("username", "email", "password1", "password2")}),)
    autocomplete_fields = ("department", "job_role")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "topic", "state", "attempts", "created_at", "done_at")
    list_filter = ("state", "topic")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
