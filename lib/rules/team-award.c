/* team_award: the superior of an order's seller gets a fixed amount.
 *
 * The seller is found as seller_award finds it: the buyer itself when its
 * rank is at least `self_rank`, otherwise its sponsor.  When the seller's
 * rank is one of `seller_ranks`, the seller's superior (its nearest strict
 * placement ancestor of rank at least `superior_rank`) gets `amount` from
 * the platform.  In chain 2+1: the superior partner of an agent seller gets
 * 200.00 (kind "team"); a partner seller makes no team award.
 *
 * The superior is found with referral_tree_nearest_at_rank(), memoised by
 * the tree, so orders deep in a stable tree cost O(1) amortised. */
#include "rules/common.h"
#include "rules/rules.h"

typedef struct {
  char *sku;
  gint64 amount;
  ReferralRank self_rank;
  ReferralRank superior_rank;
  gboolean seller_rank[REFERRAL_MAX_RANKS];
  ReferralKind kind;
} TeamAwardConfig;

static const ReferralParamSpec team_award_params[] = {
  { "sku", REFERRAL_PARAM_STRING, "gift",
    "only orders with this sku pay the award (\"\": every order)" },
  { "amount", REFERRAL_PARAM_MONEY, "200.00",
    "the award paid to the seller's superior" },
  { "seller_ranks", REFERRAL_PARAM_LIST, "agent",
    "the award is paid only when the seller has one of these ranks" },
  { "self_rank", REFERRAL_PARAM_RANK, "agent",
    "a buyer of at least this rank is its own seller; otherwise its sponsor sells" },
  { "superior_rank", REFERRAL_PARAM_RANK, "partner",
    "the superior is the nearest strict placement ancestor of at least this rank" },
  { "kind", REFERRAL_PARAM_STRING, "team",
    "posting kind of the award" },
  { NULL, 0, NULL, NULL }
};

static void
team_award_free (gpointer config)
{
  TeamAwardConfig *cfg = config;

  if (cfg == NULL)
    return;
  g_free (cfg->sku);
  g_free (cfg);
}

static gboolean
team_award_init (ReferralSetup *setup, const ReferralParams *params,
                 gpointer *config, GError **error)
{
  const char *const *ranks = referral_params_list (params, "seller_ranks");
  g_autofree TeamAwardConfig *cfg = g_new0 (TeamAwardConfig, 1);

  for (guint i = 0; ranks != NULL && ranks[i] != NULL; i++)
    {
      ReferralRank rank;
      if (!referral_setup_lookup_rank (setup, ranks[i], &rank))
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                       "parameter \"seller_ranks\": \"%s\" is not a rank of the scheme",
                       ranks[i]);
          return FALSE;
        }
      cfg->seller_rank[rank] = TRUE;
    }
  cfg->amount = referral_params_money (params, "amount");
  cfg->self_rank = referral_params_rank (params, "self_rank");
  cfg->superior_rank = referral_params_rank (params, "superior_rank");
  cfg->kind = referral_setup_kind (setup, referral_params_string (params, "kind"));
  cfg->sku = g_strdup (referral_params_string (params, "sku"));
  *config = g_steal_pointer (&cfg);
  return TRUE;
}

static gboolean
team_award_on_order (ReferralCtx *ctx, gconstpointer config,
                     const ReferralOrder *order, GError **error)
{
  const TeamAwardConfig *cfg = config;
  const ReferralTree *tree = referral_ctx_tree (ctx);

  if (cfg->amount <= 0)
    return TRUE;
  if (!rule_sku_matches (cfg->sku, order))
    return TRUE;

  ReferralMember seller = order->buyer;
  if (referral_tree_rank (tree, seller) < cfg->self_rank)
    seller = referral_tree_sponsor (tree, seller);
  if (seller == REFERRAL_NO_MEMBER || !cfg->seller_rank[referral_tree_rank (tree, seller)])
    return TRUE;

  ReferralMember superior = referral_tree_nearest_at_rank (tree, seller, cfg->superior_rank);
  if (superior == REFERRAL_NO_MEMBER)
    return TRUE;

  ReferralAccount to = referral_ledger_member_account (referral_ctx_ledger (ctx),
                                                       superior, FALSE);
  return referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM, to, cfg->amount,
                            cfg->kind, REFERRAL_NO_POSTING, NULL, error);
}

const ReferralRuleType referral_rule_team_award = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "team_award",
  .description = "pay the superior (nearest ancestor of a rank) of an order's seller a fixed amount",
  .params = team_award_params,
  .init = team_award_init,
  .free_config = team_award_free,
  .on_order = team_award_on_order,
};
