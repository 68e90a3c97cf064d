"""Pages: gallery, photo detail with comments, upload, My photos."""

import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mra_site.errors import ApplicationError
from mra_site.middleware import page_render
from routing.fencing import WriteRefused

from . import idempotency, selectors, services
from .errors import ImageRefused, InvalidInput
from .images import declared_length_check, thumbnail_size
from .media import display_url, media_url, photo_media_arrived, photo_srcset, placeholder_url
from .records import Photo
from .services import COMMENT_MAX_LENGTH, TITLE_MAX_LENGTH
from .texts import (
    COMMENT_REQUIRED,
    IMAGE_REQUIRED,
    NEWEST_PHOTO,
    OLDEST_PHOTO,
    SIGNED_OUT,
    TITLE_REQUIRED,
)


class UploadForm(forms.Form):
    title = forms.CharField(
        max_length=TITLE_MAX_LENGTH, error_messages={"required": TITLE_REQUIRED}
    )
    # Empty files reach the service, which says why they are refused.
    image = forms.FileField(allow_empty_file=True, error_messages={"required": IMAGE_REQUIRED})


class CommentForm(forms.Form):
    message = forms.CharField(
        max_length=COMMENT_MAX_LENGTH,
        error_messages={"required": COMMENT_REQUIRED},
    )


def sign_in_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if wants_json(request):
                # The upload page's script keeps the file and says what to do.
                return JsonResponse(
                    {"error": "not_authenticated", "detail": SIGNED_OUT}, status=401
                )
            login = reverse("accounts:login")
            return HttpResponseRedirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper


PAGE_IN_FLIGHT_WAIT_SECONDS = 10.0

# What a refused form's "continue" link carries to the writable region, by page.
CARRIED_COMMENT = "comment"
CARRIED_TITLE = "title"


def carried_text(request: HttpRequest, name: str, *, max_length: int) -> str:
    """Text a refused form carried here in the query (`?comment=`, `?title=`), made safe
    to pre-fill a field: control characters other than line breaks and tabs dropped,
    cut to the field's limit. The template escapes it."""
    value = request.GET.get(name, "")
    kept = "".join(c for c in value if c in "\n\t" or unicodedata.category(c) != "Cc")
    return kept[:max_length]


def continue_url(refused: WriteRefused, path: str, *, fragment: str = "", **carried: str) -> str:
    """Where a write refused as read-only (421) goes on: the page at `path` in the writable
    region, a GET that keeps what was typed; "" when there is no such region."""
    if refused.status != 421 or not refused.writable_url:
        return ""
    query = urlencode({name: value for name, value in carried.items() if value})
    return (
        refused.writable_url.rstrip("/")
        + path
        + (f"?{query}" if query else "")
        + (f"#{fragment}" if fragment else "")
    )


def form_key(request: HttpRequest) -> str:
    """The idempotency key a form carries: the one it was posted with, so that the
    same form sent again is stored once, or a new one for a new form."""
    posted = request.POST.get(idempotency.FORM_FIELD, "") if request.method == "POST" else ""
    try:
        return idempotency.key_parse(posted) or idempotency.key_new()
    except InvalidInput:
        return idempotency.key_new()


def posted_key(request: HttpRequest) -> str | None:
    """The key a form was posted with; None from a page rendered before forms had one."""
    return idempotency.key_parse(request.POST.get(idempotency.FORM_FIELD) or None)


def photo_card(photo: Photo) -> dict[str, Any]:
    thumb_width, thumb_height = thumbnail_size(photo.width, photo.height)
    return {
        "photo": photo,
        "thumbnail_url": media_url(key=photo.thumbnail_key),
        "srcset": photo_srcset(photo),
        "thumb_width": thumb_width,
        "thumb_height": thumb_height,
    }


# How wide the photo page draws a photo: the whole column on a phone or tablet,
# two thirds of the page beside the comments, and never taller than 80 % of the
# screen (static/css/photos.css), so a portrait photo is narrower.
_DETAIL_MAX_HEIGHT_VH = 80


def detail_sizes(photo: Photo) -> str:
    """`sizes` of the photo page's image, from the photo's aspect ratio."""
    height_bound = f"{_DETAIL_MAX_HEIGHT_VH * photo.width / max(photo.height, 1):.1f}vh"
    return f"(max-width: 820px) min(100vw, {height_bound}), min(64vw, 1100px, {height_bound})"


def _photo_grid(
    request: HttpRequest, *, template: str, owner: str | None = None, **context: Any
) -> HttpResponse:
    error: InvalidInput | None = None
    try:
        page = selectors.photo_list(
            limit=selectors.DEFAULT_PAGE_SIZE,
            cursor=request.GET.get("cursor") or None,
            owner=owner,
        )
    except InvalidInput as exc:
        page, error = selectors.Page(results=[], next_cursor=None), exc
    return render(
        request,
        template,
        {
            "cards": [photo_card(p) for p in page.results],
            "next_cursor": page.next_cursor,
            "page_size": selectors.DEFAULT_PAGE_SIZE,
            "list_error": error.detail if error else "",
            "placeholder_url": placeholder_url(),
            "owner": owner or "",
            **context,
        },
        status=error.status if error else 200,
    )


@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    return _photo_grid(request, template="photos/gallery.html")


@require_GET
@sign_in_required
def my_photos(request: HttpRequest) -> HttpResponse:
    return _photo_grid(request, template="photos/my_photos.html", owner=request.user.id)


def _detail(
    request: HttpRequest,
    photo_id: str,
    *,
    form: CommentForm | None = None,
    refused: WriteRefused | None = None,
    carried: str = "",
    status: int = 200,
) -> HttpResponse:
    photo = selectors.photo_get(photo_id=photo_id)
    detail_path = reverse("photos:detail", args=[photo.id])
    arrived = photo_media_arrived(photo=photo)
    try:
        comments = selectors.comment_list(
            photo_id=photo.id, cursor=request.GET.get("comments") or None
        )
    except InvalidInput:
        comments = selectors.comment_list(photo_id=photo.id)
    return page_render(
        request,
        "photos/detail.html",
        {
            "photo": photo,
            "media_arrived": arrived,
            "image_url": display_url(photo) if arrived else placeholder_url(),
            "original_url": media_url(key=photo.original_key) if arrived else "",
            "thumbnail_url": media_url(key=photo.thumbnail_key) if arrived else "",
            "srcset": photo_srcset(photo) if arrived else "",
            "sizes": detail_sizes(photo),
            "large_width": photo.display_width if photo.display_key else photo.width,
            "large_height": photo.display_height if photo.display_key else photo.height,
            "placeholder_url": placeholder_url(),
            "comments": comments.results,
            "later_comments": comments.next_cursor,
            "earlier_comments_hidden": bool(request.GET.get("comments")),
            "form": form or CommentForm(),
            "is_owner": request.user.is_authenticated and request.user.id == photo.owner_id,
            "refused": refused,
            "continue_url": continue_url(
                refused, detail_path, fragment="comments" if carried else "", comment=carried
            )
            if refused
            else "",
            "continue_keeps": CARRIED_COMMENT if carried else "",
            "comment_max_length": COMMENT_MAX_LENGTH,
            "idempotency_field": idempotency.FORM_FIELD,
            "idempotency_key": form_key(request),
        },
        status=status,
        error=refused,
    )


@require_GET
def photo_detail(request: HttpRequest, photo_id: str) -> HttpResponse:
    carried = carried_text(request, CARRIED_COMMENT, max_length=COMMENT_MAX_LENGTH)
    return _detail(request, photo_id, form=CommentForm(initial={"message": carried}))


@require_GET
def photo_step(request: HttpRequest, photo_id: str, *, newer: bool) -> HttpResponse:
    """The newer or older photo's page (a 302), found when the visitor steps; at
    either end of the gallery, back to this photo with a word on why."""
    photo = selectors.photo_get(photo_id=photo_id)
    neighbour = selectors.photo_neighbour(photo=photo, newer=newer)
    if neighbour is None:
        messages.info(request, NEWEST_PHOTO if newer else OLDEST_PHOTO)
        return HttpResponseRedirect(reverse("photos:detail", args=[photo.id]))
    return HttpResponseRedirect(reverse("photos:detail", args=[neighbour.id]))


@require_POST
@sign_in_required
def comment_post(request: HttpRequest, photo_id: str) -> HttpResponse:
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _detail(request, photo_id, form=form, status=400)
    try:
        services.comment_create(
            photo_id=photo_id,
            author=request.user.username,
            author_id=request.user.id,
            message=form.cleaned_data["message"],
            idempotency_key=posted_key(request),
        )
    except WriteRefused as exc:
        return _detail(
            request,
            photo_id,
            form=form,
            refused=exc,
            carried=form.cleaned_data["message"],
            status=exc.status,
        )
    except InvalidInput as exc:
        form.add_error(exc.field, exc.detail)
        return _detail(request, photo_id, form=form, status=exc.status)
    return HttpResponseRedirect(reverse("photos:detail", args=[photo_id]) + "#comments")


@require_POST
@sign_in_required
def photo_delete(request: HttpRequest, photo_id: str) -> HttpResponse:
    try:
        services.photo_delete(photo_id=photo_id, owner_id=request.user.id)
    except WriteRefused as exc:
        return _detail(request, photo_id, refused=exc, status=exc.status)
    messages.success(request, "The photo and its comments were deleted.")
    return HttpResponseRedirect(reverse("photos:mine"))


def _upload_page(
    request: HttpRequest,
    form: UploadForm,
    *,
    refused: WriteRefused | None = None,
    status: int = 200,
) -> HttpResponse:
    return page_render(
        request,
        "photos/upload.html",
        {
            "form": form,
            "refused": refused,
            "continue_url": continue_url(
                refused,
                reverse("photos:upload"),
                title=form.cleaned_data.get("title", "") if form.is_bound else "",
            )
            if refused
            else "",
            "continue_keeps": CARRIED_TITLE,
            "max_bytes": settings.MRA_PHOTO_MAX_BYTES,
            "max_megabytes": f"{settings.MRA_PHOTO_MAX_BYTES / (1024 * 1024):g}",
            "max_megapixels": f"{settings.MRA_PHOTO_MAX_PIXELS / 1_000_000:g}",
            "title_max_length": TITLE_MAX_LENGTH,
            "idempotency_field": idempotency.FORM_FIELD,
            "idempotency_key": form_key(request),
        },
        status=status,
        error=refused,
    )


def wants_json(request: HttpRequest) -> bool:
    """The upload page's script asks for JSON answers; a plain form gets the page."""
    return "application/json" in request.headers.get("Accept", "")


def upload_refusal_json(exc: ApplicationError) -> JsonResponse:
    """A refused upload for the page's script: the error's body and headers, and the
    message placed under its field (`errors`) when it belongs to one."""
    body = exc.body()
    if exc.field:
        body["errors"] = {exc.field: [exc.detail]}
    return JsonResponse(body, status=exc.status, headers=exc.headers())


def upload_form_errors_json(form: UploadForm) -> JsonResponse:
    errors = {
        field: [str(message) for message in messages] for field, messages in form.errors.items()
    }
    first = next(iter(errors.values()))[0]
    return JsonResponse({"error": "invalid", "detail": first, "errors": errors}, status=400)


def upload_created_json(photo: Photo) -> JsonResponse:
    return JsonResponse(
        {
            "id": photo.id,
            "title": photo.title,
            "url": reverse("photos:detail", args=[photo.id]),
            "thumbnail_url": media_url(key=photo.thumbnail_key),
        },
        status=201,
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
@sign_in_required
def upload(request: HttpRequest) -> HttpResponse:
    """An oversized body is refused from its declared length, before the CSRF
    check would read it; a refusal changes nothing, so it needs no token."""
    if request.method == "POST":
        try:
            declared_length_check(
                content_length=request.META.get("CONTENT_LENGTH"),
                max_bytes=settings.MRA_PHOTO_MAX_BYTES,
            )
        except ImageRefused as exc:
            if wants_json(request):
                return upload_refusal_json(exc)
            # Nothing of the body was read: the form has only this error to show.
            form = UploadForm(data={}, empty_permitted=True, use_required_attribute=False)
            form.add_error(exc.field, exc.detail)
            return _upload_page(request, form, status=exc.status)
    if wants_json(request) and request.method == "POST":
        return _upload_json(request)
    return _upload_checked(request)


def _photo_from_form(
    request: HttpRequest, form: UploadForm, *, idempotency_key: str | None
) -> Photo:
    image = form.cleaned_data["image"]
    return services.photo_create(
        owner=request.user.username,
        owner_id=request.user.id,
        title=form.cleaned_data["title"],
        upload=image,
        size=image.size,
        idempotency_key=idempotency_key,
        # A form sent twice (a double click) answers the second with the
        # first one's photo rather than "still in progress".
        in_flight_wait=PAGE_IN_FLIGHT_WAIT_SECONDS,
    )


@csrf_protect
def _upload_json(request: HttpRequest) -> HttpResponse:
    """One file sent by the upload page's script, with its own Idempotency-Key: 201 with
    the photo's page, or the refusal as JSON; the page keeps the file for a retry."""
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return upload_form_errors_json(form)
    try:
        key = idempotency.key_parse(
            request.headers.get(idempotency.HEADER) or request.POST.get(idempotency.FORM_FIELD)
        )
        photo = _photo_from_form(request, form, idempotency_key=key)
    except ApplicationError as exc:
        return upload_refusal_json(exc)
    return upload_created_json(photo)


@csrf_protect
def _upload_checked(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        carried = carried_text(request, CARRIED_TITLE, max_length=TITLE_MAX_LENGTH)
        return _upload_page(request, UploadForm(initial={"title": carried}))
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, form, status=400)
    try:
        photo = _photo_from_form(request, form, idempotency_key=posted_key(request))
    except WriteRefused as exc:
        return _upload_page(request, form, refused=exc, status=exc.status)
    except (ImageRefused, InvalidInput) as exc:
        form.add_error(exc.field, exc.detail)
        return _upload_page(request, form, status=exc.status)
    messages.success(request, "Your photo is online.")
    return HttpResponseRedirect(reverse("photos:detail", args=[photo.id]))
