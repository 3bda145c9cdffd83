from django.urls import path

from . import views

app_name = "accounting"

urlpatterns = [
    path("oppsett/kontooppsett/", views.mapping, name="mapping"),
]
