from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import signin, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", signin.SignInView.as_view(), name="login"),
    path("konto/tofaktor/", signin.two_factor, name="two_factor"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("oppsett/butikker/", views.stores, name="stores"),
    path("oppsett/butikker/<int:location_id>/ny-nokkel/", views.issue_key, name="issue_key"),
    path(
        "oppsett/butikker/nokler/<int:key_id>/trekk-tilbake/",
        views.revoke_key,
        name="revoke_key",
    ),
    path("oppsett/logg/", views.audit_log, name="audit_log"),
    path("admin/", admin.site.urls),
    path("", include("settlements.urls")),
    path("", include("saft.urls")),
    path("", include("accounting.urls")),
    path("", include("integrations.visma.urls")),
]

if settings.VISMA_SANDBOX:
    urlpatterns.append(path("visma-sandbox/", include("visma_sandbox.urls")))
