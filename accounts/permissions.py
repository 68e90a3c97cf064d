from rest_framework.permissions import BasePermission


class IsOperator(BasePermission):
    """Members of the Cognito group of operators (MRA_OPERATORS_GROUP)."""

    message = "Only members of the operators group may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "is_operator", False))
