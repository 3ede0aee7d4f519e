/* The Lua 5.4 module `referral` (require "referral").
 *
 *   local referral = require "referral"
 *   local engine = assert (referral.Engine ("chain21"))
 *   assert (engine:apply { id = "e1", type = "join", member = "A" })
 *   for _, line in ipairs (engine:balances ()) do print (line.member, line.available) end
 *
 * Handles are full userdata with metatables (__gc, __close, __tostring,
 * __index).  Expected failures (a rejected event, an unreadable file, an
 * invalid scheme) return nil, message, code where code is the REFERRAL_ERROR
 * name without its prefix ("UNKNOWN_MEMBER"); misuse (a wrong argument
 * type, a closed engine) raises an error.
 *
 * The module links no Lua library: it uses the interpreter's.  Loading it
 * also registers the "lua" rule type (lua-rules.c) with that Lua. */
#include <dlfcn.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include <referral/referral-plugin.h>

#include "lua-rules.h"

#define ENGINE_META "referral.Engine"

/* Exported for Lua's loader. */
REFERRAL_PLUGIN_EXPORT int luaopen_referral (lua_State *L);

typedef struct {
  ReferralEngine *engine;
} LuaEngine;

static const char *const error_codes[] = {
  "INVALID_MONEY", "INVALID_RATE", "OVERFLOW", "UNKNOWN_MEMBER", "DUPLICATE_MEMBER",
  "UNKNOWN_ORDER", "DUPLICATE_ORDER", "ALREADY_REFUNDED", "INVALID_EVENT", "ID_CONFLICT",
  "INSUFFICIENT_FUNDS", "INVALID_RANK", "CYCLE", "UNKNOWN_COMMAND", "REJECTED", "SCHEME",
  "UNKNOWN_RULE_TYPE", "ABI", "PARSE", "IO",
};

static const char *
code_name (const GError *error)
{
  if (error->domain == REFERRAL_ERROR && error->code >= 0
      && (gsize) error->code < G_N_ELEMENTS (error_codes))
    return error_codes[error->code];
  return "ERROR";
}

/* Pushes nil, message, code and frees @error.  Returns 3. */
static int
push_failure (lua_State *L, GError *error)
{
  lua_pushnil (L);
  lua_pushstring (L, error->message);
  lua_pushstring (L, code_name (error));
  g_error_free (error);
  return 3;
}

static int
push_failure_text (lua_State *L, const char *code, const char *message)
{
  lua_pushnil (L);
  lua_pushstring (L, message);
  lua_pushstring (L, code);
  return 3;
}

static LuaEngine *
check_engine (lua_State *L, int arg)
{
  LuaEngine *le = luaL_checkudata (L, arg, ENGINE_META);
  if (le->engine == NULL)
    luaL_error (L, "the engine is closed");
  return le;
}

/* ---- building a scheme from a Lua table ---- */

/* { name = "x", decimals = 2, ranks = {"user", "agent"},
 *   rules = { { type = "direct_award", name = "direct", amounts = "10.00" }, ... } }
 * or { text = "[scheme]\n..." }.  Parameter values are strings, integers or
 * booleans (written as scheme-file text).  Returns NULL with @error. */
static ReferralScheme *
scheme_from_table (lua_State *L, int idx, GError **error)
{
  idx = lua_absindex (L, idx);
  if (lua_getfield (L, idx, "text") == LUA_TSTRING)
    {
      size_t len;
      const char *text = lua_tolstring (L, -1, &len);
      ReferralScheme *s = referral_scheme_load_data (text, (gssize) len, "(lua table)", error);
      lua_pop (L, 1);
      return s;
    }
  lua_pop (L, 1);
  lua_getfield (L, idx, "name");
  const char *name = luaL_optstring (L, -1, "lua");
  ReferralSchemeBuilder *b = referral_scheme_builder_new (name);
  lua_pop (L, 1);
  if (lua_getfield (L, idx, "decimals") != LUA_TNIL)
    {
      lua_Integer d = luaL_checkinteger (L, -1);
      if (d < 0 || !referral_scheme_builder_set_decimals (b, (guint) d, error))
        {
          if (d < 0)
            g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                         "decimals must be 0 to 9");
          referral_scheme_builder_free (b);
          return NULL;
        }
    }
  lua_pop (L, 1);
  if (lua_getfield (L, idx, "ranks") == LUA_TTABLE)
    {
      lua_Integer n = luaL_len (L, -1);
      GPtrArray *ranks = g_ptr_array_new ();
      for (lua_Integer i = 1; i <= n; i++)
        {
          lua_rawgeti (L, -1, i);
          g_ptr_array_add (ranks, (gpointer) luaL_checkstring (L, -1));
          lua_pop (L, 1); /* the string stays alive in the ranks table */
        }
      g_ptr_array_add (ranks, NULL);
      gboolean ok = referral_scheme_builder_set_ranks (b, (const char *const *) ranks->pdata,
                                                       error);
      g_ptr_array_free (ranks, TRUE);
      if (!ok)
        {
          referral_scheme_builder_free (b);
          return NULL;
        }
    }
  lua_pop (L, 1);
  if (lua_getfield (L, idx, "rules") == LUA_TTABLE)
    {
      lua_Integer n = luaL_len (L, -1);
      for (lua_Integer i = 1; i <= n; i++)
        {
          lua_rawgeti (L, -1, i);
          luaL_checktype (L, -1, LUA_TTABLE);
          int rt = lua_gettop (L);
          lua_getfield (L, rt, "type");
          const char *type = luaL_checkstring (L, -1);
          lua_getfield (L, rt, "name");
          const char *rname = luaL_optstring (L, -1, type);
          GPtrArray *kv = g_ptr_array_new_with_free_func (g_free);
          lua_pushnil (L);
          while (lua_next (L, rt) != 0)
            {
              const char *k = lua_type (L, -2) == LUA_TSTRING ? lua_tostring (L, -2) : NULL;
              if (k == NULL)
                {
                  g_ptr_array_free (kv, TRUE);
                  referral_scheme_builder_free (b);
                  luaL_error (L, "rule %d: parameter names are strings", (int) i);
                }
              if (strcmp (k, "type") != 0 && strcmp (k, "name") != 0)
                {
                  char *v;
                  if (lua_type (L, -1) == LUA_TBOOLEAN)
                    v = g_strdup (lua_toboolean (L, -1) ? "true" : "false");
                  else if (lua_isinteger (L, -1) || lua_type (L, -1) == LUA_TSTRING)
                    v = g_strdup (lua_tostring (L, -1));
                  else
                    {
                      g_ptr_array_free (kv, TRUE);
                      referral_scheme_builder_free (b);
                      luaL_error (L, "rule %d: parameter %s must be a string, an integer "
                                     "or a boolean", (int) i, k);
                      return NULL;
                    }
                  g_ptr_array_add (kv, g_strdup (k));
                  g_ptr_array_add (kv, v);
                }
              lua_pop (L, 1);
            }
          g_ptr_array_add (kv, NULL);
          gboolean ok = referral_scheme_builder_add_rule (b, type, rname,
                                                          (const char *const *) kv->pdata,
                                                          error);
          g_ptr_array_free (kv, TRUE);
          lua_settop (L, rt - 1);
          if (!ok)
            {
              referral_scheme_builder_free (b);
              return NULL;
            }
        }
    }
  lua_pop (L, 1);
  return referral_scheme_builder_finish (b, error);
}

/* referral.Engine(scheme) -> engine | nil, message, code
 * @scheme: a built-in scheme name, a scheme file path, or a table. */
static int
l_engine_new (lua_State *L)
{
  GError *error = NULL;
  ReferralScheme *scheme;
  if (lua_type (L, 1) == LUA_TSTRING)
    scheme = referral_scheme_open (lua_tostring (L, 1), &error);
  else if (lua_type (L, 1) == LUA_TTABLE)
    scheme = scheme_from_table (L, 1, &error);
  else
    return luaL_typeerror (L, 1, "scheme name, path or table");
  if (scheme == NULL)
    return push_failure (L, error);
  LuaEngine *le = lua_newuserdatauv (L, sizeof (LuaEngine), 0);
  le->engine = NULL;
  luaL_setmetatable (L, ENGINE_META);
  le->engine = referral_engine_new (scheme, &error);
  referral_scheme_unref (scheme);
  if (le->engine == NULL)
    return push_failure (L, error);
  return 1;
}

static int
l_engine_close (lua_State *L)
{
  LuaEngine *le = luaL_checkudata (L, 1, ENGINE_META);
  g_clear_pointer (&le->engine, referral_engine_free);
  return 0;
}

static int
l_engine_tostring (lua_State *L)
{
  LuaEngine *le = luaL_checkudata (L, 1, ENGINE_META);
  if (le->engine == NULL)
    lua_pushliteral (L, "referral.Engine (closed)");
  else
    lua_pushfstring (L, "referral.Engine (%s, %d members, %d events)",
                     referral_scheme_name (referral_engine_scheme (le->engine)),
                     (int) referral_tree_size (referral_engine_tree (le->engine)),
                     (int) referral_engine_n_events (le->engine));
  return 1;
}

/* ---- events ---- */

static const struct {
  const char *name;
  ReferralEventType type;
  const char *command;
} event_types[] = {
  { "join", REFERRAL_EVENT_JOIN, NULL },
  { "order", REFERRAL_EVENT_ORDER, NULL },
  { "refund", REFERRAL_EVENT_REFUND, NULL },
  { "period_close", REFERRAL_EVENT_PERIOD_CLOSE, NULL },
  { "withdraw", REFERRAL_EVENT_WITHDRAW, NULL },
  { "promote", REFERRAL_EVENT_PROMOTE, NULL },
  { "transpose", REFERRAL_EVENT_COMMAND, "transpose" },
};

static const char *const event_fields[] = {
  "id", "type", "member", "sponsor", "order", "sku", "period", "old", "new",
  "rank", "time", "amount", NULL
};

/* Fills @ev from the table at @idx (strings borrowed from the table, which
 * stays on the stack).  @amount_buf holds the text of an integer amount.
 * Returns FALSE with an INVALID_EVENT error for a malformed event. */
static gboolean
event_from_table (lua_State *L, int idx, ReferralEvent *ev, guint decimals,
                  char *amount_buf, gsize amount_buf_size, GError **error)
{
  lua_pushnil (L);
  while (lua_next (L, idx) != 0)
    {
      const char *k = lua_type (L, -2) == LUA_TSTRING ? lua_tostring (L, -2) : NULL;
      if (k == NULL || !g_strv_contains (event_fields, k))
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_EVENT,
                       "unknown field %s%s%s", k ? "\"" : "(a non-string key)", k ? k : "",
                       k ? "\"" : "");
          lua_pop (L, 2);
          return FALSE;
        }
      if (strcmp (k, "amount") != 0 && lua_type (L, -1) != LUA_TSTRING)
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_EVENT,
                       "field \"%s\" must be a string (got a %s)", k, luaL_typename (L, -1));
          lua_pop (L, 2);
          return FALSE;
        }
      lua_pop (L, 1);
    }
#define STR_FIELD(key, dest)                                                  \
  lua_getfield (L, idx, key);                                                 \
  dest = lua_tostring (L, -1);                                                \
  lua_pop (L, 1);
  const char *type = NULL;
  STR_FIELD ("type", type);
  STR_FIELD ("id", ev->id);
  STR_FIELD ("member", ev->member);
  STR_FIELD ("sponsor", ev->sponsor);
  STR_FIELD ("order", ev->order);
  STR_FIELD ("sku", ev->sku);
  STR_FIELD ("period", ev->period);
  STR_FIELD ("old", ev->old_member);
  STR_FIELD ("new", ev->new_member);
  STR_FIELD ("rank", ev->rank);
  STR_FIELD ("time", ev->time);
#undef STR_FIELD
  if (type == NULL)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_EVENT,
                   "missing field \"type\"");
      return FALSE;
    }
  gsize t = 0;
  while (t < G_N_ELEMENTS (event_types) && strcmp (event_types[t].name, type) != 0)
    t++;
  if (t == G_N_ELEMENTS (event_types))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_EVENT,
                   "unknown event type \"%s\"", type);
      return FALSE;
    }
  ev->type = event_types[t].type;
  ev->command = event_types[t].command;
  int at = lua_getfield (L, idx, "amount");
  if (at == LUA_TSTRING)
    {
      ev->amount_text = lua_tostring (L, -1);
      ev->amount_quoted = TRUE;
      if (!referral_money_parse (ev->amount_text, decimals, FALSE, &ev->amount, error))
        {
          lua_pop (L, 1);
          return FALSE;
        }
    }
  else if (at == LUA_TNUMBER && lua_isinteger (L, -1))
    {
      g_snprintf (amount_buf, amount_buf_size, LUA_INTEGER_FMT, lua_tointeger (L, -1));
      ev->amount_text = amount_buf;
      ev->amount_quoted = FALSE;
      if (!referral_money_parse (amount_buf, decimals, FALSE, &ev->amount, error))
        {
          lua_pop (L, 1);
          return FALSE;
        }
    }
  else if (at != LUA_TNIL)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_EVENT,
                   "amount must be a decimal string or an integer (got a %s; floating "
                   "point is never used for money)", luaL_typename (L, -1));
      lua_pop (L, 1);
      return FALSE;
    }
  lua_pop (L, 1);
  return TRUE;
}

/* engine:apply(event) -> true, "applied"|"duplicate", seq | nil, message, code */
static int
l_engine_apply (lua_State *L)
{
  LuaEngine *le = check_engine (L, 1);
  luaL_checktype (L, 2, LUA_TTABLE);
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  char amount_buf[32];
  GError *error = NULL;
  guint decimals = referral_scheme_decimals (referral_engine_scheme (le->engine));
  if (!event_from_table (L, 2, &ev, decimals, amount_buf, sizeof amount_buf, &error))
    return push_failure (L, error);
  ReferralApplyResult result;
  if (!referral_engine_apply (le->engine, &ev, &result, &error))
    return push_failure (L, error);
  lua_pushboolean (L, 1);
  lua_pushstring (L, result.status == REFERRAL_DUPLICATE ? "duplicate" : "applied");
  lua_pushinteger (L, result.seq);
  return 3;
}

static void
collect_report (const char *file, guint64 line, const char *message, gpointer user_data)
{
  GPtrArray *messages = user_data;
  g_ptr_array_add (messages, g_strdup_printf ("%s:%" G_GUINT64_FORMAT ": %s", file, line,
                                              message));
}

/* engine:apply_jsonl(path [, {keep_going = true}]) -> stats | nil, message, code, stats */
static int
l_engine_apply_jsonl (lua_State *L)
{
  LuaEngine *le = check_engine (L, 1);
  const char *path = luaL_checkstring (L, 2);
  ReferralRunFlags flags = REFERRAL_RUN_STOP_AT_ERROR;
  if (lua_istable (L, 3))
    {
      lua_getfield (L, 3, "keep_going");
      if (lua_toboolean (L, -1))
        flags |= REFERRAL_RUN_KEEP_GOING;
      lua_pop (L, 1);
    }
  GPtrArray *messages = g_ptr_array_new_with_free_func (g_free);
  ReferralRunStats stats = { 0 };
  GError *error = NULL;
  gboolean ok = referral_engine_apply_jsonl (le->engine, path, flags, collect_report,
                                             messages, &stats, &error);
  lua_createtable (L, 0, 5);
  lua_pushinteger (L, (lua_Integer) stats.lines);
  lua_setfield (L, -2, "lines");
  lua_pushinteger (L, (lua_Integer) stats.applied);
  lua_setfield (L, -2, "applied");
  lua_pushinteger (L, (lua_Integer) stats.duplicates);
  lua_setfield (L, -2, "duplicates");
  lua_pushinteger (L, (lua_Integer) stats.errors);
  lua_setfield (L, -2, "errors");
  lua_createtable (L, (int) messages->len, 0);
  for (guint i = 0; i < messages->len; i++)
    {
      lua_pushstring (L, messages->pdata[i]);
      lua_rawseti (L, -2, i + 1);
    }
  lua_setfield (L, -2, "messages");
  if (ok)
    {
      g_ptr_array_free (messages, TRUE);
      return 1;
    }
  int stats_idx = lua_gettop (L);
  if (error != NULL)
    push_failure (L, error);
  else
    push_failure_text (L, "REJECTED", messages->len ? messages->pdata[0] : "bad events");
  g_ptr_array_free (messages, TRUE);
  lua_pushvalue (L, stats_idx);
  return 4;
}

/* ---- queries ---- */

static void
set_money (lua_State *L, const char *field, gint64 minor, guint decimals)
{
  char buf[REFERRAL_MONEY_BUF_SIZE];
  lua_pushstring (L, referral_money_format_buf (minor, decimals, buf));
  lua_setfield (L, -2, field);
}

/* engine:balances() -> the lines of `referral run --balances`, as tables */
static int
l_engine_balances (lua_State *L)
{
  LuaEngine *le = check_engine (L, 1);
  const ReferralTree *tree = referral_engine_tree (le->engine);
  const ReferralLedger *ledger = referral_engine_ledger (le->engine);
  const ReferralScheme *scheme = referral_engine_scheme (le->engine);
  guint decimals = referral_scheme_decimals (scheme);
  guint32 n = referral_tree_size (tree);
  guint n_pools = referral_ledger_n_pools (ledger);
  lua_createtable (L, (int) (n + n_pools), 0);
  for (ReferralMember m = 0; m < n; m++)
    {
      lua_createtable (L, 0, 4);
      lua_pushstring (L, referral_tree_key (tree, m));
      lua_setfield (L, -2, "member");
      lua_pushstring (L, referral_scheme_rank_name (scheme, referral_tree_rank (tree, m)));
      lua_setfield (L, -2, "rank");
      set_money (L, "available",
                 referral_ledger_balance (ledger, referral_ledger_member_account (ledger, m, FALSE)),
                 decimals);
      set_money (L, "held",
                 referral_ledger_balance (ledger, referral_ledger_member_account (ledger, m, TRUE)),
                 decimals);
      lua_rawseti (L, -2, (lua_Integer) m + 1);
    }
  for (guint p = 0; p < n_pools; p++)
    {
      lua_createtable (L, 0, 2);
      lua_pushstring (L, referral_ledger_pool_name (ledger, p));
      lua_setfield (L, -2, "account");
      set_money (L, "balance",
                 referral_ledger_balance (ledger, referral_ledger_pool_account (ledger, p)),
                 decimals);
      lua_rawseti (L, -2, (lua_Integer) n + p + 1);
    }
  return 1;
}

static void
push_key_or_nil (lua_State *L, const ReferralTree *tree, ReferralMember m)
{
  if (m == REFERRAL_NO_MEMBER)
    lua_pushnil (L);
  else
    lua_pushstring (L, referral_tree_key (tree, m));
}

/* engine:member(key) -> {key, sponsor, parent, rank, depth, available, held,
 *   sponsored = {keys}, children = {keys}} | nil, message, "UNKNOWN_MEMBER" */
static int
l_engine_member (lua_State *L)
{
  LuaEngine *le = check_engine (L, 1);
  const char *key = luaL_checkstring (L, 2);
  const ReferralTree *tree = referral_engine_tree (le->engine);
  const ReferralLedger *ledger = referral_engine_ledger (le->engine);
  const ReferralScheme *scheme = referral_engine_scheme (le->engine);
  ReferralMember m = referral_tree_lookup (tree, key);
  if (m == REFERRAL_NO_MEMBER)
    {
      g_autofree char *msg = g_strdup_printf ("member \"%s\" does not exist", key);
      return push_failure_text (L, "UNKNOWN_MEMBER", msg);
    }
  guint decimals = referral_scheme_decimals (scheme);
  lua_createtable (L, 0, 9);
  lua_pushstring (L, key);
  lua_setfield (L, -2, "key");
  push_key_or_nil (L, tree, referral_tree_sponsor (tree, m));
  lua_setfield (L, -2, "sponsor");
  push_key_or_nil (L, tree, referral_tree_parent (tree, m));
  lua_setfield (L, -2, "parent");
  lua_pushstring (L, referral_scheme_rank_name (scheme, referral_tree_rank (tree, m)));
  lua_setfield (L, -2, "rank");
  lua_pushinteger (L, referral_tree_depth (tree, m));
  lua_setfield (L, -2, "depth");
  set_money (L, "available",
             referral_ledger_balance (ledger, referral_ledger_member_account (ledger, m, FALSE)),
             decimals);
  set_money (L, "held",
             referral_ledger_balance (ledger, referral_ledger_member_account (ledger, m, TRUE)),
             decimals);
  lua_newtable (L);
  lua_Integer i = 1;
  for (ReferralMember c = referral_tree_first_sponsored (tree, m); c != REFERRAL_NO_MEMBER;
       c = referral_tree_next_sponsored (tree, c))
    {
      lua_pushstring (L, referral_tree_key (tree, c));
      lua_rawseti (L, -2, i++);
    }
  lua_setfield (L, -2, "sponsored");
  lua_newtable (L);
  i = 1;
  for (ReferralMember c = referral_tree_first_child (tree, m); c != REFERRAL_NO_MEMBER;
       c = referral_tree_next_sibling (tree, c))
    {
      lua_pushstring (L, referral_tree_key (tree, c));
      lua_rawseti (L, -2, i++);
    }
  lua_setfield (L, -2, "children");
  return 1;
}

/* engine:members() -> member keys in join order */
static int
l_engine_members (lua_State *L)
{
  LuaEngine *le = check_engine (L, 1);
  const ReferralTree *tree = referral_engine_tree (le->engine);
  guint32 n = referral_tree_size (tree);
  lua_createtable (L, (int) n, 0);
  for (ReferralMember m = 0; m < n; m++)
    {
      lua_pushstring (L, referral_tree_key (tree, m));
      lua_rawseti (L, -2, (lua_Integer) m + 1);
    }
  return 1;
}

/* engine:postings([first [, count]]) -> {index, amount, from, to, kind, event,
 *   rule, cause, reversal} tables; indices are 0-based like the ledger's */
static int
l_engine_postings (lua_State *L)
{
  LuaEngine *le = check_engine (L, 1);
  const ReferralLedger *ledger = referral_engine_ledger (le->engine);
  guint decimals = referral_scheme_decimals (referral_engine_scheme (le->engine));
  guint64 total = referral_ledger_n_postings (ledger);
  lua_Integer first = luaL_optinteger (L, 2, 0);
  luaL_argcheck (L, first >= 0, 2, "a posting index is not negative");
  lua_Integer count = luaL_optinteger (L, 3, (lua_Integer) total);
  luaL_argcheck (L, count >= 0, 3, "a count is not negative");
  guint64 end = MIN (total, (guint64) first + (guint64) count);
  lua_newtable (L);
  lua_Integer out = 1;
  for (guint64 i = (guint64) first; i < end; i++)
    {
      const ReferralPosting *p = referral_ledger_posting (ledger, i);
      lua_createtable (L, 0, 9);
      lua_pushinteger (L, (lua_Integer) i);
      lua_setfield (L, -2, "index");
      set_money (L, "amount", p->amount, decimals);
      char *name = referral_ledger_account_name (ledger, p->from);
      lua_pushstring (L, name);
      g_free (name);
      lua_setfield (L, -2, "from");
      name = referral_ledger_account_name (ledger, p->to);
      lua_pushstring (L, name);
      g_free (name);
      lua_setfield (L, -2, "to");
      lua_pushstring (L, referral_ledger_kind_name (ledger, p->kind));
      lua_setfield (L, -2, "kind");
      lua_pushinteger (L, p->event);
      lua_setfield (L, -2, "event");
      lua_pushinteger (L, p->rule);
      lua_setfield (L, -2, "rule");
      guint64 cause = referral_posting_cause (p, i);
      if (cause != REFERRAL_NO_POSTING)
        {
          lua_pushinteger (L, (lua_Integer) cause);
          lua_setfield (L, -2, "cause");
        }
      lua_pushboolean (L, (p->flags & REFERRAL_POSTING_REVERSAL) != 0);
      lua_setfield (L, -2, "reversal");
      lua_rawseti (L, -2, out++);
    }
  return 1;
}

static int
l_engine_n_postings (lua_State *L)
{
  LuaEngine *le = check_engine (L, 1);
  lua_pushinteger (L, (lua_Integer) referral_ledger_n_postings (referral_engine_ledger (le->engine)));
  return 1;
}

static int
l_engine_n_events (lua_State *L)
{
  LuaEngine *le = check_engine (L, 1);
  lua_pushinteger (L, referral_engine_n_events (le->engine));
  return 1;
}

/* engine:state_hash() -> 16 hex digits */
static int
l_engine_state_hash (lua_State *L)
{
  LuaEngine *le = check_engine (L, 1);
  char buf[17];
  g_snprintf (buf, sizeof buf, "%016" G_GINT64_MODIFIER "x",
              referral_engine_state_hash (le->engine));
  lua_pushstring (L, buf);
  return 1;
}

/* engine:check_invariants() -> true | nil, message, code */
static int
l_engine_check_invariants (lua_State *L)
{
  LuaEngine *le = check_engine (L, 1);
  GError *error = NULL;
  if (!referral_engine_check_invariants (le->engine, &error))
    return push_failure (L, error);
  lua_pushboolean (L, 1);
  return 1;
}

/* engine:order(key) -> {key, buyer, amount, sku, event, period, refunded} | nil, msg, code */
static int
l_engine_order (lua_State *L)
{
  LuaEngine *le = check_engine (L, 1);
  const char *key = luaL_checkstring (L, 2);
  ReferralOrder o;
  if (!referral_engine_lookup_order (le->engine, key, &o))
    {
      g_autofree char *msg = g_strdup_printf ("order \"%s\" does not exist", key);
      return push_failure_text (L, "UNKNOWN_ORDER", msg);
    }
  guint decimals = referral_scheme_decimals (referral_engine_scheme (le->engine));
  lua_createtable (L, 0, 7);
  lua_pushstring (L, o.key);
  lua_setfield (L, -2, "key");
  lua_pushstring (L, referral_tree_key (referral_engine_tree (le->engine), o.buyer));
  lua_setfield (L, -2, "buyer");
  set_money (L, "amount", o.amount, decimals);
  if (o.sku)
    {
      lua_pushstring (L, o.sku);
      lua_setfield (L, -2, "sku");
    }
  lua_pushinteger (L, o.event);
  lua_setfield (L, -2, "event");
  lua_pushinteger (L, o.period);
  lua_setfield (L, -2, "period");
  lua_pushboolean (L, o.refunded);
  lua_setfield (L, -2, "refunded");
  return 1;
}

static int
l_engine_scheme_name (lua_State *L)
{
  LuaEngine *le = check_engine (L, 1);
  lua_pushstring (L, referral_scheme_name (referral_engine_scheme (le->engine)));
  return 1;
}

static const luaL_Reg engine_methods[] = {
  { "apply", l_engine_apply },
  { "apply_jsonl", l_engine_apply_jsonl },
  { "balances", l_engine_balances },
  { "member", l_engine_member },
  { "members", l_engine_members },
  { "order", l_engine_order },
  { "postings", l_engine_postings },
  { "n_postings", l_engine_n_postings },
  { "n_events", l_engine_n_events },
  { "state_hash", l_engine_state_hash },
  { "check_invariants", l_engine_check_invariants },
  { "scheme_name", l_engine_scheme_name },
  { "close", l_engine_close },
  { NULL, NULL }
};

/* ---- simulation ---- */

static void
set_int (lua_State *L, const char *field, lua_Integer v)
{
  lua_pushinteger (L, v);
  lua_setfield (L, -2, field);
}

static void
set_number (lua_State *L, const char *field, double v)
{
  lua_pushnumber (L, v);
  lua_setfield (L, -2, field);
}

/* referral.simulate(scheme, config) -> result | nil, message, code
 * @scheme: as for Engine; @config: a table of sim.h keys to values
 * (strings or integers), e.g. {days = 30, members = 1000, seed = 7}.
 * The result: {days = {day tables}, members, state_hash} where each day
 * table holds that day's figures (money as decimal text, ratios as
 * numbers: they are statistics, not money). */
static int
l_simulate (lua_State *L)
{
  GError *error = NULL;
  ReferralScheme *scheme;
  if (lua_type (L, 1) == LUA_TSTRING)
    scheme = referral_scheme_open (lua_tostring (L, 1), &error);
  else if (lua_type (L, 1) == LUA_TTABLE)
    scheme = scheme_from_table (L, 1, &error);
  else
    return luaL_typeerror (L, 1, "scheme name, path or table");
  if (scheme == NULL)
    return push_failure (L, error);
  ReferralSimConfig *config = referral_sim_config_new ();
  if (lua_istable (L, 2))
    {
      lua_pushnil (L);
      while (lua_next (L, 2) != 0)
        {
          if (lua_type (L, -2) != LUA_TSTRING
              || (lua_type (L, -1) != LUA_TSTRING && !lua_isinteger (L, -1)))
            {
              referral_sim_config_free (config);
              referral_scheme_unref (scheme);
              return luaL_error (L, "simulate: config keys are strings and values strings "
                                    "or integers");
            }
          const char *key = lua_tostring (L, -2);
          const char *value = lua_tostring (L, -1);
          if (!referral_sim_config_set (config, key, value, NULL, &error))
            {
              referral_sim_config_free (config);
              referral_scheme_unref (scheme);
              return push_failure (L, error);
            }
          lua_pop (L, 1);
        }
    }
  ReferralSim *sim = referral_sim_new (scheme, config, &error);
  referral_sim_config_free (config);
  if (sim == NULL || !referral_sim_run (sim, NULL, NULL, &error))
    {
      referral_sim_free (sim);
      referral_scheme_unref (scheme);
      return push_failure (L, error);
    }
  guint decimals = referral_scheme_decimals (scheme);
  ReferralEngine *engine = referral_sim_engine (sim);
  lua_createtable (L, 0, 3);
  guint n_days = referral_sim_days_done (sim);
  lua_createtable (L, (int) n_days, 0);
  for (guint d = 1; d <= n_days; d++)
    {
      const ReferralSimDay *day = referral_sim_day (sim, d);
      lua_createtable (L, 0, 16);
      set_int (L, "day", day->day);
      set_int (L, "members", day->members);
      set_int (L, "joined", day->joined);
      set_int (L, "active", day->active);
      set_int (L, "churned", day->churned);
      set_int (L, "entry_orders", day->entry_orders);
      set_int (L, "retail_orders", day->retail_orders);
      set_int (L, "refunds", day->refunds);
      set_int (L, "withdrawals", day->withdrawals);
      set_int (L, "rejected", day->rejected);
      set_money (L, "rewards", day->rewards, decimals);
      set_money (L, "sales_total", day->sales_total, decimals);
      set_money (L, "rewards_total", day->rewards_total, decimals);
      set_money (L, "held", day->held, decimals);
      set_int (L, "losers", day->losers);
      set_number (L, "payout_ratio", day->payout_ratio);
      set_number (L, "loss_share", day->loss_share);
      lua_rawseti (L, -2, d);
    }
  lua_setfield (L, -2, "days");
  set_int (L, "members", referral_tree_size (referral_engine_tree (engine)));
  set_int (L, "events", referral_engine_n_events (engine));
  char buf[17];
  g_snprintf (buf, sizeof buf, "%016" G_GINT64_MODIFIER "x", referral_engine_state_hash (engine));
  lua_pushstring (L, buf);
  lua_setfield (L, -2, "state_hash");
  referral_sim_free (sim);
  referral_scheme_unref (scheme);
  return 1;
}

/* referral.builtin_schemes() -> names */
static int
l_builtin_schemes (lua_State *L)
{
  const char *const *names = referral_scheme_builtin_names ();
  lua_newtable (L);
  for (lua_Integer i = 0; names[i]; i++)
    {
      lua_pushstring (L, names[i]);
      lua_rawseti (L, -2, i + 1);
    }
  return 1;
}

/* referral.load_plugin(name_or_path) -> true | nil, message, code */
static int
l_load_plugin (lua_State *L)
{
  GError *error = NULL;
  if (!referral_plugin_load (luaL_checkstring (L, 1), &error))
    return push_failure (L, error);
  lua_pushboolean (L, 1);
  return 1;
}

/* referral.rule_types() -> sorted names of the registered rule types */
static int
l_rule_types (lua_State *L)
{
  const char **names = referral_rule_type_names ();
  lua_newtable (L);
  for (lua_Integer i = 0; names[i]; i++)
    {
      lua_pushstring (L, names[i]);
      lua_rawseti (L, -2, i + 1);
    }
  g_free (names);
  return 1;
}

/* Keeps the shared object holding @symbol loaded for the life of the
 * process.  lua_close() unloads C modules, but the rule registry of
 * libreferral is process-wide and holds the "lua" type defined here: both
 * must stay. */
static void
keep_loaded (void *symbol)
{
  Dl_info info;
  if (dladdr (symbol, &info) != 0 && info.dli_fname != NULL)
    dlopen (info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

int
luaopen_referral (lua_State *L)
{
  GError *error = NULL;
  keep_loaded ((void *) (gsize) &referral_rule_type_register);
  keep_loaded ((void *) (gsize) &referral_lua_rules_register);
  if (!referral_lua_rules_register (&error))
    {
      lua_pushfstring (L, "referral: cannot register the lua rule type: %s", error->message);
      g_error_free (error);
      return lua_error (L);
    }
  luaL_newmetatable (L, ENGINE_META);
  lua_newtable (L);
  luaL_setfuncs (L, engine_methods, 0);
  lua_setfield (L, -2, "__index");
  lua_pushcfunction (L, l_engine_close);
  lua_setfield (L, -2, "__gc");
  lua_pushcfunction (L, l_engine_close);
  lua_setfield (L, -2, "__close");
  lua_pushcfunction (L, l_engine_tostring);
  lua_setfield (L, -2, "__tostring");
  lua_pop (L, 1);

  static const luaL_Reg funcs[] = {
    { "Engine", l_engine_new },
    { "builtin_schemes", l_builtin_schemes },
    { "rule_types", l_rule_types },
    { "load_plugin", l_load_plugin },
    { "simulate", l_simulate },
    { NULL, NULL }
  };
  luaL_newlib (L, funcs);
  lua_pushstring (L, REFERRAL_VERSION_STRING);
  lua_setfield (L, -2, "version");
  return 1;
}
