/* The demo's panel: what giosg's queue received on this page, decoded for people.
 *
 * Not part of giosg_django, and not needed on your site. base.html defines window._giosg
 * before {% giosg_visitor %} so that every call is also copied into window.giosgDemoLog; this
 * script lists that log. The DOM is built with textContent only: values are never HTML.
 */
(function (w, d) {
  "use strict";

  // giosg's Visitor API: what each call does, and its positional arguments' names.
  var CALLS = {
    "visitor.submit": ["Visitor variables sent", ["variables", "algorithm", "replace existing", "rooms"]],
    "visitor.remove": ["One visitor variable removed", ["key"]],
    "visitor.removeAll": ["Visitor variables cleared", ["rooms"]],
    "visitor.setIdentifier": ["Visitor identified", ["identifier"]],
    "room.join": ["Visitor joins a room", ["room"]],
    "room.leave": ["Visitor leaves rooms", ["room"]],
    "chat.close": ["Chat closed", ["options"]],
    "chat.hide": ["Chat hidden", ["options"]],
    "chat.startTask": ["Task for the operators", ["task", "room id", "anonymous", "visitor variables"]],
    "call.start": ["Call started", ["operator", "avatar URL", "kind", "room id"]],
    "goal.matches": ["Goal reached", ["goal id", "options"]],
  };

  function el(tag, className, text) {
    var node = d.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function append(parent) {
    for (var i = 1; i < arguments.length; i++) parent.appendChild(arguments[i]);
    return parent;
  }

  function show(value, indent) {
    if (value === undefined) return "undefined";
    if (typeof value === "function") return "function () { … }";
    return JSON.stringify(value, null, indent);
  }

  function isToken(value) {
    return typeof value === "string" && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value);
  }

  // A JWT part: base64url without padding, holding UTF-8 JSON.
  function decodePart(part) {
    var base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var binary = w.atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return JSON.parse(new TextDecoder().decode(bytes));
  }

  function decodeToken(token) {
    var parts = token.split(".");
    try {
      return { header: decodePart(parts[0]), payload: decodePart(parts[1]) };
    } catch (error) {
      return null;
    }
  }

  function fromNow(seconds) {
    var abs = Math.abs(Math.round(seconds));
    var text = (abs >= 60 ? Math.floor(abs / 60) + " min " : "") + (abs % 60) + " s";
    return seconds >= 0 ? "in " + text : text + " ago";
  }

  function callText(args) {
    var shown = args.map(function (arg) {
      return isToken(arg) ? JSON.stringify(arg.slice(0, 24) + "…") : show(arg);
    });
    return "_giosg(" + shown.join(",") + ")";
  }

  // A signed submit's token, decoded: the variables it carries and when it expires.
  function tokenDetails(token) {
    var decoded = decodeToken(token);
    var box = el("div", "jwt");
    if (!decoded) return append(box, el("p", "", "Not a readable JWT."));
    var payload = decoded.payload;
    var variables = {};
    Object.keys(payload).forEach(function (key) {
      if (key !== "exp") variables[key] = payload[key];
    });
    append(
      box,
      el("div", "jwt-title", "JWT payload, " + (decoded.header.alg || "?") + "-signed by the server"),
      el("pre", "jwt-payload", show(variables, 2))
    );
    if (typeof payload.exp === "number") {
      var expires = new Date(payload.exp * 1000);
      append(
        box,
        el(
          "p",
          "jwt-exp",
          "exp " + payload.exp + ": " + expires.toLocaleTimeString() + ", " +
            fromNow(payload.exp - Date.now() / 1000) + ". giosg refuses the variables after that."
        )
      );
    }
    return box;
  }

  // Small values on one line, larger ones indented.
  function showValue(value) {
    var compact = show(value);
    return compact.length <= 40 ? compact : show(value, 2);
  }

  function entry(args) {
    var item = el("li", "call");
    if (typeof args[0] === "function") {
      item.dataset.call = "callback";
      return append(item, el("div", "call-head", "A function, run once giosg has loaded"));
    }
    var name = args[0] + "." + args[1];
    var known = CALLS[name] || [name, []];
    item.dataset.call = name;
    append(
      item,
      append(el("div", "call-head"), el("code", "call-name", name), el("span", "call-what", known[0])),
      el("code", "call-js", callText(args))
    );
    var rest = args.slice(2);
    if (rest.length) {
      var params = el("dl", "call-args");
      var token = null;
      rest.forEach(function (arg, index) {
        var label = known[1][index] || "argument " + (index + 1);
        var value = el("dd");
        if (isToken(arg)) {
          token = arg;
          value.textContent = "a signed token (JWT), decoded below";
        } else {
          value.appendChild(el("pre", "", showValue(arg)));
        }
        append(params, el("dt", "", label), value);
      });
      item.appendChild(params);
      if (token) item.appendChild(tokenDetails(token));
    }
    return item;
  }

  function update() {
    var status = d.getElementById("giosg-panel-status");
    var list = d.getElementById("giosg-panel-calls");
    if (!status || !list) return;
    status.textContent = "";
    list.textContent = "";
    var queue = w._giosg;
    if (typeof queue !== "function") {
      status.className = "panel-status panel-off";
      status.textContent =
        "giosg is off on this page (chat declined): no loader, no calls, no identity. " +
        "Calls made meanwhile wait in your session until chat is allowed again.";
      return;
    }
    status.className = "panel-status";
    if (queue._h && queue._c) {
      append(
        status,
        el("span", "", "giosg's loader fetched"),
        el("code", "panel-loader", queue._h + "/live2/" + queue._c)
      );
    } else {
      status.textContent = "No loader on this page (no company id).";
    }
    var log = w.giosgDemoLog || [];
    if (!log.length) {
      list.appendChild(
        el(
          "li",
          "call call-none",
          "No calls on this page. Log in, place an order, open Sales or send a Support " +
            "request to see some."
        )
      );
    }
    log.forEach(function (args) {
      list.appendChild(entry(args));
    });
  }

  w.giosgDemoPanel = { update: update };
  update();
})(window, document);
