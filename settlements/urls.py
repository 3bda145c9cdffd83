from django.urls import path

from . import api, views

app_name = "settlements"

urlpatterns = [
    path("dagsoppgjor/", views.settlement_list, name="list"),
    path("dagsoppgjor/<int:pk>/", views.settlement_detail, name="detail"),
    path("dagsoppgjor/<int:pk>/korriger/", views.correct_settlement, name="correct"),
    path("api/v1/settlements", api.settlements_endpoint, name="api"),
    path("api/v1/schema/settlement.json", api.settlement_schema, name="schema"),
]
