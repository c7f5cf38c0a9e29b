"""Web UI pages, one module per subsystem; server-rendered Jinja2 with a little plain JS."""
