"""REST API routers, one module per subsystem, mounted under ``/api/v1``."""
