"""nxuskit-cli."""
