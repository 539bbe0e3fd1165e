// The reports' print views: the print button, and printing at once after "record as sent".
(function () {
  "use strict";
  const button = document.getElementById("print");
  if (button) button.addEventListener("click", () => window.print());
  if (document.body.dataset.autoprint) window.addEventListener("load", () => window.print());
})();
