// vaebook: figures that move. A chapter exports the trained networks it shows (their layers and float16 weights, see
// chapter 0j) with the data the figure needs; this script evaluates them in the page, in plain JavaScript: no kernel,
// no server, no request beyond the page's own files. A figure's data file calls vaebookFigures.draw(name) when it has
// loaded; figures whose data came first are drawn when the page has loaded.
(function () {
  'use strict';
  var F = window.vaebookFigures = window.vaebookFigures || {};
  var TAB10 = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

  function half(h) {   // an IEEE 754 half-precision number's 16 bits -> its value
    var s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e === 0) return s * m * Math.pow(2, -24);            // subnormal
    if (e === 31) return m ? NaN : s * Infinity;
    return s * (1 + m / 1024) * Math.pow(2, e - 15);
  }
  function weights(net) {   // decoded once per network: the float16 weights, little-endian, in base64
    if (net.w) return net.w;
    var bin = atob(net.weights), w = new Float32Array(bin.length / 2);
    for (var i = 0; i < w.length; i++) w[i] = half(bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8));
    return (net.w = w);
  }
  var ACT = {
    elu: function (a) { return a > 0 ? a : Math.expm1(a); },
    tanh: Math.tanh,
    relu: function (a) { return a > 0 ? a : 0; },
    sigmoid: function (a) { return 1 / (1 + Math.exp(-a)); }
  };
  function run(net, x) {   // the network on one input `x` (an array of net.layers[0].in numbers): a Float64Array
    var w = weights(net), h = Float64Array.from(x);
    net.layers.forEach(function (l) {
      if (l.op === 'linear') {   // weight (out, in) row by row, then the bias
        var o = new Float64Array(l.out), b = l.at + l.in * l.out;
        for (var j = 0; j < l.out; j++) {
          var s = w[b + j], r = l.at + j * l.in;
          for (var i = 0; i < l.in; i++) s += w[r + i] * h[i];
          o[j] = s;
        }
        h = o;
      } else { var f = ACT[l.op]; for (var k = 0; k < h.length; k++) h[k] = f(h[k]); }
    });
    return h;
  }
  F.run = run;

  function el(tag, attrs, parent) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(e);
    return e;
  }
  // Images are (channels, height, width) as torch flattens them: one channel is grey, three are red, green, blue.
  var MNIST = [1, 28, 28];
  function digit(parent, label, shape) {   // a canvas of one image, shown enlarged, pixel for pixel
    shape = shape || MNIST;
    return el('canvas', {width: shape[2], height: shape[1], 'class': 'vaebook-digit', role: 'img', 'aria-label': label,
                         'data-channels': shape[0]}, parent);
  }
  function paint(canvas, p) {   // values in [0, 1] (clipped) as grey levels or colours, white strokes on black like the book's grids
    var g = canvas.getContext('2d', {willReadFrequently: true}), w = canvas.width, h = canvas.height, n = w * h;
    var c = +canvas.getAttribute('data-channels') || 1, img = g.createImageData(w, h);
    function v(k) { return Math.round(255 * Math.min(1, Math.max(0, p[k]))); }
    for (var i = 0; i < n; i++) {
      img.data[4 * i] = v(i); img.data[4 * i + 1] = v(c === 3 ? n + i : i); img.data[4 * i + 2] = v(c === 3 ? 2 * n + i : i);
      img.data[4 * i + 3] = 255;
    }
    g.putImageData(img, 0, 0);
  }
  // Each figure keeps what it drew last (network, input, output) on its element, for the tests that compare the page
  // with the Python network, and draws through this one function.
  function show(root, fig, jobs, state) {
    root.vaebookState = state;   // the control's position: what the inputs below were computed from
    root.vaebookCanvases = jobs.map(function (j) { return j.canvas; });
    root.vaebookLast = jobs.map(function (j) {
      var p = run(fig.nets[j.net], j.input);
      if (j.sigmoid) p = p.map(ACT.sigmoid);   // a decoder exported as logits (its log-likelihood needs them)
      paint(j.canvas, p);
      return {net: j.net, input: Array.from(j.input), output: Array.from(p), sigmoid: !!j.sigmoid};
    });
  }

  var KINDS = {};
  // A plane of two latent units: the test codes as coloured points; the pointer (or the arrow keys) picks a point, and
  // the decoder draws its z. The plane's coordinates are z itself or, given `probit` (z at evenly spaced prior
  // quantiles over the extent), prior quantiles, read off that table by linear interpolation.
  KINDS.plane = function (root, fig) {
    var d = fig.data, lo = d.extent[0], hi = d.extent[1], size = 280;
    var wrap = el('div', {'class': 'vaebook-row'}, root);
    var plane = el('canvas', {width: size, height: size, 'class': 'vaebook-plane', tabindex: 0, role: 'application',
                              'aria-roledescription': 'latent plane',
                              'aria-label': 'latent plane: move the pointer or use the arrow keys to choose z'}, wrap);
    var side = el('div', {'class': 'vaebook-col'}, wrap);
    var out = digit(side, 'the decoded image at the chosen z', d.shape);
    var read = el('div', {'class': 'vaebook-readout', 'aria-live': 'polite'}, side);
    var key = el('div', {'class': 'vaebook-key', 'aria-label': 'colours of the digits'}, side);
    TAB10.forEach(function (c, i) {   // dark digits on the light colours, white on the dark ones: legible on each
      var s = el('span', {text: String(i)}, key); s.style.background = c; s.style.color = [1, 2, 6, 7, 8, 9].indexOf(i) >= 0 ? '#000' : '#fff';
    });
    var at = d.start.slice();
    function toZ(v) {
      if (!d.probit) return v;
      var t = (v - lo) / (hi - lo) * (d.probit.length - 1), i = Math.min(d.probit.length - 2, Math.max(0, Math.floor(t)));
      return d.probit[i] + (t - i) * (d.probit[i + 1] - d.probit[i]);
    }
    function px(v) { return (v - lo) / (hi - lo) * size; }
    function draw() {
      var g = plane.getContext('2d'), z = at.map(toZ);
      g.fillStyle = '#fff'; g.fillRect(0, 0, size, size);
      g.globalAlpha = 0.55;
      d.points.forEach(function (p) { g.fillStyle = TAB10[p[2]]; g.fillRect(px(p[0]) - 1, size - px(p[1]) - 1, 2, 2); });
      g.globalAlpha = 1; g.strokeStyle = '#000'; g.lineWidth = 1.5;
      g.beginPath(); g.arc(px(at[0]), size - px(at[1]), 6, 0, 2 * Math.PI); g.stroke();
      show(root, fig, [{net: d.net, input: z, canvas: out}], {at: at.slice()});
      read.textContent = 'z = (' + z[0].toFixed(2) + ', ' + z[1].toFixed(2) + ')';
    }
    function clamp(v) { return Math.min(hi, Math.max(lo, v)); }
    function point(e) {
      var r = plane.getBoundingClientRect();
      at = [clamp(lo + (e.clientX - r.left) / r.width * (hi - lo)), clamp(hi - (e.clientY - r.top) / r.height * (hi - lo))];
      draw();
    }
    plane.addEventListener('pointermove', function (e) { if (e.pointerType === 'mouse' || e.buttons) point(e); });
    plane.addEventListener('pointerdown', function (e) { if (plane.setPointerCapture) plane.setPointerCapture(e.pointerId); point(e); });
    plane.addEventListener('keydown', function (e) {
      var step = (hi - lo) / 50, m = {ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step]}[e.key];
      if (!m) return;
      e.preventDefault(); at = [clamp(at[0] + m[0]), clamp(at[1] + m[1])]; draw();
    });
    draw();
  };
  // One slider per latent unit, labelled with the unit's rate; buttons start from a test digit's code.
  KINDS.sliders = function (root, fig) {
    var d = fig.data, z = d.starts[0].slice(), inputs = [];
    var wrap = el('div', {'class': 'vaebook-row'}, root);
    var out = digit(el('div', {'class': 'vaebook-col'}, wrap), 'the decoded image of the sliders\' z', d.shape);
    var col = el('div', {'class': 'vaebook-col vaebook-grow'}, wrap);
    var starts = el('div', {'class': 'vaebook-buttons', role: 'group', 'aria-label': 'start from the code of a test digit'}, col);
    el('span', {text: 'start from the code of test digit '}, starts);
    d.starts.forEach(function (s, i) {
      var b = el('button', {type: 'button', text: d.start_names[i]}, starts);
      b.addEventListener('click', function () { z = s.slice(); inputs.forEach(function (r, k) { r.value = z[k]; }); draw(); });
    });
    var grid = el('div', {'class': 'vaebook-sliders'}, col);
    z.forEach(function (v, k) {
      var lab = el('label', {}, grid);
      el('span', {text: 'z' + (k + 1) + ' (' + d.rates[k].toFixed(2) + ' nats)'}, lab);
      var r = el('input', {type: 'range', min: d.range[0], max: d.range[1], step: 'any', value: v}, lab);   // any step: the slider holds the code itself
      r.addEventListener('input', function () { z[k] = parseFloat(r.value); draw(); });
      inputs.push(r);
    });
    function draw() { show(root, fig, [{net: d.net, input: z, canvas: out}], {sliders: inputs.map(function (r) { return parseFloat(r.value); })}); }
    draw();
  };
  // One choice among networks (e.g. the β of a β-VAE): each decodes its own codes of the same test images.
  KINDS.choice = function (root, fig) {
    var d = fig.data, cur = 0, outs = [];
    var bar = el('div', {'class': 'vaebook-buttons', role: 'group', 'aria-label': d.title}, root);
    el('span', {text: d.title + ': '}, bar);
    var buttons = d.options.map(function (o, i) {
      var b = el('button', {type: 'button', text: o.label}, bar);
      b.addEventListener('click', function () { cur = i; draw(); });
      return b;
    });
    el('div', {'class': 'vaebook-key-text', text: 'each pair: the test image above, ' + (d.output_name || 'its reconstruction') + ' below'}, root);
    var rows = el('div', {'class': 'vaebook-strip'}, root);
    d.images.forEach(function (img, i) {
      var cell = el('div', {'class': 'vaebook-col'}, rows);
      var bin = atob(img), p = new Float64Array(bin.length);
      for (var k = 0; k < bin.length; k++) p[k] = bin.charCodeAt(k) / 255;
      paint(digit(cell, 'test image ' + (i + 1), d.shape), p);
      outs.push(digit(cell, d.output_name || 'its reconstruction', d.shape));
    });
    function draw() {
      buttons.forEach(function (b, i) { b.setAttribute('aria-pressed', i === cur ? 'true' : 'false'); });
      var o = d.options[cur];
      show(root, fig, o.codes.map(function (c, i) { return {net: o.net, input: c, canvas: outs[i]}; }), {choice: cur});
    }
    draw();
  };

  // The importance weights of one test image's posterior draws (chapter 0j): buttons choose the image and the model,
  // a slider how many of the shipped noise draws are used. The page runs the encoder once per image and model and
  // the decoder on every draw, and shows the sorted self-normalised weights, the running estimate of log p(x) and the
  // effective sample size; the digit is the decoded draw that carries the most weight.
  function floats(b64) {   // base64 little-endian float32 (pack_floats) -> Float64Array
    var bin = atob(b64), n = bin.length / 4, out = new Float64Array(n), dv = new DataView(new ArrayBuffer(4));
    for (var i = 0; i < n; i++) {
      for (var b = 0; b < 4; b++) dv.setUint8(b, bin.charCodeAt(4 * i + b));
      out[i] = dv.getFloat32(0, true);
    }
    return out;
  }
  function softplus(a) { return Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a))); }
  KINDS.weights = function (root, fig) {
    var d = fig.data, zd = d.z, eps = floats(d.eps), cache = {}, LOG2PI = Math.log(2 * Math.PI);
    var cur = {image: d.start.image, model: d.start.model, iw: d.iws[d.start.iw]};
    var xs = d.images.map(function (img) { var bin = atob(img), x = new Float64Array(bin.length); for (var i = 0; i < x.length; i++) x[i] = bin.charCodeAt(i) / 255; return x; });
    function logw(i, m) {   // every shipped draw's log weight for image i under model m, computed once
      var key = i + '/' + m;
      if (cache[key]) return cache[key];
      var mod = d.models[m], x = xs[i], h = run(fig.nets[mod.enc], x), n = eps.length / zd, out = new Float64Array(n), zs = [];
      var qm = h.slice(0, zd), qv = h.slice(zd).map(function (a) { return softplus(a) + 1e-8; });
      for (var j = 0; j < n; j++) {
        var z = new Float64Array(zd), lp = 0, lq = 0, lx = 0;
        for (var u = 0; u < zd; u++) {
          z[u] = qm[u] + Math.sqrt(qv[u]) * eps[j * zd + u];
          lp -= 0.5 * (z[u] * z[u] + LOG2PI);
          lq -= 0.5 * ((z[u] - qm[u]) * (z[u] - qm[u]) / qv[u] + Math.log(qv[u]) + LOG2PI);
        }
        var lg = run(fig.nets[mod.dec], z);
        for (var k = 0; k < lg.length; k++) lx += x[k] * lg[k] - softplus(lg[k]);
        out[j] = lx + lp - lq; zs.push(z);
      }
      return (cache[key] = {logw: out, z: zs});
    }
    var bar = el('div', {'class': 'vaebook-buttons', role: 'group', 'aria-label': 'the test image'}, root);
    el('span', {text: 'test image: '}, bar);
    var imageButtons = d.image_names.map(function (nm, i) {
      var b = el('button', {type: 'button', text: nm}, bar);
      b.addEventListener('click', function () { cur.image = i; draw(); });
      return b;
    });
    var bar2 = el('div', {'class': 'vaebook-buttons', role: 'group', 'aria-label': 'the model'}, root);
    el('span', {text: 'model: '}, bar2);
    var modelButtons = d.models.map(function (mod, i) {
      var b = el('button', {type: 'button', text: mod.label}, bar2);
      b.addEventListener('click', function () { cur.model = i; draw(); });
      return b;
    });
    var lab = el('label', {'class': 'vaebook-iw'}, root);
    var iwText = el('span', {}, lab);
    var slider = el('input', {type: 'range', min: 0, max: d.iws.length - 1, step: 1, value: d.start.iw,
                              'aria-label': 'importance samples iw'}, lab);
    slider.addEventListener('input', function () { cur.iw = d.iws[parseInt(slider.value, 10)]; draw(); });
    var row = el('div', {'class': 'vaebook-row'}, root);
    var col = el('div', {'class': 'vaebook-col'}, row);
    var xc = digit(col, 'the test image', d.shape), top = digit(col, 'the decoded draw with the largest weight', d.shape);
    el('small', {text: 'image, and its heaviest draw'}, col);
    var bars = el('canvas', {width: 300, height: 150, 'class': 'vaebook-chart', role: 'img', 'aria-label': 'the self-normalised weights, sorted'}, row);
    var curve = el('canvas', {width: 300, height: 150, 'class': 'vaebook-chart', role: 'img', 'aria-label': 'the running estimate of log p(x) against the draws used'}, row);
    var read = el('div', {'class': 'vaebook-readout', 'aria-live': 'polite'}, root);
    function axes(g, w, h, title) {
      g.fillStyle = '#fff'; g.fillRect(0, 0, w, h); g.strokeStyle = '#888'; g.lineWidth = 1;
      g.beginPath(); g.moveTo(30, 8); g.lineTo(30, h - 18); g.lineTo(w - 4, h - 18); g.stroke();
      g.fillStyle = '#333'; g.font = '11px sans-serif'; g.fillText(title, 34, 12);
    }
    function draw() {
      imageButtons.forEach(function (b, i) { b.setAttribute('aria-pressed', i === cur.image ? 'true' : 'false'); });
      modelButtons.forEach(function (b, i) { b.setAttribute('aria-pressed', i === cur.model ? 'true' : 'false'); });
      var all = logw(cur.image, cur.model), n = cur.iw, lw = Array.prototype.slice.call(all.logw, 0, n);
      var mx = Math.max.apply(null, lw), s = 0, s2 = 0, best = lw.indexOf(mx);
      lw.forEach(function (v) { var e = Math.exp(v - mx); s += e; s2 += e * e; });
      var wn = lw.map(function (v) { return Math.exp(v - mx) / s; }), ess = s * s / s2, bound = mx + Math.log(s / n);
      iwText.textContent = 'iw = ' + n + ' draws ';
      var g = bars.getContext('2d'), W = bars.width, H = bars.height, sorted = wn.slice().sort(function (a, b) { return b - a; });
      axes(g, W, H, 'weights w̃, sorted (the largest ' + Math.min(n, 50) + ')');
      var shown = sorted.slice(0, 50), bw = (W - 36) / Math.max(shown.length, 1);   // scaled to the largest: its share is the top tick
      g.fillStyle = '#1f77b4';
      shown.forEach(function (v, i) { var bh = v / sorted[0] * (H - 30); g.fillRect(31 + i * bw, H - 18 - bh, Math.max(bw - 1, 1), bh); });
      g.fillStyle = '#333'; g.fillText((100 * sorted[0]).toFixed(0) + '%', 0, 16); g.fillText('0', 20, H - 18);
      // the running estimate log (1/j) sum_{i<=j} w_i over j = 1..iw, the x axis in log j
      var run_ = [], m2 = -Infinity, acc = 0;
      for (var j = 0; j < n; j++) {   // a running log-sum-exp, rescaled whenever a larger weight arrives
        if (lw[j] > m2) { acc = acc * Math.exp(m2 - lw[j]) + 1; m2 = lw[j]; } else acc += Math.exp(lw[j] - m2);
        run_.push(m2 + Math.log(acc / (j + 1)));
      }
      var elbo = lw.reduce(function (a, v) { return a + v; }, 0) / n;   // the mean log weight: the ELBO's estimate from the same draws
      var lo = Math.min(elbo, Math.min.apply(null, run_)), hi = Math.max.apply(null, run_); if (hi - lo < 1) { lo -= 0.5; hi += 0.5; }
      var gc = curve.getContext('2d'); axes(gc, curve.width, curve.height, 'log (1/j) Σ w, j = 1 … iw');
      var X = function (j) { return 31 + (n > 1 ? Math.log(j + 1) / Math.log(n) : 0.5) * (curve.width - 36); };
      var Y = function (v) { return curve.height - 18 - (v - lo) / (hi - lo) * (curve.height - 30); };
      gc.strokeStyle = '#d62728'; gc.lineWidth = 1.5; gc.beginPath();
      run_.forEach(function (v, j) { if (j) gc.lineTo(X(j), Y(v)); else gc.moveTo(X(j), Y(v)); }); gc.stroke();
      if (n === 1) { gc.fillStyle = '#d62728'; gc.beginPath(); gc.arc(X(0), Y(run_[0]), 3, 0, 2 * Math.PI); gc.fill(); }   // one draw: a point
      gc.fillStyle = '#333'; gc.fillText(hi.toFixed(1), 0, 16); gc.fillText(lo.toFixed(1), 0, curve.height - 18);
      gc.fillText('1', 28, curve.height - 5); gc.fillText(String(n), curve.width - 8 - 6 * String(n).length, curve.height - 5);
      gc.strokeStyle = '#7f7f7f'; gc.setLineDash([4, 3]); gc.lineWidth = 1; gc.beginPath();
      gc.moveTo(31, Y(elbo)); gc.lineTo(curve.width - 4, Y(elbo)); gc.stroke(); gc.setLineDash([]);
      gc.fillStyle = '#7f7f7f'; gc.fillText('ELBO (mean log w)', 36, Math.min(curve.height - 22, Y(elbo) + 12));
      paint(xc, xs[cur.image]);
      show(root, fig, [{net: d.models[cur.model].dec, input: all.z[best], canvas: top, sigmoid: true}], {image: cur.image, model: cur.model, iw: n});
      root.vaebookWeights = {logw: lw, ess: ess, bound: bound, best: best, elbo: elbo, curve: run_};
      // one draw of the bound: its expectation is below log p(x), a single estimate need not be
      read.textContent = 'the iw-sample bound on log p(x), estimated from these draws: ' + bound.toFixed(2) + ' nats (iw = ' + n +
                         '; the ELBO estimated from the same draws: ' + elbo.toFixed(2) + '); ESS = ' +
                         ess.toFixed(1) + ' of ' + n + '; the heaviest draw carries ' + (100 * wn[best]).toFixed(0) + '%';
    }
    draw();
  };

  F.draw = function (name) {   // draw every figure of `name` on the page whose data has arrived, once
    var fig = F[name];
    if (!fig || typeof fig !== 'object' || !fig.kind) return;
    document.querySelectorAll('.vaebook-figure[data-figure="' + name + '"]').forEach(function (root) {
      if (root.dataset.drawn) return;
      root.dataset.drawn = '1';
      root.textContent = '';
      KINDS[fig.kind](root, fig);
    });
  };
  function drawAll() { Object.keys(F).forEach(F.draw); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', drawAll); else drawAll();
})();
