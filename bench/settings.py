"""Settings of a benchmark run: the deployed settings, with static files collected outside the tree."""

import os

from voiceapp.settings import *  # noqa: F403

STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
# The baseline endpoints exist only here, never in the deployed URL conf.
ROOT_URLCONF = "bench.urls"
