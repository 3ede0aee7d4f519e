-- The sandbox of Lua rules, attacked: every attack must reject only the
-- event it happens in, with a clear message, leave the ledger and state
-- exactly as before, and leave the engine usable for the next event.
local T = require "testlib"
local referral = require "referral"
local check, eq = T.check, T.eq

local function engine_for(on_order_body, extra)
  local src = "local kind = rule.kind('evil')\nreturn { on_order = function(ctx, o)\n"
              .. on_order_body .. "\nend }"
  local r = { type = "lua", name = "evil", source = src }
  for k, v in pairs(extra or {}) do r[k] = v end
  local e, m = referral.Engine { name = "sandbox", decimals = 2, rules = { r } }
  assert(e, m)
  assert(e:apply { id = "j1", type = "join", member = "A" })
  assert(e:apply { id = "j2", type = "join", member = "B", sponsor = "A" })
  return e
end

-- Applies an order that triggers the attack; checks it is contained.
local verbose = os.getenv("SANDBOX_VERBOSE")
local function contained(name, body, pattern, extra)
  if verbose then io.stderr:write(name, "\n") end
  local e = engine_for(body, extra)
  local hash, n = e:state_hash(), e:n_postings()
  local ok, msg, code = e:apply { id = "o", type = "order", order = "o1", member = "B", amount = "10.00" }
  check(ok == nil, name .. ": the event is rejected")
  check(type(msg) == "string" and msg:find(pattern, 1, true) ~= nil,
        name .. ": message mentions '" .. pattern .. "': " .. tostring(msg))
  check(code ~= nil, name .. ": a code")
  eq(e:state_hash(), hash, name .. ": state unchanged")
  eq(e:n_postings(), n, name .. ": no postings")
  eq(e:order("o1"), nil, name .. ": the order was not recorded")
  -- The engine (and the rule's Lua state) is still usable.
  check(e:apply { id = "j3", type = "join", member = "C", sponsor = "A" }, name .. ": next event applies")
  check(e:check_invariants(), name .. ": invariants")
  return e, msg, code
end

-- CPU: infinite loops, also behind pcall.
contained("infinite loop", "while true do end", "instruction budget")
contained("loop swallowing errors", [[
  while true do pcall(function() while true do end end) end]], "instruction budget")
contained("loop in a load()ed chunk", "load('while true do end')()", "instruction budget")
contained("small budget", "for i = 1, 5000 do end", "instruction budget of 1000", { budget = 1000 })

-- Stack: deep recursion, plain and inside pcall.
local _, msg = contained("deep recursion", "local function f(n) return 1 + f(n + 1) end f(1)", "lua rule")
check(msg:find("stack overflow", 1, true) or msg:find("memory limit", 1, true),
      "deep recursion: stack overflow or memory limit: " .. msg)
contained("recursion in coroutine-free pcall", [[
  local function f() return 1 + f() end
  local ok = pcall(f)
  local t = {} for i = 1, 1e9 do t[i] = i end]], "memory limit", { budget = 100000000 })

-- Memory: tables, strings, string.rep and concatenation bombs.
contained("table bomb", "local t = {} for i = 1, 1e9 do t[i] = i end", "memory limit of 4096 KiB",
          { budget = 100000000 })
contained("small cap", "local t = {} for i = 1, 1e9 do t[i] = {} end", "memory limit of 256 KiB",
          { budget = 100000000, memory = 256 })
contained("string.rep bomb", "local s = string.rep('x', 1 << 40)", "lua rule")
contained("method rep bomb", "local s = ('x'):rep(100000000)", "memory limit")
contained("rep with separator", "local s = string.rep('ab', 50000000, ',')", "memory limit")
contained("doubling bomb", "local s = 'x' while true do s = s .. s end", "memory limit")
contained("table.concat bomb", [[
  local t = {} for i = 1, 100 do t[i] = string.rep('y', 30000) end
  local parts = {} for i = 1, 1000 do parts[i] = table.concat(t) end]], "memory limit",
  { budget = 100000000 })

-- Forbidden libraries and functions: absent.
for _, lib in ipairs({ "os", "io", "require", "dofile", "loadfile", "debug", "package",
                       "collectgarbage", "print", "rawset", "coroutine" }) do
  contained("forbidden " .. lib, "local x = " .. lib .. ".x", "global '" .. lib .. "'")
  contained("forbidden " .. lib .. " via load", "load('return " .. lib .. ".x')()", "global '" .. lib .. "'")
end
contained("os.exit", "os.exit(1)", "global 'os'")
contained("string.dump", "string.dump(function() end)", "field 'dump'")
contained("math.random", "math.random()", "field 'random'")
contained("string pattern functions", "('abc'):find('b')", "method 'find'")
contained("gsub", "string.gsub('a', 'a', 'b')", "field 'gsub'")

-- Binary chunks: load() refuses them, and so do scripts.
local dumped = string.dump(function() return {} end)
contained("binary chunk via load", "local f, err = load(" .. string.format("%q", dumped) .. ") error(err)",
          "binary chunk")
do
  local e, m, c = referral.Engine { name = "b", rules = { { type = "lua", source = dumped } } }
  check(e == nil and c == "SCHEME" and m:find("binary chunk", 1, true), "binary source refused: " .. tostring(m))
  local path = os.tmpname()
  local f = assert(io.open(path, "wb")) f:write(dumped) f:close()
  e, m, c = referral.Engine { name = "b", rules = { { type = "lua", script = path } } }
  os.remove(path)
  check(e == nil and c == "SCHEME" and m:find("binary chunk", 1, true), "binary script refused: " .. tostring(m))
end

-- Globals and library tables are read-only.
contained("global write", "x = 1", "cannot set 'x'")
contained("_G write", "_G.y = 1", "cannot set 'y'")
contained("library write", "string.rep = nil", "cannot set 'rep'")
contained("math write", "math.pi = 3", "cannot set 'pi'")
contained("rule table write", "rule.platform = 7", "cannot set 'platform'")
contained("params write", "rule.params.x = 1", "cannot set 'x'")
contained("setmetatable on _G", "setmetatable(_G, nil)", "protected metatable")
contained("string metatable", "getmetatable('').__index = {}", "index a boolean")
contained("ctx metatable", "getmetatable(ctx).__index = nil", "index a boolean")
contained("global write in load()ed chunk", "load('z = 1')()", "cannot set 'z'")
contained("order write", "o.amount = 0", "an order is a read-only view")
contained("order metatable", "getmetatable(o).__index = nil", "index a boolean")
contained("order iterator on the ctx", "local f = pairs(o) f(ctx)", "not an order")
contained("order iterator on a string", "local f = pairs(o) f('x')", "not an order")

-- Errors of every shape.
contained("error string", "error('no thanks')", "no thanks")
contained("error table", "error({})", "a table value")
contained("error nil", "error()", "a nil value")
contained("runtime error", "local t = nil; t.x = 1", "index a nil value")

-- Proposals that would break the ledger: refused by the engine's
-- validation, with its codes, and everything proposed before is undone.
local platform = "rule.platform"
local _, _, c1 = contained("negative posting",
  "ctx:post(" .. platform .. ", ctx:account(o.buyer), -100, kind)", "amount")
eq(c1, "INVALID_EVENT", "negative posting code")
local _, _, c2 = contained("zero posting", "ctx:post(" .. platform .. ", ctx:account(o.buyer), 0, kind)",
                           "amount")
eq(c2, "INVALID_EVENT", "zero posting code")
contained("unknown account", "ctx:post(" .. platform .. ", 999999, 100, kind)", "account")
local _, _, c3 = contained("overflowing postings", [[
  ctx:post(rule.platform, ctx:account(o.buyer), math.maxinteger, kind)
  ctx:post(rule.platform, ctx:account(o.buyer), math.maxinteger, kind)]], "overflow")
eq(c3, "OVERFLOW", "overflow code")
contained("float amount", "ctx:post(" .. platform .. ", ctx:account(o.buyer), 1.5, kind)", "integer")
contained("valid posting then an error", [[
  ctx:post(rule.platform, ctx:account(o.buyer), 500, kind)
  error('changed my mind')]], "changed my mind")
contained("negative hold", "ctx:hold(o.buyer, -5, nil)", "lua rule")
contained("unknown kind", "ctx:post(" .. platform .. ", ctx:account(o.buyer), 1, 999)", "not a kind")
contained("unknown member", "ctx:sponsor(12345)", "member 12345 does not exist")
contained("undeclared field", "ctx:set_field(7, o.buyer, 0, 1)", "not a field this rule declared")
contained("self-cycle move", "ctx:move(o.buyer, o.buyer)", "lua rule")
contained("setup after init", "rule.kind('late')", "only be called while the scheme is built")

-- A ctx kept past its hook is dead.
do
  local src = [[
    local saved = {}
    return {
      on_join = function(ctx, m) saved[1] = ctx end,
      on_order = function(ctx, o) saved[1] = ctx; error('stop') end,
      on_withdraw = function(ctx, m) end,
    }]]
  local e = assert(referral.Engine { name = "k", rules = { { type = "lua", source = src } } })
  assert(e:apply { id = "1", type = "join", member = "A" })
  check(e:apply { id = "2", type = "join", member = "B" }, "ctx reused in a later hook is fine")
end

-- Memory kept full by the script itself (a list in an upvalue that also
-- holds the order tables, so that a failed call frees almost nothing):
-- building the next call's arguments (the order table) is refused by the
-- cap as well.  That must reject the event like any other memory error;
-- it used to happen outside the protected call and abort the process.
do
  local src = [[
    local keep = nil
    return {
      on_order = function(ctx, o)
        keep = { next = keep, o = o }
        while true do keep = { next = keep } end
      end,
    }]]
  local e = assert(referral.Engine { name = "full", decimals = 2,
                                     rules = { { type = "lua", source = src, memory = 256 } } })
  assert(e:apply { id = "j1", type = "join", member = "A" })
  for i = 1, 6 do
    local hash, n = e:state_hash(), e:n_postings()
    local ok, msg = e:apply { id = "o" .. i, type = "order", order = "o" .. i, member = "A",
                              amount = "1.00" }
    check(ok == nil and msg:find("memory limit of 256 KiB exceeded in on_order", 1, true),
          "memory kept full, order " .. i .. ": " .. tostring(msg))
    eq(e:state_hash(), hash, "memory kept full, order " .. i .. ": state unchanged")
    eq(e:n_postings(), n, "memory kept full, order " .. i .. ": no postings")
  end
  check(e:apply { id = "j2", type = "join", member = "B", sponsor = "A" },
        "memory kept full: an event without a Lua hook applies")
  check(e:check_invariants(), "memory kept full: invariants")
end

-- Attacks at load time refuse the scheme, with a clear message.
for name, case in pairs({
  ["top-level loop"] = { "while true do end", "instruction budget" },
  ["top-level memory bomb"] = { "local s = 'x' while true do s = s .. s end", "memory limit" },
  ["top-level os"] = { "os.exit(1)", "global 'os'" },
  ["top-level global write"] = { "x = 1 return {}", "cannot set 'x'" },
}) do
  local e, m, c = referral.Engine { name = "l", rules = { { type = "lua", source = case[1] } } }
  check(e == nil and c == "SCHEME" and m:find(case[2], 1, true), name .. ": " .. tostring(m))
end

T.finish("lua-sandbox")
