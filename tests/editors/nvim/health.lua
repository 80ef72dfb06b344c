-- :checkhealth lsp_agent with a working setup, an unreachable endpoint, a missing server.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')

local function checkhealth()
  vim.cmd('checkhealth lsp_agent')
  local lines = H.lines(0)
  vim.cmd('bwipeout!')
  return lines
end

H.run(function()
  H.setup()
  H.open('app.py')
  H.result.good = checkhealth()
  H.step('healthy')
  require('lsp_agent').setup({
    autostart = false,
    settings = H.settings({ model = { baseUrl = 'http://127.0.0.1:9/v1' } }),
  })
  H.result.unreachable = checkhealth()
  H.step('unreachable')
  require('lsp_agent').setup({ autostart = false, cmd = { 'lsp-agent-not-installed', 'serve' } })
  H.result.missing = checkhealth()
  H.step('missing')
  -- the help file's tags (built in a copy: helptags writes next to the file)
  local doc = vim.api.nvim_get_runtime_file('doc/lsp_agent.txt', false)[1]
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  vim.fn.writefile(vim.fn.readfile(doc), dir .. '/lsp_agent.txt')
  vim.cmd('helptags ' .. vim.fn.fnameescape(dir))
  H.result.tags = vim.tbl_map(function(line)
    return vim.split(line, '\t')[1]
  end, vim.fn.readfile(dir .. '/tags'))
end)
