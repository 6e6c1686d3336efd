"""Static files storage: compressed, hashed names, and hashed ES module imports."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    # static/js modules import each other by relative path; rewrite those imports to the
    # hashed names too, so a deploy never mixes old and new modules in a browser cache.
    support_js_module_import_aggregation = True
