// vaebook: on a narrow screen an inline formula wider than its line becomes a scroll box of its own, and every other
// inline formula stays inline and whole. (A scroll box on every inline formula cut subscripts and descenders off and
// gave short formulas scroll bars.) Marked once MathJax has typeset the page, and again when the window changes size.
(function () {
  function mark() {
    document.querySelectorAll('mjx-container:not([display="true"])').forEach(function (m) {
      m.classList.remove('vaebook-wide');
      var line = m.closest('p, li, dd, dt, td, th, figcaption, div');   // the block it sits in: its parent is a span of its own width
      if (line && m.getBoundingClientRect().width > line.getBoundingClientRect().width + 1) m.classList.add('vaebook-wide');
    });
  }
  function typeset() {
    var mj = window.MathJax;
    return (mj && mj.startup && mj.startup.promise) ? mj.startup.promise : Promise.resolve();
  }
  window.addEventListener('load', function () { typeset().then(mark); });
  window.addEventListener('resize', mark);
})();
