-- :AgentMode and :AgentModel switch the session mid-way (pickers through vim.ui.select),
-- the next prompt uses them, and status() shows the mode and the context meter.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  H.setup()
  H.open('app.py')
  local agent = require('lsp_agent')
  H.result.status_before = agent.status()
  local asked = {}
  vim.ui.select = function(items, opts, on_choice)
    table.insert(asked, opts.prompt)
    on_choice(items[1]) -- read-only (the first mode); the first model
  end
  vim.cmd('AgentMode') -- no session yet: one is made
  H.wait('the mode switched', function()
    local s = H.session()
    return s ~= nil and s.mode == 'read-only'
  end)
  vim.cmd('AgentModel big-model')
  H.wait('the model switched', function()
    return H.session().model == 'big-model'
  end)
  vim.cmd('AgentAsk write it')
  local s = H.wait_run_end()
  H.result.asked = asked
  H.result.status_after = agent.status()
  H.result.session = { mode = s.mode, model = s.model }
end)
