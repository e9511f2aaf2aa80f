from __future__ import annotations

from django.contrib import admin

from reporting.models import EtlBatch


@admin.register(EtlBatch)
class EtlBatchAdmin(admin.ModelAdmin):
    list_display = ("batch_id", "kind", "state", "started_at", "finished_at")
    list_filter = ("state", "kind")
    readonly_fields = [f.name for f in EtlBatch._meta.fields]
