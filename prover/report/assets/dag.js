/* proofgraph graph view: a layered proof/search DAG from the page's JSON blocks.
   Contract: #graph[data-node-count] is the item's node count; every node has a DOM element
   (.node[data-idx]) once its layer is rendered: at load when the graph has at most
   meta.eager_nodes nodes, otherwise when the layer scrolls into view (400 at a time) or when
   navigation/search selects the node. Text is only ever set with textContent. */
(function () {
  'use strict';
  var CHUNK = 400;
  var meta = JSON.parse(document.getElementById('pg-meta').textContent);
  var EAGER = meta.eager_nodes;
  var $ = function (id) { return document.getElementById(id); };
  var graphEl = $('graph'), detail = $('detail'), dBody = $('d-body'), dTitle = $('d-title'),
      search = $('search'), picker = $('item'), collapse = $('collapse-failed'),
      countEl = $('match-count'), results = $('results'), provBody = $('prov-body'),
      summaryEl = $('summary');
  var G = null, els = [], layers = [], inE = [], outE = [], current = -1, lower = null,
      matches = null, observer = null, marked = [];

  function h(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function firstLine(t, n) {
    var s = String(t).split('\n').filter(function (x) { return x.trim(); }).pop() || String(t);
    return s.length > n ? s.slice(0, n - 1) + '…' : s;
  }
  var WORDS = {proved: '✔ proved', failed: '✘ failed', open: '○ open', verified: '✔ verified',
    partial: '◐ partly proved',
    refuted: '✘ refuted', unknown: '? unknown', verified_approx: '≈ verified_approx'};
  function word(status) {
    var base = String(status || '').split(':')[0];
    if (WORDS[status]) { return WORDS[status]; }
    if (WORDS[base]) { return WORDS[base] + String(status).slice(base.length); }
    return status ? '• ' + status : '• node';
  }
  /* A card's text: every non-empty line (hypotheses, then ⊢ goal), each cut to 140
     characters, at most 7 lines and a count of the rest. */
  function cardText(t) {
    var lines = String(t).split('\n').filter(function (x) { return x.trim(); });
    var out = lines.slice(0, 7).map(function (s) { return s.length > 140 ? s.slice(0, 139) + '…' : s; });
    if (lines.length > 7) { out.push('… ' + (lines.length - 7) + ' more lines'); }
    return out.join('\n');
  }
  function fmt(v) {
    if (v === null || v === undefined) { return ''; }
    if (typeof v === 'number') { return Math.abs(v) >= 1e-3 || v === 0 ? String(+v.toFixed(4)) : v.toExponential(2); }
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  function ms(t) { return typeof t === 'number' ? (t < 1 ? (t * 1000).toFixed(1) + ' ms' : t.toFixed(2) + ' s') : ''; }

  /* ---------------------------------------------------------------- loading and layout */
  function load(i) {
    G = JSON.parse($('pg-item-' + i).textContent);
    var n = G.nodes.length;
    inE = new Array(n); outE = new Array(n); lower = null; current = -1; marked = [];
    for (var k = 0; k < n; k++) { inE[k] = []; outE[k] = []; }
    G.edges.forEach(function (e, j) { outE[e.s].push(j); inE[e.t].push(j); });
    renderSummary(); renderProvenance(); renderGraph();
    detail.hidden = true;
    if (search.value.trim()) { runSearch(); }
    if (window.performance && performance.mark) { performance.mark('pg-rendered'); }
  }
  function renderSummary() {
    var pathN = G.nodes.filter(function (x) { return x.path; }).length,
        failedN = G.nodes.filter(function (x) { return x.failed; }).length;
    summaryEl.textContent = '';
    summaryEl.appendChild(h('strong', null, G.label));
    if (G.verdict) {
      summaryEl.appendChild(h('span', 'badge st-' + G.verdict.split(':')[0], word(G.verdict)));
      summaryEl.appendChild(h('span', 'meta', 'search: ' + (G.status || '?')));
    } else {
      summaryEl.appendChild(h('span', 'badge st-' + (G.status || 'none'), word(G.status)));
    }
    summaryEl.appendChild(h('span', 'meta', G.nodes.length + ' nodes · ' + G.edges.length +
      ' edges · ' + G.layers.length + ' layers · ' + pathN + ' on the proof path · ' +
      failedN + ' failed'));
  }
  function renderProvenance() {
    provBody.textContent = '';
    (G.provenance || []).forEach(function (sec) {
      provBody.appendChild(h('h3', null, sec[0]));
      var dl = h('dl', 'prov');
      sec[1].forEach(function (row) { dl.appendChild(h('dt', null, row[0])); dl.appendChild(h('dd', null, row[1])); });
      provBody.appendChild(dl);
    });
    if (!(G.provenance || []).length) { provBody.appendChild(h('p', 'meta', 'no provenance recorded')); }
  }
  function renderGraph() {
    if (observer) { observer.disconnect(); }
    graphEl.textContent = '';
    els = new Array(G.nodes.length);
    layers = [];
    graphEl.dataset.nodeCount = G.nodes.length;
    graphEl.dataset.edgeCount = G.edges.length;
    var lazy = G.nodes.length > EAGER && 'IntersectionObserver' in window;
    observer = lazy ? new IntersectionObserver(onVisible, {rootMargin: '800px 0px'}) : null;
    var perRow = Math.max(1, Math.floor((graphEl.clientWidth || 800) / 230));
    G.layers.forEach(function (range, d) {
      var failed = 0, path = 0;
      for (var k = range[0]; k < range[1]; k++) { failed += G.nodes[k].failed ? 1 : 0; path += G.nodes[k].path ? 1 : 0; }
      var sec = h('section', 'layer'); sec.dataset.depth = d;
      var head = h('div', 'lhead');
      head.appendChild(h('h2', null, 'depth ' + d));
      head.appendChild(h('span', 'meta', (range[1] - range[0]) + ' nodes' + (path ? ' · ★ ' + path + ' on path' : '') +
        (failed ? ' · ✘ ' + failed + ' failed' : '')));
      var toggle = null;
      if (failed) {
        toggle = h('button', 'ftoggle'); toggle.type = 'button'; toggle.dataset.depth = d;
        head.appendChild(toggle);
      }
      var list = h('div', 'nodes'); list.setAttribute('role', 'group');
      var more = h('button', 'more'); more.type = 'button'; more.dataset.depth = d; more.hidden = true;
      sec.appendChild(head); sec.appendChild(list); sec.appendChild(more);
      graphEl.appendChild(sec);
      var L = {start: range[0], end: range[1], done: range[0], sec: sec, list: list, more: more,
               toggle: toggle, failed: failed};
      layers.push(L);
      setCollapsed(L, collapse.checked);
      if (lazy) {
        list.style.minHeight = Math.ceil((range[1] - range[0]) / perRow) * 84 + 'px';
        observer.observe(sec);
      } else {
        renderUpTo(L, L.end);
      }
    });
    var first = els[0];
    if (first) { first.tabIndex = 0; }
  }
  function setCollapsed(L, on) {
    L.sec.classList.toggle('hide-failed', on);
    if (L.toggle) { L.toggle.textContent = on ? '▸ show ' + L.failed + ' failed' : '▾ hide ' + L.failed + ' failed'; }
  }
  function onVisible(entries) {
    entries.forEach(function (en) {
      if (!en.isIntersecting) { return; }
      var L = layers[+en.target.dataset.depth];
      if (L) { renderUpTo(L, Math.min(L.end, L.done + CHUNK)); }
    });
  }
  function renderUpTo(L, upto) {
    if (upto <= L.done) { return; }
    var frag = document.createDocumentFragment();
    for (var i = L.done; i < upto; i++) { frag.appendChild(nodeEl(i)); }
    L.list.appendChild(frag);
    L.done = upto;
    L.list.style.minHeight = '';
    var left = L.end - L.done;
    L.more.hidden = left === 0;
    L.more.textContent = left ? 'show ' + Math.min(left, CHUNK) + ' more (' + left + ' left)' : '';
    if (observer) {
      observer.unobserve(L.sec);
      if (left) { observer.observe(L.more); } else { observer.unobserve(L.more); }
    }
  }
  function nodeEl(i) {
    var n = G.nodes[i];
    var cls = 'node k-' + (n.kind || 'x') + ' st-' + (n.status || 'none') +
      (n.path ? ' on-path' : '') + (n.failed ? ' failed' : '') + (n.terminal ? ' terminal' : '') +
      (matches && matches.has(i) ? ' match' : '') + (i === current ? ' current' : '');
    var e = h('div', cls);
    e.tabIndex = i === current ? 0 : -1;
    e.setAttribute('role', 'button');
    e.dataset.idx = i; e.dataset.id = n.id;
    var top = h('div', 'ntop');
    if (n.path) { top.appendChild(h('span', 'pm', '★ proof path')); }
    top.appendChild(h('span', 'st', word(n.status)));
    top.appendChild(h('span', 'kind', n.kind));
    e.appendChild(top);
    e.appendChild(h('div', 'txt', cardText(n.text)));
    e.setAttribute('aria-label', (n.path ? 'on proof path, ' : '') + word(n.status) + ': ' + firstLine(n.text, 80));
    els[i] = e;
    return e;
  }
  function layerOf(i) {
    for (var d = 0; d < layers.length; d++) { if (i < layers[d].end) { return layers[d]; } }
    return null;
  }
  function ensure(i) {
    var L = layerOf(i);
    if (L && !els[i]) { renderUpTo(L, Math.min(L.end, Math.max(i + 1, L.done + CHUNK))); }
    if (L && G.nodes[i].failed && L.sec.classList.contains('hide-failed')) { setCollapsed(L, false); }
    return els[i];
  }

  /* ---------------------------------------------------------------- selection and details */
  function select(i, open) {
    if (i < 0 || i >= G.nodes.length) { return; }
    var e = ensure(i);
    if (current >= 0 && els[current]) { els[current].classList.remove('current'); els[current].tabIndex = -1; }
    marked.forEach(function (m) { m.classList.remove('rel-parent', 'rel-child'); });
    marked = [];
    current = i;
    e.classList.add('current'); e.tabIndex = 0;
    inE[i].forEach(function (j) { mark(G.edges[j].s, 'rel-parent'); });
    outE[i].forEach(function (j) { mark(G.edges[j].t, 'rel-child'); });
    e.focus({preventScroll: true});
    e.scrollIntoView({block: 'nearest', inline: 'nearest'});
    if (open || !detail.hidden) { showDetail(i); }
  }
  function mark(k, cls) { if (els[k]) { els[k].classList.add(cls); marked.push(els[k]); } }
  function edgeList(title, list, other) {
    var wrap = h('div', 'edges');
    wrap.appendChild(h('h3', null, title + ' (' + list.length + ')'));
    var ul = h('ul');
    list.slice(0, 200).forEach(function (j) {
      var e = G.edges[j], k = e[other], li = h('li', e.path ? 'on-path' : '');
      var go = h('button', 'go', (other === 's' ? '← ' : '→ ') + firstLine(G.nodes[k].text, 70));
      go.type = 'button'; go.dataset.go = k;
      li.appendChild(go);
      var info = h('div', 'einfo');
      if (e.path) { info.appendChild(h('span', 'pm', '★ proof path')); }
      if (e.tactic !== undefined) { info.appendChild(h('code', 'tactic', e.tactic)); }
      if (e.logprob !== undefined) { info.appendChild(h('span', 'lp', 'logprob ' + fmt(e.logprob))); }
      if (e.outcome !== undefined) { info.appendChild(h('span', 'badge st-' + e.outcome, e.outcome)); }
      if (e.time_s !== undefined) { info.appendChild(h('span', 'meta', ms(e.time_s))); }
      if (e.etype && e.etype !== 'tactic') { info.appendChild(h('span', 'meta', e.etype)); }
      li.appendChild(info);
      if (e.detail) { li.appendChild(h('div', 'err', e.detail)); }
      if (e.attrs) { li.appendChild(h('div', 'meta', fmt(e.attrs))); }
      ul.appendChild(li);
    });
    wrap.appendChild(ul);
    if (list.length > 200) { wrap.appendChild(h('p', 'meta', '+' + (list.length - 200) + ' more')); }
    return wrap;
  }
  function showDetail(i) {
    var n = G.nodes[i];
    dTitle.textContent = (n.kind || 'node') + ' at depth ' + n.depth;
    dBody.textContent = '';
    var line = h('div', 'dbadges');
    if (n.path) { line.appendChild(h('span', 'pm', '★ on the proof path')); }
    line.appendChild(h('span', 'badge st-' + (n.status || 'none'), word(n.status)));
    if (n.failed) { line.appendChild(h('span', 'meta', 'failed branch')); }
    dBody.appendChild(line);
    dBody.appendChild(h('h3', null, n.kind === 'goal' ? 'Goals' : 'Text'));
    dBody.appendChild(h('pre', 'goal', n.text));
    var dl = h('dl', 'prov');
    var rows = [['id', n.id.slice(0, 16) + '…']];
    Object.keys(n.attrs || {}).forEach(function (k) { rows.push([k === 'depth' ? 'search depth' : k, fmt(n.attrs[k])]); });
    rows.forEach(function (r) { dl.appendChild(h('dt', null, r[0])); dl.appendChild(h('dd', null, r[1])); });
    dBody.appendChild(dl);
    var errs = inE[i].map(function (j) { return G.edges[j]; }).filter(function (e) { return e.detail && e.outcome !== 'progress'; });
    if (errs.length) {
      dBody.appendChild(h('h3', null, 'Outcome'));
      errs.forEach(function (e) { dBody.appendChild(h('div', 'err', (e.outcome || '') + ': ' + e.detail)); });
    }
    dBody.appendChild(edgeList('Incoming', inE[i], 's'));
    dBody.appendChild(edgeList('Outgoing', outE[i], 't'));
    detail.hidden = false;
  }
  function closeDetail() {
    detail.hidden = true;
    if (current >= 0 && els[current]) { els[current].focus({preventScroll: true}); }
  }

  /* ---------------------------------------------------------------- search */
  function runSearch() {
    var q = search.value.trim().toLowerCase();
    els.forEach(function (e) { if (e) { e.classList.remove('match'); } });
    results.textContent = '';
    if (!q) {
      matches = null; graphEl.classList.remove('searching');
      countEl.textContent = ''; results.hidden = true; return;
    }
    if (!lower) {
      lower = G.nodes.map(function (n, i) {
        return (n.text + ' ' + n.status + ' ' + inE[i].map(function (j) { return G.edges[j].tactic || ''; }).join(' ')).toLowerCase();
      });
    }
    var found = [];
    lower.forEach(function (t, i) { if (t.indexOf(q) >= 0) { found.push(i); } });
    matches = new Set(found);
    graphEl.classList.add('searching');
    found.forEach(function (i) { if (els[i]) { els[i].classList.add('match'); } });
    countEl.textContent = found.length + ' match' + (found.length === 1 ? '' : 'es');
    found.slice(0, 50).forEach(function (i) {
      var li = h('li'), b = h('button', 'go', 'depth ' + G.nodes[i].depth + ': ' + firstLine(G.nodes[i].text, 90));
      b.type = 'button'; b.dataset.go = i; li.appendChild(b); results.appendChild(li);
    });
    results.hidden = found.length === 0;
  }
  function nextMatch(step) {
    if (!matches || !matches.size) { return; }
    var list = Array.from(matches).sort(function (a, b) { return a - b; });
    var pos = list.findIndex(function (x) { return step > 0 ? x > current : x >= current; });
    if (step < 0) { pos = (pos < 0 ? list.length : pos) - 1; if (pos < 0) { pos = list.length - 1; } }
    else if (pos < 0) { pos = 0; }
    select(list[pos], true);
  }
  var timer = null;
  search.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(runSearch, 120); });
  search.addEventListener('search', runSearch);

  /* ---------------------------------------------------------------- navigation */
  function hidden(i) { var L = layerOf(i); return G.nodes[i].failed && L && L.sec.classList.contains('hide-failed'); }
  function move(step) {
    var i = current < 0 ? (step > 0 ? -1 : G.nodes.length) : current;
    do { i += step; } while (i >= 0 && i < G.nodes.length && hidden(i));
    if (i >= 0 && i < G.nodes.length) { select(i, false); }
  }
  function related(list, end) {
    if (current < 0) { select(0, false); return; }
    var cands = list[current].map(function (j) { return G.edges[j][end]; });
    var best = cands.filter(function (k) { return G.nodes[k].path; })[0];
    if (best === undefined) { best = cands.filter(function (k) { return !hidden(k); })[0]; }
    if (best !== undefined) { select(best, false); }
  }
  document.addEventListener('keydown', function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var tag = (ev.target && ev.target.tagName) || '';
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') {
      if (ev.key === 'Escape') { ev.target.blur(); }
      else if (ev.key === 'Enter' && ev.target === search) { ev.preventDefault(); runSearch(); nextMatch(1); }
      return;
    }
    var k = ev.key, done = true;
    if (k === '/') { search.focus(); search.select(); }
    else if (k === 'j' || k === 'ArrowDown') { move(1); }
    else if (k === 'k' || k === 'ArrowUp') { move(-1); }
    else if (k === 'l' || k === 'ArrowRight') { related(outE, 't'); }
    else if (k === 'h' || k === 'ArrowLeft') { related(inE, 's'); }
    else if ((k === 'Enter' || k === ' ') && ev.target.classList && ev.target.classList.contains('node')) { select(+ev.target.dataset.idx, true); }
    else if (k === 'n') { nextMatch(1); }
    else if (k === 'N') { nextMatch(-1); }
    else if (k === 'Escape') { if (!detail.hidden) { closeDetail(); } else { search.value = ''; runSearch(); } }
    else { done = false; }
    if (done) { ev.preventDefault(); }
  });
  document.addEventListener('click', function (ev) {
    var t = ev.target.closest ? ev.target : ev.target.parentElement;
    var go = t.closest('[data-go]');
    if (go) { select(+go.dataset.go, true); return; }
    var node = t.closest('.node');
    if (node && graphEl.contains(node)) { select(+node.dataset.idx, true); return; }
    var btn = t.closest('button');
    if (!btn) { return; }
    if (btn.id === 'd-close') { closeDetail(); }
    else if (btn.classList.contains('ftoggle')) { var L = layers[+btn.dataset.depth]; setCollapsed(L, !L.sec.classList.contains('hide-failed')); }
    else if (btn.classList.contains('more')) { var M = layers[+btn.dataset.depth]; renderUpTo(M, Math.min(M.end, M.done + CHUNK)); }
  });
  collapse.addEventListener('change', function () { layers.forEach(function (L) { setCollapsed(L, collapse.checked); }); });
  picker.addEventListener('change', function () { load(+picker.value); });
  var bar = document.querySelector('.bar');
  function barHeight() { document.documentElement.style.setProperty('--bar', bar.offsetHeight + 'px'); }
  window.addEventListener('resize', barHeight);
  barHeight();
  load(0);
})();
