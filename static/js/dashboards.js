// Dashboards: draw each figure's chart from its JSON data island with the vendored Chart.js.
//
// The page carries every number in a data table, the chart only draws the same numbers:
// a <script type="application/json"> island written by Django's json_script (not executed,
// so the strict CSP allows it) next to a <div data-chart="island id"> holding a canvas.
// Series differ by pattern, dash and point shape as well as colour, and the legend names
// them, so no meaning rests on colour alone.
(function () {
  "use strict";

  const COLOURS = ["#12233f", "#1d70b8", "#00703c", "#b54d00", "#4c2c92", "#505a5f"];
  const DASHES = [[], [8, 4], [2, 3], [12, 3, 2, 3], [4, 4], [1, 2]];
  const POINTS = ["circle", "rect", "triangle", "rectRot", "crossRot", "star"];
  const TEXT = "#0b0c0c";
  const GRID = "#b1b4b6";
  const drawn = new Map();
  // htmx (allowScriptTags: false) removes every <script> from swapped content, JSON data
  // islands included, so their text is read from the response before the swap.
  const islands = new Map();

  const numbers = {
    count: new Intl.NumberFormat("en-GB", { maximumFractionDigits: 0 }),
    one: new Intl.NumberFormat("en-GB", { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
    two: new Intl.NumberFormat("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    money: new Intl.NumberFormat("en-GB", {
      style: "currency",
      currency: "GBP",
      maximumFractionDigits: 0,
    }),
    compactMoney: new Intl.NumberFormat("en-GB", {
      style: "currency",
      currency: "GBP",
      notation: "compact",
      maximumFractionDigits: 1,
    }),
    compact: new Intl.NumberFormat("en-GB", { notation: "compact", maximumFractionDigits: 1 }),
  };

  function format(kind, value, short) {
    if (value === null || value === undefined) {
      return "no data";
    }
    switch (kind) {
      case "money":
        return short ? numbers.compactMoney.format(value) : numbers.money.format(value);
      case "percent":
        return `${numbers.one.format(value)}%`;
      case "factor":
        return numbers.two.format(value);
      case "hours":
      case "days":
        return short ? numbers.compact.format(value) : numbers.one.format(value);
      default:
        return short ? numbers.compact.format(value) : numbers.count.format(value);
    }
  }

  // A fill for series `index`: solid, stripes, dots, cross-hatch, … in the series' colour.
  function pattern(index, colour) {
    if (index === 0) {
      return colour;
    }
    const size = 10;
    const tile = document.createElement("canvas");
    tile.width = size;
    tile.height = size;
    const ctx = tile.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = 2;
    switch (index % 6) {
      case 1:
        ctx.beginPath();
        ctx.moveTo(0, size);
        ctx.lineTo(size, 0);
        ctx.moveTo(-size / 2, size / 2);
        ctx.lineTo(size / 2, -size / 2);
        ctx.moveTo(size / 2, size * 1.5);
        ctx.lineTo(size * 1.5, size / 2);
        ctx.stroke();
        break;
      case 2:
        ctx.beginPath();
        ctx.arc(size / 2, size / 2, 2.2, 0, Math.PI * 2);
        ctx.fill();
        break;
      case 3:
        ctx.beginPath();
        ctx.moveTo(0, size / 2);
        ctx.lineTo(size, size / 2);
        ctx.moveTo(size / 2, 0);
        ctx.lineTo(size / 2, size);
        ctx.stroke();
        break;
      case 4:
        ctx.fillRect(0, 0, size, size / 2);
        break;
      default:
        ctx.fillRect(0, 0, size / 2, size);
    }
    return ctx.createPattern(tile, "repeat");
  }

  // A long category label as up to two lines (the table has it in full).
  function wrap(label, narrow) {
    const width = narrow ? 16 : 28;
    const words = String(label).split(" ");
    const lines = [];
    let line = "";
    for (const word of words) {
      if (line && `${line} ${word}`.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
    if (lines.length > 2) {
      const second = lines.slice(1).join(" ");
      return [lines[0], `${second.slice(0, width - 1)}…`];
    }
    return lines.length === 1 ? lines[0] : lines;
  }

  function datasets(spec) {
    return spec.series.map((series, index) => {
      const colour = COLOURS[index % COLOURS.length];
      if (spec.type === "line") {
        return {
          label: series.label,
          data: series.data,
          borderColor: colour,
          backgroundColor: colour,
          borderDash: DASHES[index % DASHES.length],
          pointStyle: POINTS[index % POINTS.length],
          pointRadius: series.data.length > 30 ? 2 : 3,
          borderWidth: 2,
          tension: 0,
          fill: false,
        };
      }
      return {
        label: series.label,
        data: series.data,
        backgroundColor: pattern(index, colour),
        borderColor: colour,
        borderWidth: 1.5,
      };
    });
  }

  function config(spec, narrow) {
    const horizontal = Boolean(spec.horizontal);
    const valueAxis = horizontal ? "x" : "y";
    const categoryAxis = horizontal ? "y" : "x";
    const several = spec.series.length > 1;
    return {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets(spec) },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "nearest", intersect: spec.type !== "line", axis: categoryAxis },
        plugins: {
          legend: {
            display: several,
            position: "bottom",
            labels: { color: TEXT, usePointStyle: spec.type === "line", boxWidth: 18 },
          },
          tooltip: {
            callbacks: {
              label(item) {
                return `${item.dataset.label}: ${format(spec.format, item.parsed[valueAxis])}`;
              },
            },
          },
        },
        scales: {
          [valueAxis]: {
            stacked: Boolean(spec.stacked),
            beginAtZero: true,
            grid: { color: GRID },
            ticks: {
              color: TEXT,
              maxTicksLimit: narrow ? 4 : 8,
              callback(value) {
                return format(spec.format, value, true);
              },
            },
          },
          [categoryAxis]: {
            stacked: Boolean(spec.stacked),
            grid: { display: !horizontal, color: GRID },
            ticks: {
              color: TEXT,
              // Every bar keeps its label (wrapped); a long line thins its dates out.
              autoSkip: spec.type === "line",
              maxTicksLimit: spec.type === "line" ? (narrow ? 5 : 12) : undefined,
              maxRotation: 0,
              callback(value) {
                return wrap(this.getLabelForValue(value), narrow);
              },
            },
          },
        },
      },
    };
  }

  function draw(container) {
    if (container.dataset.chartReady === "true" || typeof window.Chart === "undefined") {
      return;
    }
    const id = container.dataset.chart;
    const island = document.getElementById(id);
    const text = island ? island.textContent : islands.get(id);
    const canvas = container.querySelector("canvas");
    if (!text || !canvas) {
      return;
    }
    const spec = JSON.parse(text);
    if (!spec || !spec.labels || spec.labels.length === 0) {
      container.hidden = true;
      return;
    }
    const narrow = window.matchMedia("(max-width: 40.0525em)").matches;
    drawn.set(canvas, new window.Chart(canvas, config(spec, narrow)));
    container.dataset.chartReady = "true";
  }

  // Charts whose canvas an htmx swap removed are destroyed, so none leaks.
  function prune() {
    for (const [canvas, chart] of drawn) {
      if (!canvas.isConnected) {
        chart.destroy();
        drawn.delete(canvas);
      }
    }
  }

  function init(root) {
    prune();
    if (window.Chart) {
      // The portal's font is set on GOV.UK's text classes, not on <body>.
      const text = document.querySelector(".govuk-body") || document.body;
      window.Chart.defaults.font.family = getComputedStyle(text).fontFamily;
      window.Chart.defaults.font.size = 14;
      window.Chart.defaults.color = TEXT;
    }
    root.querySelectorAll("[data-chart]").forEach(draw);
  }

  // Choosing dates means "Choose dates"; choosing another period drops the dates. Runs in
  // the capture phase, before htmx reads the form for its request.
  document.addEventListener(
    "change",
    (event) => {
      const target = event.target;
      const form = target.closest ? target.closest("#dashboard-filters") : null;
      if (!form) {
        return;
      }
      const period = form.querySelector("#period");
      if (target.type === "date" && period && target.value) {
        period.value = "custom";
      } else if (target === period && period.value !== "custom") {
        form.querySelectorAll('input[type="date"]').forEach((input) => {
          input.value = "";
        });
      }
    },
    true,
  );

  document.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail && event.detail.xhr;
    const body = xhr && typeof xhr.responseText === "string" ? xhr.responseText : "";
    if (!body.includes("application/json")) {
      return;
    }
    // DOMParser builds an inert document: nothing in it runs.
    const parsed = new DOMParser().parseFromString(body, "text/html");
    islands.clear();
    parsed.querySelectorAll('script[type="application/json"][id]').forEach((island) => {
      islands.set(island.id, island.textContent);
    });
  });

  document.addEventListener("htmx:load", (event) => {
    const element = event.detail && event.detail.elt;
    if (element && element !== document.body) {
      init(element);
    }
  });

  init(document);
})();
