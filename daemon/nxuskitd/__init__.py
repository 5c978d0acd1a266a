"""nxuskitd: the per-user credential daemon (JSON-RPC 2.0 on a private Unix socket)."""

__version__ = "0.1.0"
