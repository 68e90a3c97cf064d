"""The API's shapes, as DESIGN.md gives them: the input serializers parse what
clients send, the output ones describe answers; both are the OpenAPI schema."""

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mra_site.api import InputSerializer

from .media import display_url, media_url
from .records import Comment, Photo
from .selectors import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from .services import COMMENT_MAX_LENGTH, TITLE_MAX_LENGTH

_LIMIT_REFUSED = f"Give a whole number from 1 to {MAX_PAGE_SIZE}."
_IMAGE_MISSING = "Attach the photo as the multipart field `image`."


def _limit(default: int) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        default=default,
        help_text=f"1 to {MAX_PAGE_SIZE}, default {default}",
        error_messages={key: _LIMIT_REFUSED for key in ("invalid", "min_value", "max_value")},
    )


class PhotoPageQuery(InputSerializer):
    """One page of photos, newest first."""

    limit = _limit(DEFAULT_PAGE_SIZE)
    cursor = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="next_cursor of the previous page",
    )

    error_codes = {"limit": "invalid_limit", "cursor": "invalid_cursor"}


class CommentPageQuery(PhotoPageQuery):
    """One page of a photo's comments, oldest first."""

    limit = _limit(MAX_PAGE_SIZE)


@extend_schema_field(OpenApiTypes.BINARY)
class ImageField(serializers.FileField):
    """An uploaded file, sent as a multipart part (binary in the schema)."""


class PhotoUploadSerializer(InputSerializer):
    """A photo to publish: the image file and its title."""

    # Empty files reach the service, which refuses them with its own code.
    image = ImageField(
        allow_empty_file=True,
        help_text=(
            "JPEG, PNG or WebP, decided by content; at most "
            f"{settings.MRA_PHOTO_MAX_BYTES} bytes (413 beyond) and "
            f"{settings.MRA_PHOTO_MAX_PIXELS} pixels. EXIF is removed."
        ),
        error_messages={"required": _IMAGE_MISSING, "invalid": _IMAGE_MISSING},
    )
    title = serializers.CharField(
        min_length=1,
        max_length=TITLE_MAX_LENGTH,
        help_text="Stored NFC-normalised; control and bidi-override characters are refused",
    )

    error_codes = {"image": "missing_image", "title": "invalid_title"}


class CommentCreateSerializer(InputSerializer):
    """A comment on a photo; the author is the signed-in user."""

    message = serializers.CharField(
        min_length=1,
        max_length=COMMENT_MAX_LENGTH,
        help_text="Stored NFC-normalised; control and bidi-override characters are refused",
    )

    error_codes = {"message": "invalid_message"}


class PhotoSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    owner = serializers.CharField(help_text="The owner's username")
    owner_id = serializers.CharField(help_text="The owner's stable id (the user registry's)")
    created_at = serializers.CharField(help_text="UTC, ISO 8601 with microseconds")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    content_type = serializers.ChoiceField(choices=["image/jpeg", "image/png", "image/webp"])
    url = serializers.SerializerMethodField(help_text="Short-lived URL of the original image")
    thumbnail_url = serializers.SerializerMethodField(
        help_text="Short-lived URL of the 480 px WebP thumbnail"
    )
    display_url = serializers.SerializerMethodField(
        help_text=(
            "Short-lived URL of the display size: WebP, longest side 1600 px, never larger "
            "than the original (the original's URL until the display size is made)"
        )
    )
    display_width = serializers.SerializerMethodField(
        help_text="Width of what display_url serves, in pixels"
    )
    display_height = serializers.SerializerMethodField(
        help_text="Height of what display_url serves, in pixels"
    )
    comment_count = serializers.IntegerField()

    @extend_schema_field(OpenApiTypes.STR)
    def get_display_url(self, photo: Photo) -> str:
        return display_url(photo)

    @extend_schema_field(OpenApiTypes.INT)
    def get_display_width(self, photo: Photo) -> int:
        return photo.display_width if photo.display_key else photo.width

    @extend_schema_field(OpenApiTypes.INT)
    def get_display_height(self, photo: Photo) -> int:
        return photo.display_height if photo.display_key else photo.height

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, photo: Photo) -> str:
        return media_url(key=photo.original_key)

    @extend_schema_field(OpenApiTypes.STR)
    def get_thumbnail_url(self, photo: Photo) -> str:
        return media_url(key=photo.thumbnail_key)


class PhotoPageSerializer(serializers.Serializer):
    results = PhotoSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class CommentSerializer(serializers.Serializer):
    id = serializers.CharField()
    photo_id = serializers.CharField()
    author = serializers.CharField(help_text="The author's username")
    author_id = serializers.CharField(help_text="The author's stable id (the user registry's)")
    message = serializers.CharField()
    created_at = serializers.CharField(help_text="UTC, ISO 8601 with microseconds")


class CommentPageSerializer(serializers.Serializer):
    results = CommentSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


def photo_data(photo: Photo) -> dict[str, Any]:
    return dict(PhotoSerializer(photo).data)


def comment_data(comment: Comment) -> dict[str, Any]:
    return dict(CommentSerializer(comment).data)
