from django.urls import path

from . import views

app_name = "visma"

urlpatterns = [
    path("oppsett/integrasjoner/visma-eaccounting/", views.integration, name="integration"),
]
