"""Settings of the benchmark run: the test settings (so the Visma simulator app is
installed and migrated) plus the bench-only URLs (a trivial baseline endpoint that must
never exist in the product)."""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
