-- @problems and @selection go out as embedded resources (the diagnostics of every file
-- buffer, the last visual selection's lines), and the completion offers them and `@file:N-M`.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  H.setup()
  local bufnr = H.open('app.py')
  local ns = vim.api.nvim_create_namespace('test-linter')
  vim.diagnostic.set(ns, bufnr, {
    { lnum = 1, col = 11, end_col = 16, message = 'subtracts', severity = vim.diagnostic.severity.ERROR, source = 'test-linter' },
  })
  local function cmdline(text)
    return vim.fn.getcompletion(text, 'cmdline')
  end
  H.result.no_selection_yet = cmdline('AgentAsk @app.py:')
  -- a visual selection of line 2, left (the '< and '> marks stay)
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  vim.cmd('normal! Vy')
  H.result.special = cmdline('AgentAsk fix @')
  H.result.selection = cmdline('AgentAsk fix @sel')
  H.result.ranged = cmdline('AgentAsk fix @app.py:')
  H.result.typed = cmdline('AgentAsk fix @app.py:1-2')
  H.result.half = cmdline('AgentAsk fix @app.py:1-')
  vim.cmd("'<,'>AgentAsk fix @problems in @selection")
  local s = H.wait_run_end()
  H.result.stop_reason = s.last_result and s.last_result.stopReason
  -- in a buffer with no selection: a warning, and the prompt goes without it
  vim.cmd('enew')
  vim.cmd.edit(vim.fs.joinpath(H.params.root, 'other.py'))
  H.wait('the server attached to other.py', function()
    local c = H.client(0)
    return c ~= nil and c.initialized == true
  end)
  vim.cmd('AgentAsk explain @selection')
  H.wait_run_end()
end)
