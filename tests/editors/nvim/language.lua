-- agent/languageFeature answered by a real second language server attached in Neovim
-- (basedpyright), not by lsp-agent: the agent's definition/references/rename tools use it.
-- main.py is open and has an unsaved line that calls greet: the rename must reach it
-- through a versioned workspace/applyEdit, and leave it unsaved.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

H.run(function()
  H.setup()
  local function attach_pyright(bufnr)
    return vim.lsp.start({
      name = 'basedpyright',
      cmd = { 'basedpyright-langserver', '--stdio' },
      root_dir = H.params.root,
      settings = { basedpyright = { analysis = { diagnosticMode = 'openFilesOnly' } } },
    }, { bufnr = bufnr })
  end
  local main = H.open('main.py')
  local id = attach_pyright(main)
  H.wait('basedpyright initialized', function()
    local c = vim.lsp.get_client_by_id(id)
    return c ~= nil and c.initialized == true
  end, 30000)
  local language = require('lsp_agent.language')
  local handle = language.handle
  H.result.asked = {}
  language.handle = function(err, request, ctx) -- record what the server asked
    table.insert(H.result.asked, request.method)
    return handle(err, request, ctx)
  end
  vim.api.nvim_buf_set_lines(main, -1, -1, false, { 'print(greet("ann"))' }) -- unsaved
  vim.cmd('AgentAsk ' .. H.params.prompt)
  local s = H.wait_run_end(40000)
  H.result.stop_reason = s.last_result and s.last_result.stopReason
  H.result.buffer = H.lines(main)
  H.result.modified = vim.bo[main].modified
  H.result.transcript = H.transcript_lines(s)
  H.result.clients = vim.tbl_map(function(c)
    return c.name
  end, vim.lsp.get_clients({ bufnr = main }))
end)
