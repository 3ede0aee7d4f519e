/* help_fund: hold back a share of a member's credits until a tree
 * condition holds, then release everything held, for good.
 *
 * The condition: the member has recorded all `seeds` of its seeds (the
 * shared field `seeds_field`, see the seeds rule) and every one of them has
 * rank at least `seed_rank`.  In chain 2+1: both seeds are partners.
 *
 * - Hold: while a member's fund is locked, every posting of one of `kinds`
 *   crediting its available funds is followed by a hold of
 *   floor(credit * rate) to its held funds, caused by that credit.
 * - Release: at the end of every event, for each member changed by the
 *   event (rank or fields) and that member's sponsor (whose seed it may be),
 *   in the order of their first change: if the fund is locked and the
 *   condition holds, all held funds move to available and the fund is
 *   released (member field `released_field` set to 1).
 * - Refund: a hold is reversed (held -> available) only while the fund is
 *   still locked; once released, the reversal is skipped, so the reversal of
 *   the credit itself takes the whole amount from available funds.  A
 *   release is never reversed: a refund does not lock a fund again. */
#include "rules/common.h"
#include "rules/rules.h"

typedef struct {
  ReferralRate rate;
  ReferralKind kinds[16];
  guint n_kinds;
  gint seeds_field;
  guint n_seeds;
  ReferralRank seed_rank;
  gint released_field;
} HelpFundConfig;

static const ReferralParamSpec help_fund_params[] = {
  { "rate", REFERRAL_PARAM_RATE, "20%",
    "share of each credit held back while the fund is locked" },
  { "kinds", REFERRAL_PARAM_LIST, "direct, rebate, team, peer, pool",
    "the credit kinds that are split while the fund is locked" },
  { "seeds_field", REFERRAL_PARAM_STRING, "seeds",
    "name of the shared member field that holds the seeds (see the seeds rule)" },
  { "seeds", REFERRAL_PARAM_INT, "2",
    "how many seeds the fund waits for (the seeds field's width, 1 to 64)" },
  { "seed_rank", REFERRAL_PARAM_RANK, "partner",
    "the fund is released when every seed has at least this rank" },
  { "released_field", REFERRAL_PARAM_STRING, "help_fund_released",
    "name of the member field that records a released fund (1)" },
  { NULL, 0, NULL, NULL }
};

static gboolean
help_fund_init (ReferralSetup *setup, const ReferralParams *params,
                gpointer *config, GError **error)
{
  const char *const *kinds = referral_params_list (params, "kinds");
  gint64 n_seeds = referral_params_int (params, "seeds");
  g_autofree HelpFundConfig *cfg = g_new0 (HelpFundConfig, 1);

  for (guint i = 0; kinds != NULL && kinds[i] != NULL; i++)
    {
      ReferralKind kind = referral_setup_kind (setup, kinds[i]);
      if (kind == REFERRAL_KIND_HOLD || kind == REFERRAL_KIND_RELEASE)
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                       "parameter \"kinds\" must not contain \"%s\"", kinds[i]);
          return FALSE;
        }
      if (cfg->n_kinds == G_N_ELEMENTS (cfg->kinds))
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                       "parameter \"kinds\" has more than %u entries",
                       (guint) G_N_ELEMENTS (cfg->kinds));
          return FALSE;
        }
      cfg->kinds[cfg->n_kinds++] = kind;
      if (!referral_setup_posting_kind (setup, kind, error)) /* on_posting sees only these */
        return FALSE;
    }
  if (n_seeds < 1 || n_seeds > 64)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "parameter \"seeds\" must be between 1 and 64, not %"
                   G_GINT64_FORMAT, n_seeds);
      return FALSE;
    }
  cfg->n_seeds = (guint) n_seeds;
  cfg->seeds_field = referral_setup_field (setup, referral_params_string (params, "seeds_field"),
                                           cfg->n_seeds, error);
  if (cfg->seeds_field < 0)
    return FALSE;
  cfg->released_field = referral_setup_field (setup,
                                              referral_params_string (params, "released_field"),
                                              1, error);
  if (cfg->released_field < 0)
    return FALSE;
  cfg->rate = referral_params_rate (params, "rate");
  cfg->seed_rank = referral_params_rank (params, "seed_rank");
  *config = g_steal_pointer (&cfg);
  return TRUE;
}

static gboolean
is_released (const ReferralCtx *ctx, const HelpFundConfig *cfg, ReferralMember member)
{
  return referral_ctx_field_get (ctx, cfg->released_field, member, 0) != 0;
}

static gboolean
splits (const HelpFundConfig *cfg, ReferralKind kind)
{
  for (guint i = 0; i < cfg->n_kinds; i++)
    if (cfg->kinds[i] == kind)
      return TRUE;
  return FALSE;
}

static gboolean
help_fund_on_posting (ReferralCtx *ctx, gconstpointer config,
                      const ReferralPosting *posting, guint64 index,
                      GError **error)
{
  const HelpFundConfig *cfg = config;

  if (!splits (cfg, posting->kind))
    return TRUE;

  gboolean held = FALSE;
  ReferralMember member = referral_ledger_account_member (referral_ctx_ledger (ctx),
                                                          posting->to, &held);
  if (member == REFERRAL_NO_MEMBER || held || is_released (ctx, cfg, member))
    return TRUE;

  gint64 hold;
  if (!referral_rate_apply (cfg->rate, posting->amount, &hold, error))
    return FALSE;
  if (hold <= 0)
    return TRUE;
  return referral_ctx_hold (ctx, member, hold, index, error);
}

/* The release condition: every seed recorded and of at least seed_rank. */
static gboolean
condition_holds (const ReferralCtx *ctx, const HelpFundConfig *cfg, ReferralMember member)
{
  const ReferralTree *tree = referral_ctx_tree (ctx);

  for (guint i = 0; i < cfg->n_seeds; i++)
    {
      gint64 entry = referral_ctx_field_get (ctx, cfg->seeds_field, member, i);
      if (entry == 0)
        return FALSE;
      if (referral_tree_rank (tree, (ReferralMember) (entry - 1)) < cfg->seed_rank)
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_release (ReferralCtx *ctx, const HelpFundConfig *cfg, ReferralMember member,
               GError **error)
{
  if (member == REFERRAL_NO_MEMBER || is_released (ctx, cfg, member))
    return TRUE;
  if (!condition_holds (ctx, cfg, member))
    return TRUE;
  if (!referral_ctx_release (ctx, member, NULL, error))
    return FALSE;
  referral_ctx_field_set (ctx, cfg->released_field, member, 0, 1);
  return TRUE;
}

static gboolean
help_fund_on_event_end (ReferralCtx *ctx, gconstpointer config, GError **error)
{
  const HelpFundConfig *cfg = config;
  const ReferralTree *tree = referral_ctx_tree (ctx);

  /* The condition of m depends only on m's seeds field and on the ranks of
   * its seeds, whose sponsor is m: so it can only have become true for a
   * changed member or the sponsor of one.  The list may grow as releases set
   * the flag; those members are checked again, harmlessly. */
  for (guint i = 0; i < referral_ctx_n_changed (ctx); i++)
    {
      ReferralMember member = referral_ctx_changed (ctx, i);
      if (!check_release (ctx, cfg, member, error))
        return FALSE;
      if (!check_release (ctx, cfg, referral_tree_sponsor (tree, member), error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
help_fund_on_reverse (ReferralCtx *ctx, gconstpointer config,
                      const ReferralPosting *original, guint64 original_index,
                      ReferralPosting *reversal, gboolean *skip, GError **error)
{
  const HelpFundConfig *cfg = config;

  if (original->kind != REFERRAL_KIND_HOLD && original->kind != REFERRAL_KIND_RELEASE)
    return TRUE;

  ReferralMember member = referral_ledger_account_member (referral_ctx_ledger (ctx),
                                                          original->to, NULL);
  if (member != REFERRAL_NO_MEMBER && is_released (ctx, cfg, member))
    *skip = TRUE;
  return TRUE;
}

const ReferralRuleType referral_rule_help_fund = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "help_fund",
  .description = "hold a share of credits until every seed reaches a rank, then release all",
  .params = help_fund_params,
  .init = help_fund_init,
  .free_config = g_free,
  .on_posting = help_fund_on_posting,
  .on_event_end = help_fund_on_event_end,
  .on_reverse = help_fund_on_reverse,
};
