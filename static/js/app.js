// Synergy Portal front-end entry point (an ES module, loaded with <script type="module">).
//
// GOV.UK Frontend normally expects an inline script to add these body classes; the portal's
// CSP allows scripts from 'self' only, so they are added here instead.
import { initAll } from "../vendor/govuk-frontend/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");

// Content swapped in by htmx can hold more components. Initialising a scope twice raises
// InitError for the components already set up: that is expected, anything else is not.
const options = {
  onError(error) {
    if (error?.name !== "InitError") {
      console.error(error);
    }
  },
};

initAll(options);

document.addEventListener("htmx:load", (event) => {
  const element = event.detail?.elt;
  if (!element || element === document.body) {
    return;
  }
  // createAll searches inside the scope only, so start from the parent to include the element.
  initAll({ ...options, scope: element.parentElement ?? element });
});
