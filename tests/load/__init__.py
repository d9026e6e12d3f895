"""The test project under gunicorn: settings, processes (gunicorn, Redis) and the visitors that
drive it, for tests/test_load.py and tests/test_faults.py."""
