// The what-if page: a study's question as controls, its answer and its Pareto front.
//
// Every control changes one question, asked as `hadac solve` would be: only what differs
// from the spec's own question is sent (a moved bound, a dropped constraint, another
// objective, a given input), so the command shown under the answer gives the same JSON.
// Questions are asked a moment after the last change (DEBOUNCE); an answer to a question
// that has since changed is dropped, so the page always shows the latest question's.
// A link may name the study and the solver to open with: /?study=tiny&solver=gecode.

const DEBOUNCE = 250; // ms after the last change before asking
const STEPS = 200; // slider positions across a quantity's range
const BINDS = 0.01; // a bound binds when its slack is under this share of the range
const POINTS = 10; // of the Pareto front
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);
const linked = new URLSearchParams(window.location.search); // ?study=tiny&solver=gecode

const state = {
  study: null, // GET /api/studies/{name}
  rows: [], // one per bound the page offers (see boundRow)
  inputs: [], // one per instance input: {info, box}
  asked: 0, // solves asked; an answer is shown only if it is the latest one's
  traced: 0, // the same for Pareto fronts
  answer: null,
  front: null,
};

// ---- small helpers ---------------------------------------------------------------------

/** An element with attributes and children (strings become text). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/** An SVG element with attributes. */
function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** A number as a person reads it: four significant digits, exponent when tiny or huge. */
function fmt(value) {
  if (value === 0) return "0";
  const size = Math.abs(value);
  if (size >= 1e5 || size < 1e-3) return value.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(value.toPrecision(4)));
}

/** A number without binary noise: 0.1 + 0.2 is 0.3 here. */
const tidy = (value) => Number(value.toPrecision(12));

/** The round step (1, 2 or 5 times a power of ten) nearest above `rough`. */
function niceStep(rough) {
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].find((m) => m * power >= rough) * power;
  return tidy(step);
}

/** About `count` round values spanning low..high, for an axis. */
function ticks(low, high, count = 5) {
  const step = niceStep((high - low) / count || Math.abs(low) || 1);
  const out = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) out.push(tidy(v));
  return out;
}

const symbol = (op) => (op === "<=" ? "≤" : "≥");
const withUnit = (value, unit) => (unit ? `${fmt(value)} ${unit}` : fmt(value));
const shellWord = (word) =>
  /^[\w.,=@/:-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { ok: response.ok, status: response.status, json: await response.json() };
}

const studyPath = (suffix = "") => `/api/studies/${encodeURIComponent(state.study.name)}${suffix}`;

/** The quantities a person names: targets and lets (a spec's expressions are theirs). */
const named = (study) => study.quantities.filter((q) => q.kind === "target" || q.kind === "let");
const quantity = (name) => state.study.quantities.find((q) => q.name === name);

// ---- the study and its controls -------------------------------------------------------

async function openStudy(name) {
  const reply = await call("GET", `/api/studies/${encodeURIComponent(name)}`);
  const study = reply.json;
  state.study = study;
  state.answer = state.front = null;
  drawFront();
  $("about").replaceChildren(...about(study));
  $("study-info").replaceChildren(...studyInfo(study));
  fillSolvers(study);
  fillObjective(study);
  fillBounds(study);
  fillInputs(study);
  fillLocation(study);
  fillAxes(study);
  solveSoon(0);
  traceSoon(0);
}

/** The study in one line: its spec and its model. */
function about(study) {
  const size = study.configurations ? `, ${study.configurations} configurations` : "";
  const goal = study.objective ? ` · the spec asks: ${study.objective.text}` : "";
  return [el("b", {}, study.file), ` · ${study.shape} model${size}${goal}`];
}

/** A small table: a header row, then rows of cells. */
function table(header, rows) {
  const head = el("tr", {}, ...header.map((h) => el("th", {}, h)));
  const body = rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c))));
  return el("table", {}, head, ...body);
}

/** What the study chooses among: its hardware, its algorithms and its quantities. */
function studyInfo(study) {
  const attributes = Object.keys(study.attribute_units);
  const heading = (name) => {
    const unit = study.attribute_units[name];
    return unit ? `${name} (${unit})` : name;
  };
  const hardware = table(
    ["hardware", "location", ...attributes.map(heading)],
    study.hardware.map((h) => [
      h.name,
      h.location ?? "",
      ...attributes.map((a) => (a in h.attributes ? fmt(h.attributes[a]) : "")),
    ]),
  );
  const domain = (p) => (p.values ? `{${p.values.join(", ")}}` : `${p.low}..${p.high}`);
  const algorithms = table(
    ["algorithm", "params", "benchmarked on"],
    study.algorithms.map((a) => [
      a.name,
      a.params.map((p) => `${p.name} ∈ ${domain(p)}`).join(", "),
      a.hardware.join(", "),
    ]),
  );
  const surrogates = Object.fromEntries(study.targets.map((t) => [t.name, t.surrogate]));
  const quantities = table(
    ["quantity", "from", "range"],
    named(study).map((q) => [
      q.name,
      q.kind === "target" ? `${surrogates[q.name]} surrogate` : "let",
      `${fmt(q.low)} – ${withUnit(q.high, q.unit)}`,
    ]),
  );
  return [hardware, algorithms, quantities];
}

function fillSolvers(study) {
  const usable = study.solvers.filter((s) => s.available);
  const options = usable.map((s) => el("option", { value: s.name }, `${s.name} (${s.family})`));
  $("solver").replaceChildren(...options);
  const preferred = [linked.get("solver"), study.solver];
  $("solver").value = preferred.find((n) => usable.some((s) => s.name === n)) ?? usable[0].name;
}

/** The objective's choices: every target and let, and the spec's own objective when it is
 * an expression; each option's value is the text a query gives. */
function fillObjective(study) {
  const goal = study.objective;
  const options = named(study).map((q) => el("option", { value: q.name }, q.name));
  if (goal && !named(study).some((q) => q.name === goal.quantity)) {
    const text = goal.text.replace(/^(minimize|maximize)\s+/, "");
    options.unshift(el("option", { value: text }, text));
  }
  if (!goal) options.unshift(el("option", { value: "" }, "nothing: any answer that fits"));
  $("goal").replaceChildren(...options);
  $("goal").value = goal ? goal.text.replace(/^(minimize|maximize)\s+/, "") : "";
  $("sense").value = goal ? goal.sense : "minimize";
}

/** A bound per constraint of the spec (on, at its bound), then an upper bound per target
 * or let the spec leaves unbounded (off, at the top of its range). */
function fillBounds(study) {
  const fromSpec = study.constraints.map((c) =>
    boundRow({
      quantity: c.quantity,
      op: c.op,
      written: c.text.slice(0, c.text.indexOf(c.op)).trim(),
      bound: c.bound,
      unit: c.unit,
      spec: c,
    }),
  );
  const bounded = new Set(study.constraints.map((c) => c.quantity));
  const extra = named(study)
    .filter((q) => !bounded.has(q.name))
    .map((q) =>
      boundRow({ quantity: q.name, op: "<=", written: q.name, unit: q.unit, spec: null }),
    );
  state.rows = [...fromSpec, ...extra];
  $("bounds").replaceChildren(...state.rows.map((row) => row.node));
}

/** One bound: a switch, a slider over the quantity's range and a number box, in the
 * quantity's unit; `spec` is the spec's constraint it changes, or null for a new one. */
function boundRow({ quantity: name, op, written, bound, unit, spec }) {
  const q = quantity(name);
  const low = Math.min(q.low, bound ?? q.low);
  const high = Math.max(q.high, bound ?? q.high);
  const step = niceStep((high - low) / STEPS || Math.abs(low) / STEPS || 1);
  const min = tidy(Math.floor(low / step) * step);
  const max = tidy(Math.ceil(high / step) * step);
  const row = { quantity: name, op, written, unit, spec, on: spec !== null, range: high - low };
  row.bound = bound ?? (op === "<=" ? max : min);

  const id = `bound-${name}-${op === "<=" ? "le" : "ge"}`;
  const toggle = el("input", { type: "checkbox", id: `${id}-on`, checked: row.on });
  const slider = el("input", { type: "range", id: `${id}-slider`, min, max, step });
  const box = el("input", { type: "number", id: `${id}-box`, step: "any", required: true });
  slider.setAttribute("aria-label", `${written} bound`);
  box.setAttribute("aria-label", `${written} bound value`);
  slider.value = box.value = String(row.bound);
  const slack = el("span", { class: "slack" });
  row.node = el(
    "div",
    { class: "bound", "data-quantity": name },
    el("label", { class: "name", for: toggle.id }, toggle, ` ${written} ${symbol(op)}`),
    slider,
    box,
    el("span", { class: "unit" }, unit),
    slack,
  );
  Object.assign(row, { toggle, slider, box, slack });

  const enable = () => {
    slider.disabled = box.disabled = !row.on;
    row.node.classList.toggle("off", !row.on);
  };
  enable();
  toggle.addEventListener("change", () => {
    row.on = toggle.checked;
    enable();
    solveSoon();
  });
  slider.addEventListener("input", () => {
    row.bound = tidy(slider.valueAsNumber);
    box.value = String(row.bound);
    box.classList.remove("invalid");
    solveSoon();
  });
  box.addEventListener("input", () => {
    const value = box.valueAsNumber;
    box.classList.toggle("invalid", !Number.isFinite(value));
    if (!Number.isFinite(value)) return;
    row.bound = value;
    slider.value = String(value);
    solveSoon();
  });
  return row;
}

/** A number box per instance input, within its declared range, at its default (or the
 * middle of its range when it has none). */
function fillInputs(study) {
  state.inputs = study.inputs.map((info) => {
    const start = info.default ?? tidy((info.low + info.high) / 2);
    const box = el("input", {
      type: "number",
      id: `input-${info.name}`,
      min: info.low,
      max: info.high,
      step: info.type === "int" ? 1 : "any",
      value: start,
      required: true,
    });
    box.addEventListener("input", () => {
      box.classList.toggle("invalid", !box.checkValidity());
      if (!box.checkValidity()) return;
      solveSoon();
      traceSoon();
    });
    const range = el("span", { class: "unit" }, `${info.low} – ${info.high}`);
    const label = el("label", { class: "name", for: box.id }, info.name);
    return { info, box, node: el("div", { class: "input" }, label, box, range) };
  });
  $("inputs").replaceChildren(...state.inputs.map((i) => i.node));
  $("inputs-set").hidden = state.inputs.length === 0;
}

/** Where the hardware runs, offered when some quantity depends on it: any ISO 3166
 * alpha-3 code, the hardware's own suggested; empty is where the study puts it. */
function fillLocation(study) {
  const codes = new Set(study.hardware.map((h) => h.location).filter(Boolean));
  if (study.location) codes.add(study.location);
  const options = [...codes].sort().map((code) => el("option", { value: code }));
  $("locations").replaceChildren(...options);
  $("location").value = study.location ?? "";
  $("location-set").hidden = !study.quantities.some((q) => q.by_location);
}

/** The front's axes: by default the first bounded quantity against the objective. */
function fillAxes(study) {
  const names = named(study).map((q) => q.name);
  for (const id of ["pareto-x", "pareto-y"]) {
    $(id).replaceChildren(...names.map((n) => el("option", { value: n }, n)));
  }
  const goal = study.objective && names.includes(study.objective.quantity);
  const y = goal ? study.objective.quantity : names[names.length - 1];
  const x = [...study.constraints.map((c) => c.quantity), ...names].find((n) => n !== y);
  $("pareto-x").value = x ?? names[0];
  $("pareto-y").value = y;
}

// ---- the question ---------------------------------------------------------------------

/** The instance inputs that differ from their defaults (or have none). */
function givenInputs() {
  const given = {};
  for (const { info, box } of state.inputs) {
    if (box.valueAsNumber !== info.default) given[info.name] = box.valueAsNumber;
  }
  return given;
}

/** Whether the question can be asked: every input within its range, a location complete. */
const askable = () =>
  state.inputs.every(({ box }) => box.checkValidity()) && $("location").checkValidity();

/** What `hadac solve` would be asked: the changes from the spec's own question. */
function question() {
  const study = state.study;
  const body = { solver: $("solver").value };
  const goal = study.objective;
  const sense = $("sense").value;
  const wanted = $("goal").value;
  const spec = goal ? goal.text.replace(/^(minimize|maximize)\s+/, "") : "";
  if (wanted && (!goal || goal.sense !== sense || spec !== wanted)) body[sense] = wanted;
  const constraints = state.rows
    .filter((r) => r.on && (r.spec === null || r.bound !== r.spec.bound))
    .map((r) => `${r.written} ${r.op} ${r.bound} ${r.unit}`.trim());
  const dropped = state.rows.filter((r) => r.spec !== null && !r.on).map((r) => r.spec.number);
  if (constraints.length) body.constraints = constraints;
  if (dropped.length) body.drop_constraints = dropped;
  const inputs = givenInputs();
  if (Object.keys(inputs).length) body.inputs = inputs;
  const location = $("location").value;
  if (!$("location-set").hidden && location && location !== study.location) {
    body.location = location;
  }
  return body;
}

/** The same question on the command line. */
function command(body) {
  const words = ["hadac", "solve", state.study.file];
  for (const sense of ["minimize", "maximize"]) {
    if (body[sense]) words.push(`--${sense}`, body[sense]);
  }
  for (const text of body.constraints ?? []) words.push("--constraint", text);
  for (const number of body.drop_constraints ?? []) words.push("--drop-constraint", number);
  for (const [name, value] of Object.entries(body.inputs ?? {})) {
    words.push("--input", `${name}=${value}`);
  }
  if (body.location) words.push("--location", body.location);
  words.push("--solver", body.solver, "--json");
  return words.map((w) => shellWord(String(w))).join(" ");
}

// ---- the answer -----------------------------------------------------------------------

let solveTimer;

/** Ask a moment after the last change; from now on, an answer to an earlier question is
 * stale, even one arriving before this question is sent. */
function solveSoon(delay = DEBOUNCE) {
  clearTimeout(solveTimer);
  const asked = ++state.asked;
  $("answer").dataset.state = "pending";
  solveTimer = setTimeout(() => solveNow(asked), delay);
}

async function solveNow(asked) {
  if (!askable()) return;
  const body = question();
  let reply;
  try {
    reply = await call("POST", studyPath("/solve"), body);
  } catch (error) {
    reply = { ok: false, json: { detail: `the server did not answer: ${error.message}` } };
  }
  if (asked !== state.asked) return; // the question changed meanwhile
  $("command").textContent = command(body);
  if (!reply.ok) {
    showError(reply.json);
    return;
  }
  state.answer = reply.json;
  showAnswer(state.answer);
  drawFront();
  $("answer").dataset.state = "ready";
}

function showError(payload) {
  state.answer = null;
  $("error").hidden = false;
  $("error").textContent = payload.field ? `${payload.field}: ${payload.detail}` : payload.detail;
  $("status").textContent = "refused";
  $("status").className = "status refused";
  for (const id of ["choice", "figures", "explanations"]) $(id).replaceChildren();
  $("answer-json").textContent = JSON.stringify(payload, null, 2);
  drawFront();
  $("answer").dataset.state = "error";
}

/** Each bound of the answer's query with its value: `time<=` -> {bound, value, holds}. */
function checks(answer) {
  const out = new Map();
  answer.query.constraints.forEach((limit, i) => {
    out.set(`${limit.quantity}${limit.op}`, { ...limit, ...answer.constraints[i] });
  });
  return out;
}

/** Whether a bound binds (holds with no room to spare), and its slack otherwise. */
function binding(check, range) {
  const slack = check.op === "<=" ? check.bound - check.value : check.value - check.bound;
  return { slack, binds: check.holds && slack <= BINDS * range };
}

function showAnswer(answer) {
  $("error").hidden = true;
  const status = answer.status;
  $("status").textContent = answer.verified ? `${status} · verified` : status;
  $("status").className = `status ${status.toLowerCase()}`;
  $("choice").replaceChildren(...choice(answer));
  $("figures").replaceChildren(...figures(answer));
  $("explanations").replaceChildren(...answer.explanations.map((e) => el("li", {}, e)));
  $("answer-json").textContent = JSON.stringify(answer, null, 2);
  const limits = checks(answer);
  for (const row of state.rows) {
    const check = row.on && answer.choice ? limits.get(`${row.quantity}${row.op}`) : undefined;
    const mark = check ? binding(check, row.range) : null;
    const slack = mark && `slack ${withUnit(mark.slack, row.unit)}`;
    row.slack.textContent = !mark ? "" : mark.binds ? "binds" : slack;
    row.slack.className = mark?.binds ? "slack binds" : "slack";
  }
}

function choice(answer) {
  if (!answer.choice) return [];
  const { hardware, algorithm, params } = answer.choice;
  const where = answer.location?.code ? ` in ${answer.location.code}` : "";
  const values = Object.entries(params).map(([name, value]) => `${name} = ${value}`);
  const ms = Math.round(answer.timings.wall * 1000);
  return [
    el(
      "dl",
      {},
      el("dt", {}, "hardware"),
      el("dd", { id: "choice-hardware" }, answer.location?.hardware ?? hardware, where),
      el("dt", {}, "algorithm"),
      el("dd", { id: "choice-algorithm" }, algorithm),
      el("dt", {}, "params"),
      el("dd", { id: "choice-params" }, values.join(", ") || "none"),
    ),
    el("p", { class: "note" }, `${answer.solver.name} (${answer.solver.where}), ${ms} ms`),
  ];
}

/** The predicted targets and the lets, each with its bound, whether it binds, and which
 * one is optimised. */
function figures(answer) {
  if (!answer.predicted) return [];
  const limits = [...checks(answer).values()];
  const goal = answer.query.objective;
  const values = { ...answer.predicted, ...answer.lets };
  const head = el("tr", {}, ...["quantity", "predicted", "bound", ""].map((t) => el("th", {}, t)));
  const rows = Object.entries(values).map(([name, value]) => {
    const unit = answer.units[name] ?? "";
    const bounds = limits.filter((l) => l.quantity === name);
    const range = quantity(name) ? quantity(name).high - quantity(name).low : 0;
    const marks = bounds.map((l) => (binding(l, range).binds ? "binds" : ""));
    const optimised = goal && goal.quantity === name ? `${goal.sense}d` : "";
    return el(
      "tr",
      { "data-quantity": name, class: marks.includes("binds") ? "binds" : "" },
      el("td", {}, name),
      el("td", { class: "value", "data-value": value }, withUnit(value, unit)),
      el("td", {}, bounds.map((l) => `${symbol(l.op)} ${withUnit(l.bound, l.unit)}`).join(", ")),
      el("td", { class: "mark" }, [optimised, ...marks].filter(Boolean).join(" · ")),
    );
  });
  return [head, ...rows];
}

// ---- the Pareto front -----------------------------------------------------------------

let traceTimer;

function traceSoon(delay = DEBOUNCE) {
  clearTimeout(traceTimer);
  const traced = ++state.traced;
  $("pareto").dataset.state = "pending";
  traceTimer = setTimeout(() => traceNow(traced), delay);
}

async function traceNow(traced) {
  const x = $("pareto-x").value;
  const y = $("pareto-y").value;
  if (x === y) {
    state.front = null;
    $("pareto-note").textContent = "choose two different quantities";
    drawFront();
    return;
  }
  if (!askable()) return;
  $("pareto-note").textContent = "tracing…";
  const { solver, inputs, location } = question();
  const body = { objectives: [x, y], points: POINTS, solver, inputs, location };
  let reply;
  try {
    reply = await call("POST", studyPath("/pareto"), body);
  } catch (error) {
    reply = { ok: false, json: { detail: `the server did not answer: ${error.message}` } };
  }
  if (traced !== state.traced) return;
  if (!reply.ok) {
    $("pareto-note").textContent = reply.json.detail;
    drawFront();
    $("pareto").dataset.state = "error";
    return;
  }
  state.front = reply.json;
  const { points, complete, seconds } = state.front;
  const whole = complete ? "the whole front" : "part of the front";
  $("pareto-note").textContent =
    `${points.length} points, ${whole}, both minimized under the spec's constraints` +
    ` (${seconds.toFixed(1)} s)`;
  drawFront();
  $("pareto").dataset.state = "ready";
}

const PLOT = { left: 70, right: 545, top: 10, bottom: 255, height: 300 }; // in viewBox units

/** A linear scale from `values` (padded a little) onto from..to. */
function scale(values, from, to) {
  const least = Math.min(...values);
  const most = Math.max(...values);
  const pad = (most - least) * 0.08 || Math.abs(least) * 0.1 || 1;
  const low = least - pad;
  const high = most + pad;
  return { low, high, at: (v) => from + ((v - low) / (high - low)) * (to - from) };
}

/** The front as a staircase of points, the bounds on its axes as dashed lines and the
 * current answer as a ring. */
function drawFront() {
  const plot = $("front");
  plot.replaceChildren();
  const front = state.front;
  if (!front || front.points.length === 0) return;
  const [xq, yq] = front.objectives;
  const values = state.answer?.choice ? { ...state.answer.predicted, ...state.answer.lets } : {};
  const answer = xq.name in values && yq.name in values ? [values[xq.name], values[yq.name]] : null;
  const points = [...front.points]
    .sort((a, b) => a[xq.name] - b[xq.name])
    .map((p) => ({ ...p, x: p[xq.name], y: p[yq.name] }));
  const xs = points.map((p) => p.x).concat(answer ? [answer[0]] : []);
  const ys = points.map((p) => p.y).concat(answer ? [answer[1]] : []);
  const sx = scale(xs, PLOT.left, PLOT.right);
  const sy = scale(ys, PLOT.bottom, PLOT.top);

  plot.append(...axes(sx, sy, xq, yq), ...limits(sx, sy, xq, yq));
  const corners = points.map((p) => [sx.at(p.x), sy.at(p.y)]);
  const stairs = corners.map(([x, y], i) => (i === 0 ? `M${x},${y}` : `H${x}V${y}`)).join("");
  plot.append(svg("path", { class: "stairs", d: stairs }));
  points.forEach((p, i) => {
    const params = Object.entries(p.params).map(([k, v]) => `${k} = ${v}`);
    const where = `${withUnit(p.x, xq.unit)}, ${withUnit(p.y, yq.unit)}`;
    const text = `${p.hardware} · ${p.algorithm} (${params.join(", ")})\n${where}`;
    const [cx, cy] = corners[i];
    const dot = { class: "point", cx, cy, r: 5, "data-x": p.x, "data-y": p.y };
    plot.append(svg("circle", dot, svg("title", {}, text)));
  });
  if (answer) plot.append(answerMark(sx.at(answer[0]), sy.at(answer[1]), answer, xq, yq));
}

/** The frame, the grid with its ticks, and each axis's quantity and unit. */
function axes(sx, sy, xq, yq) {
  const out = [];
  for (const t of ticks(sx.low, sx.high)) {
    const x = sx.at(t);
    out.push(
      svg("line", { class: "grid", x1: x, x2: x, y1: PLOT.top, y2: PLOT.bottom }),
      svg("text", { class: "tick", x, y: PLOT.bottom + 16, "text-anchor": "middle" }, fmt(t)),
    );
  }
  for (const t of ticks(sy.low, sy.high)) {
    const y = sy.at(t);
    out.push(
      svg("line", { class: "grid", x1: PLOT.left, x2: PLOT.right, y1: y, y2: y }),
      svg("text", { class: "tick", x: PLOT.left - 6, y: y + 4, "text-anchor": "end" }, fmt(t)),
    );
  }
  const title = (q) => (q.unit ? `${q.name} (${q.unit})` : q.name);
  const middle = (PLOT.top + PLOT.bottom) / 2;
  const width = PLOT.right - PLOT.left;
  const height = PLOT.bottom - PLOT.top;
  out.push(
    svg("rect", { class: "frame", x: PLOT.left, y: PLOT.top, width, height }),
    svg(
      "text",
      { class: "axis", x: PLOT.left + width / 2, y: PLOT.height - 8, "text-anchor": "middle" },
      title(xq),
    ),
    svg(
      "text",
      {
        class: "axis",
        x: 14,
        y: middle,
        "text-anchor": "middle",
        transform: `rotate(-90 14 ${middle})`,
      },
      title(yq),
    ),
  );
  return out;
}

/** The bounds of the question on either axis, as dashed lines labelled with their bound. */
function limits(sx, sy, xq, yq) {
  const out = [];
  for (const row of state.rows.filter((r) => r.on)) {
    const along = row.quantity === xq.name ? sx : row.quantity === yq.name ? sy : null;
    if (!along || row.bound < along.low || row.bound > along.high) continue;
    const at = along.at(row.bound);
    const label = `${symbol(row.op)} ${withUnit(row.bound, row.unit)}`;
    const vertical = along === sx;
    const line = vertical
      ? { x1: at, x2: at, y1: PLOT.top, y2: PLOT.bottom }
      : { x1: PLOT.left, x2: PLOT.right, y1: at, y2: at };
    const place = vertical
      ? { x: at + 4, y: PLOT.top + 12 }
      : { x: PLOT.right - 4, y: at - 4, "text-anchor": "end" };
    out.push(
      svg("line", { class: "limit", ...line }),
      svg("text", { class: "limit-label", ...place }, `${row.written} ${label}`),
    );
  }
  return out;
}

/** The current answer: a ring with its label on the roomier side. */
function answerMark(cx, cy, [x, y], xq, yq) {
  const right = cx < (PLOT.left + PLOT.right) / 2;
  const label = right
    ? { x: cx + 14, y: cy - 10, "text-anchor": "start" }
    : { x: cx - 14, y: cy - 10, "text-anchor": "end" };
  return svg(
    "g",
    { class: "answer-mark", "data-x": x, "data-y": y },
    svg("circle", { cx, cy, r: 10 }),
    svg("circle", { class: "dot", cx, cy, r: 2.5 }),
    svg("text", label, "answer"),
    svg("title", {}, `the answer: ${withUnit(x, xq.unit)}, ${withUnit(y, yq.unit)}`),
  );
}

// ---- start ----------------------------------------------------------------------------

async function start() {
  const { studies } = (await call("GET", "/api/studies")).json;
  $("study").replaceChildren(...studies.map((s) => el("option", { value: s.name }, s.name)));
  $("study").addEventListener("change", () => openStudy($("study").value));
  for (const id of ["sense", "goal"]) $(id).addEventListener("change", () => solveSoon());
  $("solver").addEventListener("change", () => {
    solveSoon();
    traceSoon();
  });
  $("location").addEventListener("input", () => {
    $("location").value = $("location").value.toUpperCase();
    const complete = $("location").checkValidity();
    $("location").classList.toggle("invalid", !complete);
    if (!complete) return;
    solveSoon();
    traceSoon();
  });
  for (const id of ["pareto-x", "pareto-y"]) $(id).addEventListener("change", () => traceSoon());
  const first = studies.find((s) => s.name === linked.get("study")) ?? studies[0];
  $("study").value = first.name;
  await openStudy(first.name);
}

start();
