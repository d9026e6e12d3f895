/* The callback page's form, as a front end's code would post it: JSON with fetch(), Django's
 * CSRF token in its header. Nothing here knows about giosg: giosg_django's page client sees
 * the request end, and fetches the call it queued from the sync endpoint by itself. */
(function (d) {
  "use strict";
  var form = d.getElementById("callback");
  if (!form) return;
  var status = d.getElementById("callback-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var token = form.querySelector("[name=csrfmiddlewaretoken]").value;
    fetch(form.dataset.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ phone: d.getElementById("phone").value }),
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (data) {
        status.textContent = data.ok ? "Thanks: an operator will call you back." : data.error;
      });
  });
})(document);
