"""A throwaway PostgreSQL server for the test run (initdb + pg_ctl in a temp dir).

Every process that needs one starts its own (each pytest-xdist worker, each benchmark): its data
directory and socket folder are a fresh temporary folder, and a port another process took between
choosing and binding it makes start() try the next free one, so servers started at once never meet.
"""
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time


def find_pg_bin() -> str:
    """Directory holding initdb/pg_ctl: Debian keeps them out of PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        if os.path.exists(os.path.join(directory, "initdb")):
            return directory
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise RuntimeError("PostgreSQL server binaries not found: install the Debian package 'postgresql'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """Starts a private cluster on a free loopback port; stop() removes it."""

    START_ATTEMPTS = 5

    def __init__(self, name: str = "") -> None:
        self.bin = find_pg_bin()
        self.root = tempfile.mkdtemp(prefix=f"fitapp-pg-{name}-" if name else "fitapp-pg-")
        self.datadir = os.path.join(self.root, "data")
        self.port = _free_port()
        self._runas: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: run the server as the 'postgres' account.
            pwd.getpwnam("postgres")
            shutil.chown(self.root, "postgres")
            self._runas = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run(self._runas + list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        self._run(os.path.join(self.bin, "initdb"), "-D", self.datadir, "-U", "postgres",
                  "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8")
        for attempt in range(self.START_ATTEMPTS):
            if attempt:
                self.port = _free_port()
            if self._start_on_port():
                self._wait()
                return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        raise RuntimeError(f"throwaway PostgreSQL did not start on {self.START_ATTEMPTS} ports:\n{self._log_tail()}")

    def _start_on_port(self) -> bool:
        """Start the server on self.port; False when the port was taken (another process bound it first)."""
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(self.root, "log"))  # this attempt's messages only
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -k {self.root} -c fsync=off " \
                  "-c synchronous_commit=off -c full_page_writes=off"
        started = subprocess.run(
            self._runas + [os.path.join(self.bin, "pg_ctl"), "-D", self.datadir, "-o", options,
                           "-l", os.path.join(self.root, "log"), "-w", "start"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if started.returncode == 0:
            return True
        if any(sign in self._log_tail() for sign in ("could not bind", "already in use")):
            return False
        raise RuntimeError(f"throwaway PostgreSQL did not start: {started.stderr.decode(errors='replace')}\n"
                           f"{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            with open(os.path.join(self.root, "log"), encoding="utf-8", errors="replace") as log:
                return "".join(log.readlines()[-20:])
        except OSError:
            return ""

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("throwaway PostgreSQL did not start")

    def create_database(self, name: str) -> str:
        self._run(os.path.join(self.bin, "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "postgres", name)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run(self._runas + [os.path.join(self.bin, "pg_ctl"), "-D", self.datadir, "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.root, ignore_errors=True)
