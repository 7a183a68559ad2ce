// The dashboard's pages: plain DOM, no framework. Every value from the server is written as text (textContent via
// `h`), never parsed as markup; charts are Apache ECharts, served by the silo from /static/lib.
'use strict';

const app = document.getElementById('app');
const live = document.getElementById('live');
let cleanup = [];
// ECharts (1 MB) loads beside the first API calls instead of before them: the table never waits for the charts.
const echartsReady = new Promise(resolve => {
  const script = document.createElement('script');
  script.src = '/static/lib/echarts.min.js';
  script.onload = script.onerror = resolve;
  document.head.appendChild(script);
});

/** A typed parameter as the CLI's tables show it: lists in brackets, maps in braces, a dash when absent. */
function shownValue(v) {
  if (v === null || v === undefined) return '–';
  if (Array.isArray(v)) return '[' + v.map(shownValue).join(',') + ']';
  if (typeof v === 'object') return '{' + Object.entries(v).map(([k, x]) => k + ':' + shownValue(x)).join(',') + '}';
  return String(v);
}

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A dashboard started with --dashboard-token wants it on every API call, as a header (never in a URL: those end up
// in logs and history). The page asks once and keeps it for this tab only (sessionStorage).
const tokenKey = 'dashboard-token';
class NeedsToken extends Error {}

function withToken(init = {}) {
  const token = sessionStorage.getItem(tokenKey);
  return token ? { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } } : init;
}

async function call(path, init) {
  const response = await fetch(path, withToken(init));
  if (response.status === 401) throw new NeedsToken('this dashboard needs its token');
  return response;
}

async function api(path, init) {
  const response = await call(path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function askForToken() {
  cleanup.forEach(f => f()); cleanup = [];
  const refused = sessionStorage.getItem(tokenKey) !== null;
  sessionStorage.removeItem(tokenKey);
  const input = h('input', { type: 'password', id: 'token', placeholder: 'dashboard token', autocomplete: 'current-password' });
  app.replaceChildren(h('h1', {}, 'Token'), h('div', { class: 'card' },
    h('form', { id: 'token-form', class: 'toolbar', onsubmit: e => { e.preventDefault(); sessionStorage.setItem(tokenKey, input.value); route(); } },
      h('span', { id: 'token-prompt' }, refused ? 'That token was refused. Token:' : 'This dashboard needs the token it was started with (--dashboard-token):'),
      input, h('button', { type: 'submit', id: 'token-submit' }, 'Open'))));
  input.focus();
}

// A file download as the user's click, with the token in a header (an <a href> alone would send none).
async function download(url, name) {
  const response = await call(url);
  if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error || `${response.status} ${response.statusText}`);
  const link = h('a', { href: URL.createObjectURL(await response.blob()), download: name });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

const enc = encodeURIComponent;
const fmt = v => v === null || v === undefined ? '–' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v);
const when = t => t ? new Date(t).toLocaleString() : '–';
const badge = s => h('span', { class: `badge ${s}` }, s);

function chart(el) {
  if (!window.echarts) { el.replaceChildren(h('p', { class: 'muted' }, 'charts unavailable: echarts is not installed (run scripts/setup.sh and rebuild)')); return null; }
  const c = echarts.init(el);
  const resize = () => c.resize();
  window.addEventListener('resize', resize);
  cleanup.push(() => { window.removeEventListener('resize', resize); c.dispose(); });
  return c;
}

// A stream that ends says so next to the dot: the process serving the page stopped (a `run` whose sweep ended serves
// its page only while it runs) or cannot be reached; the page keeps the last state it heard.
function showLive(on, lost = false) {
  live.classList.toggle('on', on);
  live.textContent = lost ? '● offline' : '●';
  live.title = on ? 'live updates' : lost ? 'offline: the process serving this page has stopped or cannot be reached; this is the last state it sent (retrying every 3 s)' : 'live updates';
}

// Server-sent events read through fetch rather than EventSource, which cannot send the token header. Reconnects like
// EventSource does: a silo that restarts is followed again a few seconds later.
function subscribe(sweep, onUpdate) {
  const stop = new AbortController();
  cleanup.push(() => { stop.abort(); showLive(false); });
  (async () => {
    while (!stop.signal.aborted) {
      try {
        const response = await call(`/api/sweeps/${enc(sweep)}/events`, { signal: stop.signal, headers: { Accept: 'text/event-stream' } });
        if (response.ok && response.body) {
          showLive(true);
          await readEvents(response.body, (event, data) => { if (event === 'update') onUpdate(JSON.parse(data)); });
        }
      } catch (e) {
        if (e instanceof NeedsToken && !stop.signal.aborted) { askForToken(); return; }
      }
      if (!stop.signal.aborted) showLive(false, true);
      if (!stop.signal.aborted) await new Promise(resolve => setTimeout(resolve, 3000));
    }
  })();
}

// The text/event-stream format: blocks separated by a blank line, `event:` and `data:` lines in each.
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      let event = 'message';
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) onEvent(event, data.join('\n'));
    }
  }
}

// Coalesces bursts of updates into at most one call per interval.
function throttle(fn, ms) {
  let timer = null, again = false;
  return function run() {
    if (timer) { again = true; return; }
    fn();
    timer = setTimeout(() => { timer = null; if (again) { again = false; run(); } }, ms);
  };
}

// ---- sweeps -------------------------------------------------------------------------------------------------------
async function sweepsPage() {
  const body = h('tbody');
  app.replaceChildren(h('h1', {}, 'Sweeps'), h('div', { class: 'card' }, h('table', { id: 'sweeps' },
    h('thead', {}, h('tr', {}, ['sweep', 'state', 'progress', 'best', 'started', 'finished', 'running workers'].map(c => h('th', {}, c)))), body)));
  const load = async () => {
    const sweeps = await api('/api/sweeps');
    body.replaceChildren(...sweeps.map(({ status: s, workers }) => h('tr', { 'data-sweep': s.name },
      h('td', {}, h('a', { href: `#/sweep/${enc(s.name)}` }, s.name)), h('td', {}, badge(s.state)),
      h('td', {}, h('span', { class: 'bar' }, h('span', { style: `width:${s.total ? 100 * (s.succeeded + s.failed + s.pruned + s.cancelled) / s.total : 0}%` })),
        ` ${s.succeeded + s.failed + s.pruned + s.cancelled}/${s.total}`),
      h('td', {}, s.bestMetric === null ? '–' : `${s.metric} ${fmt(s.bestMetric)}`), h('td', {}, when(s.startedAt)), h('td', {}, when(s.finishedAt)),
      h('td', {}, workers))));
    if (!sweeps.length) body.replaceChildren(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'no sweeps yet')));
  };
  await load();
  const timer = setInterval(() => load().catch(() => {}), 5000);
  cleanup.push(() => clearInterval(timer));
}

/** Each correlated pair of importance entries once (both entries name the other). */
function correlatedPairs(importance) {
  const seen = new Set(), pairs = [];
  for (const i of importance) for (const c of i.correlatedWith) {
    const other = importance.find(j => j.members.includes(c.parameter));
    const key = [i.parameter, other?.parameter ?? c.parameter].sort().join('\n');
    if (!seen.has(key)) { seen.add(key); pairs.push([i.parameter, other?.parameter ?? c.parameter, c.spearman]); }
  }
  return pairs;
}

// ---- one sweep ----------------------------------------------------------------------------------------------------
async function sweepPage(name) {
  const [info, settings] = await Promise.all([api(`/api/sweeps/${enc(name)}`), api('/api/settings')]);
  const state = { where: '', sort: null, desc: false, offset: 0, limit: 50, selected: new Set(), ticked: false, rows: [] };
  const statusLine = h('div', { id: 'status' });
  const controls = h('div', { class: 'toolbar' });
  const filter = h('input', { type: 'text', id: 'filter', placeholder: 'filter, as leaderboard --where: rank>=8 and state=succeeded' });
  const problem = h('div', { class: 'problem', id: 'filter-problem' });
  const head = h('thead'), body = h('tbody'), pager = h('div', { class: 'toolbar', id: 'pager' });
  const curveEl = h('div', { class: 'chart', id: 'curves' }), rankEl = h('div', { class: 'chart', id: 'rank-plot' });
  const parallelEl = h('div', { class: 'chart', id: 'parallel' }), importanceEl = h('div', { class: 'chart', id: 'importance' });
  const curveMetric = h('select', { id: 'curve-metric' });
  const compareLink = h('a', { id: 'compare', class: 'button' });
  const renderCompareLink = () => {
    const ids = [...state.selected];
    compareLink.textContent = `compare ${ids.length} ticked`;
    if (ids.length >= 2 && ids.length <= 5) { compareLink.href = `#/compare/${enc(name)}/${ids.map(enc).join(',')}`; compareLink.classList.remove('disabled'); }
    else { compareLink.removeAttribute('href'); compareLink.classList.add('disabled'); compareLink.title = 'tick two to five trials'; }
  };
  const importanceNote = h('div', { class: 'muted', id: 'importance-note' });
  const paretoEl = h('div', { class: 'chart', id: 'pareto' });
  const paretoX = h('select', { id: 'pareto-x' }), paretoY = h('select', { id: 'pareto-y' });
  const paretoNote = h('div', { class: 'muted', id: 'pareto-note' });
  app.replaceChildren(
    h('h1', {}, 'Sweep ', h('span', { id: 'sweep-name' }, name)),
    h('div', { class: 'card' }, statusLine, controls),
    h('div', { class: 'card' },
      h('form', { class: 'toolbar', onsubmit: e => { e.preventDefault(); state.where = filter.value; state.offset = 0; loadTable(); } },
        filter, h('button', { type: 'submit', id: 'apply-filter' }, 'Filter')),
      problem, h('div', { style: 'overflow-x:auto' }, h('table', { id: 'trials' }, head, body)), pager),
    h('div', { class: 'grid' },
      h('div', { class: 'card' }, h('div', { class: 'toolbar' }, h('h2', {}, 'Learning curves'), curveMetric, h('span', { class: 'muted' }, 'tick trials in the table to compare'), compareLink), curveEl),
      h('div', { class: 'card' }, h('h2', {}, `${info.status.metric} vs LoRA rank`), rankEl),
      h('div', { class: 'card' }, h('h2', {}, 'Parallel coordinates'), parallelEl),
      h('div', { class: 'card', id: 'pareto-card' }, h('div', { class: 'toolbar' }, h('h2', {}, 'Pareto front'),
        h('label', {}, 'y ', paretoY), h('label', {}, 'x ', paretoX)), paretoEl, paretoNote),
      h('div', { class: 'card' }, h('h2', {}, 'Parameter importance (fANOVA over a random forest)'), importanceEl, importanceNote)));
  let curves = null, rank = null, parallel = null, importance = null, pareto = null;

  const columns = [
    { key: null, label: '' }, { key: 'trial', label: 'trial' }, { key: 'kind', label: 'kind' }, { key: 'state', label: 'state' },
    ...info.parameters.map(p => ({ key: p, label: p })),
    { key: 'score', label: info.status.metric }, { key: 'peak_memory_bytes', label: 'peak memory' }, { key: 'step', label: 'step', sortable: false }, { key: 'attempts', label: 'attempts', sortable: false },
    { key: 'worker', label: 'worker', sortable: false }, { key: 'error', label: 'error', sortable: false }];
  function renderHead() {
    head.replaceChildren(h('tr', {}, columns.map(c => h('th', {
      class: [c.key && c.sortable !== false ? 'sortable' : '', state.sort === c.key && c.key ? 'sorted' : '', state.sort === c.key && state.desc ? 'desc' : ''].join(' ').trim(),
      'data-column': c.key,
      onclick: c.key && c.sortable !== false ? () => { state.desc = state.sort === c.key ? !state.desc : false; state.sort = c.key; state.offset = 0; renderHead(); loadTable(); } : null,
    }, c.label))));
  }
  function row(r) {
    const box = h('input', { type: 'checkbox', checked: state.selected.has(r.id), onchange: e => { e.target.checked ? state.selected.add(r.id) : state.selected.delete(r.id); loadCurves(); } });
    return h('tr', { 'data-trial': r.id, class: `state-${r.state}` },
      h('td', {}, box), h('td', {}, h('a', { href: `#/trial/${enc(name)}/${enc(r.id)}` }, r.id)), h('td', {}, r.kind), h('td', { class: 'state' }, badge(r.state)),
      info.parameters.map(p => h('td', { class: 'param', 'data-param': p }, shownValue(r.parameters[p]))),
      h('td', { class: 'score' }, fmt(r.score)), h('td', { class: 'peak-memory' }, r.peakMemoryBytes == null ? '' : `${(r.peakMemoryBytes / 2 ** 20).toFixed(0)} MiB`), h('td', { class: 'step' }, r.totalSteps ? `${r.step}/${r.totalSteps}` : String(r.step)),
      h('td', {}, r.attempts), h('td', {}, r.worker ?? ''), h('td', { class: 'error', title: r.error ?? '' }, r.error ?? ''));
  }
  async function loadTable() {
    const q = new URLSearchParams({ offset: state.offset, limit: state.limit, desc: state.desc });
    if (state.where) q.set('where', state.where);
    if (state.sort) q.set('sort', state.sort);
    try {
      const page = await api(`/api/sweeps/${enc(name)}/trials?${q}`);
      problem.textContent = '';
      state.rows = page.rows;
      // The first rows are ticked once, when the page opens; after that the ticks are the user's (none is a choice too).
      if (!state.ticked && page.rows.length) { state.ticked = true; page.rows.slice(0, 5).forEach(r => state.selected.add(r.id)); loadCurves().catch(() => {}); }
      body.replaceChildren(...page.rows.map(row));
      const last = Math.min(page.offset + page.rows.length, page.matched);
      pager.replaceChildren(
        h('button', { id: 'prev', disabled: state.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - state.limit); loadTable(); } }, '‹ prev'),
        h('span', { id: 'page-info' }, `${page.matched ? page.offset + 1 : 0}–${last} of ${page.matched}` + (page.matched !== page.total ? ` (filtered from ${page.total})` : '')),
        h('button', { id: 'next', disabled: last >= page.matched, onclick: () => { state.offset += state.limit; loadTable(); } }, 'next ›'));
    } catch (e) { problem.textContent = e.message; }
  }
  function renderStatus(s) {
    const done = s.succeeded + s.failed + s.pruned + s.cancelled;
    statusLine.replaceChildren(h('div', { class: 'kv' },
      h('span', { class: 'muted' }, 'state'), h('span', { id: 'status-state' }, badge(s.state)),
      h('span', { class: 'muted' }, 'progress'), h('span', { id: 'status-progress' }, `${done}/${s.total} done · ${s.running} running · ${s.queued} queued · ${s.succeeded} succeeded · ${s.pruned} pruned · ${s.failed} failed`),
      h('span', { class: 'muted' }, 'best'), h('span', { id: 'status-best' }, s.bestTrial ? `${s.metric} ${fmt(s.bestMetric)} (${s.bestTrial})` : '–'),
      h('span', { class: 'muted' }, 'model'), h('span', {}, info.spec ? `${info.spec.model} on ${info.spec.dataset} (${info.spec.fileName})` : '–'),
      h('span', { class: 'muted' }, 'started'), h('span', {}, `${when(s.startedAt)}${s.finishedAt ? ' · finished ' + when(s.finishedAt) : ''}`)));
  }
  function renderControls() {
    if (!settings.mutable) { controls.replaceChildren(h('span', { class: 'muted' }, 'read-only (start with --dashboard-token to pause, resume or cancel)')); return; }
    const result = h('span', { class: 'problem' });
    const send = command => async () => {
      try { renderStatus(await api(`/api/sweeps/${enc(name)}/${command}`, { method: 'POST' })); result.textContent = ''; }
      catch (e) { if (e instanceof NeedsToken) askForToken(); else result.textContent = e.message; }
    };
    controls.replaceChildren(...['pause', 'resume', 'cancel'].map(c => h('button', { id: c, onclick: send(c) }, c)), result);
  }
  const metrics = new Set(info.metrics);
  const curvesHave = new Set(); // metrics with more than one point in a loaded curve
  function fillMetricChoice() {
    const current = curveMetric.value;
    const choices = [...metrics].sort();
    const preferred = (userPicked && current) || (curvesHave.has('train_loss') ? 'train_loss' : choices.includes(info.status.metric) ? info.status.metric : choices[0]);
    curveMetric.replaceChildren(...choices.map(m => h('option', { value: m, selected: m === preferred }, m)));
  }
  let userPicked = false;
  curveMetric.addEventListener('change', () => { userPicked = true; loadCurves(); });
  async function loadCurves() {
    renderCompareLink();
    if (!curves) return;
    const ids = [...state.selected];
    const data = ids.length ? await api(`/api/sweeps/${enc(name)}/curves?ids=${ids.map(enc).join(',')}`) : {};
    for (const points of Object.values(data)) for (const p of points) for (const m of Object.keys(p.metrics)) { metrics.add(m); if (points.length > 1) curvesHave.add(m); }
    fillMetricChoice();
    const metric = curveMetric.value;
    curves.setOption({
      animation: false, tooltip: { renderMode: 'richText', trigger: 'axis', valueFormatter: v => fmt(v) }, legend: { type: 'scroll', formatter: n => n },
      xAxis: { type: 'value', name: 'step' }, yAxis: { type: 'value', name: metric, scale: true },
      series: Object.entries(data).map(([id, points]) => ({ name: id, type: 'line', showSymbol: points.length < 30,
        data: points.filter(p => p.metrics[metric] !== undefined).map(p => [p.step, p.metrics[metric]]) })),
    }, true);
  }
  async function loadAnalysis() {
    const a = await api(`/api/sweeps/${enc(name)}/analysis`);
    const tip = p => `${p.data.id ?? p.name}: ${fmt(p.value[1] ?? p.value)}`;
    const ranks = a.lora.map(p => p.rank).filter(r => r !== null);
    const line = (points, label) => points.length ? [{ yAxis: points.reduce((s, p) => s + p.score, 0) / points.length, name: label, label: { formatter: `${label} {c}` } }] : [];
    rank?.setOption({
      animation: false, grid: { right: 110 }, tooltip: { renderMode: 'richText', formatter: tip }, xAxis: { type: 'log', name: 'rank', logBase: 2, min: ranks.length ? Math.min(...ranks) / 2 : 1 }, yAxis: { type: 'value', name: a.metric, scale: true },
      series: [{ type: 'scatter', name: 'lora', data: a.lora.filter(p => p.rank !== null).map(p => ({ id: p.id, value: [p.rank, p.score], itemStyle: p.pruned ? { opacity: 0.35 } : undefined })),
        markLine: { symbol: 'none', data: [...line(a.fullFineTuning, 'full FT'), ...line(a.frozenBase, 'frozen base')] } }],
    }, true);
    parallel?.setOption({
      animation: false,
      parallelAxis: [...a.dimensions.map((d, i) => {
        const values = [...new Set(a.lines.map(l => l.values[i]))].filter(v => v !== '-');
        const numeric = values.every(v => !isNaN(Number(v)));
        if (!numeric) return { dim: i, name: d, type: 'category', data: values.sort() };
        // Values spanning two decades or more (learning rates, weight decay) read on a log axis, as W&B and Optuna draw them.
        const xs = values.map(Number), lo = Math.min(...xs), hi = Math.max(...xs);
        return lo > 0 && hi / lo >= 100 ? { dim: i, name: d, type: 'log', logBase: 10 } : { dim: i, name: d, type: 'value', scale: true };
      }), { dim: a.dimensions.length, name: a.metric, type: 'value', scale: true }],
      visualMap: a.lines.length ? { show: false, dimension: a.dimensions.length, min: Math.min(...a.lines.map(l => l.score)), max: Math.max(...a.lines.map(l => l.score)), inRange: { color: a.maximize ? ['#d0d5dd', '#3a6ff7'] : ['#3a6ff7', '#d0d5dd'] } } : undefined,
      series: [{ type: 'parallel', lineStyle: { width: 1.5, opacity: 0.6 },
        data: a.lines.map(l => ({ name: l.id, value: [...l.values.map((v, i) => (isNaN(Number(v)) ? v : Number(v))), l.score], lineStyle: l.state === 'pruned' ? { type: 'dashed' } : undefined })) }],
    }, true);
    // fANOVA shares (see README); a tied group reads "rank ≡ alpha", strong correlations are named under the chart.
    const imp = [...a.importance].reverse();
    importance?.setOption({
      animation: false, grid: { left: 130, right: 40 },
      tooltip: { renderMode: 'richText', formatter: p => { const i = imp[p.dataIndex]; return `${i.parameter}: ${(100 * i.share).toFixed(1)}% of the explained variance (± ${(100 * i.spread).toFixed(1)}% over trees)`; } },
      xAxis: { type: 'value', name: 'share', max: 1, axisLabel: { formatter: v => `${Math.round(v * 100)}%` } },
      yAxis: { type: 'category', data: imp.map(i => i.parameter) },
      series: [{ type: 'bar', data: imp.map(i => i.share), label: { show: true, position: 'right', formatter: p => `${Math.round(p.value * 100)}%` } }],
    }, true);
    importanceNote.replaceChildren(...(a.importance.length === 0 ? [h('span', {}, 'needs at least four finished trials in which some parameter varies')] : []),
      ...a.importance.filter(i => i.members.length > 1).map(i => h('div', { class: 'tied' },
        `${i.members.join(' and ')} took the same values together in every finished trial (${i.members.join(' ≡ ')}): their effects cannot be told apart, so they share one bar.`)),
      ...correlatedPairs(a.importance).map(([x, y, rho]) => h('div', { class: 'correlated' },
        `${x} and ${y} are correlated in the finished trials (Spearman ρ ${rho.toFixed(2)}): the forest may credit either.`)));
  }

  // The front on any two objectives: dominated trials faded, baselines as their own marks, each axis saying which way is better.
  const better = a => `${a.name} ${a.maximize ? '↑ higher is better' : '↓ lower is better'}`;
  async function loadPareto() {
    const q = new URLSearchParams();
    if (paretoX.value) q.set('x', paretoX.value);
    if (paretoY.value) q.set('y', paretoY.value);
    const p = await api(`/api/sweeps/${enc(name)}/pareto?${q}`);
    const choose = (select, picked) => select.replaceChildren(...p.choices.map(c => h('option', { value: c.name, selected: c.name === picked.name }, c.name)));
    choose(paretoX, p.x); choose(paretoY, p.y);
    // A log x when it spans more than a decade, as the report's pareto-front.png draws it.
    const xs = p.points.map(t => t.x), log = xs.length && Math.min(...xs) > 0 && Math.max(...xs) / Math.min(...xs) > 10;
    const front = p.points.filter(t => t.onFront).sort((a, b) => a.x - b.x);
    const point = t => ({ id: t.id, value: [t.x, t.y] });
    const marks = [['full', 'full fine-tuning', 'diamond', '#d9480f'], ['base', 'frozen base', 'triangle', '#495057']];
    pareto?.setOption({
      animation: false, grid: { right: 40, bottom: 60 }, legend: { top: 0 },
      tooltip: { renderMode: 'richText', formatter: e => `${e.data.id}: ${p.y.name} ${fmt(e.value[1])}, ${p.x.name} ${fmt(e.value[0])}` },
      xAxis: { type: log ? 'log' : 'value', name: better(p.x), nameLocation: 'middle', nameGap: 30, scale: true },
      yAxis: { type: 'value', name: better(p.y), scale: true },
      series: [
        { name: 'dominated', type: 'scatter', symbolSize: 7, itemStyle: { color: '#98a2b3', opacity: 0.45 }, data: p.points.filter(t => !t.onFront && t.kind === 'lora').map(point) },
        { name: 'Pareto front', type: 'line', step: p.x.maximize ? 'start' : 'end', symbolSize: 9, itemStyle: { color: '#3a6ff7' }, data: front.map(point) },
        ...marks.map(([kind, label, symbol, color]) => ({ name: label, type: 'scatter', symbol, symbolSize: 14, itemStyle: { color },
          data: p.points.filter(t => t.kind === kind).map(t => ({ ...point(t), itemStyle: t.onFront ? undefined : { opacity: 0.45 } })) })),
      ],
    }, true);
    paretoNote.textContent = p.points.length < 2 ? 'needs two finished trials with both objectives'
      : `${p.points.filter(t => t.onFront).length} of ${p.points.length} finished trials are on the front: none of the others is at least as good on both ${p.y.name} and ${p.x.name}.`;
  }
  paretoX.addEventListener('change', () => loadPareto().catch(e => { paretoNote.textContent = e.message; }));
  paretoY.addEventListener('change', () => loadPareto().catch(e => { paretoNote.textContent = e.message; }));

  renderHead(); renderStatus(info.status); renderControls(); fillMetricChoice();
  await loadTable();
  await echartsReady;
  [curves, rank, parallel, importance, pareto] = [chart(curveEl), chart(rankEl), chart(parallelEl), chart(importanceEl), chart(paretoEl)];
  loadCurves().catch(() => {});
  loadAnalysis().catch(() => {});
  loadPareto().catch(e => { paretoNote.textContent = e.message; });
  const refreshTable = throttle(() => loadTable(), 700);
  const refreshAnalysis = throttle(() => { loadAnalysis().catch(() => {}); loadPareto().catch(() => {}); }, 3000);
  const refreshCurves = throttle(() => loadCurves().catch(() => {}), 1500);
  let lastDone = -1;
  subscribe(name, u => {
    renderStatus(u.status);
    const done = u.status.succeeded + u.status.failed + u.status.pruned + u.status.cancelled;
    // Rows on screen are patched in place at once; the page is re-read (order and filter may change) at most every 0.7 s.
    for (const r of u.trials) {
      const tr = body.querySelector(`tr[data-trial="${CSS.escape(r.id)}"]`);
      if (tr) tr.replaceWith(row(r));
    }
    if (u.trials.length || u.truncated) refreshTable();
    if (u.truncated || u.trials.some(r => state.selected.has(r.id))) refreshCurves();
    if (done !== lastDone) { lastDone = done; refreshAnalysis(); }
  });
}

// ---- one trial ----------------------------------------------------------------------------------------------------
async function trialPage(sweep, id) {
  const root = h('div');
  app.replaceChildren(h('h1', {}, h('a', { href: `#/sweep/${enc(sweep)}` }, sweep), ' / trial ', h('span', { id: 'trial-id' }, id)), root);
  const historyEl = h('div', { class: 'chart', id: 'history' });
  let historyChart = null;
  async function load() {
    const t = await api(`/api/sweeps/${enc(sweep)}/trials/${enc(id)}`);
    const r = t.row;
    const metricNames = [...new Set(t.history.flatMap(p => Object.keys(p.metrics)))].sort();
    root.replaceChildren(
      h('div', { class: 'grid' },
        h('div', { class: 'card' }, h('h2', {}, 'Trial'), h('div', { class: 'kv' },
          h('span', { class: 'muted' }, 'state'), h('span', { id: 'trial-state' }, badge(r.state)),
          h('span', { class: 'muted' }, 'kind'), h('span', {}, r.kind),
          h('span', { class: 'muted' }, 'step'), h('span', { id: 'trial-step' }, r.totalSteps ? `${r.step}/${r.totalSteps}` : r.step),
          h('span', { class: 'muted' }, t.metric), h('span', { id: 'trial-score' }, fmt(r.score)),
          h('span', { class: 'muted' }, 'trainable / total'), h('span', {}, `${t.trainableParameters} / ${t.totalParameters}`),
          h('span', { class: 'muted' }, 'elapsed'), h('span', {}, `${fmt(t.elapsedSeconds)} s`),
          h('span', { class: 'muted' }, 'adapter sha256'), h('code', {}, t.adapterSha256 ?? '–')),
          r.error ? h('div', {}, h('h2', {}, 'Error'), h('pre', { id: 'trial-error' }, r.error)) : null),
        h('div', { class: 'card' }, h('h2', {}, 'Configuration'), h('table', { id: 'config' }, h('tbody', {},
          Object.entries(t.config).map(([k, v]) => h('tr', {}, h('td', { class: 'muted' }, k), h('td', {}, v))))))),
      h('div', { class: 'card' }, h('h2', {}, 'Metric history'), historyEl,
        h('details', {}, h('summary', {}, `${t.history.length} points`), h('table', { id: 'history-table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'step'), metricNames.map(m => h('th', {}, m)))),
          h('tbody', {}, t.history.map(p => h('tr', {}, h('td', {}, p.step), metricNames.map(m => h('td', {}, fmt(p.metrics[m]))))))))),
      h('div', { class: 'card' }, h('h2', {}, 'Attempts'), h('table', { id: 'attempts' },
        h('thead', {}, h('tr', {}, ['#', 'silo', 'worker', 'pack', 'started', 'ended', 'outcome', 'error'].map(c => h('th', {}, c)))),
        h('tbody', {}, t.attempts.map(a => h('tr', {}, h('td', {}, a.number), h('td', {}, a.silo), h('td', {}, a.worker), h('td', {}, a.pack ?? '–'), h('td', {}, when(a.startedAt)),
          h('td', {}, when(a.endedAt)), h('td', {}, a.outcome ?? 'running'), h('td', { class: 'error' }, a.error ?? '')))))),
      h('div', { class: 'card' }, h('h2', {}, 'Files'), h('table', { id: 'files' },
        h('thead', {}, h('tr', {}, ['file', 'size', 'sha256'].map(c => h('th', {}, c)))),
        h('tbody', {}, t.files.map(f => {
          const url = `/api/sweeps/${enc(sweep)}/trials/${enc(id)}/files/${f.path.split('/').map(enc).join('/')}`;
          const problem = h('span', { class: 'problem' });
          const fetchFile = e => { e.preventDefault(); download(url, f.path.split('/').pop()).then(() => { problem.textContent = ''; }, err => { problem.textContent = err.message; }); };
          return h('tr', {}, h('td', {}, h('a', { href: url, download: true, onclick: fetchFile }, f.path), ' ', problem),
            h('td', {}, f.size), h('td', {}, h('code', {}, f.sha256 ?? '–')));
        })))));
    if (historyChart) historyChart.dispose();
    await echartsReady;
    historyChart = window.echarts ? echarts.init(historyEl) : null;
    historyChart?.setOption({
      animation: false, tooltip: { renderMode: 'richText', trigger: 'axis', valueFormatter: v => fmt(v) }, legend: {},
      xAxis: { type: 'value', name: 'step' }, yAxis: { type: 'value', scale: true },
      series: metricNames.map(m => ({ name: m, type: 'line', showSymbol: t.history.length < 40, data: t.history.filter(p => p.metrics[m] !== undefined).map(p => [p.step, p.metrics[m]]) })),
    });
  }
  cleanup.push(() => historyChart?.dispose());
  await load();
  const refresh = throttle(() => load().catch(() => {}), 1000);
  subscribe(sweep, u => { if (u.truncated || u.trials.some(r => r.id === id)) refresh(); });
}

// ---- compare ------------------------------------------------------------------------------------------------------
// Two to five trials side by side: configurations with the differing rows marked, final metrics in one table, curves
// overlaid. The URL (#/compare/SWEEP/ID,ID,...) is the selection, so a link reproduces it.
async function comparePage(sweep, idList) {
  const ids = [...new Set(idList.split(',').filter(Boolean))];
  app.replaceChildren(h('h1', {}, h('a', { href: `#/sweep/${enc(sweep)}` }, sweep), ' / compare ', h('span', { id: 'compare-ids' }, ids.join(', '))));
  if (ids.length < 2 || ids.length > 5) { app.appendChild(h('p', { class: 'problem', id: 'page-problem' }, `compare takes two to five trials; this link names ${ids.length}`)); return; }
  const [trials, curves] = await Promise.all([
    Promise.all(ids.map(id => api(`/api/sweeps/${enc(sweep)}/trials/${enc(id)}`))),
    api(`/api/sweeps/${enc(sweep)}/curves?ids=${ids.map(enc).join(',')}`)]);
  const final = t => t.history.length ? t.history[t.history.length - 1].metrics : {};
  const table = (id, rows) => h('table', { id }, h('thead', {}, h('tr', {}, h('th', {}, ''), ids.map(i => h('th', {}, h('a', { href: `#/trial/${enc(sweep)}/${enc(i)}` }, i))))),
    h('tbody', {}, rows.map(([key, values]) => {
      const differs = new Set(values.map(String)).size > 1;
      return h('tr', { class: differs ? 'differs' : null, 'data-key': key }, h('td', { class: 'muted' }, key), values.map(v => h('td', {}, fmt(v))));
    })));
  const configKeys = [...new Set(trials.flatMap(t => Object.keys(t.config)))].sort();
  const metricKeys = [...new Set(trials.flatMap(t => Object.keys(final(t))))].sort();
  const metricRows = [
    ['state', trials.map(t => t.row.state)], ['kind', trials.map(t => t.row.kind)],
    ...metricKeys.map(m => [m, trials.map(t => final(t)[m] ?? null)]),
    ['trainable_params', trials.map(t => t.trainableParameters)], ['train_seconds', trials.map(t => t.elapsedSeconds)]];
  const curveEl = h('div', { class: 'chart', id: 'compare-curves' });
  const metricChoice = h('select', { id: 'compare-metric' }, [...new Set(Object.values(curves).flatMap(ps => ps.flatMap(p => Object.keys(p.metrics))))].sort()
    .map(m => h('option', { value: m, selected: m === 'train_loss' }, m)));
  const differing = configKeys.filter(k => new Set(trials.map(t => t.config[k])).size > 1);
  app.append(
    h('div', { class: 'card' }, h('h2', {}, 'Configuration'), h('p', { class: 'muted', id: 'compare-summary' },
      differing.length ? `differs in ${differing.join(', ')} (marked); the other ${configKeys.length - differing.length} settings are the same` : 'the configurations are the same'),
      table('compare-config', configKeys.map(k => [k, trials.map(t => t.config[k] ?? null)]))),
    h('div', { class: 'grid' },
      h('div', { class: 'card' }, h('h2', {}, 'Metrics'), table('compare-metrics', metricRows)),
      h('div', { class: 'card' }, h('div', { class: 'toolbar' }, h('h2', {}, 'Learning curves'), metricChoice), curveEl)));
  await echartsReady;
  const c = chart(curveEl);
  const draw = () => c?.setOption({
    animation: false, tooltip: { renderMode: 'richText', trigger: 'axis', valueFormatter: v => fmt(v) }, legend: { type: 'scroll' },
    xAxis: { type: 'value', name: 'step' }, yAxis: { type: 'value', name: metricChoice.value, scale: true },
    series: ids.map(id => ({ name: id, type: 'line', showSymbol: (curves[id] ?? []).length < 30,
      data: (curves[id] ?? []).filter(p => p.metrics[metricChoice.value] !== undefined).map(p => [p.step, p.metrics[metricChoice.value]]) })),
  }, true);
  metricChoice.addEventListener('change', draw);
  draw();
}

// ---- across sweeps -------------------------------------------------------------------------------------------------
// `leaderboard --global`: every sweep of one model, dataset and metric ranked together (#/leaderboard/MODEL/DATASET/METRIC).
async function leaderboardPage(model, dataset, metric) {
  const boards = await api('/api/leaderboards');
  app.replaceChildren(h('h1', {}, 'Leaderboard across sweeps'));
  if (!boards.length) { app.appendChild(h('p', { class: 'muted' }, 'no sweeps yet')); return; }
  const board = boards.find(b => b.model === model && b.dataset === dataset && b.metric === metric) ?? boards[0];
  const choice = h('select', { id: 'board', onchange: e => { location.hash = e.target.value; } }, boards.map(b =>
    h('option', { value: `#/leaderboard/${enc(b.model)}/${enc(b.dataset)}/${enc(b.metric)}`, selected: b === board }, `${b.model} on ${b.dataset} by ${b.metric} (${b.sweeps.length} sweeps)`)));
  const entries = await api(`/api/leaderboards/global?model=${enc(board.model)}&dataset=${enc(board.dataset)}&metric=${enc(board.metric)}`);
  const params = [...new Set(entries.flatMap(e => Object.keys(e.row.parameters)))];
  app.append(h('div', { class: 'card' }, h('div', { class: 'toolbar' }, choice, h('span', { class: 'muted', id: 'board-sweeps' }, `sweeps: ${board.sweeps.join(', ')}`)),
    h('div', { style: 'overflow-x:auto' }, h('table', { id: 'global' },
      h('thead', {}, h('tr', {}, ['#', 'sweep', 'trial', 'kind', ...params, board.metric, 'recorded'].map(c => h('th', {}, c)))),
      h('tbody', {}, entries.map((e, i) => h('tr', { 'data-sweep': e.sweep, 'data-trial': e.row.id },
        h('td', {}, i + 1), h('td', {}, h('a', { href: `#/sweep/${enc(e.sweep)}` }, e.sweep)),
        h('td', {}, h('a', { href: `#/trial/${enc(e.sweep)}/${enc(e.row.id)}` }, e.row.id)), h('td', {}, e.row.kind),
        params.map(p => h('td', {}, shownValue(e.row.parameters[p]))), h('td', { class: 'score' }, fmt(e.row.score)), h('td', {}, when(e.recordedAt)))))))));
}

// ---- workers ------------------------------------------------------------------------------------------------------
async function workersPage() {
  const body = h('tbody');
  app.replaceChildren(h('h1', {}, 'Workers'), h('div', { class: 'card' }, h('table', { id: 'workers' },
    h('thead', {}, h('tr', {}, ['worker', 'silo', 'device', 'accelerator', 'memory', 'sweep', 'trial', 'step', 'last seen'].map(c => h('th', {}, c)))), body)));
  const load = async () => {
    const workers = await api('/api/workers');
    body.replaceChildren(...workers.map(w => h('tr', {},
      h('td', {}, w.workerId), h('td', {}, w.silo), h('td', {}, w.device), h('td', {}, w.accelerator), h('td', {}, w.memoryBytes ? `${(w.memoryBytes / 2 ** 30).toFixed(1)} GiB` : '–'),
      h('td', {}, w.sweep ? h('a', { href: `#/sweep/${enc(w.sweep)}` }, w.sweep) : '–'),
      h('td', {}, w.trialId && w.sweep ? [h('a', { href: `#/trial/${enc(w.sweep)}/${enc(w.trialId)}` }, w.trialId), w.pack ? ` (pack ${w.pack})` : ''] : 'idle'),
      h('td', {}, w.totalSteps ? `${w.step}/${w.totalSteps}` : '–'), h('td', {}, `${Math.round((Date.now() - new Date(w.lastSeen)) / 1000)} s ago${w.draining ? ' (draining)' : ''}`))));
    if (!workers.length) body.replaceChildren(h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'no workers have asked for work in the last minute')));
  };
  await load();
  const timer = setInterval(() => load().catch(() => {}), 3000);
  cleanup.push(() => clearInterval(timer));
}

// ---- routing ------------------------------------------------------------------------------------------------------
async function route() {
  cleanup.forEach(f => f()); cleanup = [];
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  try {
    if (parts[0] === 'sweep' && parts[1]) await sweepPage(parts[1]);
    else if (parts[0] === 'trial' && parts[1] && parts[2]) await trialPage(parts[1], parts[2]);
    else if (parts[0] === 'compare' && parts[1]) await comparePage(parts[1], parts[2] ?? '');
    else if (parts[0] === 'workers') await workersPage();
    else if (parts[0] === 'leaderboard') await leaderboardPage(parts[1], parts[2], parts[3]);
    else await sweepsPage();
  } catch (e) {
    if (e instanceof NeedsToken) askForToken();
    else app.replaceChildren(h('p', { class: 'problem', id: 'page-problem' }, e.message));
  }
}
window.addEventListener('hashchange', route);
route();
