from django.contrib import admin

from .models import CashMovement, Payment, SaleLine, Settlement, SettlementRevision


class SaleLineInline(admin.TabularInline):
    model = SaleLine
    extra = 0


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0


class CashMovementInline(admin.TabularInline):
    model = CashMovement
    extra = 0


class RevisionInline(admin.TabularInline):
    # The versions the till replaced: history, never edited.
    model = SettlementRevision
    extra = 0
    can_delete = False
    readonly_fields = ["received_at", "replaced_at", "balance_difference", "content_hash"]
    exclude = ["payload"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Settlement)
class SettlementAdmin(admin.ModelAdmin):
    list_display = [
        "business_date",
        "location",
        "register_id",
        "z_number",
        "balance_difference",
        "total_sales",
    ]
    list_filter = ["organization", "location"]
    search_fields = ["register_id", "z_number"]
    date_hierarchy = "business_date"
    inlines = [SaleLineInline, PaymentInline, CashMovementInline, RevisionInline]
