"""A Redis server of the test's own, on a free port, that the test may freeze (SIGSTOP) or stop
without touching the Redis other tests and engineers share."""

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from tests.served_app import free_port


class PrivateRedis:
    def __init__(self, process: subprocess.Popen, port: int):
        self.process = process
        self.url = f"redis://127.0.0.1:{port}/0"

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """Redis accepts connections but answers nothing, like a server stuck on its disk."""
        os.kill(self.process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Redis is gone: connections are refused."""
        self.process.terminate()
        self.process.wait(timeout=10)


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server (Debian package redis-server)")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_timeout=1)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield PrivateRedis(process, port)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
            process.terminate()
            process.wait(timeout=10)
