// Courses pages: progressive enhancement only; every page works without it.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});

// Assessment form: show only the fields that apply to the kind and method chosen.
const assessment = document.querySelector("form[data-assessment]");
if (assessment) {
  const update = () => {
    const kind = (assessment.querySelector("input[name=kind]:checked") || {}).value;
    const method = (assessment.querySelector("input[name=method]:checked") || {}).value;
    assessment.querySelectorAll("[data-show-for]").forEach((el) => {
      const wanted = el.dataset.showFor.split(" ");
      el.hidden = !(wanted.includes(kind) || (kind === "knowledge" && wanted.includes(method)));
    });
  };
  assessment.addEventListener("change", update);
  update();
}

// Course form: the provider's name matters only for an external provider; months only for a fixed validity.
const course = document.querySelector("form[data-course]");
if (course) {
  const update = () => {
    const provider = (course.querySelector("input[name=provider_kind]:checked") || {}).value;
    const validity = (course.querySelector("input[name=validity_mode]:checked") || {}).value;
    course.querySelectorAll("[data-show-when]").forEach((el) => {
      const [name, value] = el.dataset.showWhen.split("=");
      el.hidden = (name === "provider_kind" ? provider : validity) !== value;
    });
  };
  course.addEventListener("change", update);
  update();
}
