// giosg_django's page client: the part of giosg_django that runs in the browser.
//
// {% giosg_visitor %} puts this file inline, under the request's CSP nonce, before the calls it
// renders: as giosg.min.js, terser's output of this file (`make client`; a test checks that it
// is current), which giosg_django/js.py reads once at import. The one line of glue after it passes
// this page's data:
//
//   giosgDjango.start({renderedAt: <server time of the render, ms>, logoutCalls: [...]});
//
// The client contacts no one but the site's own sync endpoint (giosg_django.urls), and that only
// when the server said something waits for this page. It:
// - syncs (giosgDjango.sync()): asks the endpoint for the calls waiting for this visitor and the
//   identity, on request, and by itself whenever a request this page made (fetch, XHR, a Turbo
//   visit) left the hint cookie above what this page has (giosg_django/sync.py);
// - runs calls delivered as JSON ([module, method, ...args], a top-level null standing for
//   undefined), such as those of an htmx response's HX-Trigger event (GIOSG["HTMX"]);
// - records a logout (its server time) in localStorage, whose "storage" event reaches the site's
//   other pages in this browser, which then run the logout calls (GIOSG["CROSS_TAB_LOGOUT"]);
// - tells whether a logout happened after this page was rendered (a page shown again from the
//   HTTP cache then runs the logout calls instead of its own), and runs the logout calls on a
//   page restored from the back/forward cache, where no script runs again.
//
// Nothing that a page script or the page's HTML can forge silences it for later pages: a logout
// time past the server's clock is ignored, and it is found through no global that an element's
// id or name can shadow (DOM clobbering).
(function (window, document) {
  "use strict";

  // The names Python shares with this file. giosg_django/js.py reads them from here (this file
  // is their one source): keep each on its own line, as name: "value".
  var NAMES = {
    event: "giosg:calls",
    storageKey: "giosg_django:logout",
    markerModule: "giosg_django",
    loggedOut: "loggedOut",
    global: "giosgDjango",
    symbol: "giosg_django.client",
    hint: "giosg_django_sync",
    signedIn: "giosg_django_in",
    seenKey: "giosg_django:seen",
  };

  // One client per page, whichever script comes first (a second tag, a page swapped in by
  // htmx): a Symbol key, which no element can shadow, unlike a name on window.
  var KEY = Symbol.for(NAMES.symbol);
  if (window[KEY]) {
    return;
  }

  // A logout time up to this much past the server's clock, as this page can tell it, is still
  // taken as real: it covers a small disagreement between the clocks of several servers (NTP
  // keeps them well within it). A time past it was not written by the server: a page script put
  // it there to silence giosg for good.
  var SLACK_MS = 5000;

  var started = false;
  // The sync endpoint, when it is routed: {url, csrfCookie, csrfHeader, seen}, seen being the
  // hint up to which this page has its calls.
  var syncInfo = null;
  // Whether giosg may be reached from this page: false on a page rendered while ENABLED was
  // false (consent not given), until consent(true); false again after consent(false).
  var enabled = true;
  // Where giosg's script is, for consent(true) on a page rendered without it: {host, company}.
  var loaderInfo = null;
  // A page rendered while ENABLED was false for a signed-in visitor: consent(true) brings the
  // identity.
  var pageSignedIn = false;

  // The sync in flight (a Promise), if any, and whether one was asked for meanwhile.
  var syncing = null;
  var syncAgain = false;
  var logoutCalls = [];
  var renderedAt = 0;
  var dateAtStart = 0;
  var perfAtStart = 0;

  function perfNow() {
    var performance = window.performance;
    return performance && typeof performance.now === "function" ? performance.now() : 0;
  }

  // The server's clock as seen from this page: the render time plus the time since start. The
  // elapsed time is read on two clocks and the larger taken: performance.now() ignores the
  // system clock being set back but may stand still while the computer sleeps, Date.now() goes
  // on through sleep. And no earlier than the browser's own clock: a page shown again from the
  // HTTP cache starts with its old render time, while the logouts since then are later. Page
  // scripts can move none of these clocks for another page.
  function serverNow() {
    var elapsed = Math.max(Date.now() - dateAtStart, perfNow() - perfAtStart, 0);
    return Math.max(renderedAt + elapsed, Date.now());
  }

  // A logout time this page may believe, else 0 (none): a number, or a string of one (as
  // localStorage holds it), not past the server's clock plus the slack. NaN, Infinity, 1e308
  // and anything that is not a number count as no logout at all.
  function trusted(value) {
    var time = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
    if (!started || !isFinite(time) || time <= 0 || time > serverNow() + SLACK_MS) {
      return 0;
    }
    return time;
  }

  function storedLogout() {
    try {
      return trusted(window.localStorage.getItem(NAMES.storageKey));
    } catch (error) {
      // Storage turned off, or refused to this document: no cross-tab logout, nothing else lost.
      return 0;
    }
  }

  // Whether this document may be an old copy: shown by the back or forward button, or from the
  // HTTP cache (nothing transferred). Where the browser cannot tell (no Navigation Timing), it
  // may be.
  function shownAgain() {
    var performance = window.performance;
    if (!performance || typeof performance.getEntriesByType !== "function") {
      return true;
    }
    var entry = performance.getEntriesByType("navigation")[0];
    if (!entry) {
      return true;
    }
    return entry.type === "back_forward" || entry.transferSize === 0;
  }

  // giosg's queue function, defined as giosg's loader defines it if nothing has yet. typeof, not
  // "window._giosg ||": an element with id="_giosg" is truthy, and not a function.
  function giosg() {
    if (typeof window._giosg !== "function") {
      window._giosg = function () {
        (window._giosg._e = window._giosg._e || []).push(arguments);
      };
    }
    return window._giosg;
  }

  // EventTarget's own method rather than target.addEventListener, which an <img name=...> or a
  // <form name=...> shadows on document.
  var addListener =
    typeof EventTarget === "function" ? EventTarget.prototype.addEventListener : null;

  function listen(target, type, handler) {
    if (addListener) {
      addListener.call(target, type, handler);
    } else {
      target.addEventListener(type, handler);
    }
  }

  // The page's cookies, by name. Document.prototype's own getter: an element named "cookie"
  // shadows document.cookie itself.
  var cookieGetter = (Object.getOwnPropertyDescriptor(Document.prototype, "cookie") || {}).get;

  // Every value of the cookie `name` the page has: a page script can add a copy of a cookie
  // (another path, a Domain=), which document.cookie lists beside the server's own.
  function cookies(name) {
    var text = cookieGetter ? cookieGetter.call(document) : "";
    var parts = text ? text.split("; ") : [];
    var found = [];
    for (var i = 0; i < parts.length; i++) {
      var at = parts[i].indexOf("=");
      if (at > 0 && parts[i].slice(0, at) === name) {
        found.push(parts[i].slice(at + 1));
      }
    }
    return found;
  }

  function cookie(name) {
    var found = cookies(name);
    return found.length ? decodeURIComponent(found[0]) : null;
  }

  // The hint the server left (0: none): the largest of its values under either name (with
  // SESSION_COOKIE_SECURE it has the __Host- prefix), as the server reads it
  // (giosg_django/sync.py). Something waits when it differs from the one this page last
  // synced for, or was rendered with: a planted copy can cost a sync, never silence one.
  function hint() {
    var values = cookies(NAMES.hint).concat(cookies("__Host-" + NAMES.hint));
    var largest = 0;
    for (var i = 0; i < values.length; i++) {
      var value = Number(values[i]);
      if (isFinite(value) && value > largest) {
        largest = value;
      }
    }
    return largest;
  }

  // Whether the server hinted at something this page does not have.
  function hinted() {
    var value = hint();
    return value > 0 && value !== syncInfo.seen;
  }

  // Django's CSRF token for the endpoint's POST: its cookie, or the token a template put on
  // the page (<meta name="csrf-token">, a form's csrfmiddlewaretoken) when the cookie is
  // HttpOnly or the token lives in the session.
  function csrfToken() {
    var token = syncInfo.csrfCookie ? cookie(syncInfo.csrfCookie) : null;
    if (!token) {
      var found = Document.prototype.querySelector.call(
        document,
        'meta[name="csrf-token"], input[name="csrfmiddlewaretoken"]'
      );
      token = found ? found.getAttribute("content") || found.getAttribute("value") : null;
    }
    return token || "";
  }

  // The browser's fetch as it was when this file ran: a page that wraps window.fetch later
  // does not see the client's own requests.
  var nativeFetch = typeof window.fetch === "function" ? window.fetch.bind(window) : null;

  // After each request this page makes, once it has ended (its cookies are set by then): a
  // resource entry of the browser's Resource Timing, no wrapping of fetch or XMLHttpRequest.
  function watchRequests() {
    var check = function () {
      if (enabled && syncInfo && hinted()) {
        window[KEY].sync();
      }
    };
    if (typeof window.PerformanceObserver === "function") {
      try {
        new window.PerformanceObserver(function (list) {
          var entries = list.getEntries();
          for (var i = 0; i < entries.length; i++) {
            var type = entries[i].initiatorType;
            // Not the client's own syncs: their end is no news.
            var own = String(entries[i].name).indexOf(syncInfo.url) !== -1;
            if ((type === "fetch" || type === "xmlhttprequest") && !own) {
              check();
              return;
            }
          }
        }).observe({ type: "resource" });
      } catch (error) {
        // An old browser without observe({type}): the checks below still run.
      }
    }
    listen(document, "visibilitychange", check);
    listen(window, "focus", check);
    listen(document, "turbo:load", check);
    // A request that ended while this page was being parsed.
    check();
  }

  // The hint up to which this browser has its calls, kept across pages: a page the same for
  // everyone carries none of its own (giosg_django/sync.py).
  // The hint this browser last synced for, kept across pages: a page the same for everyone
  // carries none of its own. (A forged value costs one sync: any difference asks.)
  function storedSeen() {
    try {
      return Number(window.localStorage.getItem(NAMES.seenKey)) || 0;
    } catch (error) {
      return 0;
    }
  }

  function storeSeen(value) {
    try {
      window.localStorage.setItem(NAMES.seenKey, String(value));
    } catch (error) {
      // Storage turned off: such a page asks once more than it needs to.
    }
  }

  // A page the same for everyone ({% giosg_visitor cacheable %}): giosg is loaded here (unless
  // ENABLED was a callable: then at consent(true)), and the visitor's calls and identity come
  // from the sync endpoint when the server's cookies say something waits or someone is signed
  // in; an anonymous visitor with nothing waiting makes no request.
  function startCacheable() {
    if (!enabled) {
      return;
    }
    loadGiosg();
    if (needsSync()) {
      window[KEY].sync();
    }
  }

  // Whether the endpoint has something for this page that the page does not carry: a call
  // waits (the hint), or someone is signed in (the identity).
  function needsSync() {
    if (!syncInfo) {
      return false;
    }
    return hinted() || pageSignedIn || cookie(NAMES.signedIn) === "1";
  }

  // What consent(false) does, whatever the logout settings say: close and hide the chat, clear
  // the variables.
  var CONSENT_WITHDRAWN = [["chat", "close", { hide: true }], ["visitor", "removeAll"]];

  // giosg's loader, as js.loader writes it, for a page rendered without it: once.
  function loadGiosg() {
    var queue = giosg();
    if (!loaderInfo || queue._c) {
      return;
    }
    queue._c = loaderInfo.company;
    queue._h = loaderInfo.host;
    var element = Document.prototype.createElement.call(document, "script");
    element.async = true;
    element.src = loaderInfo.host + "/live2/" + loaderInfo.company;
    var first = Document.prototype.getElementsByTagName.call(document, "script")[0];
    first.parentNode.insertBefore(element, first);
  }

  var client = {
    // The latest of the render time and the logouts this page has acted on (server time, ms).
    t: 0,

    // This page's data, from the glue after this file; a second start on the same page (a
    // second script, an htmx swap) keeps the first page's data.
    start: function (page) {
      if (started || !page) {
        return;
      }
      started = true;
      dateAtStart = Date.now();
      perfAtStart = perfNow();
      renderedAt = client.t = Number(page.renderedAt) || 0;
      logoutCalls = Array.isArray(page.logoutCalls) ? page.logoutCalls : [];
      enabled = page.enabled !== false;
      pageSignedIn = page.signedIn === true;
      var loader = page.loader;
      if (loader && typeof loader.host === "string" && typeof loader.company === "string") {
        loaderInfo = { host: loader.host, company: loader.company };
      }
      var sync = page.sync;
      if (sync && typeof sync.url === "string" && nativeFetch) {
        syncInfo = {
          url: sync.url,
          csrfCookie: typeof sync.csrfCookie === "string" ? sync.csrfCookie : null,
          csrfHeader: String(sync.csrfHeader || "X-CSRFToken"),
          // The hint the page's request carried (its calls came with it), or, on a page the
          // same for everyone (which carries 0), this browser's last sync's.
          seen: Number(sync.seen) || storedSeen(),
        };
      }
      listen(document, NAMES.event, function (event) {
        if (event.detail && event.detail.calls) {
          client.run(event.detail.calls);
        }
      });
      listen(window, "storage", function (event) {
        if (event.key === NAMES.storageKey) {
          client.out(event.newValue);
        }
      });
      listen(window, "pageshow", function (event) {
        if (event.persisted) {
          client.out();
        }
      });
      if (syncInfo) {
        watchRequests();
      }
      if (page.cacheable) {
        startCacheable();
      }
    },

    // Ask the sync endpoint for what waits for this visitor (calls, then the identity) and run
    // it. A Promise, resolved once those calls are in giosg's queue (or nothing came: no
    // endpoint, an error). Asked while one runs, it gives that one, and runs once more after
    // it if the hint says that one cannot have had everything.
    sync: function () {
      if (!syncInfo || !enabled) {
        return Promise.resolve();
      }
      if (syncing) {
        syncAgain = true;
        return syncing;
      }
      // The hint this sync answers: what the server stored up to now comes with it. Success
      // or not, the page has asked for it: only a new hint asks again (no loop on an error,
      // a refused token, giosg turned off meanwhile).
      var asked = hint();
      var headers = { Accept: "application/json" };
      headers[syncInfo.csrfHeader] = csrfToken();
      syncing = nativeFetch(syncInfo.url, {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: headers,
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          if (data && typeof data === "object") {
            client.run(data.calls);
          }
        })
        .catch(function () {
          // Offline, or the endpoint failed: what waits stays on the server, for the next
          // hint or the next page.
        })
        .then(function () {
          syncInfo.seen = asked;
          storeSeen(asked);
          syncing = null;
          // Asked again meanwhile (a request of this page ended, Turbo rendered): once more
          // if the server has hinted at something this sync did not get.
          if (syncAgain) {
            syncAgain = false;
            if (hinted()) {
              return client.sync();
            }
          }
        });
      return syncing;
    },

    // The visitor's answer to the site's consent banner, given after the banner set its own
    // cookie (so the server's ENABLED callable agrees). true: giosg is loaded if this page was
    // rendered without it, then the calls and the identity come (a sync); a Promise, resolved
    // once they are in giosg's queue. false: the chat is closed and hidden, the variables are
    // cleared, and this page sends giosg nothing more (giosg's own script, once loaded, stays).
    consent: function (granted) {
      if (granted !== true) {
        var queue = window._giosg;
        if (enabled && typeof queue === "function") {
          // Calls giosg's script has not taken yet (it is still loading) are dropped: the
          // closing calls go to a queue that holds nothing else.
          if (Array.isArray(queue._e)) {
            queue._e.length = 0;
          }
          client.run(CONSENT_WITHDRAWN);
        }
        enabled = false;
        return Promise.resolve();
      }
      enabled = true;
      loadGiosg();
      return needsSync() ? client.sync() : Promise.resolve();
    },

    // Calls as JSON data: giosg's go to its queue, giosg_django's markers are acted on here.
    run: function (calls) {
      if (!Array.isArray(calls)) {
        return;
      }
      for (var i = 0; i < calls.length; i++) {
        if (!Array.isArray(calls[i])) {
          continue;
        }
        var args = calls[i].slice();
        for (var j = 2; j < args.length; j++) {
          if (args[j] === null) {
            args[j] = undefined;
          }
        }
        if (args[0] === NAMES.markerModule) {
          if (args[1] === NAMES.loggedOut) {
            client.loggedOut(args[2]);
          }
        } else if (enabled) {
          giosg().apply(window, args);
        }
      }
    },

    // A logout at server time `time` (by default the one stored) that this page has not acted
    // on yet: run the logout calls.
    out: function (time) {
      time = time === undefined ? storedLogout() : trusted(time);
      if (time > client.t) {
        client.t = time;
        client.run(logoutCalls);
      }
    },

    // Whether a logout happened after this page was rendered. Only a page shown again (from the
    // HTTP cache, or by the back and forward buttons) can be older than a logout: a page fresh
    // from the server was rendered after every real one, so a later time there is forged (within
    // the slack) and must not cost the page its calls, which the server has used up.
    stale: function () {
      return shownAgain() && storedLogout() > client.t;
    },

    // The visitor logged out at server time `time`: tell the site's other pages (through
    // localStorage's "storage" event) and the pages rendered before it. A time this page cannot
    // believe is neither stored nor kept.
    loggedOut: function (time) {
      time = trusted(time);
      if (!time) {
        return;
      }
      try {
        if (time > storedLogout()) {
          window.localStorage.setItem(NAMES.storageKey, String(time));
        }
      } catch (error) {
        // Storage turned off: this page still knows.
      }
      client.t = Math.max(client.t, time);
    },
  };

  Object.defineProperty(window, KEY, { value: client });

  // Loaded as a static file by a page the same for everyone, the page's data is in this
  // script element's data-giosg-django attribute (JSON); inline, the glue after the file passes
  // it. Document.prototype's getter: <img name="currentScript"> shadows document's own.
  var scriptGetter = (Object.getOwnPropertyDescriptor(Document.prototype, "currentScript") || {})
    .get;
  var element = scriptGetter ? scriptGetter.call(document) : null;
  var attribute = element ? Element.prototype.getAttribute.call(element, "data-giosg-django") : null;
  if (attribute) {
    try {
      client.start(JSON.parse(attribute));
    } catch (error) {
      // Not JSON (not written by giosg_django): no client on this page.
    }
  }
  // An own property of window: named elements (id="giosgDjango" before or after this script)
  // are found on window's prototype chain, after its own properties, so none can shadow it.
  Object.defineProperty(window, NAMES.global, {
    value: client,
    configurable: true,
    enumerable: true,
  });
})(window, document);
