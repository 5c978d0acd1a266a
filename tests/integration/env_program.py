"""An env-only program for ``nxuskit-cli run`` tests: it knows nothing of nxuskit and reads
its key from OPENAI_API_KEY, as most tools do. Run as a script::

    env_program.py key [STATUS]     print "key=" and the key, exit with STATUS (default 0)
    env_program.py environ          print the environment it was started with, as JSON
    env_program.py split            write the key to stdout in two writes, the second only
                                    once the first was read from the pipe, then to stderr
    env_program.py descriptors      print its open descriptors and what each one is
    env_program.py signals LOG      record each signal it gets in LOG, one name a line,
                                    after "ready"; SIGTERM is recorded and then ends it
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sys
import termios
import time

RECORDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGWINCH", "SIGUSR1", "SIGUSR2")


def key(status: str = "0") -> None:
    print("key=" + os.environ.get("OPENAI_API_KEY", "(unset)"), flush=True)
    sys.exit(int(status))


def environ() -> None:
    # /proc/self/environ: what this process was given, before Python's own start-up
    # (its C-locale coercion) could add to os.environ.
    with open("/proc/self/environ", "rb") as handle:
        entries = [entry.partition(b"=") for entry in handle.read().split(b"\0") if entry]
    print(json.dumps({name.decode(): value.decode() for name, _, value in entries}))


def _unread(descriptor: int) -> int:
    found = fcntl.ioctl(descriptor, termios.FIONREAD, b"\0\0\0\0")
    return int.from_bytes(found, sys.byteorder)


def split() -> None:
    secret = os.environ["OPENAI_API_KEY"].encode()
    half = len(secret) // 2
    os.write(1, b"before " + secret[:half])
    # Wait until the reader took the first piece: the second then comes in another read.
    deadline = time.monotonic() + 20
    while _unread(1) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.write(1, secret[half:] + b" after\n")
    os.write(2, b"stderr " + secret + b"\n")


def descriptors() -> None:
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            found[name] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the listing's own descriptor, closed by now
    print(json.dumps(found))


def signals(log: str) -> None:
    def record(number: int, frame: object) -> None:
        name = signal.Signals(number).name
        with open(log, "a") as handle:
            handle.write(name + "\n")
        if number == signal.SIGTERM:  # end as a killed process does: the status says so
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    for name in RECORDED:
        signal.signal(getattr(signal, name), record)
    with open(log, "a") as handle:
        handle.write("ready\n")
    while True:
        signal.pause()


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    {"key": key, "environ": environ, "split": split, "descriptors": descriptors,
     "signals": signals}[command](*arguments)  # fmt: skip
