// Small progressive enhancements shared by every page. Pages work without it.
// NHS.UK frontend components (header menu, error summary focus, ...) need initialising.
import("./nhsuk/nhsuk-frontend.min.js")
  .then((nhsuk) => nhsuk.initAll())
  .catch(() => { /* assets not installed: pages still work without the enhancements */ });

document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
