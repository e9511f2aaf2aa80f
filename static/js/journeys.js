// Journey map and step editor (an ES module; loaded only on those pages).
//
// - After htmx swaps a region in, focus moves to the control the server marked with
//   data-autofocus (the button just used, or the error summary), or to a region marked
//   data-focus-on-swap (the step's opportunity list), so keyboard and screen-reader users
//   stay where they were and hear what changed.
// - Steps can be dragged by their handle (SortableJS, vendored, loaded before this module);
//   dropping one posts the new order through the same form the server renders for it.
//   The Up and Down buttons do the same job without a mouse, and without JavaScript.

const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

function focusMarked() {
  const marked = document.querySelector("[data-autofocus]");
  if (!marked) {
    return false;
  }
  marked.removeAttribute("data-autofocus");
  marked.focus();
  return true;
}

function postOrder(list) {
  const form = document.getElementById("step-reorder-form");
  if (!form) {
    return;
  }
  for (const input of form.querySelectorAll('input[name="step"]')) {
    input.remove();
  }
  for (const item of list.querySelectorAll(":scope > [data-step-id]")) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "step";
    input.value = item.dataset.stepId;
    form.append(input);
  }
  form.requestSubmit();
}

function initSortable(scope) {
  const Sortable = window.Sortable;
  if (!Sortable || !scope?.querySelectorAll) {
    return;
  }
  const lists = scope.matches?.("[data-sortable-steps]")
    ? [scope]
    : scope.querySelectorAll("[data-sortable-steps]");
  for (const list of lists) {
    if (list.dataset.sortableReady) {
      continue;
    }
    list.dataset.sortableReady = "true";
    Sortable.create(list, {
      handle: ".app-step-editor__handle",
      draggable: "[data-step-id]",
      animation: reducedMotion ? 0 : 150,
      // Pointer events rather than native drag and drop: the same behaviour with a mouse, a
      // pen or a finger, and no browser drag image.
      forceFallback: true,
      fallbackOnBody: true,
      ghostClass: "app-step-editor__item--ghost",
      chosenClass: "app-step-editor__item--chosen",
      onEnd(event) {
        if (event.oldIndex !== event.newIndex) {
          postOrder(list);
        }
      },
    });
  }
}

// SortableJS styles the list and its items through the CSSOM, which leaves style attributes
// behind. When htmx swaps the editor it copies the old elements' style attributes onto the new
// ones with setAttribute, which the CSP (style-src 'self') blocks and reports. The old content
// is about to go anyway, so its style attributes are dropped first.
document.body.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail?.target;
  if (!target?.querySelectorAll) {
    return;
  }
  target.removeAttribute("style");
  for (const styled of target.querySelectorAll("[style]")) {
    styled.removeAttribute("style");
  }
});

// The map marks the step whose opportunities are listed; after an htmx swap of the list the
// page around it is not re-rendered, so the mark moves here.
function markSelectedStep(region) {
  const stepId = region.dataset.stepId;
  for (const item of document.querySelectorAll(".app-journey-map__step")) {
    const selected = Boolean(stepId) && item.id === `step-${stepId}`;
    item.classList.toggle("app-journey-map__step--selected", selected);
    const link = item.querySelector(".app-journey-map__link");
    if (selected) {
      link?.setAttribute("aria-current", "true");
    } else {
      link?.removeAttribute("aria-current");
    }
  }
}

document.body.addEventListener("htmx:afterSettle", (event) => {
  if (focusMarked()) {
    return;
  }
  const id = event.detail?.target?.id;
  const region = id ? document.getElementById(id) : null;
  if (region?.hasAttribute("data-focus-on-swap")) {
    markSelectedStep(region);
    region.focus();
  }
});

document.body.addEventListener("htmx:load", (event) => {
  initSortable(event.detail?.elt);
});

initSortable(document);
focusMarked();
