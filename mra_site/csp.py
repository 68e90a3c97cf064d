"""The Content-Security-Policy: the fixed policy is in settings
(CONTENT_SECURITY_POLICY); the origins that depend on the deployment are added
here from the settings in force, since production settings replace the maps
that base settings start from."""

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from mra_site.resources import media_bucket


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def regional_site_origins() -> list[str]:
    """Each region's site: the pages' script reads the other region's state as a
    fallback, and links (never forms) continue a write in the writable region."""
    return sorted({_origin(url) for url in settings.MRA_REGION_URLS.values() if url})


def s3_media_origin(region: str) -> str:
    """The region's media bucket on AWS: its regional virtual-hosted name, the one
    presigned URLs use (mra_site.aws.clients)."""
    return f"https://{media_bucket(region)}.s3.{region}.amazonaws.com"


def media_origins() -> list[str]:
    """Where photos' media URLs point: the media domain, else each region's bucket
    (its emulator locally; its regional virtual-hosted name on AWS)."""
    if settings.MRA_MEDIA_DOMAIN:
        return [_origin(settings.MRA_MEDIA_DOMAIN)]
    origins: list[str] = []
    for region in (settings.MRA_PRIMARY_REGION, settings.MRA_SECONDARY_REGION):
        endpoint = settings.MRA_AWS_ENDPOINTS.get(region, "")
        if endpoint:
            origins.append(_origin(endpoint))
        else:
            origins.append(s3_media_origin(region))
    return list(dict.fromkeys(origins))


def deployment_sources() -> dict[str, list[str]]:
    sites = regional_site_origins()
    return {"img-src": media_origins(), "connect-src": sites, "form-action": sites}


class DeploymentCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with the deployment's origins added to the policy."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        update = {key: list(value) for key, value in (parts.update or {}).items()}
        for directive, sources in deployment_sources().items():
            update[directive] = sources + list(update.get(directive, []))
        parts.update = update
        return parts
