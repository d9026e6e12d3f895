// Runs a page's inline scripts in Node's vm, the way a browser would run them one after the
// other in one global object, and reports what giosg's queue `window._giosg._e` received.
// Protocol: one JSON request per stdin line ({"scripts": [...]}), one JSON answer per line.
"use strict";
const vm = require("vm");
const readline = require("readline");

const UNDEFINED = { $undefined: true };

function encodeArg(value) {
  return value === undefined ? UNDEFINED : value;
}

function run(scripts, initialStorage) {
  const inserted = [];
  const firstScript = {
    parentNode: {
      insertBefore(element) {
        inserted.push({ src: element.src, async: element.async });
      },
    },
  };
  const listeners = [];
  // Handlers by "target:type", so that a test script can fire an event: __fire("window:storage", {...}).
  const handlers = new Map();
  const listen = (target) => (type, handler) => {
    listeners.push(target + ":" + type);
    const key = target + ":" + type;
    handlers.set(key, [...(handlers.get(key) || []), handler]);
  };
  const storage = new Map(Object.entries(initialStorage || {}));
  // A class, as in a browser, so that scripts may call Document.prototype's methods on it.
  class Document {
    createElement(tag) {
      return { tagName: String(tag).toUpperCase() };
    }
    getElementsByTagName(tag) {
      return String(tag).toLowerCase() === "script" ? [firstScript] : [];
    }
  }
  Document.prototype.addEventListener = listen("document");
  const sandbox = {
    Document,
    document: new Document(),
    localStorage: {
      getItem: (key) => (storage.has(key) ? storage.get(key) : null),
      setItem: (key, value) => storage.set(key, String(value)),
    },
    console: { log() {}, error() {} },
  };
  const context = vm.createContext(sandbox);
  vm.runInContext("var window = this;", context);
  context.addEventListener = listen("window");
  context.__fire = (key, event) => (handlers.get(key) || []).forEach((handler) => handler(event));
  const errors = [];
  for (const code of scripts) {
    try {
      new vm.Script(code).runInContext(context, { timeout: 2000 });
    } catch (err) {
      errors.push(String(err && err.message ? err.name + ": " + err.message : err));
    }
  }
  const giosg = context._giosg;
  const queue = giosg && giosg._e ? Array.from(giosg._e, (args) => Array.from(args, encodeArg)) : null;
  return {
    calls: queue,
    company: giosg ? encodeArg(giosg._c) : UNDEFINED,
    host: giosg ? encodeArg(giosg._h) : UNDEFINED,
    inserted,
    errors,
    listeners,
    storage: Object.fromEntries(storage),
    pwned: context.__pwned === undefined ? null : String(context.__pwned),
  };
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  let answer;
  try {
    const request = JSON.parse(line);
    answer = run(request.scripts, request.storage);
  } catch (err) {
    answer = { fatal: String(err) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
