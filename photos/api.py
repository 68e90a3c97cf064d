"""The photos API of DESIGN.md: thin views over the services and selectors.

Input is parsed by the input serializers (also the schema); every refusal
propagates to `mra_site.api.exception_handler`."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mra_site.api import RETRY_AFTER_ALWAYS, error_responses, retry_after

from . import idempotency, selectors, services
from .images import declared_length_check
from .serializers import (
    CommentCreateSerializer,
    CommentPageQuery,
    CommentPageSerializer,
    CommentSerializer,
    PhotoPageQuery,
    PhotoPageSerializer,
    PhotoSerializer,
    PhotoUploadSerializer,
    comment_data,
    photo_data,
)

PHOTO_ID = OpenApiParameter(
    name="photo_id",
    type={"type": "string", "pattern": "^[0-9a-f]{32}$"},
    location=OpenApiParameter.PATH,
    description="The photo's id (32 hexadecimal digits); any other id answers 404",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    name=idempotency.HEADER,
    type={
        "type": "string",
        "minLength": 1,
        "maxLength": idempotency.KEY_MAX_LENGTH,
        "pattern": f"^[!-~]([ -~]{{0,{idempotency.KEY_MAX_LENGTH - 2}}}[!-~])?$",
    },
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        f"{idempotency.KEY_RULE}, scoped to the user and this endpoint, kept "
        f"{idempotency.RECORD_LIFETIME_SECONDS // 3600} h. A retry with the same key and the "
        "same request returns the first 201 and its body and stores nothing new, in either "
        "region; 422 `idempotency_key_reused` when the request differs; 409 `write_in_flight` "
        "+ Retry-After while the first attempt runs. Only a 201 is kept: a refused attempt "
        "leaves the key free. A malformed key answers 400 `invalid_idempotency_key`."
    ),
)
_WRITE_MEANINGS = {
    409: "`write_in_flight` + Retry-After: the same key's first attempt is running",
    422: "`idempotency_key_reused`: the key served another request",
    503: (
        "+ Retry-After: `fenced`, `read_only_region` through the front door, "
        "`region_unavailable`, `busy` (photos being converted), or `outcome_unknown` (the "
        "region did not confirm the write in time: retry with the same key to complete it "
        "exactly once)"
    ),
}
_KEYED_WRITE = (400, 401, 404, 409, 413, 414, 415, 421, 422, 503)
_WRITE_HEADERS = [retry_after(*RETRY_AFTER_ALWAYS), retry_after(409, required=False)]


def _key(request: Request) -> str | None:
    return idempotency.key_parse(request.headers.get(idempotency.HEADER))


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
        parameters=[PhotoPageQuery, retry_after(503)],
        responses={200: PhotoPageSerializer, **error_responses((400, 401, 414, 503))},
    )
    def get(self, request: Request) -> Response:
        query = PhotoPageQuery.parse(request.query_params)
        page = selectors.photo_list(limit=query["limit"], cursor=query.get("cursor") or None)
        return Response(
            {"results": [photo_data(p) for p in page.results], "next_cursor": page.next_cursor}
        )

    @extend_schema(
        operation_id="photos_create",
        parameters=[IDEMPOTENCY_KEY, *_WRITE_HEADERS],
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={
            201: PhotoSerializer,
            **error_responses(
                (status for status in _KEYED_WRITE if status not in (404, 414)),
                described=_WRITE_MEANINGS,
            ),
        },
    )
    def post(self, request: Request) -> Response:
        key = _key(request)
        upload = PhotoUploadSerializer.parse(request.data)
        photo = services.photo_create(
            owner=request.user.username,
            owner_id=request.user.id,
            title=upload["title"],
            upload=upload["image"],
            size=upload["image"].size,
            idempotency_key=key,
        )
        return Response(photo_data(photo), status=status.HTTP_201_CREATED)


class PhotoDetailAPI(PhotosAPIView):
    @extend_schema(
        operation_id="photos_retrieve",
        parameters=[PHOTO_ID, retry_after(503)],
        responses={200: PhotoSerializer, **error_responses((401, 404, 414, 503))},
    )
    def get(self, request: Request, photo_id: str) -> Response:
        return Response(photo_data(selectors.photo_get(photo_id=photo_id)))

    @extend_schema(
        operation_id="photos_destroy",
        parameters=[PHOTO_ID, retry_after(503)],
        responses={
            204: None,
            **error_responses((401, 403, 404, 414, 421, 503), described=_WRITE_MEANINGS),
        },
    )
    def delete(self, request: Request, photo_id: str) -> Response:
        services.photo_delete(photo_id=photo_id, owner_id=request.user.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentListCreateAPI(PhotosAPIView):
    @extend_schema(
        operation_id="photos_comments_list",
        parameters=[PHOTO_ID, CommentPageQuery, retry_after(503)],
        responses={200: CommentPageSerializer, **error_responses((400, 401, 404, 414, 503))},
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
        parameters=[PHOTO_ID, IDEMPOTENCY_KEY, *_WRITE_HEADERS],
        request=CommentCreateSerializer,
        responses={
            201: CommentSerializer,
            **error_responses(_KEYED_WRITE, described=_WRITE_MEANINGS),
        },
    )
    def post(self, request: Request, photo_id: str) -> Response:
        key = _key(request)
        comment = services.comment_create(
            photo_id=photo_id,
            author=request.user.username,
            author_id=request.user.id,
            message=CommentCreateSerializer.parse(request.data)["message"],
            idempotency_key=key,
        )
        return Response(comment_data(comment), status=status.HTTP_201_CREATED)
