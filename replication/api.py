"""GET /api/replication: the replicator's status, for operators."""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .controls import control_as_dict, replication_controls_get
from .status import replication_overview_get


class IsOperator(BasePermission):
    message = "Only members of the operators group may see replication status."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(getattr(request.user, "is_operator", False))


class ReplicationStatusApi(APIView):
    permission_classes = [IsOperator]

    def get(self, request: Request) -> Response:
        status = replication_overview_get()
        status["controls"] = {
            name: control_as_dict(control) for name, control in replication_controls_get().items()
        }
        return Response(status)
