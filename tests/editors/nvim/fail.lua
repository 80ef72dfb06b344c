-- A scenario that fails after a run: its screen (file and transcript windows) is captured.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  H.setup()
  H.open('app.py')
  vim.cmd('AgentAsk! ' .. H.params.prompt)
  H.wait_run_end()
  error('the scenario failed on purpose')
end)
