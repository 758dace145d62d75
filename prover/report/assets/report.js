/* proofgraph step/entailment report: search filter, expand/collapse, keyboard navigation.
   Reads only the page's own DOM; never builds markup from text (textContent only). */
(function () {
  'use strict';
  var q = document.getElementById('q'), only = document.getElementById('only-errors'),
      count = document.getElementById('shown'),
      sols = Array.prototype.slice.call(document.querySelectorAll('details.sol'));
  function apply() {
    var text = q.value.trim().toLowerCase(), n = 0;
    sols.forEach(function (s) {
      var ok = (!only.checked || s.classList.contains('has-error')) &&
               (!text || s.textContent.toLowerCase().indexOf(text) >= 0);
      s.classList.toggle('hidden', !ok);
      if (ok) { n++; }
    });
    count.textContent = n + ' of ' + sols.length + ' shown';
  }
  q.addEventListener('input', apply);
  only.addEventListener('change', apply);
  document.getElementById('expand').addEventListener('click', function () {
    sols.forEach(function (s) { if (!s.classList.contains('hidden')) { s.open = true; } });
  });
  document.getElementById('collapse').addEventListener('click', function () {
    sols.forEach(function (s) { s.open = false; });
  });

  /* Keyboard: j/k or arrows move between steps (rows) of the visible solutions, opening the
     solution; Enter toggles the solution; "/" focuses the search box; Esc leaves it. */
  function targets() {
    var out = [];
    sols.forEach(function (s) {
      if (s.classList.contains('hidden')) { return; }
      out.push(s.querySelector('summary'));
      if (s.open) {
        Array.prototype.forEach.call(s.querySelectorAll('.focusable'),
          function (r) { out.push(r); });
      }
    });
    return out;
  }
  function move(delta) {
    var list = targets(), at = list.indexOf(document.activeElement);
    var next = list[Math.max(0, Math.min(list.length - 1, at < 0 ? 0 : at + delta))];
    if (next) { next.focus(); next.scrollIntoView({block: 'nearest'}); }
  }
  document.addEventListener('keydown', function (ev) {
    var tag = (ev.target && ev.target.tagName) || '';
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') {
      if (ev.key === 'Escape') { ev.target.blur(); }
      return;
    }
    if (ev.key === '/') { ev.preventDefault(); q.focus(); q.select(); }
    else if (ev.key === 'j' || ev.key === 'ArrowDown') { ev.preventDefault(); move(1); }
    else if (ev.key === 'k' || ev.key === 'ArrowUp') { ev.preventDefault(); move(-1); }
    else if (ev.key === 'Escape' && document.activeElement) { document.activeElement.blur(); }
    else if (ev.key === 'Enter' && document.activeElement &&
             document.activeElement.classList.contains('focusable')) {
      var sol = document.activeElement.closest('details.sol');
      var link = document.activeElement.querySelector('a[href^="#"]');
      if (link) { link.click(); } else if (sol) { sol.open = !sol.open; }
    }
  });
  apply();
})();
