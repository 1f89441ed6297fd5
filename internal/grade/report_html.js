// The grading report's script (see report_html.go). The page is whole
// without it; the script makes it work: a click on a cell opens (or closes)
// the exercise's tests below the student's row, a click on a column's name
// sorts the rows by it (again: the other way), and the box filters the rows
// by the student's name.
//
// The DOM is the page's interface for tests and tools: #report carries
// data-ready once the script has run, data-shown (how many students the
// filter shows), data-sort and data-sort-dir (the column the rows are
// sorted by, and "ascending" or "descending").
(function () {
  'use strict';

  const root = document.getElementById('report');
  const table = document.getElementById('grades');
  const filter = document.getElementById('filter');
  const shown = document.getElementById('shown');
  const toolbar = document.getElementById('toolbar');

  // The table's header sticks below the toolbar, whatever its height.
  function placeHeader() {
    document.documentElement.style.setProperty('--toolbar-h', toolbar.offsetHeight + 'px');
  }
  placeHeader();
  window.addEventListener('resize', placeHeader);

  if (!table) {
    root.dataset.shown = '0';
    root.dataset.ready = '1';
    return;
  }
  const rows = Array.from(table.tBodies);
  const toggles = Array.from(table.querySelectorAll('td.cell button.toggle'));

  // ---- cells: open and close an exercise's tests --------------------------

  function setOpen(toggle, open) {
    const section = document.getElementById(toggle.getAttribute('aria-controls'));
    if (!section) return;
    toggle.setAttribute('aria-expanded', String(open));
    toggle.closest('td').classList.toggle('open', open);
    section.hidden = !open;
    const details = section.closest('tr.details');
    details.hidden = !details.querySelector('section.exercise:not([hidden])');
  }

  // ---- sorting ------------------------------------------------------------

  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  let sortKey = 'student';
  let sortDir = 1; // 1: ascending; the page comes sorted by student

  // value returns what a student's rows sort by in a column: the name, the
  // total, or the score of an exercise (none graded sorts below zero).
  function value(tbody, key) {
    if (key === 'student') return tbody.dataset.student;
    if (key === 'total') return parseFloat(tbody.dataset.score);
    const cell = tbody.rows[0].querySelectorAll(':scope > td.cell')[Number(key)];
    if (!cell || cell.dataset.score === undefined) return -Infinity;
    return parseFloat(cell.dataset.score);
  }

  function sortBy(button) {
    const key = button.dataset.sort;
    if (key === sortKey) {
      sortDir = -sortDir;
    } else {
      sortKey = key;
      sortDir = key === 'student' ? 1 : -1; // scores: the highest first
    }
    const sorted = rows.slice().sort((a, b) => {
      const va = value(a, key), vb = value(b, key);
      const c = key === 'student' ? collator.compare(va, vb) : (va < vb ? -1 : va > vb ? 1 : 0);
      return c * sortDir || Number(a.dataset.index) - Number(b.dataset.index);
    });
    for (const tbody of sorted) table.insertBefore(tbody, table.tFoot);
    for (const th of table.tHead.rows[0].cells) th.removeAttribute('aria-sort');
    const dir = sortDir > 0 ? 'ascending' : 'descending';
    button.closest('th').setAttribute('aria-sort', dir);
    root.dataset.sort = key;
    root.dataset.sortDir = dir;
  }

  // ---- filtering ----------------------------------------------------------

  function applyFilter() {
    const q = filter.value.trim().toLocaleLowerCase();
    let n = 0;
    for (const tbody of rows) {
      const match = q === '' || tbody.dataset.student.toLocaleLowerCase().includes(q);
      tbody.hidden = !match;
      if (match) n++;
    }
    shown.textContent = (n === rows.length ? '' : n + ' of ') + rows.length + (rows.length === 1 ? ' student' : ' students');
    root.dataset.shown = String(n);
  }

  // ---- events -------------------------------------------------------------

  table.addEventListener('click', (e) => {
    const sort = e.target.closest('button.sort');
    if (sort) {
      sortBy(sort);
      return;
    }
    const cell = e.target.closest('td.cell');
    const toggle = cell && cell.querySelector('button.toggle');
    if (toggle) setOpen(toggle, toggle.getAttribute('aria-expanded') !== 'true');
  });
  filter.addEventListener('input', applyFilter);
  filter.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      filter.value = '';
      applyFilter();
    }
  });
  document.getElementById('expand-all').addEventListener('click', () => {
    for (const t of toggles) setOpen(t, true);
  });
  document.getElementById('collapse-all').addEventListener('click', () => {
    for (const t of toggles) setOpen(t, false);
  });

  applyFilter(); // a browser may restore the box's text on reload
  root.dataset.sort = sortKey;
  root.dataset.sortDir = 'ascending';
  root.dataset.ready = '1';
})();
