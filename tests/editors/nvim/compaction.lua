-- A conversation that outgrows a small context window: the server compacts it before the
-- second prompt's request, and the transcript shows a line with the token counts; /compact
-- then compacts on request, and the header's context meter drops to what is left.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  H.setup({ settings = { model = { contextWindow = H.params.window } } })
  H.open('app.py')
  vim.cmd('AgentAsk! explain everything')
  local s = H.wait_run_end()
  H.result.prompts = {}
  for _, prompt in ipairs({ 'and now?', '/compact' }) do
    s.tx.block = nil
    vim.cmd('AgentAsk ' .. prompt)
    H.wait_run_end()
    table.insert(H.result.prompts, s.last_result and s.last_result.stopReason)
  end
  H.result.transcript = H.transcript_lines(s)
  H.result.status = require('lsp_agent').status()
end)
