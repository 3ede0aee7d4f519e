-- The fast-start bonus as a sandboxed Lua rule: the same rule as the C
-- plugin in examples/plugin-c/fast-start.c, line for line, so that the two
-- give identical ledgers (bindings/lua/tests/test-c-vs-lua.lua checks it).
--
-- A new member's sponsor earns `bonus` on each of the member's first
-- `orders` orders placed within `periods` period closes of joining
-- (0 = no limit).  Parameters come from the scheme's `config` key:
--
--   [rule fast]
--   type = lua
--   script = fast-start.lua
--   config = bonus=10.00, orders=2, periods=1
--
-- The top level runs once, when the scheme is built: it reads parameters
-- and declares kinds and fields.  It returns the hooks.  Amounts are
-- integers in minor units; members are integer handles.  Hooks keep what
-- they read more than once in locals (globals such as `rule` and the
-- fields of the order view cost a lookup each time).
local bonus = money.parse(rule.params.bonus or error("config: bonus is required"))
local orders = math.tointeger(tonumber(rule.params.orders or "3"))
local periods = math.tointeger(tonumber(rule.params.periods or "1"))
assert(bonus > 0, "bonus must be more than 0")

local kind = rule.kind(rule.params.kind or "fast_start")
local platform = rule.platform
-- word 0: the period the member joined in; word 1: bonuses paid for it.
local field = rule.field("fast_start", 2)

return {
  on_join = function(ctx, member)
    ctx:set_field(field, member, 0, ctx:period())
  end,

  on_order = function(ctx, order)
    local buyer = order.buyer  -- order is a view: read each field once
    local sponsor = ctx:sponsor(buyer)
    if sponsor == nil then return end
    local joined = ctx:field(field, buyer, 0)
    local paid = ctx:field(field, buyer, 1)
    if paid >= orders then return end
    if periods > 0 and ctx:period() - joined >= periods then return end
    ctx:post(platform, ctx:account(sponsor), bonus, kind)
    ctx:set_field(field, buyer, 1, paid + 1)
  end,
}
