"""Runs the documentation's code blocks inside a throwaway ``startproject`` project.

``tests/test_docs.py`` copies this file into the project (next to ``manage.py``) and calls it
as ``python docs_project.py KIND BLOCK_FILE [ARG...]``. The project's settings import it too,
for :func:`snapshot` and :func:`merge`, which let a settings block written as a reader would
(``INSTALLED_APPS = [# ... "giosg_django"]``) add to the lists the project already has instead
of replacing them.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import types
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
IDENTITY_CALLS = {"visitor.submit", "visitor.setIdentifier"}


def snapshot(namespace: dict[str, Any]) -> dict[str, Any]:
    """The lists of ``namespace`` (settings, ``urlpatterns``) before a block runs."""
    return {name: value for name, value in namespace.items() if isinstance(value, list)}


def _key(item: Any) -> Any:
    pattern = getattr(item, "pattern", None)  # a URL pattern: two objects, one route
    return ("url", str(pattern)) if pattern is not None else item


def merge(namespace: dict[str, Any], before: dict[str, Any]) -> None:
    """A list the block bound anew keeps what it had before: the block's items go after the
    item that precedes them in the block (at the end when none does), ``...`` and the items
    already there are skipped. A list changed in place (``+=``, ``[0][...] =``) is left."""
    for name, old in before.items():
        new = namespace.get(name)
        if not isinstance(new, list) or new is old:
            continue
        merged = list(old)
        keys = [_key(item) for item in merged]
        previous = None
        for item in new:
            if item is Ellipsis:
                previous = None
                continue
            key = _key(item)
            if key not in keys:
                where = keys.index(previous) + 1 if previous in keys else len(merged)
                merged.insert(where, item)
                keys.insert(where, key)
            previous = key
        namespace[name] = merged


# --- the driver: everything below runs only as a script, inside the project ----------------


def _load(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _view_modules() -> list[types.ModuleType]:
    folder = HERE / "docs_views"
    paths = sorted(folder.glob("v*.py"), key=lambda p: int(p.stem[1:])) if folder.is_dir() else []
    return [_load(path, f"docs_views_{path.stem}") for path in paths]


def _functions(module: types.ModuleType) -> list[Any]:
    return [
        value
        for value in vars(module).values()
        if inspect.isfunction(value) and value.__module__ == module.__name__
    ]


PAGE = "{% load giosg %}<!doctype html><html><head>{% giosg_visitor %}</head><body></body></html>"


def _urlconf(extra: list[Any]) -> str:
    from django.conf import settings
    from django.http import HttpRequest, HttpResponse
    from django.template import engines
    from django.urls import path

    def page(request: HttpRequest) -> HttpResponse:
        return HttpResponse(engines["django"].from_string(PAGE).render(request=request))

    patterns = [path("__docs__/page/", page), *extra]
    for module in _view_modules():
        for function in _functions(module):
            route = f"__docs__/view/{function.__name__}/"
            patterns.append(path(route, function, name=function.__name__))
            patterns.append(path(route, function, name=function.__name__.replace("_", "-")))
    project = importlib.import_module(settings.ROOT_URLCONF)
    urlconf = types.ModuleType("docs_urlconf")
    urlconf.urlpatterns = patterns + list(project.urlpatterns)  # type: ignore[attr-defined]
    sys.modules["docs_urlconf"] = urlconf
    return "docs_urlconf"


def _client() -> Any:
    from django.contrib.auth import get_user_model
    from django.test import Client

    # The pages' own user once a page created her, else one of the harness's.
    users = get_user_model()._default_manager
    user = users.filter(username="ada").first() or users.get_or_create(username="docs-reader")[0]
    client = Client()
    client.force_login(user)
    return client


def _calls(response: Any) -> list[Any]:
    from giosg_django.testing import giosg_calls

    html = response.get("Content-Type", "").startswith("text/html")
    return list(giosg_calls(response)) if html else []


def run_template(text: str) -> None:
    from django.http import HttpRequest, HttpResponse
    from django.template import engines
    from django.test.utils import override_settings
    from django.urls import path

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(engines["django"].from_string(text).render(request=request))

    with override_settings(ROOT_URLCONF=_urlconf([path("__docs__/template/", view)])):
        response = _client().get("/__docs__/template/")
    assert response.status_code == 200, response.status_code
    if "giosg_call" in text:
        assert _calls(response), f"no giosg call rendered:\n{response.content.decode()}"
    print(response.content.decode())


def run_jinja2(text: str) -> None:
    from django.http import HttpRequest, HttpResponse
    from django.template.backends.jinja2 import Jinja2
    from django.test.utils import override_settings
    from django.urls import path

    engine = Jinja2(
        {
            "NAME": "docs",
            "DIRS": [],
            "APP_DIRS": False,
            "OPTIONS": {"extensions": ["giosg_django.jinja2.GiosgExtension"]},
        }
    )

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(engine.from_string(text).render(request=request))

    with override_settings(ROOT_URLCONF=_urlconf([path("__docs__/jinja2/", view)])):
        response = _client().get("/__docs__/jinja2/")
    assert response.status_code == 200, response.status_code
    if "giosg_call" in text:
        assert _calls(response), f"no giosg call rendered:\n{response.content.decode()}"


def run_view(text: str, method: str) -> None:
    from django.test.utils import override_settings

    folder = HERE / "docs_views"
    folder.mkdir(exist_ok=True)
    number = len(list(folder.glob("v*.py")))
    path = folder / f"v{number}.py"
    path.write_text(text)
    with override_settings(ROOT_URLCONF=_urlconf([])):
        module = sys.modules[f"docs_views_{path.stem}"]
        client = _client()
        for function in _functions(module):
            response = client.generic(method, f"/__docs__/view/{function.__name__}/", follow=True)
            assert response.status_code < 400, (function.__name__, response.status_code)
            calls = _calls(response) + _calls(client.get("/__docs__/page/"))
            if "request.giosg." in inspect.getsource(function):
                made = [call for call in calls if call.name not in IDENTITY_CALLS]
                assert made, f"{function.__name__}: its giosg calls reached no page"
            print(function.__name__, [str(call) for call in calls])


def run_calls(text: str) -> None:
    """Each ``# _giosg(...)`` comment is what giosg's queue must receive from the statement
    before it (without a SIGNING_KEY, as the page says)."""
    from django.conf import settings
    from django.http import HttpRequest, HttpResponse
    from django.template import engines
    from django.test.utils import override_settings
    from django.urls import path

    from giosg_django.testing import giosg_calls

    expected = [line.lstrip("# ") for line in text.splitlines() if line.startswith("# _giosg(")]
    assert expected, "a calls block needs '# _giosg(...)' comments"

    def view(request: HttpRequest) -> HttpResponse:
        exec(compile(text, "<docs block>", "exec"), {"request": request})
        return HttpResponse(engines["django"].from_string(PAGE).render(request=request))

    unsigned = {**settings.GIOSG, "SIGNING_KEY": None}
    urlconf = _urlconf([path("__docs__/calls/", view)])
    with override_settings(ROOT_URLCONF=urlconf, GIOSG=unsigned):
        from django.test import Client

        response = Client().get("/__docs__/calls/")  # anonymous: no identity among the calls
    sent = [str(call) for call in giosg_calls(response)]
    wanted = [str(call) for call in giosg_calls("<script>" + "\n".join(expected) + "</script>")]
    assert sent == wanted, f"sent {sent}\nthe page says {wanted}"


def run_python(text: str) -> None:
    exec(compile(text, "<docs block>", "exec"), {"__name__": "docs_block"})


def run_import(relative: str) -> None:
    path = HERE / relative
    name = ".".join(path.relative_to(HERE).with_suffix("").parts)
    importlib.import_module(name)


def main(argv: list[str]) -> None:
    kind, block_file, *args = argv
    text = Path(block_file).read_text()
    sys.path.insert(0, str(HERE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # ALLOWED_HOSTS gets the test client's "testserver"
    if kind == "template":
        run_template(text)
    elif kind == "jinja2":
        run_jinja2(text)
    elif kind == "view":
        run_view(text, (args or ["GET"])[0])
    elif kind == "calls":
        run_calls(text)
    elif kind == "python":
        run_python(text)
    elif kind == "import":
        run_import(args[0])
    else:
        raise SystemExit(f"unknown kind {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
