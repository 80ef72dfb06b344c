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

  let lastHead = null;

  function reopen(scope) {
    scope.querySelectorAll('details[data-key]').forEach((el) => {
      if (open.has(el.dataset.key)) {
        el.open = true;
      }
    });
  }

  function element(html) {
    const template = document.createElement('template');
    template.innerHTML = html;
    return template.content.firstElementChild;
  }

  // Only what changed: the head and foot, and each changed entry replaced or appended.
  function patch(message) {
    const head = root.querySelector(':scope > .head');
    const entries = root.querySelector(':scope > .entries');
    const foot = root.querySelector(':scope > .foot');
    if (!head || !entries || !foot) {
      return vscode.postMessage({ type: 'ready' }); // not a transcript page yet: ask for all
    }
    if (message.head !== lastHead) {
      head.innerHTML = message.head;
      lastHead = message.head;
    }
    foot.innerHTML = message.foot;
    for (const item of message.entries) {
      const { index, html } = item;
      if (html === undefined) {
        // a growing answer: append its new blocks, swap its tail
        const old = entries.children[index];
        const blocks = old && old.querySelector(':scope > .md-blocks');
        const tail = old && old.querySelector(':scope > .md-tail');
        if (!blocks || !tail || blocks.children.length !== item.from) {
          return vscode.postMessage({ type: 'ready' }); // out of step: ask for the whole page
        }
        for (const block of item.blocks) {
          blocks.insertAdjacentHTML('beforeend', `<div class="md-block">${block}</div>`);
        }
        tail.innerHTML = item.tail;
        continue;
      }
      const fresh = element(html);
      if (!fresh) {
        continue;
      }
      const old = entries.children[index];
      if (old) {
        old.replaceWith(fresh);
      } else {
        entries.appendChild(fresh);
      }
      reopen(fresh);
    }
  }

  window.addEventListener('message', (event) => {
    const message = event.data;
    if (!message || (message.type !== 'render' && message.type !== 'patch')) {
      return;
    }
    const follow = atBottom();
    if (message.type === 'render') {
      root.innerHTML = message.html;
      lastHead = null;
      reopen(root);
    } else {
      patch(message);
    }
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
