"""One reader process of the client-cache invariant test (test_client_cache_invariant.py).

usage: cache_reader.py BOARD PROVIDER {index|expiry}

BOARD is a 16-byte file the writer updates: bytes 0-7 the newest acknowledged value (a
float64: the index in a rotated key ``sk-...-000123``, or an OAuth token's
``expires_at``), bytes 8-15 nonzero once the writer is done. Until then, this process
reads the board, resolves PROVIDER (its client cache on, as apps run it), and counts an
answer older than what the board said before the resolve began. Once its cache has
answered, it creates ``BOARD.<pid>`` (the writer waits for all of them before it
writes). It prints one JSON line:
resolves, how many the daemon answered (the rest came from the cache), the stale ones
(at most 20 shown) and any errors.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import sys
from typing import Any

import nxuskit
from nxuskit import protocol


def value_of(resolution: nxuskit.Resolution, mode: str) -> float:
    if mode == "expiry":
        assert resolution.expires_at is not None
        return resolution.expires_at
    return float(int((resolution.secret or "").rsplit("-", 1)[1]))


def main() -> None:
    board_path, provider, mode = sys.argv[1:4]
    with open(board_path, "rb") as handle:
        board = mmap.mmap(handle.fileno(), 16, mmap.MAP_SHARED, mmap.PROT_READ)
    client = nxuskit.Client()
    asked = 0
    call = client.call

    def counting_call(method: str, params: dict[str, Any]) -> Any:
        nonlocal asked
        asked += method == protocol.RESOLVE
        return call(method, params)

    client.call = counting_call  # type: ignore[method-assign]
    resolves, stale, errors = 0, [], []
    warm = f"{board_path}.{os.getpid()}"
    while not struct.unpack_from("<Q", board, 8)[0]:
        (acknowledged,) = struct.unpack_from("<d", board, 0)
        try:
            got = value_of(client.auth_resolve(provider), mode)
        except nxuskit.NxuskitError as error:
            errors.append(f"{type(error).__name__}: {error}")
            continue
        resolves += 1
        if got < acknowledged:
            stale.append([acknowledged, got])
        if warm and resolves > asked:  # answered from the cache: ready for the writer
            open(warm, "x").close()
            warm = ""
    client.close()
    print(json.dumps({"resolves": resolves, "asked": asked, "stale": len(stale),
                      "examples": stale[:20], "errors": errors[:5]}))  # fmt: skip


if __name__ == "__main__":
    main()
