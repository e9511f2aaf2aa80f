// The triage board: drag and drop (SortableJS), the side panel, live updates and the
// scoring form inside the panel. An ES module loaded with <script type="module" src=…>; the
// CSP forbids inline script, so everything is wired here by data attributes and ids.
//
// Without JavaScript the board still works: every card has a "Move to…" menu (a plain form),
// every card opens its panel as a page, and "Show more" is a link.

const board = document.getElementById("board");

if (board) {
  // htmx copies an element's old attributes onto its replacement before settling; an old
  // card may carry Sortable's inline animation style, which the strict CSP refuses to copy.
  htmx.config.attributesToSettle = htmx.config.attributesToSettle.filter((name) => name !== "style");
  // No page snapshots are kept (historyCacheSize 0): going back or forward between the board
  // and an open card reloads the page, so this module and SortableJS start afresh.
  htmx.config.refreshOnHistoryMiss = true;
  const canMove = board.hasAttribute("data-can-move");
  const prioritySort = board.dataset.sort === "priority";
  const state = { dragging: false, moving: 0, keyboardMove: false, opener: null, focusId: null, pendingFocus: null, pendingUntil: 0 };

  const shownValues = () => {
    const values = {};
    for (const input of document.querySelectorAll(".app-board__shown")) {
      values[input.name] = input.value;
    }
    return values;
  };

  const cardOf = (element) => (element?.classList?.contains("app-board-card") ? element : null);

  const siblingCard = (item, direction) => {
    let node = item[direction];
    while (node && !cardOf(node)) {
      node = node[direction];
    }
    return node;
  };

  // --- Drag and drop ----------------------------------------------------------------------

  const sendMove = (item, list) => {
    const before = prioritySort ? null : siblingCard(item, "previousElementSibling");
    const after = prioritySort ? null : siblingCard(item, "nextElementSibling");
    state.moving += 1;
    htmx
      .ajax("POST", item.dataset.moveUrl, {
        source: item,
        swap: "none",
        values: {
          to: list.dataset.status,
          version: item.dataset.version,
          before: before ? before.dataset.ref : "",
          after: after ? after.dataset.ref : "",
          position: prioritySort ? "bottom" : "",
          ...shownValues(),
        },
      })
      .finally(() => {
        state.moving -= 1;
      });
  };

  const initSortable = (list) => {
    if (!canMove || list.dataset.sortableReady || typeof Sortable === "undefined") {
      return;
    }
    list.dataset.sortableReady = "1";
    Sortable.create(list, {
      group: list.dataset.lane ? `lane-${list.dataset.lane}` : "board",
      draggable: ".app-board-card",
      filter: "button, summary, input, select, textarea, label, .app-board-card__move",
      preventOnFilter: false,
      sort: !prioritySort,
      forceFallback: true,
      fallbackOnBody: true,
      delay: 200,
      delayOnTouchOnly: true,
      animation: 120,
      ghostClass: "app-board-card--ghost",
      chosenClass: "app-board-card--chosen",
      dragClass: "app-board-card--drag",
      // Sortable marks the card with an inline will-change style and then clones it; the
      // strict CSP refuses a cloned style attribute, so drop it first (it is only a hint).
      onChoose(event) {
        event.item.removeAttribute("style");
      },
      onStart() {
        state.dragging = true;
      },
      onEnd(event) {
        state.dragging = false;
        if (event.from === event.to && event.oldIndex === event.newIndex) {
          return;
        }
        sendMove(event.item, event.to);
      },
    });
  };

  const initLists = (root) => {
    for (const list of root.querySelectorAll(".app-board__list")) {
      initSortable(list);
    }
  };

  // Sortable.min.js is a classic deferred script: it has run before this module.
  initLists(document);
  document.body.addEventListener("htmx:load", (event) => {
    const element = event.detail?.elt;
    if (element instanceof Element) {
      initLists(element.parentElement ?? element);
    }
  });

  // --- Moves from the card menus ----------------------------------------------------------

  document.addEventListener("submit", (event) => {
    if (event.target.closest?.(".app-board-card__move-form, .app-panel")) {
      state.keyboardMove = true;
    }
  });

  // The move's response and a live refresh of the same column may swap the card after this
  // event: remember where focus belongs and put it back once htmx has settled.
  document.body.addEventListener("board:moved", (event) => {
    if (state.keyboardMove) {
      state.pendingFocus = `card-link-${event.detail?.ref}`;
      state.pendingUntil = Date.now() + 3000;
      document.getElementById(state.pendingFocus)?.focus();
    }
    state.keyboardMove = false;
  });

  // A refused move (409) or a form with errors (400) still carries the regions to show.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    if (status === 409 || status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
    const active = document.activeElement;
    state.focusId = active && active.id && active.closest(".app-board__list, #board-lanes") ? active.id : null;
  });

  // Put focus back where it belongs once a swap has replaced the focused card. Called after
  // the request as well as after settling: when a poll or a move swaps the element that made
  // the request out of band (the poller itself, a card's move form), htmx fires afterSettle
  // on the detached element, which never reaches this listener; afterRequest is re-sent to
  // an ancestor still in the page.
  const restoreFocus = () => {
    const lost = !document.activeElement || document.activeElement === document.body;
    if (state.focusId && lost) {
      document.getElementById(state.focusId)?.focus({ preventScroll: true });
    }
    if (state.pendingFocus && Date.now() < state.pendingUntil) {
      const target = document.getElementById(state.pendingFocus);
      if (target && (lost || document.activeElement === target)) {
        target.focus({ preventScroll: true });
      }
    } else {
      state.pendingFocus = null;
    }
  };

  const restoreAndForget = () => {
    restoreFocus();
    state.focusId = null;
  };
  document.body.addEventListener("htmx:afterRequest", restoreAndForget);
  document.body.addEventListener("htmx:afterSettle", restoreAndForget);

  // A move that went by a full page load (no JavaScript yet, or a form pressed before htmx
  // had processed it) comes back to /board/#card-<ref>: focus follows the card there too.
  // References are plain ASCII (SO-2026-00042): the fragment is used as it is, never decoded,
  // so a hand-typed malformed escape cannot throw here and stop the rest of this module.
  const arrived = /^#card-([A-Za-z0-9-]+)$/.exec(window.location.hash);
  const arrivedAt = arrived && document.getElementById(`card-link-${arrived[1]}`);
  if (arrivedAt) {
    // The browser's own jump to the fragment would move focus to the (unfocusable) card, that
    // is, drop it: take the fragment off the address and focus the card's link instead.
    history.replaceState(history.state, "", window.location.pathname + window.location.search);
    arrivedAt.focus();
  }

  document.addEventListener("click", (event) => {
    const dismiss = event.target.closest?.("[data-notice-dismiss]");
    if (dismiss) {
      event.preventDefault();
      document.getElementById("board-notice").replaceChildren();
    }
  });

  // --- Live updates -----------------------------------------------------------------------

  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt?.id !== "board-poller") {
      return;
    }
    const busy =
      state.dragging ||
      state.moving > 0 ||
      document.hidden ||
      document.querySelector(".app-board-card__move[open]");
    if (busy) {
      event.preventDefault();
    }
  });

  // --- The side panel ---------------------------------------------------------------------

  const panel = document.getElementById("board-panel");
  const boardUrl = () => board.dataset.boardUrl;

  const closePanel = () => {
    panel.replaceChildren();
    board.classList.remove("app-board--panel-open");
    history.pushState({ htmx: true }, "", boardUrl());
    const opener = state.opener && document.getElementById(state.opener);
    if (opener) {
      opener.focus();
    }
  };

  document.body.addEventListener("htmx:beforeRequest", (event) => {
    const link = event.detail.elt;
    if (link?.classList?.contains("app-board-card__link")) {
      state.opener = link.id;
    }
  });

  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target !== panel) {
      return;
    }
    board.classList.toggle("app-board--panel-open", panel.childElementCount > 0);
    if (event.detail.requestConfig?.verb === "get" && event.detail.elt?.classList?.contains("app-board-card__link")) {
      document.getElementById("panel-title")?.focus();
    } else {
      const notice = panel.querySelector("#panel-notice [role='alert']");
      const title = document.getElementById("panel-title");
      if (notice) {
        notice.setAttribute("tabindex", "-1");
        notice.focus();
      } else if (panel.contains(document.activeElement) === false && title) {
        title.focus();
      }
    }
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest?.("[data-panel-close]")) {
      event.preventDefault();
      closePanel();
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && panel.childElementCount && panel.contains(document.activeElement)) {
      closePanel();
    }
  });

  // --- Scoring inside the panel -----------------------------------------------------------
  // The scoring screen's own form (and its live preview) is loaded into the panel; saving
  // posts it to the scoring screen and shows the answer here, so nobody leaves the board.

  const scoreRegion = () => panel.querySelector("#panel-score");

  const showScoreForm = (html) => {
    const region = scoreRegion();
    if (!region) {
      return;
    }
    const page = new DOMParser().parseFromString(html, "text/html");
    const parts = [
      page.querySelector(".govuk-error-summary"),
      page.querySelector(".app-score-panel"),
      page.querySelector(".app-score-layout"),
    ].filter(Boolean);
    if (!parts.length) {
      return;
    }
    region.replaceChildren(...parts.map((node) => document.importNode(node, true)));
    region.classList.add("app-panel__score--open");
    htmx.process(region);
    const first = region.querySelector(".govuk-error-summary, input, textarea");
    first?.focus();
  };

  document.addEventListener("click", async (event) => {
    const link = event.target.closest?.("[data-panel-score]");
    if (!link || !panel.contains(link)) {
      return;
    }
    event.preventDefault();
    const response = await fetch(link.href, { credentials: "same-origin" });
    if (response.ok) {
      showScoreForm(await response.text());
    } else {
      window.location.assign(link.href);
    }
  });

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (form.id !== "score-form" || !panel.contains(form)) {
      return;
    }
    event.preventDefault();
    // Not form.action: the form has buttons named "action", which shadow the property.
    const url = form.getAttribute("action");
    const response = await fetch(url, {
      method: "POST",
      body: new FormData(form, event.submitter),
      credentials: "same-origin",
    });
    const html = await response.text();
    if (response.ok && response.redirected) {
      const page = new DOMParser().parseFromString(html, "text/html");
      const saved = page.querySelector(".govuk-notification-banner__heading")?.textContent?.trim();
      // The panel again (with the new score), then the scoring screen's message in it.
      panel.addEventListener(
        "htmx:afterSwap",
        () => {
          const notice = document.getElementById("panel-notice");
          if (!notice || !saved) {
            return;
          }
          const banner = document.createElement("div");
          banner.className = "app-board__banner app-board__banner--success";
          banner.setAttribute("role", "status");
          const text = document.createElement("p");
          text.className = "app-board__banner-text";
          text.textContent = saved;
          banner.append(text);
          notice.replaceChildren(banner);
        },
        { once: true },
      );
      htmx.ajax("GET", panel.querySelector(".app-panel")?.dataset.cardUrl, {
        target: "#board-panel",
        swap: "innerHTML",
      });
    } else if (response.status === 400) {
      showScoreForm(html);
    } else {
      window.location.assign(url);
    }
  });
}
