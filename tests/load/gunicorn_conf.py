"""gunicorn settings for the load and fault tests (``-c python:tests.load.gunicorn_conf``).

Sync workers, loopback only, a log file per server; the bind address and the number of
workers come from the environment the test starts gunicorn with.
"""

import os

bind = [os.environ["GIOSG_LOAD_BIND"]]
workers = int(os.environ.get("GIOSG_LOAD_WORKERS", "3"))
worker_class = "sync"
timeout = 30
graceful_timeout = 5
loglevel = "warning"
errorlog = "-"
# The worker's pid on every request: the tests see which worker served which visitor.
accesslog = os.environ.get("GIOSG_LOAD_ACCESS_LOG") or None
access_log_format = "%(p)s %(m)s %(U)s %(q)s %(s)s"
# Newer gunicorn opens a control socket under $HOME by default; these tests need none.
control_socket_disable = True
