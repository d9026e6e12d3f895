/* Demo only: giosg's queue function, defined the way giosg's loader defines it, that also keeps
 * a copy of each call for the panel. giosg_django keeps a _giosg that is already defined. */
(function (w) {
  "use strict";
  var log = (w.giosgDemoLog = []);
  var queue = function () {
    (queue._e = queue._e || []).push(arguments);
    log.push(Array.prototype.slice.call(arguments));
    if (w.giosgDemoPanel) w.giosgDemoPanel.update();
  };
  w._giosg = queue;
})(window);
