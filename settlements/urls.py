from django.urls import path

from . import views

app_name = "settlements"

urlpatterns = [
    path("dagsoppgjor/", views.settlement_list, name="list"),
]
