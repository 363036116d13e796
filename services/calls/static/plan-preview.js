// The plan editor's live preview: as the rule, zone, windows or start change, ask the
// server for the dates (the "Preview dates" button does the same without script).
(function () {
  "use strict";
  var form = document.getElementById("plan-form");
  if (!form) { return; }
  var out = document.getElementById("preview");
  var names = ["rrule", "timezone", "windows", "starts_at", "allow_holidays"];
  var timer = null;
  function refresh() {
    var data = new FormData(form);
    var query = new URLSearchParams();
    names.forEach(function (name) { if (data.has(name)) { query.set(name, data.get(name)); } });
    fetch(form.dataset.preview + "?" + query.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) { out.innerHTML = html; })
      .catch(function () { /* the button still works */ });
  }
  names.forEach(function (name) {
    var field = form.elements[name];
    if (field) {
      field.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(refresh, 300);
      });
    }
  });
}());
