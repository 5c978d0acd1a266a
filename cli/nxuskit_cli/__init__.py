"""nxuskit-cli: manage the credentials nxuskitd serves (a typer app over the client)."""
