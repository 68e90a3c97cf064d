"""Request users built from Cognito claims; there is no user table."""

from dataclasses import dataclass, field

from django.conf import settings


@dataclass(frozen=True)
class CognitoUser:
    username: str
    sub: str
    groups: tuple[str, ...] = field(default=())
    region: str = ""  # the region whose pool issued the token
    id: str = ""  # the stable id the user registry gave the user

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    @property
    def is_operator(self) -> bool:
        return settings.MRA_OPERATORS_GROUP in self.groups

    @property
    def pk(self) -> str:
        return self.id or self.sub

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username


class AnonymousUser:
    username = ""
    sub = ""
    id = ""
    groups: tuple[str, ...] = ()
    region = ""
    pk = None
    is_authenticated = False
    is_anonymous = True
    is_active = False
    is_staff = False
    is_superuser = False
    is_operator = False

    def get_username(self) -> str:
        return ""

    def __str__(self) -> str:
        return "AnonymousUser"

    def __bool__(self) -> bool:
        return True
