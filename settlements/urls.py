from django.urls import path

from . import api, calendar_views, views

app_name = "settlements"

urlpatterns = [
    path("dagsoppgjor/", views.settlement_list, name="list"),
    path("dagsoppgjor/<int:pk>/", views.settlement_detail, name="detail"),
    # The calendar (issue 18.4): calendar_views.py.
    path("dagsoppgjor/kalender/", calendar_views.calendar_page, name="calendar"),
    path(
        "dagsoppgjor/kalender/kasse/<int:register_id>/stengt/",
        calendar_views.close,
        name="calendar_close",
    ),
    path(
        "dagsoppgjor/kalender/kasse/<int:register_id>/<str:day>/",
        calendar_views.register_day,
        name="calendar_day",
    ),
    path(
        "dagsoppgjor/kalender/stengt/<int:closure_id>/angre/",
        calendar_views.reopen,
        name="calendar_reopen",
    ),
    path("dagsoppgjor/<int:pk>/z-rapport.pdf", views.settlement_pdf, name="pdf"),
    path("dagsoppgjor/<int:pk>/korriger/", views.correct_settlement, name="correct"),
    path("api/v1/settlements", api.settlements_endpoint, name="api"),
    path("api/v1/schema/settlement.json", api.settlement_schema, name="schema"),
]
