-- Using the referral module from Lua:
--   LUA_CPATH=BUILD/bindings/lua/?.so lua5.4 examples/lua/engine.lua
local referral = require "referral"

local engine <close> = assert(referral.Engine("chain21"))
assert(engine:apply { type = "join", id = "e1", member = "A" })
assert(engine:apply { type = "promote", id = "e2", member = "A", rank = "partner" })
assert(engine:apply { type = "join", id = "e3", member = "B", sponsor = "A" })
assert(engine:apply { type = "order", id = "e4", order = "o1", member = "B",
                      amount = "699.00", sku = "gift" })

-- An expected failure is nil, message, code.
local ok, message, code = engine:apply { type = "order", id = "e5", order = "o2",
                                         member = "nobody", amount = "1.00" }
print(ok, message, code)

for _, line in ipairs(engine:balances()) do
  if line.member then
    print(line.member, line.rank, line.available, line.held)
  else
    print(line.account, line.balance)
  end
end
