// Small progressive enhancements shared by every page. Pages work without it.
// NHS.UK frontend components (header menu, error summary focus, ...) need initialising.

// After a form error, focus moves to the error summary so it is seen and read out, wherever the form
// sits on the page. The design system's ErrorSummary does this for summaries it knows; this covers the
// rest, and pages where its script is missing.
function focusErrorSummary() {
  const summary = document.querySelector(".nhsuk-error-summary");
  if (!summary || summary.contains(document.activeElement)) return;
  if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
  summary.focus();
  summary.scrollIntoView({ block: "start" });
}

import("./nhsuk/nhsuk-frontend.min.js")
  .then((nhsuk) => nhsuk.initAll())
  .catch(() => { /* assets not installed: pages still work without the enhancements */ })
  .finally(focusErrorSummary);

document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
