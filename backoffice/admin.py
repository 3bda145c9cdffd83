from django.contrib import admin
from django_otp.admin import OTPAdminSite

from .models import ApiKey, AuditEvent, Location, Membership, Organization, Register

# The admin site requires two-factor sign-in (issue 17): only a user verified with a TOTP
# code (set up at /konto/tofaktor/) gets in; its login page asks for the code.
admin.site.__class__ = OTPAdminSite


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "organization"]
    list_filter = ["organization"]
    search_fields = ["name", "code"]


@admin.register(Register)
class RegisterAdmin(admin.ModelAdmin):
    list_display = ["code", "location"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are issued by `issue_api_key` or the Butikker page (the key text is shown once
    there): a key added here would have no hash anyone knows. A key stays with its store:
    moving it would hand one organisation's till access to another's books."""

    list_display = ["prefix", "location", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["location__organization"]
    readonly_fields = ["prefix", "location", "key_hash", "created_at", "last_used_at"]
    fields = ["prefix", "location", "key_hash", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "organization", "actor_label", "action"]
    list_filter = ["action", "organization"]
    readonly_fields = ["organization", "at", "actor", "actor_label", "action", "details"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
