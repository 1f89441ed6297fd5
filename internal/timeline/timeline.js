// The timeline page's script (see timeline.go): it reads the run's events
// from the <script id="events"> element, builds one lane per process, and
// draws the time range in view as SVG. Only what is in view is drawn, and a
// lane with more items in view than it can show merges neighbours that fall
// within a few pixels into one element that counts them (data-count), so a
// run of 100,000 events stays usable.
//
// The DOM is the page's interface for tests and tools: #timeline carries
// data-ready (set when the first drawing is done), data-load-ms,
// data-view-start and data-view-end (µs since the run started) and
// data-pending (a redraw is due); every drawn thing carries data-process,
// data-pid and data-t (µs) and a <title> for its tooltip.
(function () {
  'use strict';

  const SVGNS = 'http://www.w3.org/2000/svg';
  const LANE_H = 46;          // a lane without output
  const LANE_H_OUT = 92;      // a lane with output: room for its panel
  const AXIS_H = 26;
  const BAR_H = 14;           // the running bar
  const MIN_SPAN = 10;        // µs: the deepest zoom
  // What one drawing may hold: the budgets are shared by the lanes, and a
  // lane whose items in view exceed its share merges neighbours (within
  // width/share pixels) into one element.
  const SPAN_BUDGET = 3000, TICK_BUDGET = 2500, MARK_BUDGET = 2500, MAX_ARROWS = 1500;
  const PANEL_MAX = 100;      // output lines listed per panel
  const PANEL_DELAY = 120;    // ms after the last change of view
  const SEND_OPS = new Set(['conn_send', 'queue_put']);
  const RECV_OPS = new Set(['conn_recv', 'queue_get']);

  const root = document.getElementById('timeline');
  const chart = document.getElementById('chart');
  const svg = document.getElementById('lanes');
  const axis = document.getElementById('axis');
  const labels = document.getElementById('labels');
  const outputs = document.getElementById('outputs');
  const rangeLabel = document.getElementById('range');

  // ---- helpers -------------------------------------------------------

  function svgEl(tag, attrs, parent) {
    const n = document.createElementNS(SVGNS, tag);
    for (const k in attrs) n.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(n);
    return n;
  }
  function htmlEl(tag, cls, text, parent) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = text;
    if (parent) parent.appendChild(n);
    return n;
  }
  function tip(node, text) {
    svgEl('title', {}, node).textContent = text;
    return node;
  }
  function trim(x, digits) {
    return String(parseFloat(x.toFixed(digits)));
  }
  // fmtT formats a time or a duration in µs with a unit that suits it.
  function fmtT(us) {
    const a = Math.abs(us);
    if (a >= 1e6) return trim(us / 1e6, 3) + ' s';
    if (a >= 1e3) return trim(us / 1e3, 3) + ' ms';
    return trim(us, 1) + ' µs';
  }
  // fmtTick formats an axis label with as many digits as the tick step needs.
  function fmtTick(us, step) {
    const unit = step >= 1e6 ? 1e6 : step >= 1e3 ? 1e3 : 1;
    const name = unit === 1e6 ? ' s' : unit === 1e3 ? ' ms' : ' µs';
    const digits = Math.max(0, Math.ceil(-Math.log10(step / unit) - 1e-9));
    return (us / unit).toFixed(Math.min(digits, 6)) + name;
  }
  function clamp(x, lo, hi) {
    return x < lo ? lo : x > hi ? hi : x;
  }
  // lowerBound returns the first index of arr (sorted by key) whose key is
  // at least t.
  function lowerBound(arr, t, key) {
    let lo = 0, hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (key(arr[mid]) < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
  const byT = (x) => x.t;
  function objName(e) {
    return e.object_name || (e.object_kind ? e.object_kind + ' ' + (e.object || '') : e.object ? 'object ' + e.object : '');
  }
  function callText(e) {
    let s = e.op + (objName(e) ? ' ' + objName(e) : '') + (e.peer ? ' ' + e.peer : '');
    if (e.result && e.result !== 'ok') s += ' → ' + e.result + (e.error ? ' (' + e.error + ')' : '');
    return s;
  }
  function payload(e) {
    let s = '';
    if (e.size) s += e.size + ' B';
    if (e.preview) s += (s ? ' ' : '') + JSON.stringify(e.preview);
    return s;
  }

  // ---- the model -----------------------------------------------------

  // buildModel turns the events into lanes (one per process: a runner's
  // pid, or its name when the event has none), arrows (a message from its
  // send or put to its receive or get, matched by msg), links (a terminate
  // or kill to the exit it caused) and barrier rounds.
  function buildModel(evs) {
    const m = { lanes: [], arrows: [], links: [], syncs: [], tEnd: 0, unmatchedRecv: 0 };
    const byKey = new Map();
    const byName = new Map();
    const sends = new Map();
    const recvs = [];
    const rounds = new Map();
    const kills = [];

    function laneOf(e) {
      const key = e.pid ? 'pid:' + e.pid : 'name:' + e.process;
      let l = byKey.get(key);
      if (!l) {
        l = {
          key: key, name: e.process, pid: e.pid || 0, order: byKey.size,
          parent: '', parentPid: 0, daemon: false, target: '',
          start: null, exit: null, first: e.t_us, last: e.t_us,
          blocked: [], marks: [], outputs: [], children: [], depth: 0, calls: 0,
        };
        byKey.set(key, l);
        if (!byName.has(e.process)) byName.set(e.process, []);
        byName.get(e.process).push(l);
      }
      return l;
    }

    for (const e of evs) {
      const t = e.t_us || 0;
      const end = t + (e.dur_us || 0);
      if (end > m.tEnd) m.tEnd = end;
      if (!e.process) continue; // run, end
      const l = laneOf(e);
      if (t < l.first) l.first = t;
      if (end > l.last) l.last = end;
      switch (e.type) {
        case 'start':
          l.start = e;
          l.parent = e.parent || '';
          l.parentPid = e.parent_pid || 0;
          l.daemon = !!e.daemon;
          l.target = e.target || '';
          l.marks.push({ kind: 'start', t: t, e: e });
          break;
        case 'exit':
          l.exit = e;
          l.marks.push({ kind: 'exit', t: t, e: e });
          break;
        case 'output':
          l.outputs.push({ t: t, e: e });
          break;
        case 'call':
          l.calls++;
          if (e.blocked_dur_us > 0) {
            const b = e.blocked_us !== undefined ? e.blocked_us : t;
            l.blocked.push({ t: b, d: e.blocked_dur_us, e: e });
          }
          if (e.op === 'proc_terminate' || e.op === 'proc_kill') {
            const mk = { kind: e.op === 'proc_kill' ? 'kill' : 'terminate', t: t, e: e };
            l.marks.push(mk);
            kills.push({ lane: l, mark: mk });
          }
          if (e.msg) {
            if (SEND_OPS.has(e.op)) sends.set(e.msg, { lane: l, e: e });
            else if (RECV_OPS.has(e.op)) recvs.push({ lane: l, e: e });
          }
          if (e.op === 'barrier_wait' && e.generation !== undefined && e.generation !== null) {
            const key = e.object + ':' + e.generation;
            if (!rounds.has(key)) rounds.set(key, { object: objName(e), generation: e.generation, waits: [] });
            rounds.get(key).waits.push({ lane: l, t: end });
          }
          break;
      }
    }

    // findByName picks the process of that name alive at t (names can be
    // reused), else the first of that name.
    function findByName(name, t) {
      const ls = byName.get(name);
      if (!ls) return null;
      let best = ls[0];
      for (const l of ls) if (l.first <= t) best = l;
      return best;
    }

    for (const r of recvs) {
      const s = sends.get(r.e.msg);
      if (!s) { m.unmatchedRecv++; continue; }
      sends.delete(r.e.msg);
      m.arrows.push({
        msg: r.e.msg, from: s.lane, to: r.lane, send: s.e, recv: r.e,
        t1: s.e.t_us + (s.e.dur_us || 0), t2: r.e.t_us + (r.e.dur_us || 0),
      });
    }
    for (const s of sends.values()) s.lane.marks.push({ kind: 'unreceived', t: s.e.t_us + (s.e.dur_us || 0), e: s.e });
    m.unreceived = sends.size;

    for (const k of kills) {
      const victim = findByName(k.mark.e.peer, k.mark.t);
      if (!victim) continue;
      const ex = victim.exit;
      const caused = ex && ex.by === k.lane.name && ex.t_us >= k.mark.t;
      m.links.push({ kind: k.mark.kind, from: k.lane, to: victim, t1: k.mark.t, t2: caused ? ex.t_us : k.mark.t, caused: caused });
    }
    for (const r of rounds.values()) {
      if (r.waits.length < 2) continue;
      let t = 0;
      for (const w of r.waits) if (w.t > t) t = w.t;
      m.syncs.push({ object: r.object, generation: r.generation, t: t, lanes: r.waits.map((w) => w.lane) });
    }

    // Parent/child order: each process after its parent, siblings by start.
    const lanes = Array.from(byKey.values());
    const startOf = (l) => (l.start ? l.start.t_us : l.first);
    const roots = [];
    for (const l of lanes) {
      let p = null;
      if (l.parentPid) p = byKey.get('pid:' + l.parentPid) || null;
      if (!p && l.parent) p = findByName(l.parent, startOf(l));
      if (p && p !== l) p.children.push(l); else roots.push(l);
    }
    const cmp = (a, b) => startOf(a) - startOf(b) || a.order - b.order;
    const seen = new Set();
    const visit = (l, depth) => {
      if (seen.has(l)) return;
      seen.add(l);
      l.depth = depth;
      m.lanes.push(l);
      l.children.sort(cmp);
      for (const c of l.children) visit(c, depth + 1);
    };
    roots.sort(cmp);
    for (const l of roots) visit(l, 0);
    for (const l of lanes) visit(l, 0); // anything left in a cycle

    for (const l of m.lanes) {
      l.blocked.sort((a, b) => a.t - b.t);
      l.marks.sort((a, b) => a.t - b.t);
      l.outputs.sort((a, b) => a.t - b.t);
      l.maxBlocked = 0;
      for (const b of l.blocked) if (b.d > l.maxBlocked) l.maxBlocked = b.d;
      for (const b of l.blocked) if (b.t + b.d > m.tEnd) m.tEnd = b.t + b.d;
      l.runFrom = startOf(l);
      l.runTo = l.exit ? l.exit.t_us : Math.max(l.last, m.tEnd);
    }
    m.arrows.sort((a, b) => Math.min(a.t1, a.t2) - Math.min(b.t1, b.t2));
    return m;
  }

  // ---- the page ------------------------------------------------------

  let model, W = 0, totalH = 0, full, view, pending = false, panelTimer = 0, drag = null;
  let gGrid, gLinks, gArrows, cursor, axisCursor;

  function exitText(e) {
    if (!e) return 'running at the end of the log';
    let s = 'exit ' + (e.exit_code !== undefined ? e.exit_code : '?');
    if (e.signal) s += ' (' + e.signal + (e.by ? ', sent by ' + e.by : '') + ')';
    else if (e.by) s += ' (stopped by ' + e.by + ')';
    if (e.error) s += ': ' + e.error;
    return s;
  }

  // layout builds the per-lane DOM that does not change with the view: the
  // labels, the output panels and the lanes' groups.
  function layout() {
    let y = 0;
    model.lanes.forEach((l, i) => {
      l.index = i;
      l.h = l.outputs.length ? LANE_H_OUT : LANE_H;
      l.y = y;
      l.mid = y + l.h / 2;
      y += l.h;

      const lab = htmlEl('div', 'lane-label', null, labels);
      lab.style.height = l.h + 'px';
      lab.style.paddingLeft = (8 + 14 * Math.min(l.depth, 8)) + 'px';
      lab.dataset.process = l.name;
      lab.dataset.pid = l.pid;
      lab.dataset.index = i;
      const code = l.exit && l.exit.exit_code !== undefined ? String(l.exit.exit_code) : '';
      lab.dataset.exitCode = code;
      if (l.exit && l.exit.signal) lab.dataset.signal = l.exit.signal;
      htmlEl('span', 'name', l.name, lab).title = l.name + (l.target ? ' — ' + l.target : '');
      const meta = htmlEl('span', 'meta', null, lab);
      htmlEl('span', 'pid', 'pid ' + (l.pid || '?'), meta);
      meta.append(' · ');
      const ex = htmlEl('span', 'exit-code', l.exit ? 'exit ' + code : 'running', meta);
      if (!l.exit) ex.classList.add('running');
      else if (code !== '0') ex.classList.add('failed');
      if (l.exit && l.exit.signal) meta.append(' · ' + l.exit.signal);
      if (l.daemon) meta.append(' · daemon');
      lab.title = l.name + ', pid ' + l.pid + (l.parent ? ', child of ' + l.parent : '') + ': ' + exitText(l.exit);

      const panel = htmlEl('div', 'output-panel', null, outputs);
      panel.style.height = l.h + 'px';
      panel.dataset.process = l.name;
      panel.dataset.pid = l.pid;
      panel.dataset.lines = l.outputs.length;
      l.panel = panel;
      l.panelRange = '';

      const g = svgEl('g', { class: 'lane', 'data-process': l.name, 'data-pid': l.pid, 'data-index': i }, null);
      svgEl('rect', { class: 'lane-bg' + (i % 2 ? ' odd' : ''), x: 0, y: l.y, width: '100%', height: l.h }, g);
      svgEl('line', { class: 'lane-sep', x1: 0, x2: '100%', y1: l.y + l.h - 0.5, y2: l.y + l.h - 0.5 }, g);
      l.content = svgEl('g', {}, g);
      l.g = g;
    });
    totalH = y;
    labels.style.height = outputs.style.height = totalH + 'px';

    gGrid = svgEl('g', { class: 'grid-lines' }, svg);
    for (const l of model.lanes) svg.appendChild(l.g);
    gLinks = svgEl('g', { id: 'links' }, svg);
    gArrows = svgEl('g', { id: 'arrows' }, svg);
    cursor = svgEl('line', { class: 'cursor', y1: 0, y2: totalH, x1: -10, x2: -10 }, svg);
    svg.setAttribute('height', totalH);
    axisCursor = null;
  }

  // ---- drawing -------------------------------------------------------

  // The view, in µs, and the scale from µs to pixels.
  function X(t) {
    return (t - view.t0) * W / (view.t1 - view.t0);
  }
  // clipX keeps far-away coordinates within what SVG draws exactly.
  function clipX(x) {
    return clamp(x, -4 * W, 5 * W);
  }

  function drawAxis() {
    axis.replaceChildren();
    axis.setAttribute('width', W);
    const span = view.t1 - view.t0;
    const raw = span / Math.max(1, W / 110);
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = raw / p < 2 ? 2 * p : raw / p < 5 ? 5 * p : 10 * p;
    const frag = document.createDocumentFragment();
    gGrid.replaceChildren();
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      const x = Math.round(X(t)) + 0.5;
      svgEl('line', { class: 'tick', x1: x, x2: x, y1: AXIS_H - 6, y2: AXIS_H }, frag);
      if (x < W - 60) svgEl('text', { x: x + 3, y: AXIS_H - 9 }, frag).textContent = fmtTick(t, step);
      svgEl('line', { class: 'grid', x1: x, x2: x, y1: 0, y2: totalH }, gGrid);
    }
    axis.appendChild(frag);
    axisCursor = svgEl('text', { class: 'cursor-label', x: -100, y: 11 }, axis);
  }

  // visible returns the items of arr (sorted by t) with t in [a, b].
  function visible(arr, a, b) {
    return arr.slice(lowerBound(arr, a, byT), lowerBound(arr, b + 1e-9, byT));
  }

  function drawLane(l) {
    const frag = document.createDocumentFragment();
    const top = l.mid - BAR_H / 2;
    const base = { 'data-process': l.name, 'data-pid': l.pid };
    const withBase = (attrs) => Object.assign(attrs, base);

    // The running bar.
    if (l.runTo >= view.t0 && l.runFrom <= view.t1) {
      const x0 = clipX(X(l.runFrom)), x1 = clipX(X(l.runTo));
      const r = svgEl('rect', withBase({
        class: 'run' + (l.daemon ? ' daemon' : '') + (l.exit ? '' : ' unfinished'),
        x: x0, y: top, width: Math.max(1, x1 - x0), height: BAR_H,
        'data-start': l.runFrom, 'data-end': l.runTo,
      }), frag);
      tip(r, l.name + ' (pid ' + l.pid + '): ' + fmtT(l.runFrom) + ' → ' + fmtT(l.runTo) +
        ' (' + fmtT(l.runTo - l.runFrom) + '), ' + l.calls + ' calls; ' + exitText(l.exit));
    }

    // Blocked spans, merged when closer than 2 px and too many.
    const from = lowerBound(l.blocked, view.t0 - l.maxBlocked, byT);
    const spans = [];
    for (let i = from; i < l.blocked.length && l.blocked[i].t <= view.t1; i++) {
      const b = l.blocked[i];
      if (b.t + b.d >= view.t0) spans.push(b);
    }
    if (spans.length <= share(SPAN_BUDGET)) {
      for (const b of spans) {
        const x0 = clipX(X(b.t)), x1 = clipX(X(b.t + b.d));
        tip(svgEl('rect', withBase({
          class: 'blocked', x: x0, y: top, width: Math.max(1, x1 - x0), height: BAR_H,
          'data-op': b.e.op, 'data-object': objName(b.e), 'data-t': b.t, 'data-dur': b.d, 'data-seq': b.e.seq,
        }), frag), callText(b.e) + ': blocked ' + fmtT(b.d) + ' from ' + fmtT(b.t));
      }
    } else {
      let cur = null;
      const flush = () => {
        if (!cur) return;
        tip(svgEl('rect', withBase({
          class: 'blocked merged', x: cur.x0, y: top, width: Math.max(1, cur.x1 - cur.x0), height: BAR_H,
          'data-count': cur.n, 'data-t': cur.t, 'data-dur': cur.d,
        }), frag), cur.n + ' blocked calls (' + Array.from(cur.ops).join(', ') + '), ' + fmtT(cur.d) + ' waiting in all; zoom in to see each');
      };
      const gap = Math.max(2, W / share(SPAN_BUDGET));
      for (const b of spans) {
        const x0 = clipX(X(b.t)), x1 = clipX(X(b.t + b.d));
        if (cur && x0 - cur.x1 < gap) {
          cur.x1 = Math.max(cur.x1, x1); cur.n++; cur.d += b.d;
          if (cur.ops.size < 4) cur.ops.add(b.e.op);
        } else {
          flush();
          cur = { x0: x0, x1: x1, n: 1, d: b.d, t: b.t, ops: new Set([b.e.op]) };
        }
      }
      flush();
    }

    // Output ticks under the bar, one per line, or per column when too many.
    const outs = visible(l.outputs, view.t0, view.t1);
    const tickY = l.mid + BAR_H / 2 + 2;
    const tick = (x, cls, attrs, text) => tip(svgEl('path', withBase(Object.assign({
      class: 'marker' + cls, 'data-kind': 'output', d: 'M' + x + ',' + tickY + 'l-4,7h8z',
    }, attrs)), frag), text);
    if (outs.length <= share(TICK_BUDGET)) {
      for (const o of outs) {
        tick(X(o.t), o.e.stream === 'stderr' ? ' stderr' : '', { 'data-t': o.t, 'data-stream': o.e.stream || '', 'data-seq': o.e.seq },
          '[' + (o.e.stream || 'stdout') + ' ' + fmtT(o.t) + '] ' + o.e.text);
      }
    } else {
      bucket(outs, columns(TICK_BUDGET), (group, x) => {
        const first = group[0];
        let text = group.length + ' lines from ' + fmtT(first.t) + ':';
        for (const o of group.slice(0, 3)) text += '\n' + o.e.text;
        if (group.length > 3) text += '\n…';
        tick(x, group.some((o) => o.e.stream === 'stderr') ? ' stderr' : '', { 'data-t': first.t, 'data-count': group.length }, text);
      });
    }

    // Markers: start, exit, terminate, kill, and messages never received.
    const marks = visible(l.marks, view.t0, view.t1);
    const drawMark = (mk, x, count) => {
      const e = mk.e;
      const attrs = withBase({ class: 'marker', 'data-kind': mk.kind, 'data-t': mk.t });
      let d, text;
      const y = l.mid;
      switch (mk.kind) {
        case 'start':
          d = 'M' + x + ',' + (y - 8) + 'l8,8l-8,8z';
          text = l.name + ' started at ' + fmtT(mk.t) + (e.parent ? ' by ' + e.parent : '') + (e.target ? ' (' + e.target + ')' : '');
          break;
        case 'exit': {
          const code = e.exit_code !== undefined ? e.exit_code : '';
          attrs['data-exit-code'] = code;
          if (e.signal) attrs['data-signal'] = e.signal;
          if (e.by) attrs['data-by'] = e.by;
          if (e.signal) {
            attrs.class += ' killed';
            d = 'M' + (x - 5) + ',' + (y - 5) + 'l10,10m0,-10l-10,10';
          } else {
            if (code !== 0) attrs.class += ' failed';
            d = 'M' + (x - 2) + ',' + (y - 9) + 'h4v18h-4z';
          }
          text = l.name + ' ' + exitText(e) + ' at ' + fmtT(mk.t);
          break;
        }
        case 'terminate':
        case 'kill':
          attrs['data-peer'] = e.peer || '';
          d = 'M' + (x - 5) + ',' + (y - 17) + 'h10l-5,8z';
          text = l.name + ' called ' + e.op + ' on ' + (e.peer || '?') + ' at ' + fmtT(mk.t);
          break;
        default: // unreceived
          attrs['data-msg'] = e.msg;
          d = 'M' + (x - 3.5) + ',' + y + 'a3.5,3.5 0 1,0 7,0a3.5,3.5 0 1,0 -7,0';
          text = callText(e) + ' at ' + fmtT(mk.t) + ': message ' + e.msg + ' never received' + (payload(e) ? ' (' + payload(e) + ')' : '');
      }
      if (count > 1) {
        attrs['data-count'] = count;
        text = count + ' × ' + mk.kind + ', first: ' + text;
      }
      attrs.d = d;
      tip(svgEl('path', attrs, frag), text);
    };
    if (marks.length <= share(MARK_BUDGET)) {
      for (const mk of marks) drawMark(mk, X(mk.t), 1);
    } else {
      bucket(marks, columns(MARK_BUDGET), (group, x) => drawMark(group[0], x, group.length), (mk) => mk.kind);
    }
    l.content.replaceChildren(frag);
    return l.content.childElementCount;
  }

  // share is a lane's part of a budget; columns is the width in pixels of
  // a column when items are merged to fit that part.
  function share(budget) {
    return Math.max(20, Math.floor(budget / model.lanes.length));
  }
  function columns(budget) {
    return Math.max(6, W / share(budget));
  }

  // bucket calls draw(group, x) for each run of items (sorted by t) that fall
  // in the same px-wide column (and have the same kind, when given).
  function bucket(items, px, draw, kindOf) {
    let group = [], col = NaN, kind;
    for (const it of items) {
      const c = Math.floor(X(it.t) / px);
      const k = kindOf ? kindOf(it) : '';
      if (c !== col || k !== kind) {
        if (group.length) draw(group, col * px + px / 2);
        group = [];
        col = c;
        kind = k;
      }
      group.push(it);
    }
    if (group.length) draw(group, col * px + px / 2);
  }

  // seg draws a path from (x1, y1) to (x2, y2), cut to what SVG draws
  // exactly, bowed when both ends are on one lane.
  function segPath(x1, y1, x2, y2) {
    const lo = -4 * W, hi = 5 * W;
    const cut = (xa, ya, xb, yb) => {
      if (xa < lo && xb !== xa) { ya += (yb - ya) * (lo - xa) / (xb - xa); xa = lo; }
      if (xa > hi && xb !== xa) { ya += (yb - ya) * (hi - xa) / (xb - xa); xa = hi; }
      return [xa, ya];
    };
    [x1, y1] = cut(x1, y1, x2, y2);
    [x2, y2] = cut(x2, y2, x1, y1);
    if (Math.abs(y1 - y2) < 1) {
      const bow = Math.min(18, 6 + Math.abs(x2 - x1) / 8);
      return 'M' + x1 + ',' + y1 + 'Q' + (x1 + x2) / 2 + ',' + (y1 - bow * 2) + ' ' + x2 + ',' + y2;
    }
    return 'M' + x1 + ',' + y1 + 'L' + x2 + ',' + y2;
  }

  function drawArrows() {
    const inView = [];
    for (const a of model.arrows) {
      if (Math.max(a.t1, a.t2) >= view.t0 && Math.min(a.t1, a.t2) <= view.t1) inView.push(a);
    }
    const frag = document.createDocumentFragment();
    const yOf = (l, up) => l.mid + (up ? -BAR_H / 2 : BAR_H / 2);
    const draw = (a, count) => {
      const down = a.to.y > a.from.y;
      const same = a.to === a.from;
      const attrs = {
        class: 'arrow', 'marker-end': 'url(#arrowhead)',
        d: segPath(X(a.t1), same ? a.from.mid - BAR_H / 2 : yOf(a.from, !down), X(a.t2), same ? a.to.mid - BAR_H / 2 : yOf(a.to, down)),
        'data-from': a.from.name, 'data-to': a.to.name, 'data-from-pid': a.from.pid, 'data-to-pid': a.to.pid,
        'data-t': a.t1, 'data-t-recv': a.t2,
      };
      let text;
      if (count > 1) {
        attrs['data-count'] = count;
        attrs['stroke-width'] = Math.min(4, 1 + Math.log2(count));
        text = count + ' messages ' + a.from.name + ' → ' + a.to.name + ', first ' + objName(a.send) + ' at ' + fmtT(a.t1) + '; zoom in to see each';
      } else {
        attrs['data-msg'] = a.msg;
        attrs['data-op'] = a.send.op;
        attrs['data-object'] = objName(a.send);
        text = objName(a.send) + ': ' + a.from.name + ' → ' + a.to.name + (payload(a.send) ? ', ' + payload(a.send) : '') +
          '\n' + a.send.op + ' ' + fmtT(a.t1) + ', ' + a.recv.op + ' ' + fmtT(a.t2) + ' (' + fmtT(a.t2 - a.t1) + ' later)';
      }
      tip(svgEl('path', attrs, frag), text);
    };
    if (inView.length <= MAX_ARROWS) {
      for (const a of inView) draw(a, 1);
    } else {
      for (let px = 8; ; px *= 2) {
        const groups = new Map();
        for (const a of inView) {
          const key = a.from.index + ':' + a.to.index + ':' + Math.floor(X(a.t1) / px) + ':' + Math.floor(X(a.t2) / px);
          const g = groups.get(key);
          if (g) g.n++; else groups.set(key, { a: a, n: 1 });
        }
        if (groups.size <= MAX_ARROWS || px > W) {
          for (const g of groups.values()) draw(g.a, g.n);
          break;
        }
      }
    }
    gArrows.replaceChildren(frag);
    gArrows.classList.toggle('dense', gArrows.childElementCount > 300);

    // Terminate and kill links, and barrier rounds.
    const lf = document.createDocumentFragment();
    for (const k of model.links) {
      if (Math.max(k.t1, k.t2) < view.t0 || Math.min(k.t1, k.t2) > view.t1 || k.from === k.to) continue;
      const down = k.to.y > k.from.y;
      tip(svgEl('path', {
        class: 'kill-link', 'data-kind': k.kind, 'marker-end': 'url(#killhead)',
        'data-from': k.from.name, 'data-to': k.to.name, 'data-t': k.t1,
        d: segPath(X(k.t1), k.from.mid + (down ? BAR_H : -BAR_H), X(k.t2), k.to.mid + (down ? -BAR_H : BAR_H)),
      }, lf), k.from.name + ' ' + k.kind + ' ' + k.to.name + ' at ' + fmtT(k.t1) + (k.caused ? '; it exited at ' + fmtT(k.t2) : ''));
    }
    for (const s of model.syncs) {
      if (s.t < view.t0 || s.t > view.t1) continue;
      let y0 = Infinity, y1 = -Infinity;
      for (const l of s.lanes) { y0 = Math.min(y0, l.mid); y1 = Math.max(y1, l.mid); }
      const x = X(s.t);
      tip(svgEl('line', {
        class: 'sync', x1: x, x2: x, y1: y0 - BAR_H, y2: y1 + BAR_H, 'data-object': s.object, 'data-generation': s.generation, 'data-t': s.t,
      }, lf), s.object + ' round ' + s.generation + ': ' + s.lanes.map((l) => l.name).join(', ') + ' went on at ' + fmtT(s.t));
    }
    gLinks.replaceChildren(lf);
    return gArrows.childElementCount + gLinks.childElementCount;
  }

  // updatePanels lists, beside each lane, its output lines in view.
  function updatePanels() {
    panelTimer = 0;
    for (const l of model.lanes) {
      if (!l.outputs.length) {
        if (!l.panelRange) {
          htmlEl('div', 'empty', 'no output', l.panel);
          l.panelRange = 'none';
        }
        continue;
      }
      const i0 = lowerBound(l.outputs, view.t0, byT), i1 = lowerBound(l.outputs, view.t1 + 1e-9, byT);
      const key = i0 + ':' + Math.min(i1, i0 + PANEL_MAX) + ':' + i1;
      if (key === l.panelRange) continue;
      l.panelRange = key;
      const n = i1 - i0;
      const head = htmlEl('div', 'output-head', n === l.outputs.length ? n + (n === 1 ? ' line' : ' lines')
        : n + ' of ' + l.outputs.length + ' lines in view' + (n > PANEL_MAX ? ', first ' + PANEL_MAX + ' listed: zoom in for more' : ''));
      const list = htmlEl('ol', 'output-lines');
      for (let i = i0; i < i1 && i < i0 + PANEL_MAX; i++) {
        const o = l.outputs[i];
        const li = htmlEl('li', 'output-line', o.e.text, list);
        li.dataset.t = o.t;
        li.dataset.time = fmtT(o.t);
        li.dataset.stream = o.e.stream || 'stdout';
        li.dataset.seq = o.e.seq;
      }
      l.panel.replaceChildren(head, list);
    }
    settle();
  }

  function render() {
    pending = false;
    W = Math.max(100, chart.clientWidth);
    svg.setAttribute('width', W);
    drawAxis();
    let n = 0;
    for (const l of model.lanes) n += drawLane(l);
    n += drawArrows();
    root.dataset.elements = n;
    settle();
  }

  function settle() {
    if (!pending && !panelTimer) delete root.dataset.pending;
  }

  function schedule() {
    root.dataset.pending = '1';
    if (!pending) {
      pending = true;
      requestAnimationFrame(render);
    }
    if (panelTimer) clearTimeout(panelTimer);
    panelTimer = setTimeout(updatePanels, PANEL_DELAY);
  }

  // ---- zoom and pan --------------------------------------------------

  function setView(t0, t1) {
    const fullSpan = full.t1 - full.t0;
    const span = clamp(t1 - t0, Math.min(MIN_SPAN, fullSpan), fullSpan);
    t0 = clamp(t0, full.t0, full.t1 - span);
    view = { t0: t0, t1: t0 + span };
    root.dataset.viewStart = view.t0.toFixed(1);
    root.dataset.viewEnd = view.t1.toFixed(1);
    rangeLabel.textContent = fmtT(view.t0) + ' – ' + fmtT(view.t1) + ' (' + fmtT(span) + ')';
  }
  function zoomAt(factor, t) {
    const span = view.t1 - view.t0;
    const f = (t - view.t0) / span;
    const s = span * factor;
    setView(t - f * s, t - f * s + s);
    schedule();
  }
  function zoomCentre(factor) {
    zoomAt(factor, (view.t0 + view.t1) / 2);
  }
  function pan(fraction) {
    const dt = (view.t1 - view.t0) * fraction;
    setView(view.t0 + dt, view.t1 + dt);
    schedule();
  }
  function fit() {
    setView(full.t0, full.t1);
    schedule();
  }
  function timeAt(clientX) {
    const r = chart.getBoundingClientRect();
    return view.t0 + (clientX - r.left) / W * (view.t1 - view.t0);
  }

  function bind() {
    document.getElementById('zoom-in').addEventListener('click', () => zoomCentre(0.5));
    document.getElementById('zoom-out').addEventListener('click', () => zoomCentre(2));
    document.getElementById('pan-left').addEventListener('click', () => pan(-0.25));
    document.getElementById('pan-right').addEventListener('click', () => pan(0.25));
    document.getElementById('zoom-fit').addEventListener('click', fit);

    chart.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const unit = ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? W : 1;
      const dx = ev.deltaX * unit, dy = ev.deltaY * unit;
      if (ev.shiftKey) {
        pan((Math.abs(dy) > Math.abs(dx) ? dy : dx) / W);
      } else if (Math.abs(dx) > Math.abs(dy)) {
        pan(dx / W);
      } else if (dy) {
        zoomAt(Math.exp(clamp(dy, -400, 400) * 0.002), timeAt(ev.clientX));
      }
    }, { passive: false });

    chart.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      drag = { id: ev.pointerId, x: ev.clientX, t0: view.t0, t1: view.t1 };
      chart.setPointerCapture(ev.pointerId);
      chart.classList.add('dragging');
    });
    chart.addEventListener('pointermove', (ev) => {
      const x = ev.clientX - chart.getBoundingClientRect().left;
      cursor.setAttribute('x1', x);
      cursor.setAttribute('x2', x);
      if (axisCursor) {
        axisCursor.setAttribute('x', Math.min(x + 4, W - 70));
        axisCursor.textContent = fmtT(timeAt(ev.clientX));
      }
      if (!drag || drag.id !== ev.pointerId) return;
      const dt = (ev.clientX - drag.x) / W * (drag.t1 - drag.t0);
      setView(drag.t0 - dt, drag.t1 - dt);
      schedule();
    });
    const endDrag = (ev) => {
      if (!drag || drag.id !== ev.pointerId) return;
      drag = null;
      chart.classList.remove('dragging');
    };
    chart.addEventListener('pointerup', endDrag);
    chart.addEventListener('pointercancel', endDrag);
    chart.addEventListener('pointerleave', () => {
      cursor.setAttribute('x1', -10);
      cursor.setAttribute('x2', -10);
    });
    chart.addEventListener('dblclick', (ev) => zoomAt(0.5, timeAt(ev.clientX)));

    document.addEventListener('keydown', (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const tag = ev.target && ev.target.tagName;
      if (tag === 'INPUT' || tag === 'TEXTAREA') return;
      switch (ev.key) {
        case '+': case '=': case 'w': zoomCentre(0.5); break;
        case '-': case '_': case 's': zoomCentre(2); break;
        case 'ArrowLeft': case 'a': pan(-0.25); break;
        case 'ArrowRight': case 'd': pan(0.25); break;
        case '0': case 'f': fit(); break;
        default: return;
      }
      ev.preventDefault();
    });

    outputs.addEventListener('click', (ev) => {
      const li = ev.target.closest && ev.target.closest('.output-line');
      if (!li) return;
      const t = Number(li.dataset.t), span = view.t1 - view.t0;
      setView(t - span / 2, t + span / 2);
      schedule();
    });
    window.addEventListener('resize', schedule);
  }

  // ---- start ---------------------------------------------------------

  function main() {
    const evs = JSON.parse(document.getElementById('events').textContent);
    model = buildModel(evs);
    const pad = Math.max(1, model.tEnd * 0.01);
    full = { t0: -pad, t1: model.tEnd + pad };
    root.dataset.processes = model.lanes.length;
    root.dataset.events = evs.length;
    root.dataset.arrows = model.arrows.length;
    root.dataset.unreceived = model.unreceived;
    layout();
    bind();
    setView(full.t0, full.t1);
    render();
    updatePanels();
    root.dataset.loadMs = performance.now().toFixed(0);
    root.dataset.ready = '1';
  }

  try {
    main();
  } catch (err) {
    const p = document.getElementById('error');
    p.hidden = false;
    p.textContent = 'The timeline could not be drawn: ' + err;
    root.dataset.error = String(err);
    throw err;
  }
})();
