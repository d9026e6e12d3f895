// eslint for giosg_django's page client (make lint; eslint is installed in tests/js/ with the
// other JavaScript tooling, from its lock file). No shared config is imported: a config outside
// tests/js/ could not resolve it, and the rules below say what we hold the client to.
export default [
  // terser's output of giosg.js (make client): the readable file is the one linted.
  { ignores: ["giosg_django/static/giosg_django/*.min.js"] },
  {
    files: ["giosg_django/static/giosg_django/*.js"],
    languageOptions: {
      ecmaVersion: 2017,
      // A classic script: it is inlined into a <script> element, never loaded as a module.
      sourceType: "script",
      globals: {
        window: "readonly",
        document: "readonly",
        Symbol: "readonly",
        EventTarget: "readonly",
        Document: "readonly",
        Element: "readonly",
        Promise: "readonly",
      },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // Mistakes (the part of eslint:recommended that applies to this code).
      "no-undef": "error",
      "no-unused-vars": ["error", { caughtErrors: "none" }],
      "no-redeclare": "error",
      "no-dupe-keys": "error",
      "no-unreachable": "error",
      "no-fallthrough": "error",
      "no-self-compare": "error",
      "no-self-assign": "error",
      "no-cond-assign": "error",
      "no-empty": ["error", { allowEmptyCatch: false }],
      "no-prototype-builtins": "error",
      "use-isnan": "error",
      "valid-typeof": "error",
      "no-use-before-define": ["error", { functions: false }],
      eqeqeq: "error",
      curly: "error",
      strict: ["error", "function"],
      // Runs under a strict CSP (no 'unsafe-eval') on every page of a site.
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      // Nothing leaks onto window but what the client defines on purpose.
      "no-implicit-globals": "error",
      // Inlined by giosg_django/js.py, which drops comment lines and indentation: no template
      // literals (their lines would lose their indentation) and no comment after code.
      "no-restricted-syntax": [
        "error",
        { selector: "TemplateLiteral", message: "no template literals: the file is inlined" },
      ],
      "no-inline-comments": "error",
      "line-comment-position": ["error", { position: "above" }],
      "no-multi-str": "error",
    },
  },
];
