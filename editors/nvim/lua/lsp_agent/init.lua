-- lsp-agent for Neovim: setup() and what the :Agent* commands do. All agent logic is in the
-- server (`lsp-agent serve`); this is the client side of its protocol and a transcript.
local api = vim.api
local client_mod = require('lsp_agent.client')
local config = require('lsp_agent.config')
local diagnostics = require('lsp_agent.diagnostics')
local util = require('lsp_agent.util')

local M = {}

local function attach(bufnr)
  local o = config.options
  if not util.is_file_buffer(bufnr) then
    return
  end
  if o.filetypes and not vim.tbl_contains(o.filetypes, vim.bo[bufnr].filetype) then
    return
  end
  if vim.fn.executable(o.cmd[1]) == 0 then
    if not M._warned_missing then
      M._warned_missing = true
      util.notify(
        ('the server `%s` was not found: pip install lsp-agent, or set cmd in setup()'):format(o.cmd[1]),
        vim.log.levels.WARN
      )
    end
    return
  end
  client_mod.start(bufnr)
end

--- Configure the plugin and (with autostart) attach the server to file buffers.
--- Works on Neovim 0.10+. On 0.11+ you may instead use vim.lsp.enable('lsp_agent').
---@param opts lsp_agent.Options?
function M.setup(opts)
  config.set(opts)
  local group = api.nvim_create_augroup('lsp_agent', { clear = true })
  if config.options.autostart then
    api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile', 'FileType' }, {
      group = group,
      callback = function(args)
        attach(args.buf)
      end,
    })
    for _, bufnr in ipairs(api.nvim_list_bufs()) do
      if api.nvim_buf_is_loaded(bufnr) then
        attach(bufnr)
      end
    end
  end
end

--- The LSP context of the current buffer: its document and, with a range, the selection.
---@param range {[1]: integer, [2]: integer}? 1-based lines
local function context(client, bufnr, range)
  if not util.is_file_buffer(bufnr) then
    return nil
  end
  local ctx = { textDocument = { uri = vim.uri_from_bufnr(bufnr), version = util.version(bufnr) } }
  if range then
    local enc = client.offset_encoding
    local first, last = range[1], range[2]
    local start_col, end_col = 0, #util.line(bufnr, last - 1)
    local vs, ve = api.nvim_buf_get_mark(bufnr, '<'), api.nvim_buf_get_mark(bufnr, '>')
    if vim.fn.visualmode() == 'v' and vs[1] == first and ve[1] == last then
      local line = util.line(bufnr, last - 1)
      start_col = vs[2]
      end_col = math.min(#line, ve[2] + 1)
      local ok, extra = pcall(vim.str_utf_end, line, end_col)
      if ok and extra then
        end_col = math.min(#line, end_col + extra)
      end
    end
    ctx.range = {
      start = { line = first - 1, character = util.units(util.line(bufnr, first - 1), start_col, enc) },
      ['end'] = { line = last - 1, character = util.units(util.line(bufnr, last - 1), end_col, enc) },
    }
  end
  return ctx
end

--- :AgentAsk [prompt] — ask in the current session (new with bang); the range is the context.
---@param opts {prompt: string?, range: integer[]?, new: boolean?}?
function M.ask(opts)
  opts = opts or {}
  local bufnr = api.nvim_get_current_buf()
  local function go(text)
    if not text or vim.trim(text) == '' then
      return
    end
    client_mod.with_client(bufnr, function(client)
      local ctx = context(client, bufnr, opts.range)
      local prompt, notes, selection = require('lsp_agent.mentions').prompt(text, bufnr, opts.range, client.offset_encoding)
      if selection and ctx then
        ctx.range = nil -- @selection carries it
      end
      for _, note in ipairs(notes) do
        util.notify(note, vim.log.levels.WARN)
      end
      require('lsp_agent.session').run(client, text, ctx, { new = opts.new, bufnr = bufnr, prompt = prompt })
    end)
  end
  if opts.prompt and vim.trim(opts.prompt) ~= '' then
    return go(opts.prompt)
  end
  vim.ui.input({
    prompt = opts.range and 'Ask lsp-agent about the selection: ' or 'Ask lsp-agent: ',
    completion = require('lsp_agent.complete').INPUT,
  }, go)
end

--- :'<,'>AgentEdit [instruction] — an inline edit: the agent may change only these lines
--- (the server refuses its edits anywhere else). Without a range: the cursor's line.
---@param opts {instruction: string?, range: integer[]?}?
function M.edit(opts)
  opts = opts or {}
  local bufnr = api.nvim_get_current_buf()
  if not util.is_file_buffer(bufnr) then
    return util.notify('AgentEdit needs a file buffer', vim.log.levels.WARN)
  end
  local row = api.nvim_win_get_cursor(0)[1]
  local first, last = unpack(opts.range or { row, row })
  first, last = math.min(first, last), math.max(first, last)
  local function go(instruction)
    if not instruction or vim.trim(instruction) == '' then
      return
    end
    client_mod.with_client(bufnr, function(client)
      local edit = require('lsp_agent.mentions').inline_edit(bufnr, first, last, client.offset_encoding)
      require('lsp_agent.session').run(client, vim.trim(instruction), nil, { bufnr = bufnr, inline_edit = edit })
    end)
  end
  if opts.instruction and vim.trim(opts.instruction) ~= '' then
    return go(opts.instruction)
  end
  local lines = first == last and ('line %d'):format(first) or ('lines %d-%d'):format(first, last)
  vim.ui.input({ prompt = ('Edit %s with lsp-agent: '):format(lines) }, go)
end

local FIX_PROMPT = 'Fix the problems reported below. Make the smallest correct change, '
  .. 'then say what you changed.'

--- Start a fix of `diags` (LSP diagnostics) in a new session; the lines they cover are the range.
local function run_fix(client, bufnr, diags, extra)
  local first, last = math.huge, 0
  for _, d in ipairs(diags) do
    first = math.min(first, d.range.start.line)
    last = math.max(last, d.range['end'].line)
  end
  local ctx = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr), version = util.version(bufnr) },
    range = {
      start = { line = first, character = 0 },
      ['end'] = {
        line = last,
        character = util.units(util.line(bufnr, last), math.huge, client.offset_encoding),
      },
    },
    diagnostics = diags,
  }
  if ctx.range['end'].character == 0 and first == last then
    ctx.range['end'] = { line = last + 1, character = 0 } -- an empty line: still a range
  end
  local text = FIX_PROMPT .. ((extra and extra ~= '') and ('\n' .. extra) or '')
  local title = 'Fix: ' .. util.first_line(diags[1].message or '', 50)
  require('lsp_agent.session').run(client, text, ctx, { new = true, bufnr = bufnr, title = title })
end

--- :AgentFix [instructions] — fix the diagnostics under the cursor (else on the line).
function M.fix(opts)
  opts = opts or {}
  local bufnr = api.nvim_get_current_buf()
  local cursor = api.nvim_win_get_cursor(0)
  local found = diagnostics.at_cursor(bufnr, cursor[1] - 1, cursor[2])
  if #found == 0 then
    util.notify('no diagnostics under the cursor or on this line', vim.log.levels.WARN)
    return
  end
  client_mod.with_client(bufnr, function(client)
    run_fix(client, bufnr, diagnostics.list_to_lsp(found, client.offset_encoding), opts.prompt)
  end)
end

--- The "Ask agent to fix: …" code action's command (lspAgent.fix), run as a followed prompt.
function M.fix_command(command, ctx)
  local args = (command.arguments or {})[1] or {}
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local bufnr = args.uri and util.buf_for_uri(args.uri) or ctx.bufnr
  if not client or not bufnr then
    return
  end
  local diags = args.diagnostics
  if type(diags) ~= 'table' or #diags == 0 then
    diags = { { range = args.range, message = 'the problem here' } }
  end
  run_fix(client, bufnr, diags)
end

--- The "Ask agent about selection" code action's command (lspAgent.ask): ask for the prompt.
function M.ask_command(command, ctx)
  local args = (command.arguments or {})[1] or {}
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client or type(args.uri) ~= 'string' then
    return
  end
  local function go(text)
    if not text or vim.trim(text) == '' then
      return
    end
    local ctx_ = { textDocument = { uri = args.uri }, range = args.range }
    require('lsp_agent.session').run(client, text, ctx_, { bufnr = util.buf_for_uri(args.uri) })
  end
  if type(args.prompt) == 'string' and args.prompt ~= '' then
    return go(args.prompt)
  end
  vim.ui.input({ prompt = 'Ask lsp-agent about the selection: ' }, go)
end

local function current()
  local session = require('lsp_agent.session')
  local bufnr = api.nvim_get_current_buf()
  local client = client_mod.get(bufnr)
  local s = session.current_for(client and client.id)
  if s then
    client = vim.lsp.get_client_by_id(s.client_id) or client
  end
  return client, s
end

--- :AgentCancel — cancel the run of the current session.
---@param opts {session: string?}?
function M.cancel(opts)
  local session = require('lsp_agent.session')
  local client, s = current()
  if opts and opts.session then
    s = session.sessions[opts.session]
    client = s and vim.lsp.get_client_by_id(s.client_id)
  end
  if not s or not s.running then
    -- the current one is idle: cancel whatever runs
    for _, other in pairs(session.sessions) do
      if other.running then
        s = other
        client = vim.lsp.get_client_by_id(other.client_id)
        break
      end
    end
  end
  if not s or not s.running or not client then
    util.notify('nothing is running')
    return
  end
  session.cancel(client, s)
end

--- :AgentSessions — pick a stored session, load it and show its transcript.
function M.sessions()
  local session = require('lsp_agent.session')
  client_mod.with_client(api.nvim_get_current_buf(), function(client)
    session.list(client, function(list)
      if #list == 0 then
        util.notify('no sessions in this workspace yet')
        return
      end
      vim.ui.select(list, {
        prompt = 'lsp-agent sessions:',
        kind = 'lsp_agent_session',
        format_item = function(item)
          local title = item.title ~= '' and item.title or item.sessionId
          local when = (item.updatedAt or ''):sub(1, 16):gsub('T', ' ')
          return ('%s  %s  (%d turn%s)'):format(when, title, item.turns or 0, item.turns == 1 and '' or 's')
        end,
      }, function(choice)
        if choice then
          session.load(client, choice)
        end
      end)
    end)
  end)
end

--- :AgentUndo[!] [turns] — revert the agent's edits of the current session's last turns.
---@param opts {turns: integer?, force: boolean?}?
function M.undo(opts)
  opts = opts or {}
  local client, s = current()
  if not s or not client then
    util.notify(
      'no session to undo: ask something first, or pick one with :AgentSessions',
      vim.log.levels.WARN
    )
    return
  end
  if s.running then
    util.notify('the agent is still working: :AgentCancel first', vim.log.levels.WARN)
    return
  end
  require('lsp_agent.session').undo(client, s, opts.turns, opts.force)
end

--- :AgentTranscript — show the current session's transcript.
function M.transcript()
  local _, s = current()
  if not s then
    util.notify('no session yet: :AgentAsk something, or :AgentSessions')
    return
  end
  require('lsp_agent.transcript').open(s, true)
end

--- For a statusline: "agent: running" while a run goes, else ''.
function M.status()
  local sessions = require('lsp_agent.session')
  for _, s in pairs(sessions.sessions) do
    if s.running then
      return 'agent: running' .. M.meter(s)
    end
  end
  local _, s = current()
  return s and ('agent' .. M.meter(s)) or ''
end

--- " · ask · 25% context · $0.0021" for a session (what is known of it).
function M.meter(s)
  local parts = {}
  if s.mode then
    table.insert(parts, s.mode)
  end
  local usage = s.tx and s.tx.usage
  if usage and type(usage.used) == 'number' and usage.used > 0 then
    if type(usage.size) == 'number' and usage.size > 0 then
      table.insert(parts, ('%d%% context'):format(math.min(100, math.floor(100 * usage.used / usage.size + 0.5))))
    else
      table.insert(parts, ('%d tokens'):format(usage.used))
    end
  end
  if usage and type(usage.cost) == 'table' and type(usage.cost.amount) == 'number' then
    table.insert(parts, ('$%.4f'):format(usage.cost.amount))
  end
  return #parts > 0 and (' · ' .. table.concat(parts, ' · ')) or ''
end

--- With a session (a new one if there is none) on a client: fn(client, s).
local function with_session(fn)
  local bufnr = api.nvim_get_current_buf()
  local session = require('lsp_agent.session')
  local client, s = current()
  if s and client then
    return fn(client, s)
  end
  client_mod.with_client(bufnr, function(c)
    session.new(c, '', function(fresh)
      fn(c, fresh)
    end)
  end)
end

--- :AgentMode [mode] — switch the permission mode of the current session (a picker without one).
function M.mode(name)
  with_session(function(client, s)
    local session = require('lsp_agent.session')
    if name and name ~= '' then
      return session.config(client, s, { mode = name }, function(r)
        util.notify('this session now runs in ' .. r.mode .. ' mode')
      end)
    end
    session.config(client, s, {}, function(r)
      vim.ui.select(r.modes or {}, {
        prompt = 'Permission mode (now ' .. r.mode .. '): ',
        format_item = function(m)
          return m.name .. ' — ' .. m.description
        end,
      }, function(choice)
        if choice and choice.id ~= r.mode then
          M.mode(choice.id)
        end
      end)
    end)
  end)
end

--- :AgentReview hunks|file|auto — how the current session's edits land: reviewed per hunk,
--- as a whole file, or as the permission mode allows (no argument: say which).
function M.review(name)
  with_session(function(client, s)
    local change = (name and name ~= '') and { review = name } or {}
    require('lsp_agent.session').config(client, s, change, function(r)
      util.notify('edits of this session: review ' .. tostring(r.review))
    end)
  end)
end

--- :AgentModel [name] — switch the model of the current session (a picker from /models without one).
function M.model(name)
  with_session(function(client, s)
    local session = require('lsp_agent.session')
    if name and name ~= '' then
      return session.config(client, s, { model = name }, function(r)
        util.notify('this session now uses ' .. r.model)
      end)
    end
    session.config(client, s, {}, function(r)
      local names = vim.deepcopy(r.models or {})
      if not vim.tbl_contains(names, r.model) then
        table.insert(names, 1, r.model)
      end
      vim.ui.select(names, { prompt = 'Model (now ' .. r.model .. '): ' }, function(choice)
        if choice and choice ~= r.model then
          M.model(choice)
        end
      end)
    end)
  end)
end

return M
