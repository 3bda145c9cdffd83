"""The test settings are the real settings with the Visma sandbox simulator switched on
(tests drive the production client against it). Set before backoffice.settings reads it."""

import os

os.environ.setdefault("VISMA_SANDBOX", "1")

from backoffice.settings import *  # noqa: E402,F403
