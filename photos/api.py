"""The photos API of DESIGN.md: thin views over the services and selectors.

Input is parsed by the input serializers (also the schema); every refusal
propagates to `mra_site.api.exception_handler`."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .images import declared_length_check
from .serializers import (
    CommentCreateSerializer,
    CommentPageQuery,
    CommentPageSerializer,
    CommentSerializer,
    ErrorSerializer,
    PhotoPageQuery,
    PhotoPageSerializer,
    PhotoSerializer,
    PhotoUploadSerializer,
    comment_data,
    photo_data,
)


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer) for code in codes}


class PhotosAPIView(APIView):
    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.request.method in permissions.SAFE_METHODS:
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated()]


class PhotoListCreateAPI(PhotosAPIView):
    def initial(self, request: Request, *args, **kwargs) -> None:
        # Before authentication: a cookie-authenticated request has its body
        # parsed by the CSRF check.
        if request.method == "POST":
            declared_length_check(
                content_length=request.META.get("CONTENT_LENGTH"),
                max_bytes=settings.MRA_PHOTO_MAX_BYTES,
            )
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="photos_list",
        parameters=[PhotoPageQuery],
        responses={200: PhotoPageSerializer, **_errors(400)},
    )
    def get(self, request: Request) -> Response:
        query = PhotoPageQuery.parse(request.query_params)
        page = selectors.photo_list(limit=query["limit"], cursor=query.get("cursor") or None)
        return Response(
            {"results": [photo_data(p) for p in page.results], "next_cursor": page.next_cursor}
        )

    @extend_schema(
        operation_id="photos_create",
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={201: PhotoSerializer, **_errors(400, 401, 421, 503)},
    )
    def post(self, request: Request) -> Response:
        upload = PhotoUploadSerializer.parse(request.data)
        photo = services.photo_create(
            owner=request.user.username,
            owner_id=request.user.id,
            title=upload["title"],
            upload=upload["image"],
            size=upload["image"].size,
        )
        return Response(photo_data(photo), status=status.HTTP_201_CREATED)


class PhotoDetailAPI(PhotosAPIView):
    @extend_schema(operation_id="photos_retrieve", responses={200: PhotoSerializer, **_errors(404)})
    def get(self, request: Request, photo_id: str) -> Response:
        return Response(photo_data(selectors.photo_get(photo_id=photo_id)))

    @extend_schema(
        operation_id="photos_destroy",
        responses={204: None, **_errors(401, 403, 404, 421, 503)},
    )
    def delete(self, request: Request, photo_id: str) -> Response:
        services.photo_delete(photo_id=photo_id, owner_id=request.user.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentListCreateAPI(PhotosAPIView):
    @extend_schema(
        operation_id="photos_comments_list",
        parameters=[CommentPageQuery],
        responses={200: CommentPageSerializer, **_errors(400, 404)},
    )
    def get(self, request: Request, photo_id: str) -> Response:
        query = CommentPageQuery.parse(request.query_params)
        selectors.photo_get(photo_id=photo_id)
        page = selectors.comment_list(
            photo_id=photo_id, limit=query["limit"], cursor=query.get("cursor") or None
        )
        return Response(
            {"results": [comment_data(c) for c in page.results], "next_cursor": page.next_cursor}
        )

    @extend_schema(
        operation_id="photos_comments_create",
        request=CommentCreateSerializer,
        responses={201: CommentSerializer, **_errors(400, 401, 404, 421, 503)},
    )
    def post(self, request: Request, photo_id: str) -> Response:
        comment = services.comment_create(
            photo_id=photo_id,
            author=request.user.username,
            author_id=request.user.id,
            message=CommentCreateSerializer.parse(request.data)["message"],
        )
        return Response(comment_data(comment), status=status.HTTP_201_CREATED)
