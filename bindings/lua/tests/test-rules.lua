-- Rules written in Lua: from a scheme table (inline source), from a scheme
-- file (type = lua, script = ...), parameters through config, effects
-- through ctx with the engine's validation, fields undone on rejection.
local T = require "testlib"
local referral = require "referral"
local check, eq = T.check, T.eq

local function run(engine, events)
  for _, ev in ipairs(events) do
    local ok, msg = engine:apply(ev)
    if not ok then return nil, msg end
  end
  return true
end

local stream = {
  { id = "e1", type = "join", member = "A" },
  { id = "e2", type = "join", member = "B", sponsor = "A" },
  { id = "e3", type = "order", order = "o1", member = "B", amount = "50.00" },
  { id = "e4", type = "order", order = "o2", member = "B", amount = "50.00" },
  { id = "e5", type = "order", order = "o3", member = "B", amount = "50.00" },
  { id = "e6", type = "join", member = "C", sponsor = "A" },
  { id = "e7", type = "period_close", period = "p1" },
  { id = "e8", type = "order", order = "o4", member = "C", amount = "20.00" },
  { id = "e9", type = "join", member = "D", sponsor = "C" },
  { id = "e10", type = "order", order = "o5", member = "D", amount = "20.00" },
}

-- The example script from a scheme file, found through REFERRAL_PLUGIN_PATH.
do
  local engine = assert(referral.Engine(T.root .. "/examples/lua/fast-start.ini"))
  assert(run(engine, stream))
  local want = { A = "20.00", B = "0.00", C = "10.00", D = "0.00" }
  for _, line in ipairs(engine:balances()) do
    eq(line.available, want[line.member], "fast start (file) " .. line.member)
  end
  local kinds = {}
  for _, p in ipairs(engine:postings()) do kinds[p.kind] = (kinds[p.kind] or 0) + 1 end
  eq(kinds.fast_start, 3, "three bonuses")
end

-- Inline source from a table scheme: every hook, reads of the tree and
-- ledger, holds, rank changes, fields, pools.
local source = [[
local kind = rule.kind("echo")
local pool = rule.pool("jar")
local seen = rule.field("seen", 3)
local member_rank = rule.rank("member")
local cut = money.parse(rule.params.cut)
local num, den = money.rate(rule.params.rate)
return {
  on_join = function(ctx, m)
    ctx:set_field(seen, m, 0, ctx:seq())
    assert(ctx:key(m) and ctx:lookup(ctx:key(m)) == m)
    assert(ctx:event_type() == "join")
  end,
  on_order = function(ctx, o)
    assert(type(o.amount) == "number" and math.type(o.amount) == "integer")
    -- Written before anything can fail: undone with a rejected event.
    ctx:set_field(seen, o.buyer, 2, ctx:field(seen, o.buyer, 2) + 1)
    local s = ctx:sponsor(o.buyer)
    if s then
      local share = money.muldiv(o.amount, num, den)
      local i = ctx:post(rule.platform, ctx:account(s), share, kind)
      ctx:hold(s, share // 2, i)
      ctx:post(rule.platform, pool, cut, kind)
      ctx:set_field(seen, s, 1, ctx:field(seen, s, 1) + 1)
      if ctx:field(seen, s, 1) == 2 then ctx:set_rank(s, member_rank) end
    end
  end,
  on_refund = function(ctx, o)
    assert(o.key == "o1" and ctx:order("o1").refunded)
  end,
  on_period_close = function(ctx, period)
    assert(period == "p1")
    for m = 0, ctx:size() - 1 do
      if ctx:held(m) > 0 then ctx:release(m) end
    end
  end,
  on_withdraw = function(ctx, m, amount)
    assert(amount > 0 and ctx:available(m) >= 0)
  end,
}
]]

local function table_scheme(src, extra)
  local r = { type = "lua", name = "echo", source = src, config = "cut=1.00, rate=10%" }
  for k, v in pairs(extra or {}) do r[k] = v end
  return { name = "luatest", decimals = 2, ranks = { "user", "member" }, rules = { r } }
end

do
  local engine = assert(referral.Engine(table_scheme(source)))
  assert(engine:apply { id = "1", type = "join", member = "A" })
  assert(engine:apply { id = "2", type = "join", member = "B", sponsor = "A" })
  assert(engine:apply { id = "3", type = "order", order = "o1", member = "B", amount = "100.00" })
  local a = engine:member("A")
  eq(a.available, "5.00", "10% of 100.00, half held")
  eq(a.held, "5.00", "half held")
  eq(a.rank, "user", "one order: no promotion")
  eq(engine:balances()[3].account, "jar", "the pool")
  eq(engine:balances()[3].balance, "1.00", "the cut")
  assert(engine:apply { id = "4", type = "order", order = "o2", member = "B", amount = "100.00" })
  eq(engine:member("A").rank, "member", "second order promotes through ctx:set_rank")
  assert(engine:apply { id = "5", type = "refund", order = "o1" })
  eq(engine:member("A").available, "5.00", "refund reversed o1's award and hold")
  eq(engine:member("A").held, "5.00", "o2's hold stays")
  assert(engine:apply { id = "6", type = "period_close", period = "p1" })
  eq(engine:member("A").available, "10.00", "period close released the hold")
  eq(engine:member("A").held, "0.00", "nothing held")
  assert(engine:apply { id = "7", type = "withdraw", member = "A", amount = "10.00" })
  check(engine:check_invariants(), "invariants")

  -- A rejected event undoes the fields a Lua rule wrote, too: the same
  -- stream with a failing event in the middle ends in the same state.
  local function stream2(bad)
    local e = assert(referral.Engine(table_scheme(source)))
    assert(e:apply { id = "1", type = "join", member = "A" })
    assert(e:apply { id = "2", type = "join", member = "B", sponsor = "A" })
    if bad then
      -- The rule writes a field, then its 10% of 0.01 rounds to 0 and
      -- ctx:post refuses the amount: the whole event is undone.
      local ok = e:apply { id = "x", type = "order", order = "ox", member = "B", amount = "0.01" }
      check(ok == nil, "an order whose 10% rounds to 0 makes ctx:post refuse amount 0")
    end
    assert(e:apply { id = "3", type = "order", order = "o1", member = "B", amount = "100.00" })
    return e:state_hash()
  end
  eq(stream2(true), stream2(false), "a rejected event leaves no trace in Lua rule fields")
end

-- Orders are read-only views: every field, pairs in a fixed order, nil for
-- other fields, writes refused; a view kept past its hook stays valid.
do
  local src = [[
    local kept = {}
    local kind = rule.kind("seen")
    return {
      on_order = function(ctx, o)
        assert(type(o) == "userdata" and tostring(o) == 'order "' .. o.key .. '"')
        assert(o.nothing == nil and o[1] == nil and getmetatable(o) == false)
        local names = {}
        for k, v in pairs(o) do
          names[#names + 1] = k
          assert(o[k] == v)
        end
        local want = o.sku and "key buyer amount sku event period refunded"
                            or "key buyer amount event period refunded"
        assert(table.concat(names, " ") == want, table.concat(names, " "))
        assert(o.event == ctx:seq() and o.period == ctx:period() and o.refunded == false)
        local same = ctx:order(o.key)
        assert(same.key == o.key and same.buyer == o.buyer and same.amount == o.amount)
        kept[#kept + 1] = o
        if o.key == "w" then o.amount = 1 end
      end,
      on_refund = function(ctx, o)
        assert(o.refunded == true and ctx:order(o.key).refunded == true)
        -- Views from earlier hooks still read what they were given.
        assert(kept[1].key == "o1" and kept[1].sku == "gift" and kept[1].amount == 1234)
        assert(kept[2].key == "o2" and kept[2].sku == nil and kept[2].refunded == false)
        ctx:post(rule.platform, ctx:account(kept[1].buyer), 1, kind)
      end,
    }]]
  local e = assert(referral.Engine { name = "views", decimals = 2,
                                     rules = { { type = "lua", name = "v", source = src } } })
  assert(run(e, {
    { id = "1", type = "join", member = "A" },
    { id = "2", type = "order", order = "o1", member = "A", amount = "12.34", sku = "gift" },
    { id = "3", type = "order", order = "o2", member = "A", amount = "1.00" },
    { id = "4", type = "refund", order = "o2" },
  }))
  -- Two sales, the refund's reversal, the refund hook's posting.
  eq(e:n_postings(), 4, "order views: postings")
  eq(e:postings()[4].kind, "seen", "order views: the refund hook read kept views")
  local ok, msg = e:apply { id = "5", type = "order", order = "w", member = "A", amount = "1.00" }
  check(ok == nil and msg:find("cannot set 'amount': an order is a read-only view", 1, true),
        "order views: a write is refused: " .. tostring(msg))
end

-- Scheme errors from Lua rules name the script and the reason.
do
  local e, m, c = referral.Engine(table_scheme("return 42"))
  check(e == nil and c == "SCHEME" and m:find("must return a table", 1, true), "non-table: " .. tostring(m))
  e, m, c = referral.Engine(table_scheme("return { on_ordr = function() end }"))
  check(e == nil and m:find('"on_ordr" is not a hook', 1, true), "misspelt hook: " .. tostring(m))
  e, m, c = referral.Engine(table_scheme("return {", {}))
  check(e == nil and c == "SCHEME", "syntax error: " .. tostring(m))
  e, m, c = referral.Engine(table_scheme("return {}", { script = "x.lua" }))
  check(e == nil and m:find("exactly one of script and source", 1, true), "both: " .. tostring(m))
  e, m, c = referral.Engine(table_scheme("return {}", { config = "novalue" }))
  check(e == nil and m:find("not key=value", 1, true), "config: " .. tostring(m))
  e, m, c = referral.Engine(table_scheme("rule.rank('admiral') return {}"))
  check(e == nil and m:find('no rank "admiral"', 1, true), "unknown rank: " .. tostring(m))
  e, m, c = referral.Engine(table_scheme("return { on_join = function(ctx, m) rule.kind('late') end }"))
  assert(e)
  local ok
  ok, m, c = e:apply { id = "1", type = "join", member = "A" }
  check(ok == nil and m:find("only be called while the scheme is built", 1, true), "setup after init: " .. tostring(m))
end

T.finish("lua-rules")
