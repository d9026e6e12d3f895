#!/usr/bin/env bash
# What a user installs works on its own: build the sdist and wheel into dist/, check their
# metadata with twine, then install the wheel (not this source tree) into a clean virtualenv
# and run the example site's `manage.py check` from a copy outside the repository, making sure
# that giosg_django came from that virtualenv's site-packages.
#
#     scripts/check_dist.sh .venv/bin/python     (make dist; the python has the dist group)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
python=${1:-.venv/bin/python}

rm -rf dist
"$python" -m build --outdir dist .
"$python" -m twine check --strict dist/*

wheels=(dist/*.whl)
if [ ${#wheels[@]} -ne 1 ]; then
    echo "expected one wheel in dist/, found: ${wheels[*]}" >&2
    exit 1
fi
wheel="$root/${wheels[0]}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The interpreter that made the project's virtualenv, not that virtualenv's own python: the new
# one must not see the editable install.
base=$("$python" -c 'import sys; print(sys.base_prefix)')/bin/python3
"$base" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --upgrade pip
# django-environ: the example site reads its settings with it (the `example` group).
"$tmp/venv/bin/python" -m pip install --quiet "$wheel" "django-environ>=0.11"

# The copy leaves out a local database and .env so that the check sees the defaults.
mkdir "$tmp/site"
tar -C example_project --exclude=db.sqlite3 --exclude=.env --exclude=__pycache__ -cf - . \
    | tar -C "$tmp/site" -xf -

cd "$tmp/site"
# Nothing from the environment may put the repository on sys.path: manage.py's own directory
# (the copy) comes first, then the virtualenv. Asked through manage.py, so that the origin is
# checked with the same sys.path as the check itself.
unset PYTHONPATH
"$tmp/venv/bin/python" manage.py shell -c '
import pathlib, sys, sysconfig
import giosg_django
where = pathlib.Path(giosg_django.__file__).resolve()
site = pathlib.Path(sysconfig.get_paths()["purelib"]).resolve()
if site not in where.parents:
    sys.exit(f"giosg_django came from {where}, not from {site}")
print(f"giosg_django {giosg_django.__version__} from {where.parent}")
'
"$tmp/venv/bin/python" manage.py check
echo "dist: $(cd "$root" && ls dist | tr '\n' ' ')checked"
