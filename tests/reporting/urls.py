"""The portal's URLs plus the reporting app's, until synergy_portal/urls.py includes them."""

from django.urls import include, path

handler403 = "synergy_portal.views.errors.forbidden"

urlpatterns = [
    path("", include("reporting.urls")),
    path("", include("synergy_portal.urls")),
]
