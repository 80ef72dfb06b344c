-- :AgentAsk and the ask input complete `/` with the server's slash commands (built-in and
-- the workspace's .lsp-agent/commands/*.md) and `@` with files to mention.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  H.setup()
  H.open('app.py')
  local function cmdline(text)
    return vim.fn.getcompletion(text, 'cmdline')
  end
  local c = H.client(0)
  -- an empty Lua table goes out as `[]`: the server takes it as no params
  H.result.empty_params = c:request_sync('agent/commands', {}, 1000, 0).result ~= nil
  H.result.command = cmdline('AgentAsk /re')
  H.result.builtins = cmdline('AgentAsk /c')
  H.result.not_first = cmdline('AgentAsk explain /re')
  H.result.mention = cmdline('AgentAsk explain @ap')
  H.result.spaced = cmdline('AgentAsk explain @my')
  H.result.ranged = cmdline("'<,'>AgentAsk! /re")
  local input = require('lsp_agent.complete').INPUT
  H.result.input = vim.fn.getcompletion('explain @ap', input)
  H.result.input_command = vim.fn.getcompletion('/rev', input)
  -- what vim.ui.input is asked with
  vim.ui.input = function(opts, on_confirm)
    H.result.input_completion = opts.completion
    on_confirm(nil)
  end
  vim.cmd('AgentAsk')
end)
