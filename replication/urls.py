from django.urls import path

from .api import ReplicationStatusApi

urlpatterns = [
    path("api/replication", ReplicationStatusApi.as_view(), name="replication-status"),
]
