from django.urls import path

from . import reconcile_views, views

app_name = "visma"

urlpatterns = [
    path("oppsett/integrasjoner/visma-eaccounting/", views.integration, name="integration"),
    path("oppsett/integrasjoner/visma-eaccounting/koble-til/", views.connect, name="connect"),
    path("oppsett/integrasjoner/visma-eaccounting/callback/", views.callback, name="callback"),
    path("oppsett/integrasjoner/visma-eaccounting/koble-fra/", views.disconnect, name="disconnect"),
    path(
        "oppsett/integrasjoner/visma-eaccounting/bytt-selskap/",
        views.change_company,
        name="change_company",
    ),
    path(
        "oppsett/integrasjoner/visma-eaccounting/oppdater-kontoplan/",
        views.refresh_chart,
        name="refresh_chart",
    ),
    path(
        "oppsett/integrasjoner/visma-eaccounting/kostnadssteder/",
        views.cost_centres,
        name="cost_centres",
    ),
    path(
        "oppsett/integrasjoner/visma-eaccounting/overfor-na/",
        views.transfer_now,
        name="transfer_now",
    ),
    path(
        "oppsett/integrasjoner/visma-eaccounting/status/",
        views.transfer_status,
        name="transfer_status",
    ),
    path("dagsoppgjor/<int:pk>/overfor/", views.transfer_settlement, name="transfer_settlement"),
    # An avvik against Visma (reconcile.py): the admin's two choices.
    path(
        "dagsoppgjor/<int:pk>/avvik/send-pa-nytt/",
        reconcile_views.send_again,
        name="send_again",
    ),
    path(
        "dagsoppgjor/<int:pk>/avvik/godta-visma/",
        reconcile_views.accept_visma,
        name="accept_visma",
    ),
]
