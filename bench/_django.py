"""What every benchmark runs first: the project importable, Django set up."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup(settings_module: str = "mra_site.settings.test") -> None:
    """Settings from `settings_module` unless DJANGO_SETTINGS_MODULE names others;
    the project's own logs at WARNING so that they do not drown the figures."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    os.environ.setdefault("MRA_LOG_LEVEL", "WARNING")
    import django

    django.setup()
