-- :AgentAsk (prompt from vim.ui.input) -> the transcript streams the thoughts (folded) and
-- the answer; progress shows as LspProgress. Then :2AgentAsk asks about line 2.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  local progress = {}
  vim.api.nvim_create_autocmd('LspProgress', {
    callback = function(args)
      local value = args.data.params.value
      table.insert(progress, { kind = value.kind, title = value.title, message = value.message })
    end,
  })
  H.result.run_ends = {}
  vim.api.nvim_create_autocmd('User', {
    pattern = 'LspAgentRunEnd',
    callback = function(args)
      table.insert(H.result.run_ends, args.data.result.stopReason)
    end,
  })
  if H.params.via == 'enable' then
    -- Neovim 0.11+: the lsp/lsp_agent.lua config, enabled by name (starts on FileType)
    H.source_plugin()
    vim.cmd('filetype on')
    vim.lsp.config('lsp_agent', { settings = { lspAgent = H.settings() } })
    vim.lsp.enable('lsp_agent')
  else
    H.setup({ transcript = { layout = 'float' } })
  end
  local code = H.open('app.py')
  vim.ui.input = function(opts, on_confirm)
    H.result.input_prompt = opts.prompt
    on_confirm('explain')
  end
  vim.cmd('AgentAsk')
  local s = H.wait_run_end()
  H.result.transcript = H.transcript_lines(s)
  H.result.stop_reason = s.last_result and s.last_result.stopReason
  H.result.progress = progress
  H.result.code_unchanged = table.concat(H.lines(code), '\n')
  local windows = vim.fn.win_findbuf(s.tx.buf)
  H.result.transcript_windows = #windows
  H.result.transcript_float = vim.api.nvim_win_get_config(windows[1]).relative ~= ''
  H.result.current_is_code = vim.api.nvim_get_current_buf() == code
  -- thoughts are folded away in the transcript window
  local thought = nil
  for i, line in ipairs(H.result.transcript) do
    if line:find('^┊') then
      thought = i
      break
    end
  end
  H.result.thought_folded = thought ~= nil
    and vim.api.nvim_win_call(windows[1], function()
      return vim.fn.foldclosed(thought) ~= -1
    end)
  vim.cmd('2AgentAsk what does this line do')
  s = H.wait_run_end()
  H.result.second = H.transcript_lines(s)
  -- the "Ask agent about selection" code action asks for the prompt with vim.ui.input
  vim.ui.input = function(opts, on_confirm)
    H.result.action_input_prompt = opts.prompt
    on_confirm('why a minus?')
  end
  local offered = {}
  vim.lsp.buf.code_action({
    range = { start = { 2, 4 }, ['end'] = { 2, 15 } },
    apply = true,
    filter = function(action)
      table.insert(offered, action.title)
      return action.title == 'Ask agent about selection'
    end,
  })
  H.wait('the question about the selection to be answered', function()
    return H.transcript():find('A typo.', 1, true) ~= nil and not H.session().running
  end)
  H.result.offered = offered
end)
