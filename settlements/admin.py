from django.contrib import admin

from .models import CashMovement, Payment, SaleLine, Settlement


class SaleLineInline(admin.TabularInline):
    model = SaleLine
    extra = 0


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0


class CashMovementInline(admin.TabularInline):
    model = CashMovement
    extra = 0


@admin.register(Settlement)
class SettlementAdmin(admin.ModelAdmin):
    list_display = ["business_date", "location", "register_id", "z_number", "state", "total_sales"]
    list_filter = ["state", "organization", "location"]
    search_fields = ["register_id", "z_number"]
    date_hierarchy = "business_date"
    inlines = [SaleLineInline, PaymentInline, CashMovementInline]
