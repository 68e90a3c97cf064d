from django.urls import path, register_converter

from . import api, views


class PhotoIdConverter:
    regex = "[0-9a-f]{32}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PhotoIdConverter, "photo_id")

app_name = "photos"

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("photos/<photo_id:photo_id>/", views.photo_detail, name="detail"),
    path("photos/<photo_id:photo_id>/newer/", views.photo_step, {"newer": True}, name="newer"),
    path("photos/<photo_id:photo_id>/older/", views.photo_step, {"newer": False}, name="older"),
    path("photos/<photo_id:photo_id>/comments/", views.comment_post, name="comment"),
    path("photos/<photo_id:photo_id>/delete/", views.photo_delete, name="delete"),
    path("upload/", views.upload, name="upload"),
    path("me/", views.my_photos, name="mine"),
    path("api/photos", api.PhotoListCreateAPI.as_view(), name="api-list"),
    path("api/photos/<str:photo_id>", api.PhotoDetailAPI.as_view(), name="api-detail"),
    path(
        "api/photos/<str:photo_id>/comments",
        api.CommentListCreateAPI.as_view(),
        name="api-comments",
    ),
]
