// BanGUI's only hand-written script: progressive enhancements that the
// pages do not depend on. Loaded as a file so the CSP can forbid inline code.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function setupMenu() {
    var toggle = document.querySelector("[data-menu-toggle]");
    var nav = document.getElementById("site-nav");
    if (!toggle || !nav) return;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
      nav.classList.toggle("site-nav--open", !open);
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        toggle.setAttribute("aria-expanded", "false");
        nav.classList.remove("site-nav--open");
        toggle.focus();
      }
    });
  }

  // A select marked data-autosubmit (the host selector) submits its form
  // as soon as the choice changes; without script its button does.
  function setupAutosubmit() {
    document.addEventListener("change", function (ev) {
      var el = ev.target;
      if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
        el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
      }
    });
  }

  function setup() {
    setupMenu();
    setupAutosubmit();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
