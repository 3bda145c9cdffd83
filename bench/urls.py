"""The product's URLs plus one bench-only path: the baseline of the ingestion figure (5)."""

from django.urls import path

from backoffice.urls import urlpatterns as product_urlpatterns

from . import views

urlpatterns = [
    path("bench/insert-one", views.insert_one, name="bench-insert-one"),
    *product_urlpatterns,
]
