/* The listing wizard: fill the title from the first right found, keep the package list tidy, show the
   licence fields only for licences. Works without it too (the server handles every button). */
(function () {
  "use strict";
  var form = document.getElementById("wizard");
  if (!form) return;
  var pkg = document.getElementById("package");
  var empty = form.querySelector(".package-empty");
  var title = document.getElementById("id_title");
  var number = document.getElementById("id_number");

  function refresh() {
    var cards = pkg.querySelectorAll(".pkg-item");
    if (empty) empty.hidden = cards.length > 0;
    if (cards.length && title && !title.value.trim()) title.value = cards[0].getAttribute("data-title") || "";
  }
  function toggleLicence() {
    var checked = form.querySelector("input[name=deal_type]:checked");
    var licence = checked && checked.value !== "assignment";
    form.querySelectorAll(".licence").forEach(function (el) { el.hidden = !licence; });
  }
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target === pkg) {
      refresh();
      if (number) { number.value = ""; number.focus(); }
    }
  });
  pkg.addEventListener("click", function (e) {
    var btn = e.target.closest(".pkg-remove");
    if (!btn || !window.htmx) return;
    e.preventDefault();
    btn.closest(".pkg-item").remove();
    refresh();
  });
  form.addEventListener("change", function (e) {
    if (e.target.name === "deal_type") toggleLicence();
  });
  toggleLicence();
  refresh();
})();
