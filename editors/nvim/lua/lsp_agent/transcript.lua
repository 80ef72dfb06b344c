-- The transcript buffer of a session: streamed text, thoughts (dimmed, folded), one line per
-- tool call updated in place (with a short tail of its output, or a short diff), the plan,
-- usage, compactions, and how each run ended.
--
-- Never a full redraw: text is appended at the end, a tool call or the plan rewrites only its
-- own lines (a bounded tail), and updates are queued and applied once per frame (FRAME_MS),
-- consecutive text chunks merged into one edit.
local api = vim.api
local config = require('lsp_agent.config')
local tools = require('lsp_agent.tool_lines')

local M = {}

local ns = api.nvim_create_namespace('lsp_agent.transcript') -- line highlights
local marks = api.nvim_create_namespace('lsp_agent.transcript.marks') -- tool and plan lines

local HIGHLIGHTS = {
  LspAgentHeader = 'Title',
  LspAgentRole = 'Title',
  LspAgentThought = 'Comment',
  LspAgentTool = 'Function',
  LspAgentToolDone = 'DiagnosticOk',
  LspAgentToolFailed = 'DiagnosticError',
  LspAgentOutput = 'Comment',
  LspAgentDiffAdd = 'Added',
  LspAgentDiffDelete = 'Removed',
  LspAgentPlan = 'Identifier',
  LspAgentNote = 'WarningMsg',
  LspAgentCompaction = 'Special',
  LspAgentEnd = 'Comment',
}
for group, link in pairs(HIGHLIGHTS) do
  api.nvim_set_hl(0, group, { link = link, default = true })
end

M.THOUGHT = '┊ '
local PLAN_ICON = { pending = '[ ]', in_progress = '[~]', completed = '[x]' }
M.FRAME_MS = 16 -- updates are applied at most once per frame
local COMPACTED = {
  snip = 'old tool outputs removed',
  summarize = 'older turns summarized',
  clear = 'conversation cleared',
}

--- Fold expression: thoughts fold away.
function M.foldexpr()
  local line = vim.fn.getline(vim.v.lnum)
  return line:sub(1, #M.THOUGHT) == M.THOUGHT and '1' or '0'
end

local function opts()
  return config.options.transcript
end

local function valid(s)
  return s.tx and s.tx.buf and api.nvim_buf_is_valid(s.tx.buf)
end

local function fmt_tokens(n)
  if type(n) ~= 'number' then
    return '?'
  elseif n >= 1000 then
    return (('%.1f'):format(n / 1000):gsub('%.0$', '')) .. 'k'
  end
  return tostring(n)
end

local function header(s)
  local tx = s.tx
  local parts = { 'lsp-agent', s.title ~= nil and s.title ~= '' and s.title or s.id, tx.status }
  if tx.usage then
    local ctx = 'context ' .. fmt_tokens(tx.usage.used)
    if type(tx.usage.size) == 'number' then
      ctx = ctx .. '/' .. fmt_tokens(tx.usage.size)
    end
    table.insert(parts, ctx)
    if type(tx.usage.cost) == 'table' and type(tx.usage.cost.amount) == 'number' then
      table.insert(parts, ('$%.4f'):format(tx.usage.cost.amount))
    end
  end
  return table.concat(parts, ' · ')
end

--- Run fn with the buffer writable, keeping windows that showed the end at the end.
local function edit(s, fn)
  local buf = s.tx.buf
  local last = api.nvim_buf_line_count(buf)
  local following = {}
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    if api.nvim_win_get_cursor(win)[1] >= last then
      table.insert(following, win)
    end
  end
  vim.bo[buf].modifiable = true
  local ok, err = pcall(fn, buf)
  vim.bo[buf].modifiable = false
  if not ok then
    error(err)
  end
  local new_last = api.nvim_buf_line_count(buf)
  for _, win in ipairs(following) do
    pcall(api.nvim_win_set_cursor, win, { new_last, 0 })
  end
end

local function highlight(buf, row, group)
  if group then
    api.nvim_buf_set_extmark(buf, ns, row, 0, { line_hl_group = group })
  end
end

--- Append lines at the end (each highlighted with `group`); returns the first new row.
local function add_lines(s, lines, group)
  local buf = s.tx.buf
  local row = api.nvim_buf_line_count(buf)
  api.nvim_buf_set_lines(buf, row, row, false, lines)
  for i = 0, #lines - 1 do
    highlight(buf, row + i, group)
  end
  s.tx.open = nil
  return row
end

local function set_line(buf, row, text)
  local old = api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ''
  api.nvim_buf_set_text(buf, row, 0, row, #old, { text })
end

local function refresh_header(s)
  if valid(s) then
    edit(s, function(buf)
      set_line(buf, 0, header(s))
    end)
  end
end

--- The session's buffer, created on first use.
function M.ensure(s)
  if valid(s) then
    return s.tx.buf
  end
  local buf = api.nvim_create_buf(false, true)
  s.tx = { buf = buf, status = 'idle', tools = {}, open = nil, block = nil }
  pcall(api.nvim_buf_set_name, buf, 'lsp-agent://' .. s.id)
  vim.bo[buf].filetype = 'lsp_agent'
  vim.bo[buf].modifiable = false
  vim.b[buf].lsp_agent_session = s.id
  vim.keymap.set('n', 'q', '<cmd>close<cr>', { buffer = buf, nowait = true, desc = 'Close the transcript' })
  vim.keymap.set('n', '<C-c>', function()
    require('lsp_agent').cancel({ session = s.id })
  end, { buffer = buf, desc = 'Cancel the run' })
  edit(s, function(b)
    set_line(b, 0, header(s))
    highlight(b, 0, 'LspAgentHeader')
  end)
  return buf
end

--- Forget what was shown (before a session is replayed).
function M.reset(s)
  local buf = M.ensure(s)
  s.tx.queue = nil -- what was queued belongs to what is forgotten
  edit(s, function(b)
    api.nvim_buf_clear_namespace(b, ns, 0, -1)
    api.nvim_buf_clear_namespace(b, marks, 0, -1)
    api.nvim_buf_set_lines(b, 0, -1, false, { header(s) })
    highlight(b, 0, 'LspAgentHeader')
  end)
  s.tx.tools, s.tx.plan, s.tx.open, s.tx.block, s.tx.role = {}, nil, nil, nil, nil
  return buf
end

local function set_window_options(win)
  local wo = vim.wo[win]
  wo.wrap = true
  wo.linebreak = true
  wo.number = false
  wo.relativenumber = false
  wo.signcolumn = 'no'
  wo.spell = false
  if opts().fold_thoughts then
    wo.foldmethod = 'expr'
    wo.foldexpr = "v:lua.require'lsp_agent.transcript'.foldexpr()"
    wo.foldlevel = 0
    wo.foldenable = true
  end
end

--- Show the transcript (a split, vsplit, tab or float); returns its window.
function M.open(s, enter)
  local buf = M.ensure(s)
  local existing = vim.fn.win_findbuf(buf)
  for _, win in ipairs(existing) do
    if api.nvim_win_get_tabpage(win) == api.nvim_get_current_tabpage() then
      if enter then
        api.nvim_set_current_win(win)
      end
      return win
    end
  end
  local o = opts()
  if enter == nil then
    enter = o.enter
  end
  local previous = api.nvim_get_current_win()
  local win
  if o.layout == 'float' then
    local width = math.max(20, math.floor(vim.o.columns * (o.float.width or 0.8)))
    local height = math.max(5, math.floor((vim.o.lines - 2) * (o.float.height or 0.8)))
    win = api.nvim_open_win(buf, enter, {
      relative = 'editor',
      width = width,
      height = height,
      row = math.floor((vim.o.lines - 2 - height) / 2),
      col = math.floor((vim.o.columns - width) / 2),
      border = o.float.border or 'rounded',
      title = ' lsp-agent ',
      title_pos = 'center',
    })
  else
    if o.layout == 'tab' then
      vim.cmd('tab split')
    elseif o.layout == 'split' then
      vim.cmd(('botright %ssplit'):format(o.size or 15))
    else
      vim.cmd(('botright %svsplit'):format(o.size or 80))
    end
    win = api.nvim_get_current_win()
    api.nvim_win_set_buf(win, buf)
    if not enter and o.layout ~= 'tab' then
      api.nvim_set_current_win(previous)
    end
  end
  set_window_options(win)
  pcall(api.nvim_win_set_cursor, win, { api.nvim_buf_line_count(buf), 0 })
  return win
end

function M.is_open(s)
  return valid(s) and #vim.fn.win_findbuf(s.tx.buf) > 0
end

function M.close(s)
  if valid(s) then
    for _, win in ipairs(vim.fn.win_findbuf(s.tx.buf)) do
      pcall(api.nvim_win_close, win, false)
    end
  end
end

--- Begin a block of a new kind: a role line when the speaker changes.
local function begin(s, block)
  if block == 'user' then
    if s.tx.role ~= 'user' then
      add_lines(s, { '', '▌ You' }, 'LspAgentRole')
      s.tx.role = 'user'
    end
  elseif s.tx.role ~= 'agent' then
    add_lines(s, { '', '▌ Agent' }, 'LspAgentRole')
    s.tx.role = 'agent'
  end
  s.tx.block = block
end

--- Append streamed text: the first piece continues the open line of the same kind.
local function stream(s, kind, text, prefix, group)
  prefix = prefix or ''
  local pieces = vim.split(text:gsub('\r\n', '\n'), '\n', { plain = true })
  edit(s, function(buf)
    local block = s.tx.block or ''
    local after_block = (block == 'tool' or block == 'plan' or block:find('^sub:') ~= nil)
      and not kind:find('^sub:')
    begin(s, kind)
    if s.tx.open ~= kind and after_block then
      add_lines(s, { '' }, nil) -- a blank line after tool calls and the plan
    end
    if s.tx.open == kind then
      local last = api.nvim_buf_line_count(buf) - 1
      local line = api.nvim_buf_get_lines(buf, last, last + 1, false)[1] or ''
      api.nvim_buf_set_text(buf, last, #line, last, #line, { pieces[1] })
    else
      add_lines(s, { prefix .. pieces[1] }, group)
    end
    for i = 2, #pieces do
      add_lines(s, { prefix .. pieces[i] }, group)
    end
    s.tx.open = kind
  end)
end

local TOOL_GROUP = { completed = 'LspAgentToolDone', failed = 'LspAgentToolFailed' }

--- Redraw a block (a tool call or the plan) in place: its head line and its body.
local function redraw(s, block, head, head_group, body)
  local buf = s.tx.buf
  edit(s, function()
    if not block.mark then
      local row = add_lines(s, { head }, nil)
      block.mark = api.nvim_buf_set_extmark(buf, marks, row, 0, {})
      block.n = 0
    end
    local row = api.nvim_buf_get_extmark_by_id(buf, marks, block.mark, {})[1]
    set_line(buf, row, head)
    block.hl = api.nvim_buf_set_extmark(buf, ns, row, 0, { id = block.hl, line_hl_group = head_group })
    api.nvim_buf_clear_namespace(buf, ns, row + 1, row + 1 + block.n)
    api.nvim_buf_set_lines(
      buf,
      row + 1,
      row + 1 + block.n,
      false,
      vim.tbl_map(function(l)
        return l.text
      end, body)
    )
    for i, l in ipairs(body) do
      highlight(buf, row + i, l.group)
    end
    block.n = #body
  end)
end

local function draw_tool(s, tool)
  redraw(s, tool, tools.head(tool), TOOL_GROUP[tool.status] or 'LspAgentTool', tools.body(tool))
end

local function draw_plan(s)
  local plan = s.tx.plan
  local body = {}
  for _, entry in ipairs(plan.entries) do
    table.insert(body, {
      text = ('    %s %s'):format(PLAN_ICON[entry.status] or '[ ]', entry.content),
      group = 'LspAgentPlan',
    })
  end
  redraw(s, plan, '  ◆ Plan', 'LspAgentPlan', body)
end

local function text_of(update)
  local content = update.content
  return type(content) == 'table' and type(content.text) == 'string' and content.text or ''
end

--- "⇣ context compacted: older turns summarized, 3.5k → 600 tokens"
function M.compaction_line(update)
  local what = COMPACTED[update.method] or tostring(update.method)
  local why = update.reason == 'overflow' and " (the server's context overflowed)" or ''
  return ('⇣ context compacted: %s%s, %s → %s tokens'):format(
    what,
    why,
    fmt_tokens(update.tokensBefore),
    fmt_tokens(update.tokensAfter)
  )
end

--- Render one `agent/session/update` now.
local function apply(s, update)
  local kind = update.sessionUpdate
  if kind == 'user_message_chunk' then
    stream(s, 'user', text_of(update))
  elseif kind == 'agent_message_chunk' then
    stream(s, 'agent', text_of(update))
  elseif kind == 'agent_thought_chunk' and type(update.parentToolCallId) == 'string' then
    -- a sub-agent's text: indented under its `task` call, never folded into the answer
    local parent = update.parentToolCallId
    stream(s, 'sub:' .. parent, text_of(update), '  ' .. tools.NESTED .. M.THOUGHT, 'LspAgentThought')
  elseif kind == 'agent_thought_chunk' then
    stream(s, 'thought', text_of(update), M.THOUGHT, 'LspAgentThought')
  elseif kind == 'tool_call' then
    edit(s, function()
      begin(s, 'tool')
    end)
    local tool = {
      id = update.toolCallId,
      title = update.title or '',
      kind = update.kind or 'other',
      status = update.status or 'pending',
      lines = { '' },
      diffs = {},
      parent = type(update.parentToolCallId) == 'string' and update.parentToolCallId or nil,
    }
    s.tx.tools[tool.id] = tool
    draw_tool(s, tool)
  elseif kind == 'tool_call_update' then
    local tool = s.tx.tools[update.toolCallId]
    if not tool then
      return
    end
    if type(update.status) == 'string' then
      tool.status = update.status
    end
    for _, item in ipairs(type(update.content) == 'table' and update.content or {}) do
      if item.type == 'diff' then
        table.insert(tool.diffs, item)
      elseif item.type == 'content' and type(item.content) == 'table' then
        tools.add_output(tool, item.content.text or '')
      end
    end
    draw_tool(s, tool)
  elseif kind == 'plan' then
    if not s.tx.plan then
      edit(s, function()
        begin(s, 'plan')
      end)
    end
    s.tx.plan = s.tx.plan or {}
    s.tx.plan.entries = update.entries or {}
    draw_plan(s)
  elseif kind == 'usage_update' then
    s.tx.usage = { used = update.used, size = update.size, cost = update.cost }
    refresh_header(s)
  elseif kind == 'compaction' then
    local prefix = type(update.parentToolCallId) == 'string' and ('  ' .. tools.NESTED) or ''
    edit(s, function()
      add_lines(s, { prefix .. M.compaction_line(update) }, 'LspAgentCompaction')
    end)
    s.tx.block = 'note'
    if prefix == '' and type(update.tokensAfter) == 'number' then -- the meter drops at once
      local usage = s.tx.usage or {}
      s.tx.usage = { used = update.tokensAfter, size = usage.size, cost = usage.cost }
      refresh_header(s)
      pcall(vim.cmd.redrawstatus)
    end
  elseif kind == 'session_info_update' then
    if type(update.title) == 'string' and update.title ~= '' then
      s.title = update.title
      refresh_header(s)
    end
  end
end

--- Apply the queued updates: consecutive text chunks of one kind become one edit.
function M.flush(s)
  local tx = s.tx
  if not tx or not tx.queue then
    return
  end
  local queue = tx.queue
  tx.queue = nil
  if not valid(s) then
    return
  end
  local i = 1
  while i <= #queue do
    local update = queue[i]
    local kind = update.sessionUpdate
    if kind == 'agent_message_chunk' or kind == 'agent_thought_chunk' or kind == 'user_message_chunk' then
      local texts = { text_of(update) }
      local parent = update.parentToolCallId
      while queue[i + 1] and queue[i + 1].sessionUpdate == kind and queue[i + 1].parentToolCallId == parent do
        i = i + 1
        table.insert(texts, text_of(queue[i]))
      end
      if #texts > 1 then
        update = { sessionUpdate = kind, parentToolCallId = parent, content = { text = table.concat(texts) } }
      end
    end
    apply(s, update)
    i = i + 1
  end
end

--- Queue one `agent/session/update`; the queue is applied on the next frame.
function M.update(s, update)
  M.ensure(s)
  local tx = s.tx
  if not tx.queue then
    tx.queue = {}
    vim.defer_fn(function()
      if s.tx == tx then
        M.flush(s)
      end
    end, M.FRAME_MS)
  end
  table.insert(tx.queue, update)
end

function M.permission(s, tool_call_id, answer)
  M.ensure(s)
  M.flush(s)
  local tool = s.tx.tools[tool_call_id]
  if tool then
    tool.permission = answer
    draw_tool(s, tool)
  else
    M.note(s, 'permission: ' .. answer)
  end
end

function M.note(s, text, group)
  M.ensure(s)
  M.flush(s)
  edit(s, function()
    add_lines(s, { text }, group or 'LspAgentNote')
  end)
  s.tx.block = 'note'
end

function M.set_status(s, status)
  M.ensure(s)
  M.flush(s)
  s.tx.status = status
  refresh_header(s)
end

local function plural(n, word)
  return ('%d %s%s'):format(n, word, n == 1 and '' or 's')
end

--- The run ended: its stop reason, or the request's error.
function M.finish(s, result, err)
  M.ensure(s)
  M.flush(s)
  local line
  if err then
    s.tx.status = 'error'
    line = '── error: ' .. (err.message or tostring(err)) .. ' ──'
  else
    s.tx.status = result.stopReason == 'end_turn' and 'done' or result.stopReason
    local parts = {
      result.stopReason,
      plural(result.turns or 0, 'turn'),
      plural(result.toolCalls or 0, 'tool call'),
    }
    if type(result.usage) == 'table' and result.usage.totalTokens then
      table.insert(parts, fmt_tokens(result.usage.totalTokens) .. ' tokens')
    end
    if type(result.costUsd) == 'number' then
      table.insert(parts, ('$%.4f'):format(result.costUsd))
    end
    line = '── ' .. table.concat(parts, ' · ') .. ' ──'
  end
  edit(s, function()
    add_lines(s, { '', line }, err and 'LspAgentToolFailed' or 'LspAgentEnd')
    if not err and type(result.error) == 'string' and result.error ~= '' then
      add_lines(s, { result.error }, 'LspAgentToolFailed')
    end
  end)
  s.tx.block, s.tx.role, s.tx.plan = 'end', nil, nil
  refresh_header(s)
end

return M
