"""Hypothesis profiles of the property tests.

``fast`` (the default) keeps the whole property suite well under a minute; set
``LIMPYD_HYPOTHESIS_PROFILE=thorough`` for a long hunt (many more examples, longer sequences).
The profile is loaded for the whole session once this directory is collected.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("fast", max_examples=100, stateful_step_count=20, deadline=None)
settings.register_profile("thorough", max_examples=2000, stateful_step_count=40, deadline=None)
settings.load_profile(os.environ.get("LIMPYD_HYPOTHESIS_PROFILE", "fast"))
