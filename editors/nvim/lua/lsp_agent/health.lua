-- :checkhealth lsp_agent — the server executable, its version, the model endpoint, and the
-- running clients.
local protocol = require('lsp_agent.protocol')

local M = {}

local health = vim.health
local TIMEOUT_MS = 20000

--- Start a command; returns a function that waits for its result.
local function start(cmd, opts)
  opts = vim.tbl_extend('force', { text = true, timeout = TIMEOUT_MS }, opts or {})
  local ok, proc = pcall(vim.system, cmd, opts)
  if not ok then
    return function()
      return { code = -1, stdout = '', stderr = tostring(proc) }
    end
  end
  return function()
    return proc:wait()
  end
end

local function run(cmd, opts)
  return start(cmd, opts)()
end

--- The command line before `serve` (e.g. { 'lsp-agent' } or { 'python', '-m', 'lsp_agent' }).
local function cli(cmd)
  local out = {}
  for _, arg in ipairs(cmd) do
    if arg == 'serve' then
      return out
    end
    table.insert(out, arg)
  end
  return { cmd[1] }
end

local function first_line(text)
  return vim.trim(vim.split(text or '', '\n', { plain = true })[1] or '')
end

local REPORT = { ok = health.ok, note = health.info, problem = health.error }

--- The model endpoint, through `lsp-agent doctor` (which resolves settings as the server
--- does); when that cannot run, a GET of {baseUrl}/models with curl.
local function doctor_args(base, model)
  local args = vim.list_extend(vim.deepcopy(base), { 'doctor', '--workspace', vim.fn.getcwd() })
  if type(model.baseUrl) == 'string' then
    vim.list_extend(args, { '--base-url', model.baseUrl })
  end
  if type(model.name) == 'string' then
    vim.list_extend(args, { '--model', model.name })
  end
  return args
end

local function check_endpoint(args, res, model)
  local reported = 0
  for _, line in ipairs(vim.split(res.stdout or '', '\n', { trimempty = true })) do
    local level, message = line:match('^(%a+)%s+(.*)$')
    if level and REPORT[level] then
      REPORT[level](message)
      reported = reported + 1
    end
  end
  if reported > 0 then
    return
  end
  health.warn(('`%s` did not run: %s'):format(table.concat(args, ' '), first_line(res.stderr)))
  if type(model.baseUrl) ~= 'string' then
    health.warn('no model.baseUrl in the settings to check', {
      'setup{ settings = { model = { baseUrl = "http://127.0.0.1:8080/v1" } } }',
    })
    return
  end
  if vim.fn.executable('curl') == 0 then
    health.warn('curl not found: cannot check ' .. model.baseUrl)
    return
  end
  local url = model.baseUrl:gsub('/+$', '') .. '/models'
  local got = run({ 'curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '-m', '5', url })
  local status = tonumber(vim.trim(got.stdout or ''))
  if got.code == 0 and status and status < 400 then
    health.ok(('endpoint reachable: GET %s answered %d'):format(url, status))
  elseif got.code == 0 and (status == 401 or status == 403) then
    health.error(('endpoint refused the key: GET %s answered %d'):format(url, status), {
      'set the API key in the environment variable named by model.apiKeyEnv',
    })
  else
    local why = first_line(got.stderr) ~= '' and first_line(got.stderr) or tostring(status)
    health.error(('endpoint not reachable: GET %s: %s'):format(url, why), {
      'start the model server, or fix model.baseUrl',
    })
  end
end

function M.check()
  health.start('lsp-agent')
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()))
  else
    health.error('Neovim 0.10 or later is needed')
    return
  end
  local cfg = require('lsp_agent.client').config()
  if type(cfg.cmd) ~= 'table' or not cfg.cmd[1] then
    health.warn('cmd is not a list: cannot check the server')
    return
  end
  local exe = vim.fn.exepath(cfg.cmd[1])
  if exe == '' then
    health.error(('server `%s` not found'):format(cfg.cmd[1]), {
      'pip install lsp-agent (it provides the `lsp-agent` command), and start Neovim where it is on PATH',
      "or point at it: require('lsp_agent').setup{ cmd = { '/path/to/lsp-agent', 'serve' } }",
    })
    return
  end
  health.ok('server found: ' .. exe)
  local base = cli(cfg.cmd)
  local settings = type(cfg.settings) == 'table' and cfg.settings[protocol.SECTION] or {}
  local model = type(settings) == 'table' and type(settings.model) == 'table' and settings.model or {}
  -- both at once: each starts a Python interpreter
  local doctor = doctor_args(base, model)
  local doctor_result = start(doctor, { env = cfg.cmd_env })
  local version = run(vim.list_extend(vim.deepcopy(base), { '--version' }), { env = cfg.cmd_env })
  if version.code == 0 then
    health.ok('server version: ' .. first_line(version.stdout))
  else
    health.error(('`%s --version` failed: %s'):format(table.concat(base, ' '), first_line(version.stderr)))
  end

  health.start('lsp-agent: settings and model endpoint (lsp-agent doctor)')
  check_endpoint(doctor, doctor_result(), model)

  health.start('lsp-agent: running servers')
  local clients = vim.lsp.get_clients({ name = protocol.NAME })
  if #clients == 0 then
    health.info('none running: open a file (setup{} or vim.lsp.enable("lsp_agent")), or run :AgentAsk')
  end
  for _, client in ipairs(clients) do
    local info = client.server_info or {}
    local caps = client.server_capabilities or {}
    local agent = type(caps.experimental) == 'table' and caps.experimental.lspAgent or nil
    local root = client.root_dir or vim.fn.getcwd()
    local text = ('client %d: %s %s, root %s'):format(client.id, info.name or '?', info.version or '?', root)
    if type(agent) == 'table' and agent.version == 1 then
      health.ok(text .. ', agent protocol v1')
    else
      health.warn(text .. ': no agent protocol v1 in its capabilities', {
        'update lsp-agent and this plugin together',
      })
    end
  end
end

return M
