"""Mounted at /visma-sandbox/ by backoffice/urls.py when VISMA_SANDBOX is on.

VISMA_IDENTITY_URL = http://HOST/visma-sandbox/identity
VISMA_API_URL      = http://HOST/visma-sandbox/api/v2
"""

from django.urls import path, re_path

from . import api_views, identity_views, views

app_name = "visma_sandbox"

urlpatterns = [
    path("", views.home, name="home"),
    path("control", views.control, name="control"),
    # identity (VISMA_IDENTITY_URL)
    path("identity", identity_views.identity_root, name="identity_root"),
    path("identity/connect/authorize", identity_views.authorize, name="authorize"),
    path("identity/connect/token", identity_views.token, name="token"),
    path("identity/connect/revocation", identity_views.revocation, name="revocation"),
    path(
        "identity/.well-known/openid-configuration",
        identity_views.discovery,
        name="discovery",
    ),
    path("identity/account/login", identity_views.login, name="login"),
    path("identity/account/company", identity_views.select_company, name="select_company"),
    path("identity/consent", identity_views.consent, name="consent"),
    # API v2 (VISMA_API_URL)
    path("api/v2", api_views.not_found, name="api_root"),
    path("api/v2/companysettings", api_views.company_settings, name="companysettings"),
    path("api/v2/accounts", api_views.accounts, name="accounts"),
    path(
        "api/v2/accounts/<uuid:fiscal_year_id>",
        api_views.accounts_of_year,
        name="accounts_of_year",
    ),
    path("api/v2/vatcodes", api_views.vat_codes, name="vatcodes"),
    path("api/v2/fiscalyears", api_views.fiscal_years, name="fiscalyears"),
    path("api/v2/costcenters", api_views.cost_centers, name="costcenters"),
    path("api/v2/vouchers", api_views.voucher_list, name="vouchers"),
    path(
        "api/v2/vouchers/<uuid:fiscal_year_id>/<uuid:voucher_id>",
        api_views.voucher_detail,
        name="voucher_detail",
    ),
    path("api/v2/attachments", api_views.attachment_list, name="attachments"),
    path(
        "api/v2/attachments/<uuid:attachment_id>",
        api_views.attachment_detail,
        name="attachment_detail",
    ),
    path("api/v2/attachmentlinks", api_views.attachment_links, name="attachmentlinks"),
    path("api/v2/voucherdrafts", api_views.voucher_drafts, name="voucherdrafts"),
    path(
        "api/v2/voucherdrafts/<uuid:draft_id>",
        api_views.voucher_draft_detail,
        name="voucherdraft_detail",
    ),
    path(
        "api/v2/voucherdrafts/<uuid:draft_id>/convert",
        api_views.voucher_draft_convert,
        name="voucherdraft_convert",
    ),
    re_path(r"^api/v2/(?P<rest>.*)$", api_views.not_found),
    # The file behind an attachment's TemporaryUrl (and the simulator page's link).
    path("attachments/<uuid:attachment_id>/file", views.attachment_file, name="attachment_file"),
]
