"""gunicorn settings for the load and fault tests (``-c python:tests.load.gunicorn_conf``).

Loopback only, a log file per server; the bind address and the number of workers come from
the environment the test starts gunicorn with. Sync workers, unless ``GIOSG_LOAD_THREADS`` is
above 1: then threaded ones (gthread), each holding at most ``GIOSG_LOAD_WORKER_CONNECTIONS``
connections at once, so that parallel requests of one visitor run in several workers and
threads at the same time, as the race tests need.
"""

import os

bind = [os.environ["GIOSG_LOAD_BIND"]]
workers = int(os.environ.get("GIOSG_LOAD_WORKERS", "3"))
threads = int(os.environ.get("GIOSG_LOAD_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
worker_connections = int(os.environ.get("GIOSG_LOAD_WORKER_CONNECTIONS", "1000"))
# The tests' clients make one request a connection: no connection is kept open after it.
keepalive = 0
timeout = 30
graceful_timeout = 5
loglevel = "warning"
errorlog = "-"
# The worker's pid on every request: the tests see which worker served which visitor.
accesslog = os.environ.get("GIOSG_LOAD_ACCESS_LOG") or None
access_log_format = "%(p)s %(m)s %(U)s %(q)s %(s)s"
# Newer gunicorn opens a control socket under $HOME by default; these tests need none.
control_socket_disable = True
