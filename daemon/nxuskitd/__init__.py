"""nxuskitd: the per-user credential daemon (JSON-RPC 2.0 on a private Unix socket).

::

    program        the ``nxuskitd`` command: says which extra to install when one is missing
    __main__       parse options, harden the process, run ``lifecycle.serve``
    options        the command-line flags and their environment variables (DaemonConfig)
    lifecycle      serve(): start-up phases on one exit stack, the main loop, shutdown;
                   ``wire`` builds the daemon's parts in one place
    server         the accept loop: who may connect, the connection cap, the sweeper
    listener       Listener (accept -> stream and Peer); UnixListener
    socket_file    the socket's private directory, bind 0600, the stale probe, unlink
    instance_lock  one daemon per socket
    activation     sockets from systemd or launchd; sd_notify
    connection     one client connection: framing, deadlines, answers in order
    framing        newline-framed lines with a size cap
    dispatch       JSON-RPC 2.0: parse, validate params, call, encode the answer
    methods        the wire's method names bound to handlers (DaemonState: hello, status)
    credentials    CredentialService: resolve, status, set, remove, migrate, the cache
    cache          the session cache (idle and maximum lifetimes, generations)
    generation     the generation file clients map to know their cached resolves hold
    reuse          leave for clients to reuse a resolve, and the watch while they do
    single_flight  one call per key, shared by concurrent callers (reads, refresh)
    store_guard    every store call: worker thread, timeout, stuck cap, late writes
    stores/        Store, the table of store kinds (keyring, file), choosing one
    migrate        moving every credential to another store, verified
    audit          AuditLog: each credential access queued, written by one thread; last_used
    audit_file     the audit log's file: private, appended, rotated by size
    audited        which calls are recorded, and what of each (wraps their handlers)
    registry_answers  the provider registry as provider.list and auth.status send it
    data_directory the private data directory (file store, OAuth locks)
    oauth/         logins, logout, refresh (see its own map)
    team/          keys from a team's OpenBao or Vault behind the personal store (its map)
    ratelimit      log lines outsiders can repeat, kept to a few
    logs           the log's format (journald or timestamps)
    system         the platform seam: peers, file locks, hardening, signals
    posix          its POSIX implementation (the only module with fcntl, resource, SIGHUP)
    peer           Peer: who connected, and whether it is this user; CURRENT, the one now
    errors         StartupError

The version is ``nxuskit.__version__`` (one distribution, one version).
"""
