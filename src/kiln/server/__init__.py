"""``kiln server``: the REST API and the web UI over kiln's stores, in one process.

Each subsystem contributes one API router (``kiln.server.api.<area>``) and one
page module (``kiln.server.ui.<area>``), listed in :data:`kiln.server.app.API_ROUTERS`
and :data:`kiln.server.app.UI_ROUTERS`.
"""
