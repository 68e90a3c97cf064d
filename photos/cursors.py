"""Opaque, signed pagination cursors.

A cursor is the DynamoDB key to continue after, signed with the secret key and
a salt naming the list it belongs to: a client can neither forge one nor reuse
one list's cursor on another list.
"""

from django.core import signing

from .errors import InvalidCursor

_MAX_LENGTH = 2048


def cursor_encode(*, key: dict[str, str], scope: str) -> str:
    return signing.dumps(key, salt=f"photos.cursor:{scope}", compress=True)


def cursor_decode(*, cursor: str, scope: str, fields: tuple[str, ...]) -> dict[str, str]:
    """The key inside `cursor`; InvalidCursor unless it was made by cursor_encode for `scope`."""
    if len(cursor) > _MAX_LENGTH:
        raise InvalidCursor()
    try:
        key = signing.loads(cursor, salt=f"photos.cursor:{scope}")
    except (signing.BadSignature, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    if (
        not isinstance(key, dict)
        or set(key) != set(fields)
        or not all(isinstance(value, str) for value in key.values())
    ):
        raise InvalidCursor()
    return key
