from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

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
    # Swagger UI's script comes from its own URL (no inline script) and its
    # stylesheet draws icons from data: URLs.
    path(
        "api/docs/",
        csp_update({"img-src": ["data:"]})(
            SpectacularSwaggerSplitView.as_view(
                url_name="schema", template_name="mra_site/api_docs.html"
            )
        ),
        name="api-docs",
    ),
]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
