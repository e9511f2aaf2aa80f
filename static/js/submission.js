// The submission form's progressive enhancements (an ES module; the form works without it):
//  - on a phone, one section at a time ("Step 2 of 5", Back / Continue), focus moved to each
//    section's heading; the whole form again when widened, or when the server found errors;
//  - a search box over the applications checkboxes;
//  - honest autosave status: "Saving…", and when the connection drops, a warning and a retry
//    when it comes back; a warning before leaving with changes not yet saved.
// htmx does the saving itself (hx-post on the form, triggered by input/change).

const PHONE = window.matchMedia("(max-width: 40.0525em)");

function setupStepper(form) {
  const sections = Array.from(form.querySelectorAll("[data-step]"));
  if (sections.length < 2) {
    return;
  }
  const submit = form.querySelector('.app-submission__actions button[value="submit"]');
  const nav = document.createElement("div");
  nav.className = "govuk-button-group app-stepper__nav";
  const back = document.createElement("button");
  back.type = "button";
  back.className = "govuk-button govuk-button--secondary";
  back.textContent = "Back";
  const next = document.createElement("button");
  next.type = "button";
  next.className = "govuk-button";
  next.textContent = "Continue";
  nav.append(back, next);
  form.querySelector(".app-submission__actions").before(nav);

  const captions = sections.map((section, index) => {
    const caption = document.createElement("span");
    caption.className = "govuk-caption-m app-stepper__progress";
    caption.textContent = `Step ${index + 1} of ${sections.length}`;
    section.querySelector(".app-form-section__heading").before(caption);
    return caption;
  });

  let current = 0;
  let active = false;

  function show(index, moveFocus) {
    current = Math.max(0, Math.min(index, sections.length - 1));
    sections.forEach((section, i) => {
      section.hidden = active && i !== current;
    });
    back.hidden = current === 0;
    next.hidden = current === sections.length - 1;
    if (submit) {
      submit.hidden = active && current !== sections.length - 1;
    }
    if (moveFocus) {
      const heading = sections[current].querySelector(".app-form-section__heading");
      heading.focus();
      heading.scrollIntoView({ block: "start" });
    }
  }

  function apply() {
    // Errors from the server: show every answer, so the error summary's links all work.
    active = PHONE.matches && !form.hasAttribute("data-has-errors");
    nav.hidden = !active;
    captions.forEach((caption) => {
      caption.hidden = !active;
    });
    show(current, false);
  }

  back.addEventListener("click", () => show(current - 1, true));
  next.addEventListener("click", () => show(current + 1, true));
  // Enter in a text box on an early step moves on instead of submitting half a form.
  form.addEventListener("keydown", (event) => {
    const target = event.target;
    if (
      active &&
      event.key === "Enter" &&
      target instanceof HTMLInputElement &&
      target.type !== "submit" &&
      target.type !== "file" &&
      current < sections.length - 1
    ) {
      event.preventDefault();
      show(current + 1, true);
    }
  });
  PHONE.addEventListener("change", apply);
  apply();
}

function setupFilterable(group) {
  const checkboxes = group.querySelector(".govuk-checkboxes");
  if (!checkboxes) {
    return;
  }
  const items = Array.from(checkboxes.querySelectorAll(".govuk-checkboxes__item"));
  const name = group.getAttribute("data-app-filterable");
  const wrapper = document.createElement("div");
  wrapper.className = "govuk-form-group app-filterable__search";
  const label = document.createElement("label");
  label.className = "govuk-label";
  label.htmlFor = `${name}-search`;
  label.textContent = "Search the list";
  const input = document.createElement("input");
  input.className = "govuk-input govuk-!-width-two-thirds";
  input.type = "search";
  input.id = `${name}-search`;
  input.autocomplete = "off";
  input.setAttribute("aria-controls", `${name}-options`);
  // Not an answer: the form attribute names no form, so it is never submitted or autosaved.
  input.setAttribute("form", "app-no-form");
  const status = document.createElement("p");
  status.className = "govuk-body-s app-filterable__status";
  status.setAttribute("role", "status");
  const selected = document.createElement("p");
  selected.className = "govuk-body-s app-filterable__selected";
  wrapper.append(label, input);
  checkboxes.id = `${name}-options`;
  checkboxes.before(wrapper, selected);
  checkboxes.after(status);
  group.classList.add("app-filterable--enhanced");

  function labelOf(item) {
    return item.querySelector("label").textContent.trim();
  }

  function refresh() {
    const query = input.value.trim().toLowerCase();
    let shown = 0;
    for (const item of items) {
      const box = item.querySelector("input");
      const match = !query || labelOf(item).toLowerCase().includes(query) || box.checked;
      item.hidden = !match;
      shown += match ? 1 : 0;
    }
    const chosen = items.filter((item) => item.querySelector("input").checked).map(labelOf);
    selected.textContent = chosen.length ? `Selected: ${chosen.join(", ")}` : "None selected";
    status.textContent = query ? `${shown} of ${items.length} shown` : "";
  }

  input.addEventListener("input", (event) => {
    event.stopPropagation();
    refresh();
  });
  input.addEventListener("change", (event) => event.stopPropagation());
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
    }
  });
  checkboxes.addEventListener("change", refresh);
  refresh();
}

function setupAutosave(form) {
  const status = document.getElementById("autosave-status");
  let dirty = false;
  let failed = false;
  let retry = null;

  function save() {
    form.dispatchEvent(new Event("change", { bubbles: true }));
  }

  form.addEventListener("input", () => {
    dirty = true;
  });
  form.addEventListener("change", () => {
    dirty = true;
  });
  form.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt === form && status) {
      status.textContent = "Saving…";
    }
  });
  form.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt !== form) {
      return;
    }
    if (event.detail.successful) {
      dirty = false;
      failed = false;
      window.clearInterval(retry);
      retry = null;
      return;
    }
    failed = true;
    const offline = !event.detail.xhr || event.detail.xhr.status === 0;
    if (status) {
      status.textContent = offline
        ? "Not saved: the connection was lost. What you typed is still here, and it will be saved when the connection is back."
        : "Not saved automatically. What you typed is still here: use “Save and come back later” to keep it.";
    }
    if (offline && !retry) {
      retry = window.setInterval(() => navigator.onLine && save(), 30000);
    }
  });
  window.addEventListener("online", () => failed && save());
  form.addEventListener("submit", () => {
    dirty = false;
  });
  window.addEventListener("beforeunload", (event) => {
    if (dirty || failed) {
      event.preventDefault();
    }
  });
}

const form = document.querySelector("[data-app-submission]");
if (form) {
  setupStepper(form);
  form.querySelectorAll("[data-app-filterable]").forEach(setupFilterable);
  setupAutosave(form);
}
