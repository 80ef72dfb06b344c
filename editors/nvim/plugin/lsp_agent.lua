-- lsp-agent: commands only; everything else loads on first use (require('lsp_agent')).
if vim.g.loaded_lsp_agent then
  return
end
vim.g.loaded_lsp_agent = true

if vim.fn.has('nvim-0.10') == 0 then
  vim.notify('lsp-agent needs Neovim 0.10 or later', vim.log.levels.ERROR)
  return
end

local function agent()
  return require('lsp_agent')
end

local command = vim.api.nvim_create_user_command

command('AgentAsk', function(o)
  agent().ask({ prompt = o.args, range = o.range > 0 and { o.line1, o.line2 } or nil, new = o.bang })
end, {
  nargs = '*',
  range = true,
  bang = true,
  complete = function(...)
    return require('lsp_agent.complete').prompt(...)
  end,
  desc = 'Ask lsp-agent (the range is the context; ! starts a new session)',
})

command('AgentEdit', function(o)
  agent().edit({ instruction = o.args, range = o.range > 0 and { o.line1, o.line2 } or nil })
end, {
  nargs = '*',
  range = true,
  desc = 'Inline edit: lsp-agent may change only the range (the cursor line without one)',
})

command('AgentFix', function(o)
  agent().fix({ prompt = o.args })
end, { nargs = '*', desc = 'Ask lsp-agent to fix the diagnostics under the cursor or on the line' })

command('AgentCancel', function()
  agent().cancel()
end, { desc = "Cancel lsp-agent's run" })

command('AgentSessions', function()
  agent().sessions()
end, { desc = 'Pick an lsp-agent session and show its transcript' })

command('AgentUndo', function(o)
  agent().undo({ turns = tonumber(o.args), force = o.bang })
end, {
  nargs = '?',
  bang = true,
  desc = "Undo the agent's edits of the last turn(s) (! even over your changes)",
})

command('AgentMode', function(o)
  agent().mode(o.args)
end, {
  nargs = '?',
  complete = function()
    return { 'read-only', 'ask', 'accept-edits', 'auto' }
  end,
  desc = "Switch the current session's permission mode (a picker without an argument)",
})

command('AgentReview', function(o)
  agent().review(o.args)
end, {
  nargs = '?',
  complete = function()
    return { 'hunks', 'file', 'auto' }
  end,
  desc = "Review the current session's edits per hunk, per file, or not (auto)",
})

command('AgentModel', function(o)
  agent().model(o.args)
end, { nargs = '?', desc = "Switch the current session's model (a picker from the server's /models)" })

command('AgentTranscript', function()
  agent().transcript()
end, { desc = "Show the current lsp-agent session's transcript" })

-- Code action requests get every diagnostic on their lines (see lua/lsp_agent/client.lua).
vim.api.nvim_create_autocmd('LspAttach', {
  group = vim.api.nvim_create_augroup('lsp_agent_attach', { clear = true }),
  callback = function(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    if client and client.name == require('lsp_agent.protocol').NAME then
      require('lsp_agent.client').patch(client)
    end
  end,
})
