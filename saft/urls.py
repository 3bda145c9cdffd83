from django.urls import path

from . import views

app_name = "saft"

urlpatterns = [
    path("dagsoppgjor/saft/", views.imports, name="imports"),
    path("dagsoppgjor/saft/<int:pk>/", views.detail, name="detail"),
    path("dagsoppgjor/saft/<int:pk>/status.json", views.status, name="status"),
]
