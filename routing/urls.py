from django.urls import path

from . import api, views

app_name = "routing"

urlpatterns = [
    path("api/state", api.StateAPI.as_view(), name="api-state"),
    path("api/state/history", api.StateHistoryAPI.as_view(), name="api-history"),
    path("console/", views.console, name="console"),
    path("console/status.json", views.console_status, name="console-status"),
    path("console/replication/", views.replication_control, name="console-replication"),
]
