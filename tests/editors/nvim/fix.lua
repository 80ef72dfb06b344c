-- A diagnostic from another source -> "Ask agent to fix: …" (code action) or :AgentFix ->
-- the model's edit_file call -> the buffer is edited through workspace/applyEdit.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  H.setup()
  local bufnr = H.open('app.py')
  local ns = vim.api.nvim_create_namespace('test-linter')
  vim.diagnostic.set(ns, bufnr, {
    {
      lnum = 1,
      col = 11,
      end_lnum = 1,
      end_col = 16,
      message = 'add() subtracts: expected a + b',
      severity = vim.diagnostic.severity.ERROR,
      source = 'test-linter',
      code = 'E42',
    },
  })
  vim.api.nvim_win_set_cursor(0, { 2, 4 })
  if H.params.via == 'code_action' then
    local offered = {}
    -- Neovim's own code action request and menu; the filter picks the agent's fix
    vim.lsp.buf.code_action({
      apply = true,
      filter = function(action)
        table.insert(offered, action.title)
        return action.title:find('^Ask agent to fix') ~= nil
      end,
    })
    H.wait('code actions', function()
      return #offered > 0
    end)
    H.result.offered = offered
  else
    vim.cmd('AgentFix')
  end
  local s = H.wait_run_end()
  H.result.stop_reason = s.last_result and s.last_result.stopReason
  H.result.edited_uris = s.last_result and s.last_result.editedUris
  H.result.buffer = H.lines(bufnr)
  H.result.modified = vim.bo[bufnr].modified
  H.result.transcript = H.transcript_lines(s)
end)
