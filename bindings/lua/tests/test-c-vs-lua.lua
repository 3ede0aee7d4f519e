-- The same rule, the fast-start bonus, as a C plugin
-- (examples/plugin-c/fast-start.c) and as a sandboxed Lua rule
-- (examples/lua/fast-start.lua): identical ledgers on the same
-- seeded random stream: the same postings (amount, accounts, kind, event,
-- rule, cause), balances and ranks.  Also prints each one's time per event.
-- Usage: lua5.4 test-c-vs-lua.lua [N_EVENTS]   (REFERRAL_PLUGIN_PATH must
-- name the directory of fast-start.so)
local T = require "testlib"
local referral = require "referral"
local check, eq = T.check, T.eq

local n_events = tonumber(arg and arg[1]) or 4000
assert(referral.load_plugin("fast-start"))

local function scheme(rule)
  rule.name = "fast"
  return { name = "fast_start_demo", decimals = 2, ranks = { "user", "member" }, rules = { rule } }
end
local c_scheme = scheme { type = "fast_start", bonus = "10.00", orders = 2, periods = 1 }
local lua_scheme = scheme { type = "lua", script = T.root .. "/examples/lua/fast-start.lua",
                            config = "bonus=10.00, orders=2, periods=1" }

-- A deterministic stream (a 64-bit LCG, not math.random, so that it is
-- the same everywhere).
local function stream(n, seed)
  local state = seed
  local function rand(k)
    state = (state * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
    return (state >> 33) % k
  end
  local events, members, orders = {}, 0, 0
  for i = 1, n do
    local r = rand(100)
    local id = "e" .. i
    if members < 2 or r < 25 then
      members = members + 1
      local ev = { id = id, type = "join", member = "m" .. members }
      if members > 1 then ev.sponsor = "m" .. (1 + rand(members - 1)) end
      events[#events + 1] = ev
    elseif r < 85 then
      orders = orders + 1
      events[#events + 1] = { id = id, type = "order", order = "o" .. orders,
                              member = "m" .. (1 + rand(members)),
                              amount = tostring(1 + rand(500)) .. "." .. string.format("%02d", rand(100)) }
    elseif r < 95 and orders > 0 then
      -- Refunds of an order that may already be refunded: rejected the
      -- same way by both.
      events[#events + 1] = { id = id, type = "refund", order = "o" .. (1 + rand(orders)) }
    else
      events[#events + 1] = { id = id, type = "period_close", period = "p" .. i }
    end
  end
  return events
end

local function run(s, events)
  local e = assert(referral.Engine(s))
  local rejected = 0
  local t0 = os.clock()
  for _, ev in ipairs(events) do
    if not e:apply(ev) then rejected = rejected + 1 end
  end
  return e, os.clock() - t0, rejected
end

for _, seed in ipairs({ 1, 2, 3 }) do
  local events = stream(n_events, seed)
  local ce, ct, crej = run(c_scheme, events)
  local le, lt, lrej = run(lua_scheme, events)
  eq(lrej, crej, "seed " .. seed .. ": same rejections")
  eq(le:n_postings(), ce:n_postings(), "seed " .. seed .. ": same number of postings")
  -- (The state hashes differ by design: they cover the scheme's rule types
  -- and parameters, which differ.  Everything the rules produced is compared.)
  T.same_balances(le:balances(), ce:balances(), "seed " .. seed)
  local lp, cp = le:postings(), ce:postings()
  local same = #lp == #cp
  for i = 1, math.min(#lp, #cp) do
    local a, b = lp[i], cp[i]
    if a.amount ~= b.amount or a.from ~= b.from or a.to ~= b.to or a.kind ~= b.kind
       or a.event ~= b.event or a.rule ~= b.rule or a.cause ~= b.cause
       or a.reversal ~= b.reversal then
      same = false
    end
  end
  check(same, "seed " .. seed .. ": identical postings")
  local bonuses = 0
  for _, p in ipairs(cp) do if p.kind == "fast_start" then bonuses = bonuses + 1 end end
  check(bonuses > 10, "seed " .. seed .. ": the stream earns bonuses (" .. bonuses .. ")")
  print(string.format("seed %d: %d events, C %.2f us/event, Lua %.2f us/event (%.2fx)",
                      seed, #events, ct * 1e6 / #events, lt * 1e6 / #events, lt / ct))
end

T.finish("lua-c-vs-lua")
