/* Tablet mode: each item is a 10 cm line marked with a finger, a pen or a mouse (Pointer Events),
   or from the keyboard (arrows 0.1, Page Up/Down 1.0, Home/End). The value, 0–10 with one
   decimal, goes into the item's text field, which is what the form posts; without this file the
   text fields are shown instead of the lines and the form still works. */
(function () {
  "use strict";

  var comma = (document.documentElement.lang || "sv").slice(0, 2) === "sv";

  function format(tenths) {
    var text = Math.floor(tenths / 10) + "." + (tenths % 10);
    return comma ? text.replace(".", ",") : text;
  }

  function clampTenths(tenths) {
    return Math.max(0, Math.min(100, Math.round(tenths)));
  }

  function setUp(line) {
    var n = line.getAttribute("data-item");
    var input = document.getElementById("item-" + n);
    var shown = document.getElementById("item-" + n + "-value");
    var mark = line.querySelector(".vas__mark");
    var current = null;  // tenths, or null while not marked

    function show(tenths) {
      current = tenths;
      var text = format(tenths);
      input.value = text;
      shown.textContent = text;
      mark.hidden = false;
      mark.style.left = tenths + "%";
      line.setAttribute("aria-valuenow", (tenths / 10).toFixed(1));
      line.setAttribute("aria-valuetext", text);
      line.removeAttribute("aria-invalid");
    }

    function fromPointer(event) {
      var box = line.getBoundingClientRect();
      show(clampTenths((event.clientX - box.left) / box.width * 100));
    }

    line.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) { return; }
      event.preventDefault();
      line.focus();
      line.setPointerCapture(event.pointerId);
      fromPointer(event);
    });
    line.addEventListener("pointermove", function (event) {
      if (line.hasPointerCapture(event.pointerId)) { fromPointer(event); }
    });
    line.addEventListener("pointerup", function (event) {
      if (line.hasPointerCapture(event.pointerId)) {
        fromPointer(event);
        line.releasePointerCapture(event.pointerId);
      }
    });

    var steps = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 10, PageDown: -10 };
    line.addEventListener("keydown", function (event) {
      var next = null;
      if (Object.prototype.hasOwnProperty.call(steps, event.key)) {
        next = (current === null ? 0 : current) + steps[event.key];
      } else if (event.key === "Home") {
        next = 0;
      } else if (event.key === "End") {
        next = 100;
      }
      if (next !== null) {
        event.preventDefault();
        show(clampTenths(next));
      }
    });

    var start = mark.getAttribute("data-value");
    if (start !== null) { show(clampTenths(parseFloat(start) * 10)); }
    input.type = "hidden";
    line.parentNode.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var lines = document.querySelectorAll(".vas__line[data-item]");
    for (var i = 0; i < lines.length; i += 1) { setUp(lines[i]); }
    var form = document.querySelector(".tablet-form");
    if (form) { form.classList.add("tablet-form--lines"); }
  });
})();
