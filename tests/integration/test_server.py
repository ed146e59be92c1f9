"""Integration tests of limpyd_typed.server against a real server binary."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from limpyd_typed.server import (
    EmbeddedServer,
    ServerNotFound,
    ServerNotStarted,
    ServerStartError,
    find_server_binary,
)
from tests.integration.support import pid_alive as _pid_alive


def _client(server: EmbeddedServer) -> redis.Redis:
    """A client on the server's unix socket, going through its URL."""
    return redis.Redis.from_url(server.url)


@pytest.fixture
def temp_server() -> Iterator[EmbeddedServer]:
    """A running temporary server, stopped at teardown."""
    with EmbeddedServer() as server:
        yield server


def test_temporary_server_serves_then_cleans_up(temp_server: EmbeddedServer) -> None:
    client = _client(temp_server)
    try:
        client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"
    finally:
        client.close()
    assert temp_server.running
    pid, data_dir, socket_path = temp_server.pid, temp_server.data_dir, temp_server.socket_path
    assert Path(socket_path).parent == data_dir
    assert oct(Path(socket_path).stat().st_mode & 0o777) == oct(0o700)

    temp_server.stop()

    assert not temp_server.running
    assert not _pid_alive(pid)
    assert not data_dir.exists()
    temp_server.stop()  # idempotent


def test_properties_before_start() -> None:
    server = EmbeddedServer()
    assert not server.running
    with pytest.raises(ServerNotStarted):
        _ = server.socket_path
    with pytest.raises(ServerNotStarted):
        _ = server.pid
    server.stop()  # stopping a never-started server is harmless


def test_data_persists_across_runs(tmp_path: Path) -> None:
    data_dir = tmp_path / "db"
    with EmbeddedServer(data_dir) as server:
        assert server.data_dir == data_dir.resolve()
        client = _client(server)
        client.set("kept", "yes")
        client.close()

    assert data_dir.is_dir()  # a persistent dir survives stop
    with EmbeddedServer(data_dir) as server:
        client = _client(server)
        assert client.get("kept") == b"yes"
        client.close()


def test_second_server_on_running_path_fails(tmp_path: Path) -> None:
    with EmbeddedServer(tmp_path) as first:
        client = _client(first)
        client.set("owner", "first")
        second = EmbeddedServer(tmp_path)
        with pytest.raises(ServerStartError, match="already running"):
            second.start()
        assert not second.running
        # The first server still owns its socket and its data.
        assert client.get("owner") == b"first"
        client.close()
    # Once the first is stopped, the path is free again.
    with EmbeddedServer(tmp_path) as again:
        assert again.running


def test_long_path_moves_socket_to_short_dir(tmp_path: Path) -> None:
    long_dir = tmp_path / ("d" * 60) / ("e" * 60)
    with EmbeddedServer(long_dir) as server:
        socket_path = Path(server.socket_path)
        assert socket_path.parent != server.data_dir
        assert len(os.fsencode(socket_path)) < 104
        client = _client(server)
        assert client.ping()
        client.close()
    assert not socket_path.parent.exists()
    assert long_dir.is_dir()


def test_env_var_pointing_nowhere_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIMPYD_SERVER_BIN", str(tmp_path / "no-such-server"))
    with pytest.raises(ServerNotFound, match="LIMPYD_SERVER_BIN"):
        find_server_binary()
    with pytest.raises(ServerNotFound):
        EmbeddedServer().start()


@pytest.mark.skipif(not Path("/proc/self/exe").exists(), reason="needs /proc")
def test_env_var_pointing_at_real_binary_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIMPYD_SERVER_BIN", raising=False)
    real = find_server_binary()
    monkeypatch.setenv("LIMPYD_SERVER_BIN", str(real))
    assert find_server_binary() == real
    with EmbeddedServer() as server:
        assert Path(os.readlink(f"/proc/{server.pid}/exe")) == real.resolve()


def test_binary_dying_at_startup_reports_its_log(tmp_path: Path) -> None:
    fake = tmp_path / "broken-server"
    fake.write_text("#!/bin/sh\necho 'fatal: cannot start' >&2\nexit 3\n")
    fake.chmod(0o755)
    server = EmbeddedServer(binary=fake)
    with pytest.raises(ServerStartError, match="(?s)code 3.*fatal: cannot start"):
        server.start()
    assert not server.running
    assert not server.data_dir.exists()
