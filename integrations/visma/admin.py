from django.contrib import admin

from .models import TransferSettings, VismaConnection


@admin.register(VismaConnection)
class VismaConnectionAdmin(admin.ModelAdmin):
    list_display = ["organization", "status", "company_name", "connected_at", "expires_at"]
    list_filter = ["status"]
    # The encrypted tokens are never shown or edited here.
    exclude = ["access_token_encrypted", "refresh_token_encrypted"]
    readonly_fields = [
        "organization",
        "company_name",
        "company_org_number",
        "connected_by",
        "connected_at",
        "visma_user_id",
        "expires_at",
        "scope",
        "token_refreshed_at",
        "reconnect_notified_at",
        "accounting_locked_to",
        "company_refreshed_at",
    ]


@admin.register(TransferSettings)
class TransferSettingsAdmin(admin.ModelAdmin):
    list_display = ["organization", "interval", "lookback_days", "run_time", "next_run_at"]
