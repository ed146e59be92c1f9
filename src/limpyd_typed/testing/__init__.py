"""Testing your models: a pytest plugin (fixtures on a real server) and hypothesis strategies.

The plugin (``plugin.py``) is registered as a ``pytest11`` entry point, so installing
limpyd_typed gives every pytest run the fixtures ``limpyd_server_url``, ``limpyd_db`` and
``limpyd_models``. The strategies (``strategies.py``) derive values and instances from a model's
type hints and field options; they need ``hypothesis``, which the plugin does not.
"""

from __future__ import annotations

import redis.backoff
import redis.retry


def no_retry() -> redis.retry.Retry:
    """A redis-py retry policy that does not retry (pass it as ``Database(url, retry=no_retry())``).

    redis-py 8 retries a failed connection 10 times with backoff, so a dead test server would
    surface only after a long wait; in tests an error should show at once.
    """
    return redis.retry.Retry(redis.backoff.NoBackoff(), 0)


__all__ = ["no_retry"]
