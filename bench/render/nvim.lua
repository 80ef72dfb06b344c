-- bench/render.py (a): the Neovim plugin renders one streamed run into its transcript while
-- a repeating vim.uv timer measures how late the main loop runs it (the stall).
-- Started as `nvim [--headless] -n -u NONE -i NONE --cmd 'set rtp^=editors/nvim' -c 'luafile
-- THIS'`; parameters from the JSON file in $LSP_AGENT_BENCH_PARAMS; writes its result there
-- (.out) and quits.
local uv = vim.uv
local f = assert(io.open(assert(os.getenv('LSP_AGENT_BENCH_PARAMS')), 'r'))
local P = vim.json.decode(f:read('*a'))
f:close()

local result = { lateness_ms = {}, ticks = 0 }
local function finish(err)
  result.error = err
  local s = require('lsp_agent.session')
  for _, sess in pairs(s.sessions) do
    if sess.tx and vim.api.nvim_buf_is_valid(sess.tx.buf) then
      result.lines = vim.api.nvim_buf_line_count(sess.tx.buf)
      result.last_line = vim.api.nvim_buf_get_lines(sess.tx.buf, -2, -1, false)[1]
      result.stop_reason = sess.last_result and sess.last_result.stopReason
    end
  end
  local out = assert(io.open(P.out, 'w'))
  out:write(vim.json.encode(result))
  out:close()
  vim.cmd('qa!')
end

vim.cmd('runtime! plugin/lsp_agent.lua')
require('lsp_agent').setup({
  settings = {
    model = { baseUrl = P.base_url, name = 'fake-model', contextWindow = 200000 },
    permissions = { mode = 'auto' },
  },
  transcript = { layout = 'vsplit', size = 100, enter = false },
})
vim.cmd.edit(P.file)

local interval = P.interval_ms
local timer = uv.new_timer()
local last, measuring = nil, false
timer:start(interval, interval, function()
  local now = uv.hrtime()
  if measuring and last then
    local late = (now - last) / 1e6 - interval
    table.insert(result.lateness_ms, late > 0 and late or 0)
    result.ticks = result.ticks + 1
  end
  last = now
end)

local started = uv.hrtime()
local poll = uv.new_timer()
local asked = false
poll:start(20, 20, vim.schedule_wrap(function()
  local s = require('lsp_agent.session')
  local client = vim.lsp.get_clients({ name = 'lsp_agent' })[1]
  if not asked then
    if client and client.initialized then
      asked = true
      measuring = true
      result.t0 = uv.hrtime()
      vim.cmd('AgentAsk! ' .. P.prompt)
    elseif (uv.hrtime() - started) / 1e9 > 30 then
      poll:stop()
      finish('the server did not start')
    end
    return
  end
  local id = client and s.current[client.id]
  local sess = id and s.sessions[id]
  if sess and not sess.running and sess.tx and sess.tx.block == 'end' then
    measuring = false
    result.run_s = (uv.hrtime() - result.t0) / 1e9
    poll:stop()
    timer:stop()
    finish(nil)
  elseif (uv.hrtime() - result.t0) / 1e9 > P.timeout_s then
    poll:stop()
    finish('the run did not end in time')
  end
end))
