// The transcript page: swaps in the HTML the extension renders, keeps open tool calls open,
// follows the bottom while the user is there, and sends clicks back to the extension.
(function () {
  const vscode = acquireVsCodeApi();
  const root = document.getElementById('transcript');
  const state = vscode.getState() || { open: [] };
  const open = new Set(state.open);

  function atBottom() {
    const el = document.scrollingElement || document.documentElement;
    return el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  }

  function save() {
    vscode.setState({ open: Array.from(open) });
  }

  window.addEventListener('message', (event) => {
    const message = event.data;
    if (!message || message.type !== 'render') {
      return;
    }
    const follow = atBottom();
    root.innerHTML = message.html;
    root.querySelectorAll('details[data-key]').forEach((el) => {
      if (open.has(el.dataset.key)) {
        el.open = true;
      }
    });
    if (follow) {
      window.scrollTo(0, document.body.scrollHeight);
    }
  });

  root.addEventListener(
    'toggle',
    (event) => {
      const el = event.target;
      if (el instanceof HTMLDetailsElement && el.dataset.key) {
        if (el.open) {
          open.add(el.dataset.key);
        } else {
          open.delete(el.dataset.key);
        }
        save();
      }
    },
    true,
  );

  root.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const diff = target && target.closest('button.diff');
    if (diff) {
      event.preventDefault();
      vscode.postMessage({ type: 'openDiff', toolCallId: diff.dataset.tool, index: Number(diff.dataset.index) });
      return;
    }
    const location = target && target.closest('a.location');
    if (location) {
      event.preventDefault();
      const line = location.dataset.line ? Number(location.dataset.line) : null;
      vscode.postMessage({ type: 'openLocation', path: location.dataset.path, line });
    }
  });

  vscode.postMessage({ type: 'ready' });
})();
