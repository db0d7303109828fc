/* Item labels on the session form follow the chosen form (ORS, CORS, ...): the organisation's licensed
   wording, or "Del N". The server renders them for the form chosen when the page was made; this only
   keeps them right when another form is chosen. The labels come from the form's data-item-labels. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-item-labels]");
    if (!form) { return; }
    var labels = JSON.parse(form.getAttribute("data-item-labels"));

    form.addEventListener("change", function (event) {
      var select = event.target;
      var match = /^(.*)-instrument$/.exec(select.id || "");
      if (!match || select.tagName !== "SELECT") { return; }
      var scale = form.querySelector('[data-scale="' + match[1] + '"]');
      var texts = labels[select.value] || labels[""];
      if (!scale || !texts) { return; }
      var items = scale.querySelectorAll("label[data-item]");
      for (var i = 0; i < items.length; i += 1) {
        items[i].textContent = texts[parseInt(items[i].getAttribute("data-item"), 10) - 1];
      }
    });
  });
})();
