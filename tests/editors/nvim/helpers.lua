-- Shared by the scenario scripts: parameters from pytest, waiting, results back as JSON.
-- Each scenario runs in `nvim --headless -n -u NONE -i NONE -l <script>`, so the plugin's
-- plugin/ file is sourced here (-u NONE loads no plugins).
local H = {}

local function read(path)
  local f = assert(io.open(path, 'r'))
  local text = f:read('*a')
  f:close()
  return text
end

H.params = vim.json.decode(read(assert(os.getenv('LSP_AGENT_TEST_PARAMS'), 'LSP_AGENT_TEST_PARAMS')))
H.result = { steps = {} }
H.notifications = {}

-- Record vim.notify calls (the plugin reports through them).
vim.notify = function(msg, level)
  table.insert(H.notifications, { msg = tostring(msg), level = level or vim.log.levels.INFO })
end

local started = vim.uv.hrtime()

function H.step(name)
  table.insert(H.result.steps, name)
  H.result.times = H.result.times or {}
  table.insert(H.result.times, { name, math.floor((vim.uv.hrtime() - started) / 1e6) })
end

--- Wait for `predicate` (event-driven polling; the timeout is a liveness guard only).
function H.wait(what, predicate, timeout)
  local ok = vim.wait(timeout or 15000, predicate, 10)
  if not ok then
    error('timed out waiting for ' .. what, 2)
  end
  H.step(what)
end

function H.source_plugin()
  vim.cmd('runtime! plugin/lsp_agent.lua')
  vim.cmd('runtime! plugin/lsp_agent.lua') -- the load guard makes a second load a no-op
end

function H.settings(extra)
  return vim.tbl_deep_extend('force', {
    model = { baseUrl = H.params.base_url, name = 'fake-model', contextWindow = 32000 },
    permissions = { mode = H.params.mode or 'ask' },
  }, extra or {})
end

function H.setup(extra)
  H.source_plugin()
  require('lsp_agent').setup(vim.tbl_deep_extend('force', { settings = H.settings() }, extra or {}))
end

function H.client(bufnr)
  return vim.lsp.get_clients({ name = 'lsp_agent', bufnr = bufnr })[1]
end

--- Edit a workspace file and wait until the server is attached and initialized.
function H.open(name)
  vim.cmd.edit(vim.fs.joinpath(H.params.root, name))
  local bufnr = vim.api.nvim_get_current_buf()
  H.wait('the server attached to ' .. name, function()
    local c = H.client(bufnr)
    return c ~= nil and c.initialized == true
  end)
  return bufnr
end

function H.session()
  local session = require('lsp_agent.session')
  local client = H.client() or vim.lsp.get_clients({ name = 'lsp_agent' })[1]
  local id = client and session.current[client.id]
  return id and session.sessions[id] or nil
end

function H.transcript_lines(s)
  s = s or H.session()
  if not (s and s.tx and vim.api.nvim_buf_is_valid(s.tx.buf)) then
    return {}
  end
  return vim.api.nvim_buf_get_lines(s.tx.buf, 0, -1, false)
end

function H.transcript(s)
  return table.concat(H.transcript_lines(s), '\n')
end

function H.lines(bufnr)
  return vim.api.nvim_buf_get_lines(bufnr or 0, 0, -1, false)
end

--- Wait for the current session's run to end.
function H.wait_run_end(timeout)
  H.wait('the run to end', function()
    local s = H.session()
    return s ~= nil and not s.running and s.tx ~= nil and s.tx.block == 'end'
  end, timeout)
  return H.session()
end

--- Stub vim.ui.select: `pick(items, opts)` returns the chosen item (nil = dismissed).
function H.stub_select(pick)
  H.result.selects = H.result.selects or {}
  vim.ui.select = function(items, opts, on_choice)
    local shown = {}
    for _, item in ipairs(items) do
      table.insert(shown, (opts.format_item or tostring)(item))
    end
    table.insert(H.result.selects, { prompt = opts.prompt, kind = opts.kind, items = shown })
    on_choice(pick(items, opts, shown))
  end
end

local function write_result()
  H.result.notifications = H.notifications
  local f = assert(io.open(H.params.out, 'w'))
  f:write(vim.json.encode(H.result))
  f:close()
end

local function stop_clients()
  local clients = vim.lsp.get_clients({ name = 'lsp_agent' })
  for _, c in ipairs(clients) do
    c:stop()
  end
  vim.wait(5000, function()
    for _, c in ipairs(clients) do
      if not c:is_stopped() then
        return false
      end
    end
    return true
  end, 10)
end

--- A capture of the screen, as a terminal shows it. A UI cannot attach to this Neovim
--- while a scenario runs (it is still starting up), so its windows are saved (:mksession,
--- and each window's lines, cursor and top line), drawn again by a real terminal Neovim in
--- a detached tmux session, and tmux's capture-pane gives the text. Written to `path`;
--- returns nil, or why there is no capture.
function H.capture_screen(path)
  if vim.fn.executable('tmux') == 0 then
    return 'no tmux'
  end
  vim.fn.mkdir(vim.fs.dirname(path), 'p')
  local windows = {}
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    local buf = vim.api.nvim_win_get_buf(win)
    local info = vim.fn.getwininfo(win)[1]
    table.insert(windows, {
      lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
      cursor = vim.api.nvim_win_get_cursor(win),
      topline = info.topline,
    })
  end
  local session, state = path .. '.session.vim', path .. '.windows.json'
  vim.cmd('silent! mksession! ' .. vim.fn.fnameescape(session))
  local f = assert(io.open(state, 'w'))
  f:write(vim.json.encode({ columns = vim.o.columns, windows = windows }))
  f:close()
  local restore = vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)), 'screen.lua')
  local name = ('lsp-agent-test-%d'):format(vim.fn.getpid())
  local command = table.concat({
    vim.fn.shellescape(vim.v.progpath), '-n -u NONE -i NONE',
    '-S', vim.fn.shellescape(session),
    '-c', vim.fn.shellescape('luafile ' .. restore),
  }, ' ')
  local env = 'LSP_AGENT_SCREEN_STATE=' .. vim.fn.shellescape(state)
  local started = vim.system({ 'tmux', 'new-session', '-d', '-s', name, '-x', '160', '-y', '45', env .. ' ' .. command }):wait()
  if started.code ~= 0 then
    return 'tmux: ' .. (started.stderr or '')
  end
  local screen = ''
  local ok = vim.wait(10000, function()
    screen = vim.system({ 'tmux', 'capture-pane', '-p', '-t', name }):wait().stdout or ''
    return screen:find('%S') ~= nil
      and vim.system({ 'tmux', 'show-environment', '-t', name, 'LSP_AGENT_SCREEN_DRAWN' }):wait().code == 0
  end, 50)
  vim.system({ 'tmux', 'kill-session', '-t', name }):wait()
  os.remove(session)
  os.remove(state)
  if not ok then
    return 'the terminal Neovim drew nothing'
  end
  f = assert(io.open(path, 'w'))
  f:write(screen)
  f:close()
  return nil
end

--- Run a scenario; its errors are reported in the result (pytest shows them), with a
--- capture of the screen when pytest named a place for it.
function H.run(scenario)
  local ok, err = xpcall(scenario, debug.traceback)
  if not ok then
    H.result.error = tostring(err)
    H.result.transcript = H.transcript_lines()
    if H.params.screen then
      local s = H.session()
      if s and s.tx then
        pcall(require('lsp_agent.transcript').open, s) -- show it, if the scenario had not
      end
      local failed = H.capture_screen(H.params.screen)
      H.result.screen = failed == nil and H.params.screen or nil
      H.result.screen_error = failed
    end
  end
  H.step('scenario done')
  pcall(stop_clients)
  H.step('clients stopped')
  write_result()
end

return H
