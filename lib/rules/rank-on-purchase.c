/* rank_on_purchase: buying a given sku raises the buyer to a rank.
 *
 * In chain 2+1, a user who buys the gift pack becomes an agent.  The rank is
 * set through the context, so every rule's on_rank_change runs at once (seeds,
 * promotions, break-away).  Put this rule after the rules that pay for the
 * order, so that they see the ranks as they were before it. */
#include "rules/common.h"
#include "rules/rules.h"

typedef struct {
  char *sku;
  ReferralRank rank;
} RankOnPurchaseConfig;

static const ReferralParamSpec rank_on_purchase_params[] = {
  { "sku", REFERRAL_PARAM_STRING, "gift",
    "orders with this sku raise the buyer (\"\": every order)" },
  { "rank", REFERRAL_PARAM_RANK, "agent",
    "a buyer below this rank is raised to it" },
  { NULL, 0, NULL, NULL }
};

static void
rank_on_purchase_free (gpointer config)
{
  RankOnPurchaseConfig *cfg = config;

  if (cfg == NULL)
    return;
  g_free (cfg->sku);
  g_free (cfg);
}

static gboolean
rank_on_purchase_init (ReferralSetup *setup, const ReferralParams *params,
                       gpointer *config, GError **error)
{
  RankOnPurchaseConfig *cfg = g_new0 (RankOnPurchaseConfig, 1);

  cfg->sku = g_strdup (referral_params_string (params, "sku"));
  cfg->rank = referral_params_rank (params, "rank");
  *config = cfg;
  return TRUE;
}

static gboolean
rank_on_purchase_on_order (ReferralCtx *ctx, gconstpointer config,
                           const ReferralOrder *order, GError **error)
{
  const RankOnPurchaseConfig *cfg = config;

  if (!rule_sku_matches (cfg->sku, order))
    return TRUE;
  if (referral_tree_rank (referral_ctx_tree (ctx), order->buyer) >= cfg->rank)
    return TRUE;
  return referral_ctx_set_rank (ctx, order->buyer, cfg->rank, error);
}

const ReferralRuleType referral_rule_rank_on_purchase = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "rank_on_purchase",
  .description = "an order of a given sku raises a buyer below a rank to that rank",
  .params = rank_on_purchase_params,
  .init = rank_on_purchase_init,
  .free_config = rank_on_purchase_free,
  .on_order = rank_on_purchase_on_order,
};
