-- agent/review: an agent edit shown before it lands (setting editor.review "hunks" / "file").
-- A new tab holds the current text (left) and the agent's proposal (right) in vim's diff
-- mode; buffer-local keys accept or reject the hunk under the cursor, or all of them. The
-- answer goes back once every hunk is decided (or on submit); closing the view rejects all.
local api = vim.api
local util = require('lsp_agent.util')

local M = {}

M.KEYS = {
  accept = 'a', -- the hunk under the cursor
  reject = 'r',
  accept_all = 'A',
  reject_all = 'R',
  submit = '<CR>', -- undecided hunks count as rejected
  close = 'q', -- closed: everything rejected
}

local ns = api.nvim_create_namespace('lsp_agent_review')
M.active = {} -- tabpage -> view, for tests and :tabclose

-- A run that ends (cancelled, or the server stopped waiting) leaves no review open.
api.nvim_create_autocmd('User', {
  group = api.nvim_create_augroup('lsp_agent_review', { clear = true }),
  pattern = 'LspAgentRunEnd',
  callback = function(args)
    local session = type(args.data) == 'table' and args.data.session or nil
    local open = {}
    for _, view in pairs(M.active) do
      if view.session == session then
        table.insert(open, view)
      end
    end
    for _, view in ipairs(open) do
      M.action(view, 'proposed', 'close')
    end
  end,
})

local function lines_of(text)
  local lines = vim.split(text or '', '\n', { plain = true })
  if lines[#lines] == '' then
    table.remove(lines)
  end
  return lines
end

local function scratch(name, text, ft)
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_lines(buf, 0, -1, false, lines_of(text))
  pcall(api.nvim_buf_set_name, buf, name)
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].modifiable = false
  if ft and ft ~= '' then
    vim.bo[buf].filetype = ft
  end
  return buf
end

--- The hunk under the cursor: its lines in this side's text (a hunk with none there, an
--- insertion or deletion, is matched on the line next to where it would be).
function M.hunk_at(view, side, line)
  local start, count = side .. 'Start', side .. 'Lines'
  local nearest
  for _, h in ipairs(view.hunks) do
    local first = h[start] + 1
    if h[count] > 0 and line >= first and line < first + h[count] then
      return h
    end
    if h[count] == 0 and (line == first or line == first - 1) then
      nearest = nearest or h
    end
  end
  return nearest
end

local function mark(view)
  for side, buf in pairs(view.bufs) do
    if api.nvim_buf_is_valid(buf) then
      api.nvim_buf_clear_namespace(buf, ns, 0, -1)
      local total = api.nvim_buf_line_count(buf)
      for _, h in ipairs(view.hunks) do
        local d = view.decided[h.id]
        local label = ('hunk %d: %s'):format(h.id + 1, d == nil and 'a accept · r reject' or d)
        local hl = d == 'accepted' and 'DiagnosticOk' or (d == 'rejected' and 'DiagnosticError' or 'Comment')
        local row = math.max(0, math.min(h[side .. 'Start'], total - 1))
        api.nvim_buf_set_extmark(buf, ns, row, 0, { virt_text = { { label, hl } }, virt_text_pos = 'eol' })
      end
    end
  end
end

local function answer(view, result)
  if view.done then
    return
  end
  view.done = true
  M.active[view.tab] = nil
  if api.nvim_tabpage_is_valid(view.tab) and #api.nvim_list_tabpages() > 1 then
    pcall(vim.cmd, 'tabclose ' .. api.nvim_tabpage_get_number(view.tab))
  end
  view.finish(result)
end

function M.submit(view)
  local accepted, rejected = {}, {}
  for _, h in ipairs(view.hunks) do
    table.insert(view.decided[h.id] == 'accepted' and accepted or rejected, h.id)
  end
  answer(view, { accepted = accepted, rejected = rejected })
end

local function decide(view, ids, decision)
  for _, id in ipairs(ids) do
    view.decided[id] = decision
  end
  mark(view)
  for _, h in ipairs(view.hunks) do
    if view.decided[h.id] == nil then
      return
    end
  end
  M.submit(view) -- every hunk decided
end

local function all_ids(view)
  return vim.tbl_map(function(h)
    return h.id
  end, view.hunks)
end

--- The keys' actions (also for a user's own mappings): on the hunk under the cursor.
function M.action(view, side, what)
  if what == 'accept_all' or what == 'reject_all' then
    return decide(view, all_ids(view), what == 'accept_all' and 'accepted' or 'rejected')
  elseif what == 'submit' then
    return M.submit(view)
  elseif what == 'close' then
    return answer(view, { accepted = {}, rejected = all_ids(view), closed = true })
  end
  local h = M.hunk_at(view, side, api.nvim_win_get_cursor(0)[1])
  if not h then
    return util.notify('no hunk under the cursor (]c / [c move between hunks)', vim.log.levels.WARN)
  end
  -- a whole-file review is all or nothing
  local ids = view.granularity == 'file' and all_ids(view) or { h.id }
  decide(view, ids, what == 'accept' and 'accepted' or 'rejected')
end

--- Open the view; `finish(result)` gets the answer exactly once.
function M.open(params, finish)
  local path = type(params.path) == 'string' and params.path or '?'
  local ft = vim.filetype.match({ filename = path }) or ''
  vim.cmd('tabnew')
  local tab = api.nvim_get_current_tabpage()
  local view = {
    tab = tab,
    session = params.sessionId,
    hunks = type(params.hunks) == 'table' and params.hunks or {},
    granularity = params.granularity,
    decided = {},
    finish = finish,
    bufs = {},
  }
  local empty = api.nvim_get_current_buf()
  view.bufs.original = scratch('lsp-agent://review/now/' .. path, params.original, ft)
  view.bufs.proposed = scratch('lsp-agent://review/agent/' .. path, params.proposed, ft)
  api.nvim_win_set_buf(0, view.bufs.original)
  if api.nvim_buf_is_valid(empty) and empty ~= view.bufs.original then
    pcall(api.nvim_buf_delete, empty, { force = true })
  end
  vim.cmd('diffthis')
  vim.cmd('rightbelow vsplit')
  api.nvim_win_set_buf(0, view.bufs.proposed)
  vim.cmd('diffthis')
  vim.wo.winbar = ('lsp-agent: %s · %s — a/r hunk · A/R all · <CR> done · q reject'):format(
    params.title or 'edit',
    path
  )
  for side, buf in pairs(view.bufs) do
    for what, key in pairs(M.KEYS) do
      vim.keymap.set('n', key, function()
        M.action(view, side, what)
      end, { buffer = buf, nowait = true, desc = 'lsp-agent review: ' .. what })
    end
    -- closing either window (or the tab) without deciding is a reject
    api.nvim_create_autocmd({ 'BufWipeout', 'BufHidden' }, {
      buffer = buf,
      once = true,
      callback = function()
        vim.schedule(function()
          answer(view, { accepted = {}, rejected = all_ids(view), closed = true })
        end)
      end,
    })
  end
  M.active[tab] = view
  mark(view)
  local first = view.hunks[1]
  if first then
    pcall(api.nvim_win_set_cursor, 0, { math.max(1, first.proposedStart + 1), 0 })
  end
  return view
end

--- The agent/review handler: waits for the user (yielding the coroutine Neovim 0.11+ runs
--- server requests in; else vim.wait), and answers { accepted, rejected, closed? }.
function M.handle(_, params)
  if type(params) ~= 'table' or type(params.hunks) ~= 'table' then
    return nil, { code = -32602, message = 'agent/review: no hunks' }
  end
  local co, is_main = coroutine.running()
  local done, result = false, nil
  local function finish(r)
    done, result = true, r
    if co and not is_main then
      vim.schedule(function()
        local ok, err = coroutine.resume(co, r)
        if not ok then
          util.notify('answering the review failed: ' .. tostring(err), vim.log.levels.ERROR)
        end
      end)
    end
  end
  local ok, err = pcall(M.open, params, finish)
  if not ok then
    util.notify('could not show the review: ' .. tostring(err), vim.log.levels.ERROR)
    return nil, { code = -32603, message = 'could not show the review: ' .. tostring(err) }
  end
  if co and not is_main then
    return coroutine.yield()
  end
  vim.wait(24 * 3600 * 1000, function()
    return done
  end)
  return result
end

return M
