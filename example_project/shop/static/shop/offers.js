/* The offers page is cached, so it cannot know the visitor's answer to the consent banner
 * (GIOSG["ENABLED"] is demo_site.giosg.chat_allowed): the browser tells the page client, as a
 * banner's callback would. The demo counts no answer yet as yes. */
(function (d) {
  "use strict";
  var declined = d.cookie.split("; ").indexOf("chat_consent=no") !== -1;
  if (window.giosgDjango) window.giosgDjango.consent(!declined);
})(document);
