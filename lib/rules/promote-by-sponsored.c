/* promote_by_sponsored: a member of rank `from_rank` with at least `count`
 * directly sponsored members of rank at least `count_rank` is promoted to
 * `to_rank`.  In chain 2+1: an agent with 2 direct agents (or partners)
 * becomes a partner.
 *
 * The number of qualifying sponsored members is kept per member in the
 * field "sponsored_at_least:N" (N: the number of `count_rank`, 0 = lowest),
 * updated in on_rank_change when a member crosses `count_rank` (O(1);
 * sponsored members are never iterated).  A marker field "counted_at_least:N" on the sponsored member makes the
 * count exact even when several instances count the same rank.
 *
 * Checks, on every rank change of a member x: first x itself, then x's
 * sponsor (when x counts for it).  Each promotion is itself a rank change,
 * so cascades run inside the same event.  While an administrator's promote
 * raises x step by step towards a higher target, the sponsor's check waits
 * for x's last step, so that x's own promotion effects (break-away) happen
 * before its sponsor's, as for a direct promotion to the target.  Place
 * this rule after seeds and break_away in the scheme. */
#include "rules/common.h"
#include "rules/rules.h"

typedef struct {
  ReferralRank from_rank;
  ReferralRank to_rank;
  ReferralRank count_rank;
  gint64 count;
  gint count_field;
  gint marker_field;
} PromoteConfig;

static const ReferralParamSpec promote_params[] = {
  { "from_rank", REFERRAL_PARAM_RANK, "agent",
    "only members of exactly this rank are promoted" },
  { "to_rank", REFERRAL_PARAM_RANK, "partner",
    "the rank they are promoted to" },
  { "count_rank", REFERRAL_PARAM_RANK, "agent",
    "directly sponsored members count when of at least this rank" },
  { "count", REFERRAL_PARAM_INT, "2",
    "how many such directly sponsored members a promotion needs" },
  { NULL, 0, NULL, NULL }
};

static gboolean
promote_init (ReferralSetup *setup, const ReferralParams *params,
              gpointer *config, GError **error)
{
  ReferralRank from_rank = referral_params_rank (params, "from_rank");
  ReferralRank to_rank = referral_params_rank (params, "to_rank");
  ReferralRank count_rank = referral_params_rank (params, "count_rank");
  if (to_rank <= from_rank)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "parameter \"to_rank\" must be higher than \"from_rank\"");
      return FALSE;
    }

  /* Field names carry the counted rank's number so that instances counting
   * the same rank share (and never double) the count. */
  g_autofree char *count_name = g_strdup_printf ("sponsored_at_least:%u", (guint) count_rank);
  g_autofree char *marker_name = g_strdup_printf ("counted_at_least:%u", (guint) count_rank);
  gint count_field = referral_setup_field (setup, count_name, 1, error);
  if (count_field < 0)
    return FALSE;
  gint marker_field = referral_setup_field (setup, marker_name, 1, error);
  if (marker_field < 0)
    return FALSE;

  PromoteConfig *cfg = g_new0 (PromoteConfig, 1);
  cfg->from_rank = from_rank;
  cfg->to_rank = to_rank;
  cfg->count_rank = count_rank;
  cfg->count = referral_params_int (params, "count");
  cfg->count_field = count_field;
  cfg->marker_field = marker_field;
  *config = cfg;
  return TRUE;
}

/* Keeps the sponsor's count of qualifying members in step with @member's
 * current rank. */
static void
update_count (ReferralCtx *ctx, const PromoteConfig *cfg, ReferralMember member)
{
  const ReferralTree *tree = referral_ctx_tree (ctx);
  ReferralMember sponsor = referral_tree_sponsor (tree, member);
  ReferralRank rank = referral_tree_rank (tree, member);
  if (sponsor == REFERRAL_NO_MEMBER)
    return;

  gboolean counted = referral_ctx_field_get (ctx, cfg->marker_field, member, 0) != 0;
  gboolean counts = rank >= cfg->count_rank;
  if (counted == counts)
    return;

  gint64 n = referral_ctx_field_get (ctx, cfg->count_field, sponsor, 0);
  referral_ctx_field_set (ctx, cfg->count_field, sponsor, 0, counts ? n + 1 : n - 1);
  referral_ctx_field_set (ctx, cfg->marker_field, member, 0, counts ? 1 : 0);
}

static gboolean
check (ReferralCtx *ctx, const PromoteConfig *cfg, ReferralMember member, GError **error)
{
  if (member == REFERRAL_NO_MEMBER)
    return TRUE;
  if (referral_tree_rank (referral_ctx_tree (ctx), member) != cfg->from_rank)
    return TRUE;
  if (referral_ctx_field_get (ctx, cfg->count_field, member, 0) < cfg->count)
    return TRUE;
  return referral_ctx_set_rank (ctx, member, cfg->to_rank, error);
}

/* TRUE while an administrator's promote of @member is still on its way to
 * a rank above @rank. */
static gboolean
promote_in_progress (const ReferralCtx *ctx, ReferralMember member, ReferralRank rank)
{
  const ReferralEvent *event = referral_ctx_event (ctx);
  ReferralRank target;

  if (event->type != REFERRAL_EVENT_PROMOTE || event->member == NULL || event->rank == NULL)
    return FALSE;
  if (referral_tree_lookup (referral_ctx_tree (ctx), event->member) != member)
    return FALSE;
  if (!referral_scheme_lookup_rank (referral_ctx_scheme (ctx), event->rank, &target))
    return FALSE;
  return target > rank;
}

static gboolean
promote_on_rank_change (ReferralCtx *ctx, gconstpointer config,
                        ReferralMember member, ReferralRank old_rank,
                        ReferralRank new_rank, GError **error)
{
  const PromoteConfig *cfg = config;

  update_count (ctx, cfg, member);

  if (!check (ctx, cfg, member, error))
    return FALSE;

  /* The member may have been promoted further by the check just made;
   * what matters for its sponsor is its rank now. */
  ReferralRank rank = referral_tree_rank (referral_ctx_tree (ctx), member);
  if (rank < cfg->count_rank || promote_in_progress (ctx, member, rank))
    return TRUE;
  return check (ctx, cfg, referral_tree_sponsor (referral_ctx_tree (ctx), member), error);
}

const ReferralRuleType referral_rule_promote_by_sponsored = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "promote_by_sponsored",
  .description = "promote a member with enough directly sponsored members of a rank",
  .params = promote_params,
  .init = promote_init,
  .free_config = g_free,
  .on_rank_change = promote_on_rank_change,
};
