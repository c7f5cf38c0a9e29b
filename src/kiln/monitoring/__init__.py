"""Monitoring: drift, data quality, performance from delayed labels, A/B analysis, alerts,
and the loop that retrains and promotes (see :mod:`kiln.monitoring.monitor`)."""
