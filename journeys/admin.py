from __future__ import annotations

from django.contrib import admin

from journeys.models import (
    Application,
    Department,
    DnaTheme,
    Journey,
    JourneyRole,
    JourneyStep,
    Role,
)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "is_active")
    search_fields = ("name", "code")


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("name", "department", "headcount", "hourly_cost")
    list_filter = ("department",)
    search_fields = ("name", "code")


@admin.register(DnaTheme)
class DnaThemeAdmin(admin.ModelAdmin):
    list_display = ("name", "hint", "position")


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("name", "lifecycle", "hosting", "debt_rating", "business_owner")
    list_filter = ("lifecycle", "hosting", "debt_rating")
    search_fields = ("name", "vendor")


class JourneyRoleInline(admin.TabularInline):
    model = JourneyRole
    extra = 0
    autocomplete_fields = ("role",)


class JourneyStepInline(admin.TabularInline):
    model = JourneyStep
    extra = 0
    fields = ("position", "name", "typical_minutes", "retired_at")


@admin.register(Journey)
class JourneyAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "department", "is_active")
    search_fields = ("name",)
    inlines = (JourneyRoleInline, JourneyStepInline)
    autocomplete_fields = ("owner", "department")


@admin.register(JourneyStep)
class JourneyStepAdmin(admin.ModelAdmin):
    list_display = ("journey", "position", "name", "retired_at")
    list_filter = ("journey",)
    search_fields = ("name", "journey__name")
    filter_horizontal = ("applications", "roles")
