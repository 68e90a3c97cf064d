"""GET /api/replication: the replicator's status, for operators."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsOperator
from mra_site.api import error_responses, retry_after

from .controls import control_as_dict, replication_controls_get
from .status import replication_overview_get


class ReplicationStatusApi(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        parameters=[retry_after(503)],
        responses={200: OpenApiTypes.OBJECT, **error_responses((401, 403, 503))},
        summary="Replication status per direction and dataset, and each region's canary lag "
        "(operators)",
    )
    def get(self, request: Request) -> Response:
        status = replication_overview_get()
        status["controls"] = {
            name: control_as_dict(control) for name, control in replication_controls_get().items()
        }
        return Response(status)
