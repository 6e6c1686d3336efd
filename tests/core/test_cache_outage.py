"""A frozen Redis (it accepts connections and answers nothing): cached requests go on without the
cache, the log says so once per outage instead of a traceback per call, and the cache comes back."""

import json

from tests.private_redis import private_redis
from tests.served_app import app_env, manage

# Cache calls before, during and after a freeze, in the app's own settings (a Django shell).
SCRIPT = """
import json, os, signal, time
from django.core.cache import cache
pid = int(os.environ["REDIS_PID"])
cache.set("answer", 42)
before = cache.get("answer")
os.kill(pid, signal.SIGSTOP)
try:
    frozen = [cache.get("answer") for _ in range(20)] + [cache.set("other", 1) for _ in range(20)]
finally:
    os.kill(pid, signal.SIGCONT)
deadline = time.monotonic() + 30
while (after := cache.get("answer")) is None and time.monotonic() < deadline:
    time.sleep(0.2)
print(json.dumps({"before": before, "frozen": frozen, "after": after}))
"""


def test_a_frozen_redis_costs_one_log_line_and_the_cache_comes_back():
    with private_redis() as server:
        env = app_env(CACHE_URL=server.url, REDIS_PID=str(server.process.pid), LOG_LEVEL="INFO")
        output = manage(env, "shell", "--no-imports", "-c", SCRIPT).strip().splitlines()

    result = json.loads(output[-1])
    assert result["before"] == 42
    assert set(result["frozen"]) <= {None, False}
    assert result["after"] == 42
    log = output[:-1]
    assert [line for line in log if "cache unavailable" in line] == log[:1]
    assert "WARNING core.cache" in log[0]
    assert len([line for line in log if "cache available again" in line]) == 1
    assert len(log) == 2, log
