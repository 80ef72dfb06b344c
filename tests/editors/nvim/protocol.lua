-- The server asks the editor: agent/getDiagnostics (the diagnostics tool, edit feedback) and
-- agent/saveDocuments (before a shell command); an edit for an outdated buffer is refused.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  if H.params.stale then
    -- didChange waits 3 s: the server still has the old version when it sends the edit
    H.setup({ client_config = { flags = { debounce_text_changes = 3000 } } })
  else
    H.setup()
  end
  local bufnr = H.open('app.py')
  local ns = vim.api.nvim_create_namespace('test-linter')
  vim.diagnostic.set(ns, bufnr, {
    { lnum = 1, col = 11, end_col = 16, message = 'add() subtracts', severity = 1, source = 'test-linter' },
  })
  if H.params.stale then
    -- the user types while the permission is asked, then allows the edit
    H.stub_select(function(items)
      vim.api.nvim_buf_set_lines(bufnr, 0, 0, false, { '# typed meanwhile' })
      return items[1]
    end)
  end
  vim.cmd('AgentAsk ' .. H.params.prompt)
  local s = H.wait_run_end()
  H.result.stop_reason = s.last_result and s.last_result.stopReason
  H.result.buffer = H.lines(bufnr)
  H.result.modified = vim.bo[bufnr].modified
  H.result.transcript = H.transcript_lines(s)
end)
