/* Behaviour that used to sit in inline handlers (onclick/onchange), moved here so the
   Content-Security-Policy can forbid inline script. Loaded with `defer` on every page. */
(function () {
  "use strict";
  var toggle = document.querySelector("[data-nav-toggle]");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open);
      document.body.classList.toggle("nav-open", open);
    });
  }
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("details[data-closed-on-phone]").forEach(function (details) {
    if (window.matchMedia("(max-width: 860px)").matches) { details.open = false; }
  });
})();
