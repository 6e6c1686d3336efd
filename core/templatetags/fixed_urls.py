"""{% fixed_url 'name' %}: what {% url 'name' %} gives for a URL without arguments, reversed once.

Every page's layout names the same handful of URLs; reverse() cost ~20 µs each time (a tenth of
the history page's rendering, docs/performance.md). The result depends only on the name, the URL
configuration, the script prefix and the language, which make the cache's key.
"""

import functools

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag
def fixed_url(name: str) -> str:
    # A simple tag's result is escaped when autoescaping is on, as {% url %}'s.
    return _reversed(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), get_language())


@functools.lru_cache(maxsize=256)
def _reversed(name: str, urlconf: str, prefix: str, language: str | None) -> str:
    return reverse(name, urlconf=urlconf)
