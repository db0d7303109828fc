/* Live totals on the session form. The form works without this file: the server checks every
   item and computes every total. Items are 0–10 with at most one decimal, comma or point. */
(function () {
  "use strict";

  var ITEM = /^\s*(10|[0-9])(?:[.,]([0-9])0*)?\s*$/;
  var comma = (document.documentElement.lang || "sv").slice(0, 2) === "sv";

  // Tenths of one item, or null when the text is not a valid item.
  function tenths(text) {
    var match = ITEM.exec(text);
    if (!match) { return null; }
    var value = parseInt(match[1], 10) * 10 + (match[2] ? parseInt(match[2], 10) : 0);
    return value <= 100 ? value : null;
  }

  function format(totalTenths) {
    var text = Math.floor(totalTenths / 10) + "." + (totalTenths % 10);
    return comma ? text.replace(".", ",") : text;
  }

  function update(scale) {
    var inputs = scale.querySelectorAll("input.item__input");
    var output = scale.querySelector("[data-total-for]");
    var sum = 0;
    var complete = true;
    for (var i = 0; i < inputs.length; i += 1) {
      var value = tenths(inputs[i].value);
      var empty = inputs[i].value.trim() === "";
      inputs[i].classList.toggle("item__input--bad", !empty && value === null);
      if (value === null) { complete = false; } else { sum += value; }
    }
    output.textContent = complete ? format(sum) : "–";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var scales = document.querySelectorAll("[data-scale]");
    for (var i = 0; i < scales.length; i += 1) {
      (function (scale) {
        scale.addEventListener("input", function () { update(scale); });
      })(scales[i]);
    }
  });
})();
