-- Helpers shared by the Lua tests: a counting check, a reader for the
-- flat JSON objects of *.balances.jsonl files, and the source root.
local M = { failures = 0, checks = 0 }

M.root = assert(os.getenv("REFERRAL_SOURCE_ROOT"), "REFERRAL_SOURCE_ROOT is not set")

function M.check(cond, ...)
  M.checks = M.checks + 1
  if not cond then
    M.failures = M.failures + 1
    local info = debug.getinfo(2, "Sl")
    io.stderr:write(string.format("FAIL %s:%d: %s\n", info.short_src, info.currentline,
                                  table.concat({ ... }, " ")))
  end
  return cond
end

function M.eq(a, b, what)
  return M.check(a == b, (what or "value"), "expected", tostring(b), "got", tostring(a))
end

-- Parses one line of the form {"k":"v","k2":"v2"} (string values only).
function M.parse_flat(line)
  local t = {}
  for k, v in line:gmatch('"([^"]+)":"([^"]*)"') do t[k] = v end
  return t
end

function M.read_balances(path)
  local out = {}
  for line in io.lines(path) do
    if line:match("%S") then out[#out + 1] = M.parse_flat(line) end
  end
  return out
end

function M.same_balances(got, want, what)
  M.eq(#got, #want, what .. ": number of lines")
  for i = 1, math.max(#got, #want) do
    local g, w = got[i] or {}, want[i] or {}
    for _, k in ipairs({ "member", "rank", "available", "held", "account", "balance" }) do
      M.eq(g[k], w[k], string.format("%s line %d %s", what, i, k))
    end
  end
end

function M.finish(name)
  if M.failures > 0 then
    io.stderr:write(string.format("%s: %d of %d checks failed\n", name, M.failures, M.checks))
    os.exit(1)
  end
  print(string.format("%s: %d checks passed", name, M.checks))
end

return M
