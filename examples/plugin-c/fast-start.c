/* A complete out-of-tree rule plugin: the fast-start bonus.
 *
 * A new member's sponsor earns `bonus` on each of the member's first
 * `orders` orders, as long as they are placed within `periods` period closes
 * of the member joining (0 = no time limit).  Build it with nothing but the
 * installed headers:
 *
 *   cc -shared -fPIC -o fast-start.so fast-start.c \
 *      $(pkg-config --cflags --libs referral)
 *
 * and name it in a scheme file (see fast-start.ini):
 *
 *   [scheme]
 *   plugins = fast-start
 *
 * with REFERRAL_PLUGIN_PATH set to the directory that holds fast-start.so.
 *
 * What a rule keeps between events (here: when a member joined and how many
 * bonuses it has earned) lives in an engine-owned member field, so that a
 * rejected event undoes it along with the postings. */
#include <referral/referral-plugin.h>

typedef struct {
  gint64 bonus;    /* minor units */
  gint64 orders;   /* how many first orders earn it */
  gint64 periods;  /* within how many period closes of joining; 0: always */
  ReferralKind kind;
  gint field;      /* word 0: period at join; word 1: bonuses paid */
} FastStart;

static const ReferralParamSpec fast_start_params[] = {
  { "bonus", REFERRAL_PARAM_MONEY, NULL, "paid to the sponsor per qualifying order" },
  { "orders", REFERRAL_PARAM_INT, "3", "how many of the member's first orders qualify" },
  { "periods", REFERRAL_PARAM_INT, "1", "qualifying window in period closes after joining (0: none)" },
  { "kind", REFERRAL_PARAM_STRING, "fast_start", "posting kind of the bonus" },
  { NULL, 0, NULL, NULL }
};

static gboolean
fast_start_init (ReferralSetup *setup, const ReferralParams *params,
                 gpointer *config, GError **error)
{
  FastStart *fs = g_new0 (FastStart, 1);
  fs->bonus = referral_params_money (params, "bonus");
  fs->orders = referral_params_int (params, "orders");
  fs->periods = referral_params_int (params, "periods");
  if (fs->bonus <= 0)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME,
                   "fast_start: bonus must be more than 0");
      g_free (fs);
      return FALSE;
    }
  fs->kind = referral_setup_kind (setup, referral_params_string (params, "kind"));
  fs->field = referral_setup_field (setup, "fast_start", 2, error);
  if (fs->field < 0)
    {
      g_free (fs);
      return FALSE;
    }
  *config = fs;
  return TRUE;
}

static gboolean
fast_start_on_join (ReferralCtx *ctx, gconstpointer config,
                    ReferralMember member, GError **error)
{
  const FastStart *fs = config;
  referral_ctx_field_set (ctx, fs->field, member, 0, referral_ctx_period (ctx));
  return TRUE;
}

static gboolean
fast_start_on_order (ReferralCtx *ctx, gconstpointer config,
                     const ReferralOrder *order, GError **error)
{
  const FastStart *fs = config;
  ReferralMember sponsor = referral_tree_sponsor (referral_ctx_tree (ctx), order->buyer);
  if (sponsor == REFERRAL_NO_MEMBER)
    return TRUE;
  gint64 joined = referral_ctx_field_get (ctx, fs->field, order->buyer, 0);
  gint64 paid = referral_ctx_field_get (ctx, fs->field, order->buyer, 1);
  if (paid >= fs->orders)
    return TRUE;
  if (fs->periods > 0 && (gint64) referral_ctx_period (ctx) - joined >= fs->periods)
    return TRUE;
  ReferralAccount to = referral_ledger_member_account (referral_ctx_ledger (ctx),
                                                      sponsor, FALSE);
  if (!referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM, to, fs->bonus, fs->kind,
                          REFERRAL_NO_POSTING, NULL, error))
    return FALSE;
  referral_ctx_field_set (ctx, fs->field, order->buyer, 1, paid + 1);
  return TRUE;
}

static const ReferralRuleType fast_start_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "fast_start",
  .description = "a bonus to the sponsor on a new member's first orders",
  .params = fast_start_params,
  .init = fast_start_init,
  .free_config = g_free,
  .on_join = fast_start_on_join,
  .on_order = fast_start_on_order,
};

static gboolean
fast_start_register (GError **error)
{
  return referral_rule_type_register (&fast_start_type, error);
}

REFERRAL_PLUGIN_DEFINE (fast_start_register)
