-- :'<,'>AgentEdit: the prompt carries the file and the range; the edit inside the range lands
-- in the buffer, the one outside it is refused by the server (a tool error the model sees).
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  H.setup()
  local bufnr = H.open('app.py')
  vim.cmd('2AgentEdit fix the sign')
  local s = H.wait_run_end()
  H.result.stop_reason = s.last_result and s.last_result.stopReason
  H.result.buffer = H.lines(bufnr)
  H.result.transcript = H.transcript_lines(s)
  -- without an instruction, vim.ui.input asks for one (dismissed: nothing is sent)
  vim.ui.input = function(opts, on_confirm)
    H.result.input_prompt = opts.prompt
    on_confirm(nil)
  end
  vim.cmd('1,2AgentEdit')
end)
