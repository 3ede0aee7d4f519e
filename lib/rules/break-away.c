/* break_away: when a member reaches a rank, it breaks away from its
 * superior's team and hands its first seeds up to that superior.
 *
 * When member x first reaches `rank` (chain 2+1: partner), let L be x's
 * superior: its nearest strict placement ancestor of rank at least
 * `superior_rank`.  Only x's strict ancestors count, so L is the superior
 * "just before the promotion" even though x's rank has already changed when
 * this hook runs; rules before this one in the scheme must not move x's
 * ancestors in their on_rank_change.  If L exists, each of the first
 * `pass_up` seeds of x (shared field `seeds_field`, see the seeds rule)
 * whose placement parent is still x moves, with its whole placement
 * subtree, under L.  Members placed under x other than those seeds stay and
 * now have x as their superior.  Without a superior nothing moves. */
#include "rules/common.h"
#include "rules/rules.h"

typedef struct {
  ReferralRank rank;
  ReferralRank superior_rank;
  guint pass_up;
  gint seeds_field;
} BreakAwayConfig;

static const ReferralParamSpec break_away_params[] = {
  { "rank", REFERRAL_PARAM_RANK, "partner",
    "a member breaks away when it first reaches this rank" },
  { "superior_rank", REFERRAL_PARAM_RANK, "partner",
    "the superior is the nearest strict placement ancestor of at least this rank" },
  { "pass_up", REFERRAL_PARAM_INT, "2",
    "how many of the member's first seeds move under the superior (at most seeds)" },
  { "seeds_field", REFERRAL_PARAM_STRING, "seeds",
    "name of the shared member field that holds the seeds (see the seeds rule)" },
  { "seeds", REFERRAL_PARAM_INT, "2",
    "the seeds field's width (as the seeds rule's count, 1 to 64)" },
  { NULL, 0, NULL, NULL }
};

static gboolean
break_away_init (ReferralSetup *setup, const ReferralParams *params,
                 gpointer *config, GError **error)
{
  gint64 n_seeds = referral_params_int (params, "seeds");
  gint64 pass_up = referral_params_int (params, "pass_up");

  if (n_seeds < 1 || n_seeds > 64)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "parameter \"seeds\" must be between 1 and 64, not %"
                   G_GINT64_FORMAT, n_seeds);
      return FALSE;
    }
  if (pass_up < 0 || pass_up > n_seeds)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "parameter \"pass_up\" must be between 0 and \"seeds\" (%"
                   G_GINT64_FORMAT "), not %" G_GINT64_FORMAT, n_seeds, pass_up);
      return FALSE;
    }

  gint field = referral_setup_field (setup, referral_params_string (params, "seeds_field"),
                                     (guint) n_seeds, error);
  if (field < 0)
    return FALSE;

  BreakAwayConfig *cfg = g_new0 (BreakAwayConfig, 1);
  cfg->rank = referral_params_rank (params, "rank");
  cfg->superior_rank = referral_params_rank (params, "superior_rank");
  cfg->pass_up = (guint) pass_up;
  cfg->seeds_field = field;
  *config = cfg;
  return TRUE;
}

static gboolean
break_away_on_rank_change (ReferralCtx *ctx, gconstpointer config,
                           ReferralMember member, ReferralRank old_rank,
                           ReferralRank new_rank, GError **error)
{
  const BreakAwayConfig *cfg = config;
  const ReferralTree *tree = referral_ctx_tree (ctx);

  if (!(old_rank < cfg->rank && new_rank >= cfg->rank) || cfg->pass_up == 0)
    return TRUE;

  ReferralMember superior = referral_tree_nearest_at_rank (tree, member, cfg->superior_rank);
  if (superior == REFERRAL_NO_MEMBER)
    return TRUE;

  for (guint i = 0; i < cfg->pass_up; i++)
    {
      gint64 entry = referral_ctx_field_get (ctx, cfg->seeds_field, member, i);
      if (entry == 0)
        continue;
      ReferralMember seed = (ReferralMember) (entry - 1);
      if (referral_tree_parent (tree, seed) != member)
        continue;
      if (!referral_ctx_move (ctx, seed, superior, error))
        return FALSE;
    }
  return TRUE;
}

const ReferralRuleType referral_rule_break_away = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "break_away",
  .description = "on reaching a rank, pass the first seeds up to the former superior",
  .params = break_away_params,
  .init = break_away_init,
  .free_config = g_free,
  .on_rank_change = break_away_on_rank_change,
};
