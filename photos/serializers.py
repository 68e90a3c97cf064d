"""The API's shapes, as DESIGN.md gives them; also the source of the OpenAPI schema."""

from typing import Any

from rest_framework import serializers

from .media import media_url
from .records import Comment, Photo


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    detail = serializers.CharField()


class PhotoSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    owner = serializers.CharField()
    created_at = serializers.CharField(help_text="UTC, ISO 8601 with microseconds")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    content_type = serializers.ChoiceField(choices=["image/jpeg", "image/png", "image/webp"])
    url = serializers.CharField(help_text="Short-lived URL of the original image")
    thumbnail_url = serializers.CharField(help_text="Short-lived URL of the 480 px WebP thumbnail")
    comment_count = serializers.IntegerField()


class PhotoPageSerializer(serializers.Serializer):
    results = PhotoSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class PhotoUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG or WebP; decided by content")
    title = serializers.CharField(max_length=200)


class CommentSerializer(serializers.Serializer):
    id = serializers.CharField()
    photo_id = serializers.CharField()
    author = serializers.CharField()
    message = serializers.CharField()
    created_at = serializers.CharField(help_text="UTC, ISO 8601 with microseconds")


class CommentPageSerializer(serializers.Serializer):
    results = CommentSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class CommentCreateSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=1000)


def photo_data(photo: Photo) -> dict[str, Any]:
    return {
        "id": photo.id,
        "title": photo.title,
        "owner": photo.owner,
        "created_at": photo.created_at,
        "width": photo.width,
        "height": photo.height,
        "content_type": photo.content_type,
        "url": media_url(key=photo.original_key),
        "thumbnail_url": media_url(key=photo.thumbnail_key),
        "comment_count": photo.comment_count,
    }


def comment_data(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "photo_id": comment.photo_id,
        "author": comment.author,
        "message": comment.message,
        "created_at": comment.created_at,
    }
