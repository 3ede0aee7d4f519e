/* bonus_pool: a pool fed by every order and shared at period close among
 * the members with performance, in proportion to it.
 *
 * - Contribution: each order (of `sku`, or every order when empty) moves
 *   floor(amount * rate) from the platform into the pool account `pool`
 *   (kind `contribution_kind`).  A refund reverses it like any posting of
 *   the order's event, even when the pool was shared since: the pool may go
 *   negative and carries that over.
 * - Performance: when a posting of one of `performance_kinds` credits the
 *   available funds of a member of rank at least `performance_rank` during
 *   an order, that member's performance for the current period grows by the
 *   order's amount (once per member and order).  Each such addition is also
 *   kept as an entry {event, member, amount} of a per-period list, so that
 *   a refund in the same period removes exactly what its order added (found
 *   by binary search on the event), and so that the period close visits only
 *   members with performance.
 * - Period close: if the pool's balance is positive and some members have
 *   positive performance, each gets floor(pool * perf / total) (kind
 *   `kind`); the minor units left over go one each to the largest
 *   fractional remainders, ties to the earlier joined member.  Otherwise
 *   the pool carries over.  Performance then restarts at zero. */
#include <stdlib.h>

#include "rules/common.h"
#include "rules/rules.h"

__extension__ typedef __int128 PoolWide;

typedef struct {
  ReferralAccount pool;
  ReferralRate rate;
  char *sku;
  ReferralKind contribution_kind;
  ReferralKind kind;
  ReferralKind perf_kinds[16];
  guint n_perf_kinds;
  ReferralRank perf_rank;
  gint perf_field;
  gint perf_list;
} BonusPoolConfig;

/* A performance list entry. */
enum { ENTRY_EVENT, ENTRY_MEMBER, ENTRY_AMOUNT, ENTRY_WORDS };

static const ReferralParamSpec bonus_pool_params[] = {
  { "pool", REFERRAL_PARAM_STRING, "pool",
    "name of the pool account" },
  { "rate", REFERRAL_PARAM_RATE, "5%",
    "share of each order's amount paid into the pool" },
  { "sku", REFERRAL_PARAM_STRING, "",
    "only orders with this sku contribute (\"\": every order)" },
  { "contribution_kind", REFERRAL_PARAM_STRING, "pool_contribution",
    "posting kind of a contribution (platform -> pool)" },
  { "performance_kinds", REFERRAL_PARAM_LIST, "direct, rebate, team",
    "credits of these kinds during an order add the order's amount to the earner's performance" },
  { "performance_rank", REFERRAL_PARAM_RANK, "partner",
    "only members of at least this rank accrue performance" },
  { "kind", REFERRAL_PARAM_STRING, "pool",
    "posting kind of a share paid at period close (pool -> member)" },
  { NULL, 0, NULL, NULL }
};

static void
bonus_pool_free (gpointer config)
{
  BonusPoolConfig *cfg = config;

  if (cfg == NULL)
    return;
  g_free (cfg->sku);
  g_free (cfg);
}

static gboolean
bonus_pool_init (ReferralSetup *setup, const ReferralParams *params,
                 gpointer *config, GError **error)
{
  const char *pool = referral_params_string (params, "pool");
  const char *const *kinds = referral_params_list (params, "performance_kinds");
  g_autofree BonusPoolConfig *cfg = g_new0 (BonusPoolConfig, 1);

  if (pool[0] == '\0')
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "parameter \"pool\" must not be empty");
      return FALSE;
    }
  for (guint i = 0; kinds != NULL && kinds[i] != NULL; i++)
    {
      if (cfg->n_perf_kinds == G_N_ELEMENTS (cfg->perf_kinds))
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                       "parameter \"performance_kinds\" has more than %u entries",
                       (guint) G_N_ELEMENTS (cfg->perf_kinds));
          return FALSE;
        }
      cfg->perf_kinds[cfg->n_perf_kinds] = referral_setup_kind (setup, kinds[i]);
      /* on_posting sees only these */
      if (!referral_setup_posting_kind (setup, cfg->perf_kinds[cfg->n_perf_kinds++], error))
        return FALSE;
    }

  /* Field and list are named after the pool: two pools never share them. */
  g_autofree char *field_name = g_strdup_printf ("performance:%s", pool);
  g_autofree char *list_name = g_strdup_printf ("performance_entries:%s", pool);
  cfg->perf_field = referral_setup_field (setup, field_name, 1, error);
  if (cfg->perf_field < 0)
    return FALSE;
  cfg->perf_list = referral_setup_list (setup, list_name, ENTRY_WORDS, error);
  if (cfg->perf_list < 0)
    return FALSE;

  cfg->pool = referral_setup_pool (setup, pool);
  cfg->rate = referral_params_rate (params, "rate");
  cfg->contribution_kind = referral_setup_kind (setup,
                                                referral_params_string (params, "contribution_kind"));
  cfg->kind = referral_setup_kind (setup, referral_params_string (params, "kind"));
  cfg->perf_rank = referral_params_rank (params, "performance_rank");
  cfg->sku = g_strdup (referral_params_string (params, "sku"));
  *config = g_steal_pointer (&cfg);
  return TRUE;
}

static gboolean
bonus_pool_on_order (ReferralCtx *ctx, gconstpointer config,
                     const ReferralOrder *order, GError **error)
{
  const BonusPoolConfig *cfg = config;
  gint64 amount;

  if (!rule_sku_matches (cfg->sku, order))
    return TRUE;
  if (!referral_rate_apply (cfg->rate, order->amount, &amount, error))
    return FALSE;
  if (amount <= 0)
    return TRUE;
  return referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM, cfg->pool, amount,
                            cfg->contribution_kind, REFERRAL_NO_POSTING, NULL, error);
}

static gboolean
counts_for_performance (const BonusPoolConfig *cfg, ReferralKind kind)
{
  for (guint i = 0; i < cfg->n_perf_kinds; i++)
    if (cfg->perf_kinds[i] == kind)
      return TRUE;
  return FALSE;
}

static gboolean
bonus_pool_on_posting (ReferralCtx *ctx, gconstpointer config,
                       const ReferralPosting *posting, guint64 index,
                       GError **error)
{
  const BonusPoolConfig *cfg = config;
  const ReferralEvent *event = referral_ctx_event (ctx);

  if (event->type != REFERRAL_EVENT_ORDER || !counts_for_performance (cfg, posting->kind))
    return TRUE;

  gboolean held = FALSE;
  ReferralMember member = referral_ledger_account_member (referral_ctx_ledger (ctx),
                                                          posting->to, &held);
  if (member == REFERRAL_NO_MEMBER || held)
    return TRUE;
  if (referral_tree_rank (referral_ctx_tree (ctx), member) < cfg->perf_rank)
    return TRUE;

  /* Once per member and order: this event's entries are the list's last. */
  guint32 seq = referral_ctx_event_seq (ctx);
  for (guint64 i = referral_ctx_list_length (ctx, cfg->perf_list); i > 0; i--)
    {
      const gint64 *entry = referral_ctx_list_get (ctx, cfg->perf_list, i - 1);
      if (entry[ENTRY_EVENT] != (gint64) seq)
        break;
      if (entry[ENTRY_MEMBER] == (gint64) member)
        return TRUE;
    }

  gint64 perf = referral_ctx_field_get (ctx, cfg->perf_field, member, 0);
  if (!referral_money_add (perf, event->amount, &perf))
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_OVERFLOW,
                   "performance of \"%s\" would overflow",
                   referral_tree_key (referral_ctx_tree (ctx), member));
      return FALSE;
    }
  referral_ctx_field_set (ctx, cfg->perf_field, member, 0, perf);

  const gint64 entry[ENTRY_WORDS] = { seq, member, event->amount };
  referral_ctx_list_push (ctx, cfg->perf_list, entry);
  return TRUE;
}

static gboolean
bonus_pool_on_refund (ReferralCtx *ctx, gconstpointer config,
                      const ReferralOrder *order, GError **error)
{
  const BonusPoolConfig *cfg = config;

  /* Only a refund in the order's own period takes performance back: after
   * a close, that performance has been paid for and reset. */
  if (order->period != referral_ctx_period (ctx))
    return TRUE;

  /* Entries are in event order: find the first of the order's event. */
  guint64 lo = 0, hi = referral_ctx_list_length (ctx, cfg->perf_list);
  while (lo < hi)
    {
      guint64 mid = lo + (hi - lo) / 2;
      if (referral_ctx_list_get (ctx, cfg->perf_list, mid)[ENTRY_EVENT] < (gint64) order->event)
        lo = mid + 1;
      else
        hi = mid;
    }

  guint64 n = referral_ctx_list_length (ctx, cfg->perf_list);
  for (guint64 i = lo; i < n; i++)
    {
      const gint64 *entry = referral_ctx_list_get (ctx, cfg->perf_list, i);
      if (entry[ENTRY_EVENT] != (gint64) order->event)
        break;
      ReferralMember member = (ReferralMember) entry[ENTRY_MEMBER];
      gint64 amount = entry[ENTRY_AMOUNT];
      gint64 perf = referral_ctx_field_get (ctx, cfg->perf_field, member, 0);
      referral_ctx_field_set (ctx, cfg->perf_field, member, 0, perf - amount);
    }
  return TRUE;
}

typedef struct {
  ReferralMember member;
  gint64 perf;
  gint64 share;
  PoolWide remainder;
} Earner;

/* Largest remainder first; ties to the earlier joined (lower index). */
static int
compare_remainders (const void *a, const void *b)
{
  const Earner *x = a;
  const Earner *y = b;

  if (x->remainder != y->remainder)
    return x->remainder > y->remainder ? -1 : 1;
  return x->member < y->member ? -1 : (x->member > y->member ? 1 : 0);
}

static int
compare_members (const void *a, const void *b)
{
  const Earner *x = a;
  const Earner *y = b;

  return x->member < y->member ? -1 : (x->member > y->member ? 1 : 0);
}

/* Collects the members with positive performance (each once) and resets
 * every performance of the period to zero. */
static GArray *
collect_earners (ReferralCtx *ctx, const BonusPoolConfig *cfg)
{
  GArray *earners = g_array_new (FALSE, FALSE, sizeof (Earner));
  guint64 n = referral_ctx_list_length (ctx, cfg->perf_list);

  for (guint64 i = 0; i < n; i++)
    {
      ReferralMember member = (ReferralMember) referral_ctx_list_get (ctx, cfg->perf_list,
                                                                      i)[ENTRY_MEMBER];
      gint64 perf = referral_ctx_field_get (ctx, cfg->perf_field, member, 0);
      if (perf == 0)
        continue; /* seen already, or all refunded */
      referral_ctx_field_set (ctx, cfg->perf_field, member, 0, 0);
      if (perf > 0)
        {
          Earner earner = { member, perf, 0, 0 };
          g_array_append_val (earners, earner);
        }
    }
  referral_ctx_list_clear (ctx, cfg->perf_list);
  return earners;
}

static gboolean
bonus_pool_on_period_close (ReferralCtx *ctx, gconstpointer config,
                            const char *period, GError **error)
{
  const BonusPoolConfig *cfg = config;
  gint64 pool = referral_ledger_balance (referral_ctx_ledger (ctx), cfg->pool);
  g_autoptr(GArray) earners = collect_earners (ctx, cfg);

  if (pool <= 0 || earners->len == 0)
    return TRUE; /* the pool carries over */

  PoolWide total = 0;
  for (guint i = 0; i < earners->len; i++)
    total += g_array_index (earners, Earner, i).perf;

  /* Each share is at most the pool, so it fits; the remainders sum to
   * less than one minor unit per earner. */
  gint64 left = pool;
  for (guint i = 0; i < earners->len; i++)
    {
      Earner *e = &g_array_index (earners, Earner, i);
      PoolWide product = (PoolWide) pool * e->perf;
      e->share = (gint64) (product / total);
      e->remainder = product % total;
      left -= e->share;
    }
  qsort (earners->data, earners->len, sizeof (Earner), compare_remainders);
  for (guint i = 0; left > 0; i++, left--)
    g_array_index (earners, Earner, i).share++;

  /* Pay in join order, so the ledger reads naturally. */
  qsort (earners->data, earners->len, sizeof (Earner), compare_members);
  const ReferralLedger *ledger = referral_ctx_ledger (ctx);
  for (guint i = 0; i < earners->len; i++)
    {
      const Earner *e = &g_array_index (earners, Earner, i);
      if (e->share <= 0)
        continue;
      if (!referral_ctx_post (ctx, cfg->pool,
                              referral_ledger_member_account (ledger, e->member, FALSE),
                              e->share, cfg->kind, REFERRAL_NO_POSTING, NULL, error))
        return FALSE;
    }
  return TRUE;
}

const ReferralRuleType referral_rule_bonus_pool = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "bonus_pool",
  .description = "pool a share of every order; share it by performance at period close",
  .params = bonus_pool_params,
  .init = bonus_pool_init,
  .free_config = bonus_pool_free,
  .on_order = bonus_pool_on_order,
  .on_posting = bonus_pool_on_posting,
  .on_refund = bonus_pool_on_refund,
  .on_period_close = bonus_pool_on_period_close,
};
