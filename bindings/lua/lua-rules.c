/* The "lua" rule type: reward rules written in Lua 5.4, sandboxed.
 *
 * Each rule instance owns one lua_State, created by init with an allocator
 * that enforces the instance's memory cap.  The script runs once at init
 * (it may declare kinds, fields and pools through the `rule` table) and
 * returns a table of hooks.  Each hook call gets a fresh instruction
 * budget, enforced by a count hook, and runs under lua_pcall: an error, an
 * exhausted budget or the memory cap fails the hook, which rejects the
 * event (the engine then undoes every effect of it).
 *
 * The script sees only an allow-listed, read-only environment (see
 * build_sandbox).  Effects go through the ReferralCtx of the event, so they
 * get exactly the validation C rules get. */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include <referral/referral-plugin.h>

#include "lua-rules.h"

enum {
  HOOK_JOIN,
  HOOK_ORDER,
  HOOK_REFUND,
  HOOK_PERIOD_CLOSE,
  HOOK_WITHDRAW,
  HOOK_RANK_CHANGE,
  HOOK_EVENT_END,
  N_HOOKS
};

static const char *const hook_names[N_HOOKS] = {
  "on_join", "on_order", "on_refund", "on_period_close", "on_withdraw",
  "on_rank_change", "on_event_end",
};

/* The count hook runs every HOOK_STEP VM instructions. */
#define HOOK_STEP 1000

#define CTX_META "referral.lua.ctx"

typedef struct {
  gint id;
  guint n_words;
} LuaField;

typedef struct {
  lua_State *L;
  GMutex lock;        /* one scheme may serve engines in several threads */
  char *name;         /* the script's path, or "inline source" */
  size_t mem_used;
  size_t mem_limit;
  gboolean mem_exceeded;
  lua_Integer budget; /* instructions per hook call */
  lua_Integer remaining;
  gboolean budget_exceeded;
  guint decimals;
  ReferralSetup *setup; /* non-NULL while the script's top level runs */
  ReferralCtx *ctx;     /* non-NULL while a hook runs */
  GThread *owner;       /* the thread running the hook */
  GError *ctx_error;    /* the error of a refused effect, kept with its code */
  GArray *fields;       /* LuaField: the fields this script declared */
  int ctx_ref;
  void *ctx_ud;         /* the ctx userdata's block, to recognise it quickly */
  int order_meta_ref;   /* the metatable of order views (push_order) */
  int hook_ref[N_HOOKS];
} LuaRule;

static LuaRule *
rule_of (lua_State *L)
{
  return *(LuaRule **) lua_getextraspace (L);
}

/* The allocator: every allocation of the state counts against the cap. */
static void *
capped_alloc (void *ud, void *ptr, size_t osize, size_t nsize)
{
  LuaRule *r = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0)
    {
      free (ptr);
      r->mem_used -= old;
      return NULL;
    }
  if (nsize > old && nsize - old > r->mem_limit - r->mem_used)
    {
      r->mem_exceeded = TRUE;
      return NULL;
    }
  void *p = realloc (ptr, nsize);
  if (p == NULL)
    return NULL;
  r->mem_used = r->mem_used - old + nsize;
  /* Lua retries a refused allocation after a full collection: a success
   * after a refusal means the cap held without an error. */
  if (nsize > old)
    r->mem_exceeded = FALSE;
  return p;
}

static void
count_hook (lua_State *L, lua_Debug *ar)
{
  LuaRule *r = rule_of (L);
  r->remaining -= HOOK_STEP;
  if (r->remaining < 0)
    {
      /* Raised again at every step once exhausted, so a script cannot
       * swallow it with pcall and go on. */
      r->budget_exceeded = TRUE;
      luaL_error (L, "instruction budget of %I instructions exceeded", r->budget);
    }
}

static int
readonly_newindex (lua_State *L)
{
  const char *key = lua_type (L, 2) == LUA_TSTRING ? lua_tostring (L, 2) : "?";
  return luaL_error (L, "cannot set '%s': globals and library tables are read-only in a "
                        "sandboxed rule (keep data in member fields)", key);
}

/* Pushes a read-only view of the table at @idx. */
static void
push_readonly (lua_State *L, int idx)
{
  idx = lua_absindex (L, idx);
  lua_newtable (L);
  lua_createtable (L, 0, 3);
  lua_pushvalue (L, idx);
  lua_setfield (L, -2, "__index");
  lua_pushcfunction (L, readonly_newindex);
  lua_setfield (L, -2, "__newindex");
  lua_pushboolean (L, 0);
  lua_setfield (L, -2, "__metatable");
  lua_setmetatable (L, -2);
}

/* Copies the fields @names of the table at @src into a new table, pushed. */
static void
push_subset (lua_State *L, int src, const char *const *names)
{
  src = lua_absindex (L, src);
  lua_newtable (L);
  for (const char *const *n = names; *n; n++)
    {
      lua_getfield (L, src, *n);
      lua_setfield (L, -2, *n);
    }
}

/* load(text [, chunkname]): text chunks only, in the sandbox environment. */
static int
sandbox_load (lua_State *L)
{
  size_t len;
  const char *text = luaL_checklstring (L, 1, &len);
  const char *chunkname = luaL_optstring (L, 2, "=(load)");
  if (luaL_loadbufferx (L, text, len, chunkname, "t") != LUA_OK)
    {
      lua_pushnil (L);
      lua_insert (L, -2);
      return 2;
    }
  lua_pushvalue (L, lua_upvalueindex (1));
  lua_setupvalue (L, -2, 1);
  return 1;
}

/* pcall and xpcall catch errors, but never an exhausted budget or memory
 * cap: those are re-raised, so that a script cannot go on after them. */
static gboolean
must_propagate (lua_State *L, int status)
{
  LuaRule *r = rule_of (L);
  return status == LUA_ERRMEM || r->budget_exceeded || r->mem_exceeded;
}

static int
sandbox_pcall (lua_State *L)
{
  luaL_checkany (L, 1);
  int status = lua_pcall (L, lua_gettop (L) - 1, LUA_MULTRET, 0);
  if (status != LUA_OK && must_propagate (L, status))
    return lua_error (L);
  lua_pushboolean (L, status == LUA_OK);
  lua_insert (L, 1);
  return lua_gettop (L);
}

static int
sandbox_xpcall (lua_State *L)
{
  int n = lua_gettop (L);
  luaL_checktype (L, 2, LUA_TFUNCTION);
  /* f, h, args -> h, f, args */
  lua_pushvalue (L, 1);
  lua_pushvalue (L, 2);
  lua_replace (L, 1);
  lua_replace (L, 2);
  int status = lua_pcall (L, n - 2, LUA_MULTRET, 1);
  if (status != LUA_OK && must_propagate (L, status))
    return lua_error (L);
  lua_pushboolean (L, status == LUA_OK);
  lua_replace (L, 1);
  return lua_gettop (L);
}

/* ---- the `rule` table: setup functions and helpers ---- */

static LuaRule *
check_setup (lua_State *L, const char *what)
{
  LuaRule *r = rule_of (L);
  if (r->setup == NULL)
    luaL_error (L, "rule.%s may only be called while the scheme is built "
                   "(at the top level of the script)", what);
  return r;
}

static int
rule_kind (lua_State *L)
{
  LuaRule *r = check_setup (L, "kind");
  lua_pushinteger (L, referral_setup_kind (r->setup, luaL_checkstring (L, 1)));
  return 1;
}

static int
rule_pool (lua_State *L)
{
  LuaRule *r = check_setup (L, "pool");
  lua_pushinteger (L, referral_setup_pool (r->setup, luaL_checkstring (L, 1)));
  return 1;
}

static int
rule_field (lua_State *L)
{
  LuaRule *r = check_setup (L, "field");
  const char *name = luaL_checkstring (L, 1);
  lua_Integer n = luaL_optinteger (L, 2, 1);
  luaL_argcheck (L, n >= 1 && n <= 64, 2, "a field has 1 to 64 words");
  GError *error = NULL;
  gint id = referral_setup_field (r->setup, name, (guint) n, &error);
  if (id < 0)
    {
      lua_pushstring (L, error->message);
      g_error_free (error);
      return lua_error (L);
    }
  LuaField f = { id, (guint) n };
  g_array_append_val (r->fields, f);
  lua_pushinteger (L, id);
  return 1;
}

static int
rule_rank (lua_State *L)
{
  LuaRule *r = check_setup (L, "rank");
  const char *name = luaL_checkstring (L, 1);
  ReferralRank rank;
  if (!referral_setup_lookup_rank (r->setup, name, &rank))
    return luaL_error (L, "the scheme has no rank \"%s\"", name);
  lua_pushinteger (L, rank);
  return 1;
}

/* money.parse(text) -> minor units (integer) */
static int
money_parse (lua_State *L)
{
  LuaRule *r = rule_of (L);
  const char *text = luaL_checkstring (L, 1);
  gint64 minor;
  GError *error = NULL;
  if (!referral_money_parse (text, r->decimals, TRUE, &minor, &error))
    {
      lua_pushstring (L, error->message);
      g_error_free (error);
      return lua_error (L);
    }
  lua_pushinteger (L, minor);
  return 1;
}

/* money.format(minor) -> text */
static int
money_format (lua_State *L)
{
  LuaRule *r = rule_of (L);
  char buf[REFERRAL_MONEY_BUF_SIZE];
  lua_pushstring (L, referral_money_format_buf (luaL_checkinteger (L, 1), r->decimals, buf));
  return 1;
}

/* money.muldiv(a, b, c) -> floor(a * b / c), overflow-checked */
static int
money_muldiv (lua_State *L)
{
  lua_Integer a = luaL_checkinteger (L, 1);
  lua_Integer b = luaL_checkinteger (L, 2);
  lua_Integer c = luaL_checkinteger (L, 3);
  luaL_argcheck (L, c != 0, 3, "division by zero");
  gint64 out;
  if (!referral_money_mul_div (a, b, c, &out))
    return luaL_error (L, "money.muldiv: the result overflows 64 bits");
  lua_pushinteger (L, out);
  return 1;
}

/* money.rate(text) -> numerator, denominator */
static int
money_rate (lua_State *L)
{
  ReferralRate rate;
  GError *error = NULL;
  if (!referral_rate_parse (luaL_checkstring (L, 1), &rate, &error))
    {
      lua_pushstring (L, error->message);
      g_error_free (error);
      return lua_error (L);
    }
  lua_pushinteger (L, rate.num);
  lua_pushinteger (L, rate.den);
  return 2;
}

/* ---- the ctx userdata: read-only views and effects ---- */

/* Every ctx method checks that its first argument is the ctx: the state's
 * one ctx userdata.  Comparing its address is enough (and much cheaper than
 * luaL_checkudata's metatable lookup by name); anything else goes through
 * luaL_checkudata for the usual error message. */
static LuaRule *
check_ctx (lua_State *L)
{
  LuaRule *r = rule_of (L);
  if (G_UNLIKELY (lua_touserdata (L, 1) != r->ctx_ud || lua_type (L, 1) != LUA_TUSERDATA))
    r = *(LuaRule **) luaL_checkudata (L, 1, CTX_META);
  if (r->ctx == NULL)
    luaL_error (L, "ctx used outside the hook it was given to");
  return r;
}

static ReferralMember
check_member (lua_State *L, LuaRule *r, int arg)
{
  lua_Integer m = luaL_checkinteger (L, arg);
  if (m < 0 || m >= (lua_Integer) referral_tree_size (referral_ctx_tree (r->ctx)))
    luaL_error (L, "bad argument #%d: member %I does not exist", arg - 1, m);
  return (ReferralMember) m;
}

static lua_Integer
check_amount (lua_State *L, int arg)
{
  if (!lua_isinteger (L, arg))
    luaL_error (L, "bad argument #%d: an amount is an integer number of minor units "
                   "(got a %s)", arg - 1, luaL_typename (L, arg));
  return lua_tointeger (L, arg);
}

static void
push_member (lua_State *L, ReferralMember m)
{
  if (m == REFERRAL_NO_MEMBER)
    lua_pushnil (L);
  else
    lua_pushinteger (L, m);
}

/* Raises the error of a refused effect, keeping it for the engine. */
static int
raise_ctx_error (lua_State *L, LuaRule *r, GError *error)
{
  lua_pushstring (L, error->message);
  g_clear_error (&r->ctx_error);
  r->ctx_error = error;
  return lua_error (L);
}

static int
ctx_key (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  lua_pushstring (L, referral_tree_key (referral_ctx_tree (r->ctx), check_member (L, r, 2)));
  return 1;
}

static int
ctx_lookup (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  push_member (L, referral_tree_lookup (referral_ctx_tree (r->ctx), luaL_checkstring (L, 2)));
  return 1;
}

static int
ctx_sponsor (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  push_member (L, referral_tree_sponsor (referral_ctx_tree (r->ctx), check_member (L, r, 2)));
  return 1;
}

static int
ctx_parent (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  push_member (L, referral_tree_parent (referral_ctx_tree (r->ctx), check_member (L, r, 2)));
  return 1;
}

static int
ctx_rank (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  lua_pushinteger (L, referral_tree_rank (referral_ctx_tree (r->ctx), check_member (L, r, 2)));
  return 1;
}

static int
ctx_depth (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  lua_pushinteger (L, referral_tree_depth (referral_ctx_tree (r->ctx), check_member (L, r, 2)));
  return 1;
}

static int
ctx_size (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  lua_pushinteger (L, referral_tree_size (referral_ctx_tree (r->ctx)));
  return 1;
}

static int
ctx_n_sponsored (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  lua_pushinteger (L, referral_tree_n_sponsored (referral_ctx_tree (r->ctx),
                                                 check_member (L, r, 2)));
  return 1;
}

static int
ctx_sponsored (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  const ReferralTree *tree = referral_ctx_tree (r->ctx);
  ReferralMember m = check_member (L, r, 2);
  lua_newtable (L);
  lua_Integer i = 1;
  for (ReferralMember c = referral_tree_first_sponsored (tree, m); c != REFERRAL_NO_MEMBER;
       c = referral_tree_next_sponsored (tree, c))
    {
      lua_pushinteger (L, c);
      lua_rawseti (L, -2, i++);
    }
  return 1;
}

static int
ctx_children (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  const ReferralTree *tree = referral_ctx_tree (r->ctx);
  ReferralMember m = check_member (L, r, 2);
  lua_newtable (L);
  lua_Integer i = 1;
  for (ReferralMember c = referral_tree_first_child (tree, m); c != REFERRAL_NO_MEMBER;
       c = referral_tree_next_sibling (tree, c))
    {
      lua_pushinteger (L, c);
      lua_rawseti (L, -2, i++);
    }
  return 1;
}

static int
ctx_account (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  ReferralMember m = check_member (L, r, 2);
  lua_pushinteger (L, referral_ledger_member_account (referral_ctx_ledger (r->ctx), m,
                                                      lua_toboolean (L, 3)));
  return 1;
}

static int
ctx_balance (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  const ReferralLedger *ledger = referral_ctx_ledger (r->ctx);
  lua_Integer a = luaL_checkinteger (L, 2);
  if (a < 0 || a >= (lua_Integer) referral_ledger_n_accounts (ledger))
    return luaL_error (L, "bad argument #1: account %I does not exist", a);
  lua_pushinteger (L, referral_ledger_balance (ledger, (ReferralAccount) a));
  return 1;
}

static int
ctx_available (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  const ReferralLedger *ledger = referral_ctx_ledger (r->ctx);
  ReferralMember m = check_member (L, r, 2);
  lua_pushinteger (L, referral_ledger_balance (ledger,
                                               referral_ledger_member_account (ledger, m, FALSE)));
  return 1;
}

static int
ctx_held (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  const ReferralLedger *ledger = referral_ctx_ledger (r->ctx);
  ReferralMember m = check_member (L, r, 2);
  lua_pushinteger (L, referral_ledger_balance (ledger,
                                               referral_ledger_member_account (ledger, m, TRUE)));
  return 1;
}

static int
ctx_period (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  lua_pushinteger (L, referral_ctx_period (r->ctx));
  return 1;
}

static int
ctx_seq (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  lua_pushinteger (L, referral_ctx_event_seq (r->ctx));
  return 1;
}

static int
ctx_event_id (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  lua_pushstring (L, referral_ctx_event (r->ctx)->id);
  return 1;
}

static int
ctx_event_type (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  lua_pushstring (L, referral_event_type_name (referral_ctx_event (r->ctx)));
  return 1;
}

/* Orders reach scripts as read-only views: a userdata holding a copy of
 * the ReferralOrder and of its key and sku text, whose metatable answers
 * order.key, .buyer, .amount, .sku, .event, .period and .refunded.  One
 * allocation per view, and a key string is only made when the script reads
 * it: building a table of seven fields instead was about 290 of the 380 ns
 * an empty on_order hook cost (docs/plugins.md).  The copy keeps a view valid after its
 * hook (a script may keep it). */
typedef struct {
  ReferralOrder order;  /* .key and .sku point into text */
  char text[];          /* key NUL [sku NUL] */
} OrderView;

/* The metamethods of views are only reachable through views (their
 * metatable is protected), so they only ever see views: a cheap check.  The
 * iterator pairs() returns is a value scripts can call with anything:
 * @strict also compares the metatable. */
static const OrderView *
check_order_view (lua_State *L, gboolean strict)
{
  const OrderView *v = lua_touserdata (L, 1);
  if (v == NULL || lua_type (L, 1) != LUA_TUSERDATA
      || lua_rawlen (L, 1) < sizeof (OrderView))
    luaL_error (L, "bad argument #1: not an order");
  if (strict)
    {
      lua_getmetatable (L, 1);
      lua_rawgeti (L, LUA_REGISTRYINDEX, rule_of (L)->order_meta_ref);
      if (!lua_rawequal (L, -1, -2))
        luaL_error (L, "bad argument #1: not an order");
      lua_pop (L, 2);
    }
  return v;
}

/* Pushes field @key of order view @v; returns FALSE for an unknown field. */
static gboolean
push_order_field (lua_State *L, const OrderView *v, const char *key, size_t len)
{
  const ReferralOrder *o = &v->order;
#define IS(name) (len == sizeof name - 1 && memcmp (key, name, sizeof name - 1) == 0)
  if (IS ("buyer"))
    lua_pushinteger (L, o->buyer);
  else if (IS ("amount"))
    lua_pushinteger (L, o->amount);
  else if (IS ("key"))
    lua_pushstring (L, o->key);
  else if (IS ("sku"))
    {
      if (o->sku)
        lua_pushstring (L, o->sku);
      else
        lua_pushnil (L);
    }
  else if (IS ("event"))
    lua_pushinteger (L, o->event);
  else if (IS ("period"))
    lua_pushinteger (L, o->period);
  else if (IS ("refunded"))
    lua_pushboolean (L, o->refunded);
  else
    return FALSE;
#undef IS
  return TRUE;
}

static const char *const order_fields[] = {
  "key", "buyer", "amount", "sku", "event", "period", "refunded", NULL
};

/* order.field: nil for a field orders do not have, as with a table. */
static int
order_index (lua_State *L)
{
  const OrderView *v = check_order_view (L, FALSE);
  size_t len;
  const char *key = lua_type (L, 2) == LUA_TSTRING ? lua_tolstring (L, 2, &len) : NULL;
  if (key == NULL || !push_order_field (L, v, key, len))
    lua_pushnil (L);
  return 1;
}

static int
order_newindex (lua_State *L)
{
  const char *key = lua_type (L, 2) == LUA_TSTRING ? lua_tostring (L, 2) : "?";
  return luaL_error (L, "cannot set '%s': an order is a read-only view", key);
}

/* The iterator of pairs(order): the fields after @key (nil: the first), in
 * the order of order_fields, skipping an absent sku. */
static int
order_next (lua_State *L)
{
  const OrderView *v = check_order_view (L, TRUE);
  const char *prev = lua_type (L, 2) == LUA_TSTRING ? lua_tostring (L, 2) : NULL;
  gsize i = 0;
  if (prev != NULL)
    {
      while (order_fields[i] && strcmp (order_fields[i], prev) != 0)
        i++;
      if (order_fields[i])
        i++;
    }
  for (; order_fields[i]; i++)
    {
      lua_pushstring (L, order_fields[i]);
      if (push_order_field (L, v, order_fields[i], strlen (order_fields[i]))
          && !lua_isnil (L, -1))
        return 2;
      lua_pop (L, 2);
    }
  lua_pushnil (L);
  return 1;
}

/* pairs(order): its fields, in a fixed order. */
static int
order_pairs (lua_State *L)
{
  check_order_view (L, FALSE);
  lua_pushcfunction (L, order_next);
  lua_pushvalue (L, 1);
  lua_pushnil (L);
  return 3;
}

static int
order_tostring (lua_State *L)
{
  const OrderView *v = check_order_view (L, FALSE);
  lua_pushfstring (L, "order \"%s\"", v->order.key);
  return 1;
}

/* Pushes a view of @order.  Allocates: call it only under lua_pcall (a
 * refused allocation raises an error). */
static void
push_order (lua_State *L, const ReferralOrder *order)
{
  size_t key_len = strlen (order->key) + 1;
  size_t sku_len = order->sku ? strlen (order->sku) + 1 : 0;
  OrderView *v = lua_newuserdatauv (L, sizeof (OrderView) + key_len + sku_len, 0);
  v->order = *order;
  memcpy (v->text, order->key, key_len);
  v->order.key = v->text;
  if (order->sku)
    {
      memcpy (v->text + key_len, order->sku, sku_len);
      v->order.sku = v->text + key_len;
    }
  lua_rawgeti (L, LUA_REGISTRYINDEX, rule_of (L)->order_meta_ref);
  lua_setmetatable (L, -2);
}

static int
ctx_order (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  ReferralOrder order;
  if (!referral_ctx_lookup_order (r->ctx, luaL_checkstring (L, 2), &order))
    {
      lua_pushnil (L);
      return 1;
    }
  push_order (L, &order);
  return 1;
}

static guint64
opt_cause (lua_State *L, int arg)
{
  if (lua_isnoneornil (L, arg))
    return REFERRAL_NO_POSTING;
  lua_Integer c = luaL_checkinteger (L, arg);
  luaL_argcheck (L, c >= 0, arg, "a posting index is not negative");
  return (guint64) c;
}

static int
ctx_post (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  lua_Integer from = luaL_checkinteger (L, 2);
  lua_Integer to = luaL_checkinteger (L, 3);
  lua_Integer amount = check_amount (L, 4);
  lua_Integer kind = luaL_checkinteger (L, 5);
  guint64 cause = opt_cause (L, 6);
  luaL_argcheck (L, from >= 0 && from <= G_MAXUINT32, 2, "not an account");
  luaL_argcheck (L, to >= 0 && to <= G_MAXUINT32, 3, "not an account");
  luaL_argcheck (L, kind >= 0 && kind < (lua_Integer) referral_ledger_n_kinds (referral_ctx_ledger (r->ctx)),
                 5, "not a kind (declare kinds with rule.kind)");
  guint64 index;
  GError *error = NULL;
  if (!referral_ctx_post (r->ctx, (ReferralAccount) from, (ReferralAccount) to, amount,
                          (ReferralKind) kind, cause, &index, &error))
    return raise_ctx_error (L, r, error);
  lua_pushinteger (L, (lua_Integer) index);
  return 1;
}

static int
ctx_hold (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  ReferralMember m = check_member (L, r, 2);
  lua_Integer amount = check_amount (L, 3);
  GError *error = NULL;
  if (!referral_ctx_hold (r->ctx, m, amount, opt_cause (L, 4), &error))
    return raise_ctx_error (L, r, error);
  return 0;
}

static int
ctx_release (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  ReferralMember m = check_member (L, r, 2);
  gint64 amount = 0;
  GError *error = NULL;
  if (!referral_ctx_release (r->ctx, m, &amount, &error))
    return raise_ctx_error (L, r, error);
  lua_pushinteger (L, amount);
  return 1;
}

static int
ctx_set_rank (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  ReferralMember m = check_member (L, r, 2);
  lua_Integer rank = luaL_checkinteger (L, 3);
  if (rank < 0 || rank >= (lua_Integer) referral_scheme_n_ranks (referral_ctx_scheme (r->ctx)))
    return luaL_error (L, "bad argument #2: rank %I does not exist", rank);
  GError *error = NULL;
  if (!referral_ctx_set_rank (r->ctx, m, (ReferralRank) rank, &error))
    return raise_ctx_error (L, r, error);
  return 0;
}

static int
ctx_move (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  ReferralMember m = check_member (L, r, 2);
  ReferralMember parent = lua_isnoneornil (L, 3) ? REFERRAL_NO_MEMBER : check_member (L, r, 3);
  GError *error = NULL;
  if (!referral_ctx_move (r->ctx, m, parent, &error))
    return raise_ctx_error (L, r, error);
  return 0;
}

static guint
check_field_word (lua_State *L, LuaRule *r, gint *field)
{
  lua_Integer f = luaL_checkinteger (L, 2);
  lua_Integer w = luaL_optinteger (L, 4, 0);
  for (guint i = 0; i < r->fields->len; i++)
    {
      const LuaField *lf = &g_array_index (r->fields, LuaField, i);
      if (lf->id == f)
        {
          if (w < 0 || w >= lf->n_words)
            luaL_error (L, "bad argument #3: field %I has words 0 to %d", f, (int) lf->n_words - 1);
          *field = lf->id;
          return (guint) w;
        }
    }
  luaL_error (L, "bad argument #1: %I is not a field this rule declared (rule.field)", f);
  return 0;
}

/* ctx:field(f, member [, word]) */
static int
ctx_field (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  ReferralMember m = check_member (L, r, 3);
  gint f;
  guint w = check_field_word (L, r, &f);
  lua_pushinteger (L, referral_ctx_field_get (r->ctx, f, m, w));
  return 1;
}

/* ctx:set_field(f, member, word, value) */
static int
ctx_set_field (lua_State *L)
{
  LuaRule *r = check_ctx (L);
  ReferralMember m = check_member (L, r, 3);
  gint f;
  guint w = check_field_word (L, r, &f);
  if (!lua_isinteger (L, 5))
    return luaL_error (L, "bad argument #4: a field value is an integer");
  referral_ctx_field_set (r->ctx, f, m, w, lua_tointeger (L, 5));
  return 0;
}

static const luaL_Reg ctx_methods[] = {
  { "key", ctx_key },           { "lookup", ctx_lookup },
  { "sponsor", ctx_sponsor },   { "parent", ctx_parent },
  { "rank", ctx_rank },         { "depth", ctx_depth },
  { "size", ctx_size },         { "n_sponsored", ctx_n_sponsored },
  { "sponsored", ctx_sponsored }, { "children", ctx_children },
  { "account", ctx_account },   { "balance", ctx_balance },
  { "available", ctx_available }, { "held", ctx_held },
  { "period", ctx_period },     { "seq", ctx_seq },
  { "event_id", ctx_event_id }, { "event_type", ctx_event_type },
  { "order", ctx_order },       { "post", ctx_post },
  { "hold", ctx_hold },         { "release", ctx_release },
  { "set_rank", ctx_set_rank }, { "move", ctx_move },
  { "field", ctx_field },       { "set_field", ctx_set_field },
  { NULL, NULL }
};

static const char *const base_allowed[] = {
  "assert", "error", "ipairs", "next", "pairs", "select", "tonumber",
  "tostring", "type", "rawequal", "rawget", "rawlen", "getmetatable",
  "setmetatable", "_VERSION", NULL
};
/* Not string.dump (binary chunks) nor the pattern functions find, match,
 * gmatch and gsub: the pattern matcher runs in C, where the instruction
 * budget cannot stop a pathological pattern. */
static const char *const string_allowed[] = {
  "byte", "char", "format", "len", "lower", "pack", "packsize", "rep",
  "reverse", "sub", "unpack", "upper", NULL
};
static const char *const table_allowed[] = {
  "concat", "insert", "move", "pack", "remove", "sort", "unpack", NULL
};
/* Not math.random / randomseed: rules must be deterministic. */
static const char *const math_allowed[] = {
  "abs", "ceil", "floor", "fmod", "huge", "max", "maxinteger", "min",
  "mininteger", "modf", "pi", "tointeger", "type", "ult", "sqrt", "exp",
  "log", "sin", "cos", "tan", "asin", "acos", "atan", NULL
};
static const char *const utf8_allowed[] = {
  "char", "charpattern", "codepoint", "codes", "len", "offset", NULL
};

/* Builds the sandbox environment and leaves it (read-only) on the stack.
 * Runs under lua_pcall (it allocates). */
static int
build_sandbox (lua_State *L)
{
  LuaRule *r = rule_of (L);
  const char *const *config = lua_touserdata (L, 1);
  lua_settop (L, 0);

  luaL_requiref (L, "_G", luaopen_base, 0);         /* 1: the real globals */
  luaL_requiref (L, "string", luaopen_string, 0);   /* 2 */
  luaL_requiref (L, "table", luaopen_table, 0);     /* 3 */
  luaL_requiref (L, "math", luaopen_math, 0);       /* 4 */
  luaL_requiref (L, "utf8", luaopen_utf8, 0);       /* 5 */

  push_subset (L, 1, base_allowed);                 /* 6: the environment */
  int env = 6;
  lua_pushcfunction (L, sandbox_pcall);
  lua_setfield (L, env, "pcall");
  lua_pushcfunction (L, sandbox_xpcall);
  lua_setfield (L, env, "xpcall");
  push_subset (L, 2, string_allowed);
  push_readonly (L, -1);
  lua_setfield (L, env, "string");
  lua_pop (L, 1);
  /* Method calls on strings ("x"):rep(3) go through the same view. */
  lua_pushliteral (L, "");
  lua_getmetatable (L, -1);
  lua_getfield (L, env, "string");
  lua_setfield (L, -2, "__index");
  lua_pushboolean (L, 0);
  lua_setfield (L, -2, "__metatable");
  lua_pop (L, 2);
  push_subset (L, 3, table_allowed);
  push_readonly (L, -1);
  lua_setfield (L, env, "table");
  lua_pop (L, 1);
  push_subset (L, 4, math_allowed);
  push_readonly (L, -1);
  lua_setfield (L, env, "math");
  lua_pop (L, 1);
  push_subset (L, 5, utf8_allowed);
  push_readonly (L, -1);
  lua_setfield (L, env, "utf8");
  lua_pop (L, 1);

  /* rule: setup functions, constants, parameters. */
  lua_newtable (L);
  static const luaL_Reg rule_funcs[] = {
    { "kind", rule_kind }, { "pool", rule_pool }, { "field", rule_field },
    { "rank", rule_rank }, { NULL, NULL }
  };
  luaL_setfuncs (L, rule_funcs, 0);
  lua_pushinteger (L, REFERRAL_ACCOUNT_PLATFORM);
  lua_setfield (L, -2, "platform");
  lua_pushinteger (L, REFERRAL_ACCOUNT_OUTSIDE);
  lua_setfield (L, -2, "outside");
  lua_pushinteger (L, r->decimals);
  lua_setfield (L, -2, "decimals");
  lua_newtable (L);
  for (const char *const *c = config; c && *c; c++)
    {
      const char *eq = strchr (*c, '=');
      lua_pushlstring (L, *c, (size_t) (eq - *c));
      lua_pushstring (L, eq + 1);
      lua_settable (L, -3);
    }
  push_readonly (L, -1);
  lua_setfield (L, -3, "params");
  lua_pop (L, 1);
  push_readonly (L, -1);
  lua_setfield (L, env, "rule");
  lua_pop (L, 1);

  lua_newtable (L);
  static const luaL_Reg money_funcs[] = {
    { "parse", money_parse }, { "format", money_format },
    { "muldiv", money_muldiv }, { "rate", money_rate }, { NULL, NULL }
  };
  luaL_setfuncs (L, money_funcs, 0);
  push_readonly (L, -1);
  lua_setfield (L, env, "money");
  lua_pop (L, 1);

  /* The ctx userdata's metatable. */
  luaL_newmetatable (L, CTX_META);
  lua_newtable (L);
  luaL_setfuncs (L, ctx_methods, 0);
  lua_setfield (L, -2, "__index");
  lua_pushboolean (L, 0);
  lua_setfield (L, -2, "__metatable");
  lua_pop (L, 1);

  /* The metatable of order views (push_order), protected like the others. */
  lua_createtable (L, 0, 5);
  static const luaL_Reg order_meta[] = {
    { "__index", order_index }, { "__newindex", order_newindex },
    { "__pairs", order_pairs }, { "__tostring", order_tostring }, { NULL, NULL }
  };
  luaL_setfuncs (L, order_meta, 0);
  lua_pushboolean (L, 0);
  lua_setfield (L, -2, "__metatable");
  r->order_meta_ref = luaL_ref (L, LUA_REGISTRYINDEX);

  push_readonly (L, env);                           /* the view scripts see */
  lua_pushvalue (L, -1);
  lua_pushcclosure (L, sandbox_load, 1);
  lua_setfield (L, env, "load");
  lua_pushvalue (L, -1);
  lua_setfield (L, env, "_G");
  return 1;
}

/* Turns a failed pcall into a GError and resets the state for the next
 * call.  The error object is on top of the stack. */
static void
set_lua_error (LuaRule *r, int status, const char *during, GError **error)
{
  lua_State *L = r->L;
  if (r->ctx_error != NULL)
    {
      g_set_error (error, REFERRAL_ERROR, r->ctx_error->code, "lua rule %s: %s", r->name,
                   r->ctx_error->message);
      g_clear_error (&r->ctx_error);
    }
  else if (status == LUA_ERRMEM || r->mem_exceeded
           || (lua_type (L, -1) == LUA_TSTRING
               && strcmp (lua_tostring (L, -1), "not enough memory") == 0))
    g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED,
                 "lua rule %s: memory limit of %zu KiB exceeded %s", r->name,
                 r->mem_limit / 1024, during);
  else if (r->budget_exceeded)
    g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED,
                 "lua rule %s: instruction budget of %lld instructions exceeded %s",
                 r->name, (long long) r->budget, during);
  else
    {
      const char *msg = lua_type (L, -1) == LUA_TSTRING ? lua_tostring (L, -1) : NULL;
      if (msg)
        g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED, "lua rule %s: %s %s",
                     r->name, msg, during);
      else
        g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED,
                     "lua rule %s: error (a %s value) %s", r->name,
                     luaL_typename (L, -1), during);
    }
  lua_pop (L, 1);
  /* Free what a failed call left behind (a memory bomb's garbage), with the
   * cap lifted so that the collector itself cannot fail. */
  size_t limit = r->mem_limit;
  r->mem_limit = G_MAXSIZE;
  lua_gc (L, LUA_GCCOLLECT);
  r->mem_limit = limit;
  r->mem_exceeded = FALSE;
  r->budget_exceeded = FALSE;
}

static void
start_budget (LuaRule *r)
{
  r->remaining = r->budget;
  r->budget_exceeded = FALSE;
  r->mem_exceeded = FALSE;
  lua_sethook (r->L, count_hook, LUA_MASKCOUNT, HOOK_STEP);
}

static void
lua_rule_free (gpointer config)
{
  LuaRule *r = config;
  if (r == NULL)
    return;
  if (r->L)
    lua_close (r->L);
  g_clear_error (&r->ctx_error);
  if (r->fields)
    g_array_unref (r->fields);
  g_mutex_clear (&r->lock);
  g_free (r->name);
  g_free (r);
}

static const ReferralParamSpec lua_params[] = {
  { "script", REFERRAL_PARAM_STRING, "", "path of the rule's Lua script (or use source)" },
  { "source", REFERRAL_PARAM_STRING, "", "the rule's Lua source text (or use script)" },
  { "config", REFERRAL_PARAM_LIST, "", "key=value words, given to the script as rule.params" },
  { "budget", REFERRAL_PARAM_INT, "1000000", "Lua VM instructions allowed per hook call" },
  { "memory", REFERRAL_PARAM_INT, "4096", "memory cap of the rule's Lua state, in KiB" },
  { NULL, 0, NULL, NULL }
};

static gboolean
lua_rule_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
               GError **error)
{
  const char *script = referral_params_string (params, "script");
  const char *source = referral_params_string (params, "source");
  const char *const *cfg = referral_params_list (params, "config");
  if ((*script == '\0') == (*source == '\0'))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "lua rule: set exactly one of script and source");
      return FALSE;
    }
  for (const char *const *c = cfg; c && *c; c++)
    if (strchr (*c, '=') == NULL || **c == '=')
      {
        g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                     "lua rule: config word \"%s\" is not key=value", *c);
        return FALSE;
      }
  gint64 budget = referral_params_int (params, "budget");
  gint64 memory = referral_params_int (params, "memory");
  if (budget < HOOK_STEP || memory < 64 || memory > 4 * 1024 * 1024)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "lua rule: budget must be at least %d and memory 64 to 4194304 KiB",
                   HOOK_STEP);
      return FALSE;
    }

  g_autofree char *text = NULL;
  gsize len = 0;
  g_autofree char *script_path = NULL;
  if (*script)
    {
      /* Relative paths: the current directory, then REFERRAL_PLUGIN_PATH. */
      script_path = g_strdup (script);
      const char *env = g_getenv ("REFERRAL_PLUGIN_PATH");
      if (!g_path_is_absolute (script) && !g_file_test (script, G_FILE_TEST_EXISTS) && env)
        {
          g_auto (GStrv) dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
          for (char **d = dirs; *d; d++)
            {
              char *candidate = g_build_filename (*d, script, NULL);
              if (**d && g_file_test (candidate, G_FILE_TEST_IS_REGULAR))
                {
                  g_free (script_path);
                  script_path = candidate;
                  break;
                }
              g_free (candidate);
            }
        }
      script = script_path;
      GError *local = NULL;
      if (!g_file_get_contents (script, &text, &len, &local))
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME, "lua rule: %s",
                       local->message);
          g_error_free (local);
          return FALSE;
        }
    }
  else
    {
      text = g_strdup (source);
      len = strlen (source);
    }

  LuaRule *r = g_new0 (LuaRule, 1);
  g_mutex_init (&r->lock);
  r->name = g_strdup (*script ? script : "(inline source)");
  r->mem_limit = (size_t) memory * 1024;
  r->budget = budget;
  r->decimals = referral_setup_decimals (setup);
  r->fields = g_array_new (FALSE, FALSE, sizeof (LuaField));
  r->ctx_ref = LUA_NOREF;
  r->order_meta_ref = LUA_NOREF;
  for (int h = 0; h < N_HOOKS; h++)
    r->hook_ref[h] = LUA_NOREF;
  r->L = lua_newstate (capped_alloc, r);
  if (r->L == NULL)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "lua rule %s: cannot create a Lua state within %" G_GINT64_FORMAT " KiB",
                   r->name, memory);
      lua_rule_free (r);
      return FALSE;
    }
  lua_State *L = r->L;
  *(LuaRule **) lua_getextraspace (L) = r;
  r->setup = setup;
  start_budget (r);

  /* The environment, then the script's top level with it as _ENV. */
  lua_pushcfunction (L, build_sandbox);
  lua_pushlightuserdata (L, (void *) cfg);
  int status = lua_pcall (L, 1, 1, 0);
  if (status == LUA_OK)
    {
      g_autofree char *chunkname = *script ? g_strconcat ("@", script, NULL)
                                           : g_strdup ("=(inline source)");
      status = luaL_loadbufferx (L, text, len, chunkname, "t");
      if (status == LUA_OK)
        {
          lua_pushvalue (L, -2);
          lua_setupvalue (L, -2, 1);
          status = lua_pcall (L, 0, 1, 0);
        }
    }
  if (status != LUA_OK)
    {
      GError *local = NULL;
      set_lua_error (r, status, "while loading the script", &local);
      g_set_error_literal (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME, local->message);
      g_error_free (local);
      lua_rule_free (r);
      return FALSE;
    }
  r->setup = NULL;
  if (!lua_istable (L, -1))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "lua rule %s: the script must return a table of hooks (got a %s)",
                   r->name, luaL_typename (L, -1));
      lua_rule_free (r);
      return FALSE;
    }
  /* Every key must be a known hook: a misspelt hook is an error, not a
   * rule that silently never runs. */
  lua_pushnil (L);
  while (lua_next (L, -2) != 0)
    {
      int h = 0;
      const char *key = lua_type (L, -2) == LUA_TSTRING ? lua_tostring (L, -2) : NULL;
      while (key && h < N_HOOKS && strcmp (key, hook_names[h]) != 0)
        h++;
      if (key == NULL || h == N_HOOKS || !lua_isfunction (L, -1))
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                       "lua rule %s: %s%s%s is not a hook function (hooks: on_join, on_order, "
                       "on_refund, on_period_close, on_withdraw, on_rank_change, on_event_end)",
                       r->name, key ? "\"" : "a non-string key", key ? key : "", key ? "\"" : "");
          lua_rule_free (r);
          return FALSE;
        }
      r->hook_ref[h] = luaL_ref (L, LUA_REGISTRYINDEX); /* pops the value */
    }
  lua_settop (L, 0);
  r->ctx_ud = lua_newuserdatauv (L, sizeof (LuaRule *), 0);
  *(LuaRule **) r->ctx_ud = r;
  luaL_setmetatable (L, CTX_META);
  r->ctx_ref = luaL_ref (L, LUA_REGISTRYINDEX);
  *config = r;
  return TRUE;
}

/* The arguments of one hook call, read by run_hook. */
typedef struct {
  int hook;
  const ReferralOrder *order;
  const char *period;
  ReferralMember member;
  ReferralRank old_rank, new_rank;
  gint64 amount;
} HookArgs;

/* Runs under lua_pcall with the HookArgs as a light userdata: pushes the
 * hook function, the ctx and the hook's arguments, and calls it.  Building
 * the arguments allocates (the order table, strings), so it must happen
 * here, protected: a refused allocation (the memory cap) then fails the
 * hook like any other error instead of escaping to Lua's panic handler,
 * which would abort the process. */
static int
run_hook (lua_State *L)
{
  LuaRule *r = rule_of (L);
  const HookArgs *a = lua_touserdata (L, 1);
  lua_rawgeti (L, LUA_REGISTRYINDEX, r->hook_ref[a->hook]);
  lua_rawgeti (L, LUA_REGISTRYINDEX, r->ctx_ref);
  int nargs;
  switch (a->hook)
    {
    case HOOK_JOIN:
      lua_pushinteger (L, a->member);
      nargs = 1;
      break;
    case HOOK_ORDER:
    case HOOK_REFUND:
      push_order (L, a->order);
      nargs = 1;
      break;
    case HOOK_PERIOD_CLOSE:
      lua_pushstring (L, a->period);
      nargs = 1;
      break;
    case HOOK_WITHDRAW:
      lua_pushinteger (L, a->member);
      lua_pushinteger (L, a->amount);
      nargs = 2;
      break;
    case HOOK_RANK_CHANGE:
      lua_pushinteger (L, a->member);
      lua_pushinteger (L, a->old_rank);
      lua_pushinteger (L, a->new_rank);
      nargs = 3;
      break;
    default:
      nargs = 0;
      break;
    }
  lua_call (L, nargs + 1, 0);
  return 0;
}

/* Calls hook a->hook for the event of @ctx, with a fresh budget, under the
 * rule's lock.  Pushing a C function and a light userdata does not allocate
 * (the state keeps LUA_MINSTACK free slots), so nothing here can raise
 * outside the protected call. */
static gboolean
call_hook (LuaRule *r, ReferralCtx *ctx, HookArgs *a, GError **error)
{
  g_mutex_lock (&r->lock);
  lua_State *L = r->L;
  r->ctx = ctx;
  r->owner = g_thread_self ();
  lua_pushcfunction (L, run_hook);
  lua_pushlightuserdata (L, a);
  start_budget (r);
  int status = lua_pcall (L, 1, 0, 0);
  r->ctx = NULL;
  r->owner = NULL;
  gboolean ok = status == LUA_OK;
  if (!ok)
    {
      g_autofree char *during = g_strdup_printf ("in %s", hook_names[a->hook]);
      set_lua_error (r, status, during, error);
    }
  g_clear_error (&r->ctx_error);
  lua_settop (L, 0);
  g_mutex_unlock (&r->lock);
  return ok;
}

#define HOOK_PROLOGUE(h)                                                      \
  LuaRule *r = (LuaRule *) config;                                            \
  if (r->hook_ref[h] == LUA_NOREF)                                            \
    return TRUE;                                                              \
  HookArgs a = { .hook = h }

static gboolean
lua_on_join (ReferralCtx *ctx, gconstpointer config, ReferralMember member, GError **error)
{
  HOOK_PROLOGUE (HOOK_JOIN);
  a.member = member;
  return call_hook (r, ctx, &a, error);
}

static gboolean
lua_on_order (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order,
              GError **error)
{
  HOOK_PROLOGUE (HOOK_ORDER);
  a.order = order;
  return call_hook (r, ctx, &a, error);
}

static gboolean
lua_on_refund (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order,
               GError **error)
{
  HOOK_PROLOGUE (HOOK_REFUND);
  a.order = order;
  return call_hook (r, ctx, &a, error);
}

static gboolean
lua_on_period_close (ReferralCtx *ctx, gconstpointer config, const char *period,
                     GError **error)
{
  HOOK_PROLOGUE (HOOK_PERIOD_CLOSE);
  a.period = period;
  return call_hook (r, ctx, &a, error);
}

static gboolean
lua_on_withdraw (ReferralCtx *ctx, gconstpointer config, ReferralMember member,
                 gint64 amount, GError **error)
{
  HOOK_PROLOGUE (HOOK_WITHDRAW);
  a.member = member;
  a.amount = amount;
  return call_hook (r, ctx, &a, error);
}

static gboolean
lua_on_rank_change (ReferralCtx *ctx, gconstpointer config, ReferralMember member,
                    ReferralRank old_rank, ReferralRank new_rank, GError **error)
{
  HOOK_PROLOGUE (HOOK_RANK_CHANGE);
  /* A rank change proposed by this rule's own hook arrives while the state
   * is busy (the lock is held and a call is running): Lua states are not
   * re-entrant across pcall boundaries like this, so refuse clearly. */
  if (r->owner == g_thread_self ())
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED,
                   "lua rule %s: on_rank_change cannot run for a rank change this rule "
                   "proposed itself", r->name);
      return FALSE;
    }
  a.member = member;
  a.old_rank = old_rank;
  a.new_rank = new_rank;
  return call_hook (r, ctx, &a, error);
}

static gboolean
lua_on_event_end (ReferralCtx *ctx, gconstpointer config, GError **error)
{
  HOOK_PROLOGUE (HOOK_EVENT_END);
  return call_hook (r, ctx, &a, error);
}

static const ReferralRuleType lua_rule_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "lua",
  .description = "a reward rule written in Lua, run in a sandbox",
  .params = lua_params,
  .init = lua_rule_init,
  .free_config = lua_rule_free,
  .on_join = lua_on_join,
  .on_order = lua_on_order,
  .on_refund = lua_on_refund,
  .on_period_close = lua_on_period_close,
  .on_withdraw = lua_on_withdraw,
  .on_rank_change = lua_on_rank_change,
  .on_event_end = lua_on_event_end,
};

gboolean
referral_lua_rules_register (GError **error)
{
  if (referral_rule_type_lookup ("lua") != NULL)
    return TRUE;
  return referral_rule_type_register (&lua_rule_type, error);
}
