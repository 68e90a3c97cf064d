from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from routing.health import writablez

from . import views

urlpatterns = [
    path("", include("photos.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("writablez", writablez, name="writablez"),
    path("", include("accounts.urls")),
    path("", include("routing.urls")),
    path("", include("replication.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
