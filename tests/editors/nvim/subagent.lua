-- A prompt whose `task` call runs a sub-agent: its tool calls and text show indented under
-- the task call in the transcript.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  H.setup()
  H.open('app.py')
  vim.cmd('AgentAsk! ' .. H.params.prompt)
  local s = H.wait_run_end()
  H.result.stop_reason = s.last_result and s.last_result.stopReason
  H.result.transcript = H.transcript_lines(s)
end)
