-- The surface of the `referral` module: engines from a built-in name, a
-- file and a table; apply; apply_jsonl; balances; tree and ledger queries;
-- failures as nil, message, code; misuse as errors; the chain 2+1 worked
-- examples through Lua.
local T = require "testlib"
local referral = require "referral"
local check, eq = T.check, T.eq

check(type(referral.version) == "string", "version")
local names = referral.builtin_schemes()
local has_chain21 = false
for _, n in ipairs(names) do if n == "chain21" then has_chain21 = true end end
check(has_chain21, "chain21 is built in")
local types = referral.rule_types()
local has_lua = false
for _, n in ipairs(types) do if n == "lua" then has_lua = true end end
check(has_lua, "loading the module registers the lua rule type")

-- Expected failures: nil, message, code.
local e, msg, code = referral.Engine("no-such-scheme.ini")
check(e == nil and type(msg) == "string", "unknown scheme fails")
eq(code, "IO", "unknown scheme code")

-- Misuse raises.
check(not pcall(referral.Engine, 42), "Engine(42) raises")

-- The chain 2+1 worked examples, from the built-in scheme and from the file.
for _, ex in ipairs({ "chain21-example1", "chain21-example2", "chain21-example3",
                      "chain21-pool", "chain21-release", "demo" }) do
  local scheme = ex == "demo" and "demo" or "chain21"
  local engine = assert(referral.Engine(scheme))
  local stats = assert(engine:apply_jsonl(T.root .. "/examples/events/" .. ex .. ".jsonl"))
  eq(stats.errors, 0, ex .. " errors")
  check(stats.applied > 0, ex .. " applied events")
  T.same_balances(engine:balances(),
                  T.read_balances(T.root .. "/examples/events/" .. ex .. ".balances.jsonl"), ex)
  check(engine:check_invariants(), ex .. " invariants")
  engine:close()
end

-- The same from the scheme file and by events applied one at a time.
do
  local engine <close> = assert(referral.Engine(T.root .. "/examples/schemes/chain21.ini"))
  eq(engine:scheme_name(), "chain21", "scheme name from file")
  assert(engine:apply { type = "join", id = "e1", member = "A" })
  assert(engine:apply { type = "promote", id = "e2", member = "A", rank = "partner" })
  assert(engine:apply { type = "join", id = "e3", member = "B", sponsor = "A" })
  assert(engine:apply { type = "join", id = "e4", member = "C", sponsor = "B" })
  local ok, status, seq = engine:apply { type = "order", id = "e5", order = "o1", member = "B",
                                         amount = "699.00", sku = "gift" }
  check(ok, "order applied")
  eq(status, "applied", "status")
  eq(seq, 4, "sequence number")
  ok, status = engine:apply { type = "order", id = "e5", order = "o1", member = "B",
                              amount = "699.00", sku = "gift" }
  eq(status, "duplicate", "same event again")
  assert(engine:apply { type = "order", id = "e6", order = "o2", member = "C",
                        amount = "699.00", sku = "gift" })
  T.same_balances(engine:balances(), T.read_balances(
    T.root .. "/examples/events/chain21-example1.balances.jsonl"), "example 1 by apply")

  -- Rejections leave everything as it was.
  local hash = engine:state_hash()
  local postings = engine:n_postings()
  ok, msg, code = engine:apply { type = "order", id = "e9", order = "o9", member = "X", amount = "1.00" }
  check(ok == nil, "order of unknown member rejected")
  eq(code, "UNKNOWN_MEMBER", "code")
  check(msg:find('member "X" does not exist', 1, true), "message names the member: " .. tostring(msg))
  ok, msg, code = engine:apply { type = "order", id = "e5", order = "o1", member = "C", amount = "1.00" }
  eq(code, "ID_CONFLICT", "same id, other content")
  ok, msg, code = engine:apply { type = "order", id = "e10", order = "o10", member = "B", amount = 1.5 }
  eq(code, "INVALID_EVENT", "a float amount is refused")
  ok, msg, code = engine:apply { type = "order", id = "e11", order = "o11", member = "B", amount = "1.001" }
  eq(code, "INVALID_MONEY", "too many decimals")
  ok, msg, code = engine:apply { type = "join", id = "e12", member = "Q", colour = "red" }
  eq(code, "INVALID_EVENT", "unknown field")
  ok, msg, code = engine:apply { type = "teleport", id = "e13" }
  eq(code, "INVALID_EVENT", "unknown type")
  ok, msg, code = engine:apply { type = "withdraw", id = "e14", member = "B", amount = 1000 }
  eq(code, "INSUFFICIENT_FUNDS", "overdraft")
  eq(engine:state_hash(), hash, "rejections change nothing")
  eq(engine:n_postings(), postings, "no postings from rejections")
  check(not pcall(engine.apply, engine, "not a table"), "apply(string) raises")

  -- An integer amount is in major units.
  assert(engine:apply { type = "withdraw", id = "e15", member = "B", amount = 80 })
  eq(engine:member("B").available, "0.00", "withdrawn")

  -- Tree queries.
  local a = assert(engine:member("A"))
  eq(a.rank, "partner", "A rank")
  eq(a.sponsor, nil, "A has no sponsor")
  eq(a.available, "400.00", "A available")
  eq(a.held, "100.00", "A held")
  eq(#a.sponsored, 1, "A sponsored one")
  eq(a.sponsored[1], "B", "A sponsored B")
  local c = engine:member("C")
  eq(c.sponsor, "B", "C's sponsor")
  eq(c.depth, 2, "C's depth")
  local none, m2, c2 = engine:member("nobody")
  check(none == nil and m2 and c2 == "UNKNOWN_MEMBER", "unknown member query")
  eq(table.concat(engine:members(), ","), "A,B,C", "members in join order")
  local o = assert(engine:order("o1"))
  eq(o.buyer, "B", "order buyer")
  eq(o.amount, "699.00", "order amount")
  eq(o.refunded, false, "not refunded")

  -- Ledger queries: every posting, sums to zero, kinds and accounts named.
  local all = engine:postings()
  eq(#all, engine:n_postings(), "postings() returns them all")
  eq(all[1].kind, "sale", "first posting is the sale")
  eq(all[1].from, "outside", "sale from outside")
  local last = engine:postings(engine:n_postings() - 1)
  eq(#last, 1, "postings(first)")
  eq(last[1].kind, "withdraw", "last posting is the withdrawal")
  check(tostring(engine):find("chain21", 1, true), "__tostring names the scheme")
end

-- A scheme from a table, and a refund through Lua.
do
  local engine = assert(referral.Engine {
    name = "t", decimals = 2, ranks = { "user", "member" },
    rules = { { type = "direct_award", name = "direct", rates = "10%, 10%" } },
  })
  assert(engine:apply { type = "join", id = "1", member = "A" })
  assert(engine:apply { type = "join", id = "2", member = "B", sponsor = "A" })
  assert(engine:apply { type = "order", id = "3", order = "o1", member = "B", amount = "50.00" })
  eq(engine:member("A").available, "5.00", "direct award from a table scheme")
  assert(engine:apply { type = "refund", id = "4", order = "o1" })
  eq(engine:member("A").available, "0.00", "refund reversed the award")
  eq(engine:order("o1").refunded, true, "refunded")
  local r, rm, rc = engine:apply { type = "refund", id = "5", order = "o1" }
  eq(rc, "ALREADY_REFUNDED", "second refund")
  engine:close()
  check(not pcall(engine.balances, engine), "a closed engine raises")
  eq(tostring(engine), "referral.Engine (closed)", "closed tostring")
  local bad, bm, bc = referral.Engine { name = "t", rules = { { type = "nope" } } }
  eq(bc, "UNKNOWN_RULE_TYPE", "unknown rule type in a table")
  local txt = assert(referral.Engine { text = "[scheme]\nname = txt\n" })
  eq(txt:scheme_name(), "txt", "scheme from text")
end

-- apply_jsonl failures: nil, message, code, stats.
do
  local engine = assert(referral.Engine("demo"))
  local s, m, c = engine:apply_jsonl("/nonexistent/events.jsonl")
  check(s == nil and c == "IO", "unreadable events file: " .. tostring(c))
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write('{"type":"join","id":"1","member":"A"}\n{"type":"order","id":"2","order":"o","member":"Z","amount":"1"}\n')
  f:close()
  local st, sm, sc, stats = engine:apply_jsonl(path)
  os.remove(path)
  check(st == nil and sm:find(":2:", 1, true), "bad line reported with its number: " .. tostring(sm))
  eq(stats.applied, 1, "the good line stayed applied")
  eq(stats.errors, 1, "one error")
end

-- simulate: seeded, so the same config gives the same run.
do
  local r1 = assert(referral.simulate("chain21", { days = 5, members = 300, seed = 7 }))
  local r2 = assert(referral.simulate("chain21", { days = 5, members = 300, seed = 7 }))
  eq(#r1.days, 5, "five days")
  eq(r1.days[5].day, 5, "day numbers")
  check(r1.members > 0 and r1.events > 0, "people joined and events were applied")
  eq(r1.days[5].members, r1.members, "members at the end of the last day")
  eq(r1.state_hash, r2.state_hash, "the same seed gives the same state")
  check(type(r1.days[5].sales_total) == "string" and r1.days[5].sales_total:match("^%d+%.%d%d$"),
        "money as decimal text: " .. tostring(r1.days[5].sales_total))
  local r3 = assert(referral.simulate("chain21", { days = 5, members = 300, seed = 8 }))
  check(r3.state_hash ~= r1.state_hash, "another seed, another run")
  local s, m, c = referral.simulate("chain21", { no_such_key = 1 })
  check(s == nil and c == "SCHEME" and m:find("no_such_key", 1, true), "unknown sim key: " .. tostring(m))
end

T.finish("lua-module")
