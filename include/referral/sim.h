/* libreferral: seeded population simulation and outcome metrics.
 *
 * A simulation plays the life of a finite market of people under any
 * scheme, day by day, and feeds what they do to an engine through the
 * public event API (joins, orders, refunds, withdrawals, period closes),
 * exactly as a platform would.  It then measures what the scheme did to
 * the population: who earned, who lost, how fast the market saturated, and
 * how much of the money came from recruiting rather than from selling.
 *
 *   g_autoptr(ReferralSimConfig) config = referral_sim_config_new ();
 *   referral_sim_config_set (config, "members", "100000", NULL, &error);
 *   g_autoptr(ReferralSim) sim = referral_sim_new (scheme, config, &error);
 *   referral_sim_run (sim, NULL, NULL, &error);
 *   const ReferralSimSummary *s = referral_sim_summary (sim);
 *
 * One day, in this order (docs/simulation.md has the whole model):
 *   1. the orders picked for refund the day before are refunded;
 *   2. (day 1 only) `founders` people join without a sponsor (each buys
 *      the entry product with probability `entry_rate`, or is promoted to
 *      `founder_rank`);
 *   3. every member who was there when the day began, in join order, and
 *      is still active: may churn (become inactive for good; probability
 *      `churn_rates` by rank); else buys (the entry product if it never
 *      did, probability `entry_later_rate`; otherwise the repurchase
 *      product, `repurchase_rate`); then may recruit one new person
 *      (`recruit_rates` by rank, times the share of the market not yet
 *      joined unless `recruit_saturation` is false), who joins under it
 *      and buys the entry product at once with probability `entry_rate`;
 *   4. active members with positive available funds may withdraw them
 *      (`withdraw_rate`);
 *   5. the day ends with a period close.
 * Every order may be picked for a refund the next day (`refund_rate`).
 *
 * Determinism: every random draw is a pure function of the seed, the
 * person, the day and what the draw decides (a counter-based SplitMix64,
 * no GLib PRNG, no clock), and every draw is an integer comparison, so the
 * same seed and configuration give the same events, ledger, state hash and
 * metrics on any machine.  Because a person's draws do not depend on the
 * scheme, two schemes run with the same seed see the same people make the
 * same choices as far as their ranks allow (common random numbers).
 *
 * Money in the metrics is exact (int64 minor units).  Ratios, shares and
 * the Gini coefficient are doubles, computed from exact integer sums with
 * one final division, in a fixed order.
 *
 * Errors: an invalid configuration is REFERRAL_ERROR_SCHEME (the error code
 * of scheme files, whose key-file format the configuration shares), with a
 * message naming where the value came from (file and line, or option) and
 * the key. */
#ifndef REFERRAL_SIM_H
#define REFERRAL_SIM_H

#include <glib.h>
#include <referral/engine.h>
#include <referral/export.h>
#include <referral/ledger.h>
#include <referral/scheme.h>
#include <referral/tree.h>

G_BEGIN_DECLS

/* ---- configuration ------------------------------------------------------ */

typedef struct _ReferralSimConfig ReferralSimConfig;

/* referral_sim_config_new:
 * Returns: (transfer full): a configuration with every key at its default. */
REFERRAL_API ReferralSimConfig *referral_sim_config_new (void);

/* referral_sim_config_copy:
 * Returns: (transfer full): an independent copy of @config. */
REFERRAL_API ReferralSimConfig *referral_sim_config_copy (const ReferralSimConfig *config);

/* Frees @config; NULL is a no-op. */
REFERRAL_API void referral_sim_config_free (ReferralSimConfig *config);

/* referral_sim_config_keys:
 * Returns: (transfer none): the NULL-terminated names of every key, in the
 * order of the documentation ("seed", "members", "days", ...). */
REFERRAL_API const char *const *referral_sim_config_keys (void);

/* referral_sim_config_key_default / referral_sim_config_key_description /
 * referral_sim_config_key_syntax:
 * Returns: (transfer none): the default value's text, a one-line
 * description, and the kind of value expected ("N", "RATE", "RATE,...",
 * "AMOUNT", "SKU", "RANK", "true|false"), or NULL for an unknown key. */
REFERRAL_API const char *referral_sim_config_key_default (const char *key);
REFERRAL_API const char *referral_sim_config_key_description (const char *key);
REFERRAL_API const char *referral_sim_config_key_syntax (const char *key);

/* referral_sim_config_set:
 * Sets @key to the text @value, checking its syntax and range (amounts are
 * checked against the scheme's decimals, ranks against its rank names and
 * per-rank lists against its number of ranks only in referral_sim_new()).
 * @where: (nullable): where the value came from, used as the prefix of
 *   error messages here and in referral_sim_new() ("sim.ini:4: [sim] key
 *   \"days\"", "option --days"); NULL: "key \"KEY\"".
 * @error: REFERRAL_ERROR_SCHEME for an unknown key or a bad value; the
 *   message starts with @where.
 * Returns: TRUE on success; on failure @config is unchanged. */
REFERRAL_API gboolean referral_sim_config_set (ReferralSimConfig *config,
                                               const char *key,
                                               const char *value,
                                               const char *where,
                                               GError **error);

/* referral_sim_config_get:
 * Returns: (transfer none): the current text of @key (as set, or the
 * default), or NULL for an unknown key.  Valid until @key is set again. */
REFERRAL_API const char *referral_sim_config_get (const ReferralSimConfig *config,
                                                  const char *key);

/* referral_sim_config_is_set:
 * Returns: TRUE when @key was set explicitly rather than defaulted. */
REFERRAL_API gboolean referral_sim_config_is_set (const ReferralSimConfig *config,
                                                  const char *key);

/* referral_sim_config_load_data:
 * Sets the keys of a key file held in memory:
 *
 *   [sim]
 *   # comments start with # or ;
 *   members = 100000
 *   recruit_rates = 1%, 12%, 15%
 *
 * Only the group [sim] is allowed, every key at most once.  Keys not in
 * the text keep their current values.  @source names the text in messages.
 * @error: REFERRAL_ERROR_SCHEME naming @source, the line and the key (an
 *   unknown group or key, a repeated key, a line that is not "key = value",
 *   a bad value).
 * Returns: TRUE on success; on failure @config is unchanged. */
REFERRAL_API gboolean referral_sim_config_load_data (ReferralSimConfig *config,
                                                     const char *data,
                                                     gssize length,
                                                     const char *source,
                                                     GError **error);

/* referral_sim_config_load_file:
 * As referral_sim_config_load_data() for the file @path.
 * @error: also REFERRAL_ERROR_IO when @path cannot be read. */
REFERRAL_API gboolean referral_sim_config_load_file (ReferralSimConfig *config,
                                                     const char *path,
                                                     GError **error);

/* referral_sim_config_to_data:
 * Returns: (transfer full): a [sim] key file setting every key to its
 * current value, which loads back to the same configuration; free with
 * g_free(). */
REFERRAL_API char *referral_sim_config_to_data (const ReferralSimConfig *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReferralSimConfig, referral_sim_config_free)

/* ---- simulations ---------------------------------------------------------- */

typedef struct _ReferralSim ReferralSim;

/* referral_sim_new:
 * Prepares a simulation of @config (copied) under @scheme (referenced) with
 * a new, empty engine.  The engine's invariant checking is set from the
 * key `check_invariants` (default off: it costs O(members) per event).
 * @error: REFERRAL_ERROR_SCHEME when a value does not fit the scheme (an
 *   amount with too many decimals, an unknown rank, a per-rank list with
 *   more entries than the scheme has ranks), or the error of
 *   referral_engine_new().
 * Returns: (transfer full): the simulation, or NULL. */
REFERRAL_API ReferralSim *referral_sim_new (ReferralScheme *scheme,
                                            const ReferralSimConfig *config,
                                            GError **error);

/* Frees @sim and its engine; NULL is a no-op. */
REFERRAL_API void referral_sim_free (ReferralSim *sim);

/* referral_sim_engine:
 * Returns: (transfer none): the engine the simulation feeds, valid while
 * @sim lives.  Read it freely; applying events to it yourself makes the
 * metrics meaningless. */
REFERRAL_API ReferralEngine *referral_sim_engine (const ReferralSim *sim);

/* Returns: (transfer none): the simulation's own copy of its configuration. */
REFERRAL_API const ReferralSimConfig *referral_sim_config (const ReferralSim *sim);

/* Returns: the number of days to simulate (key `days`) and the number of
 * days simulated so far. */
REFERRAL_API guint referral_sim_n_days (const ReferralSim *sim);
REFERRAL_API guint referral_sim_days_done (const ReferralSim *sim);

/* referral_sim_step:
 * Simulates the next day.
 * @error: REFERRAL_ERROR_OVERFLOW when a money total no longer fits in
 *   int64 (the day is then incomplete and the simulation unusable).
 *   Events the engine rejects are not errors: they are counted (see
 *   ReferralSimSummary.rejected) and the simulation goes on without them.
 * Returns: TRUE when a day was simulated; FALSE without error when every
 * day is done already. */
REFERRAL_API gboolean referral_sim_step (ReferralSim *sim, GError **error);

/* Called after each day; read the progress with referral_sim_days_done(). */
typedef void (*ReferralSimProgressFunc) (const ReferralSim *sim, gpointer user_data);

/* referral_sim_run:
 * Simulates every remaining day, calling @progress (may be NULL) after each.
 * Returns: TRUE when every day was simulated; FALSE with the error of
 * referral_sim_step(). */
REFERRAL_API gboolean referral_sim_run (ReferralSim *sim,
                                        ReferralSimProgressFunc progress,
                                        gpointer user_data,
                                        GError **error);

/* ---- metrics ------------------------------------------------------------- */

/* Where a reward came from: the event that paid it.  A reversal (refund)
 * counts against the origin of the order it reverses. */
typedef enum {
  REFERRAL_SIM_ORIGIN_ENTRY = 0,   /* orders of the entry product (recruitment) */
  REFERRAL_SIM_ORIGIN_RETAIL,      /* orders of the repurchase product (retail) */
  REFERRAL_SIM_ORIGIN_POOL,        /* period closes (pool shares): several
                                      orders' contributions, not one's */
  REFERRAL_SIM_ORIGIN_OTHER,       /* any other event (founders' promotions) */
  REFERRAL_SIM_N_ORIGINS
} ReferralSimOrigin;

/* One day's figures.  Money in minor units.  "Rewards" are postings from
 * the platform or a pool to a member's funds (available or held), less
 * their reversals; holds, releases and withdrawals are not rewards.
 * "Sales" are order amounts less refunded amounts.
 *
 * This struct is owned by the simulation and only ever read through a
 * pointer it returns: later versions may add fields at the end. */
typedef struct {
  guint32 day;                         /* 1-based */
  /* people */
  guint32 members;                     /* joined so far (end of day) */
  guint32 joined;                      /* joined during the day */
  guint32 active;                      /* members not churned (end of day) */
  guint32 churned;                     /* became inactive during the day */
  guint32 by_rank[REFERRAL_MAX_RANKS]; /* members per rank (end of day) */
  /* orders during the day */
  guint32 entry_orders;
  guint32 retail_orders;               /* orders of the repurchase product */
  guint32 refunds;
  guint32 withdrawals;
  guint32 rejected;                    /* events the engine rejected */
  gint64 entry_sales;                  /* gross amounts of the day's orders */
  gint64 retail_sales;
  gint64 refunded;                     /* amounts refunded during the day */
  gint64 withdrawn;                    /* amounts withdrawn during the day */
  gint64 rewards;                      /* net rewards paid during the day */
  gint64 rewards_by_origin[REFERRAL_SIM_N_ORIGINS]; /* the same, by origin */
  /* since day 1 (end of day) */
  gint64 sales_total;                  /* net sales */
  gint64 rewards_total;                /* net rewards */
  gint64 held;                         /* every member's held funds */
  gint64 pool;                         /* every pool's balance */
  guint32 losers;                      /* members whose net result < 0 */
  double saturation;                   /* members / market */
  double payout_ratio;                 /* rewards_total / sales_total (0 when no sales) */
  double loss_share;                   /* losers / members */
} ReferralSimDay;

/* referral_sim_day:
 * Returns: (transfer none): the figures of @day (1 to
 * referral_sim_days_done()), valid while @sim lives, or NULL. */
REFERRAL_API const ReferralSimDay *referral_sim_day (const ReferralSim *sim, guint day);

/* referral_sim_n_kinds:
 * Returns: the number of posting kinds of the engine's scheme, as
 * referral_ledger_n_kinds() (kinds are numbered densely from 0; name them
 * with referral_ledger_kind_name()). */
REFERRAL_API guint referral_sim_n_kinds (const ReferralSim *sim);

/* referral_sim_day_kind_rewards:
 * Returns: the net rewards of @kind paid during @day (1-based), or during
 * the whole simulation when @day is 0; 0 for a kind never used. */
REFERRAL_API gint64 referral_sim_day_kind_rewards (const ReferralSim *sim, guint day,
                                                   ReferralKind kind);

/* The end-of-run figures (as of the last day simulated).  Owned by the
 * simulation, read through a pointer: later versions may add fields. */
typedef struct {
  guint32 days;                      /* days simulated */
  guint32 market;                    /* people in the market (key `members`) */
  guint32 members;                   /* people who joined */
  guint32 active;
  guint32 buyers;                    /* members who bought the entry product */
  guint32 rejected;                  /* events the engine rejected, all days */
  guint64 events;                    /* events applied */
  guint32 entry_orders, retail_orders, refunds, withdrawals;
  gint64 entry_sales, retail_sales;  /* gross */
  gint64 refunded;
  gint64 sales;                      /* net: gross - refunded */
  gint64 rewards;                    /* net rewards */
  gint64 rewards_by_origin[REFERRAL_SIM_N_ORIGINS];
  gint64 held, pool, withdrawn;
  /* members' net results (rewards received - amounts paid, net of refunds) */
  guint32 losers;                    /* net result < 0 */
  guint32 winners;                   /* net result > 0 */
  gint64 net_min, net_p10, net_median, net_p90, net_max; /* nearest rank */
  /* ratios */
  double saturation;                 /* members / market */
  double payout_ratio;               /* rewards / sales (0 without sales) */
  double loss_share;                 /* losers / members */
  double gini;                       /* of rewards received, over all members */
  double top1_share, top10_share;    /* rewards share of the top ceil(1%), ceil(10%) */
  double origin_share[REFERRAL_SIM_N_ORIGINS]; /* rewards_by_origin / rewards */
} ReferralSimSummary;

/* referral_sim_summary:
 * Returns: (transfer none): the end-of-run figures, computed (O(members
 * log members)) on the first call after a day was simulated; valid until
 * the next step. */
REFERRAL_API const ReferralSimSummary *referral_sim_summary (ReferralSim *sim);

/* A group of members: a join cohort or a rank. */
typedef struct {
  guint32 first_day, last_day; /* the cohort's join days (0 for a rank) */
  ReferralRank rank;           /* the rank (0 for a cohort) */
  guint32 members;
  guint32 losers;              /* members with a net loss */
  double loss_share;           /* losers / members (0 for an empty group) */
  gint64 net_total;            /* sum of the members' net results */
} ReferralSimGroup;

/* referral_sim_n_cohorts / referral_sim_cohort:
 * Members grouped by join day, `cohort_days` days per cohort (days 1-7,
 * 8-14, ...), as of the summary.
 * Returns: (transfer none): cohort @index, valid until the next step. */
REFERRAL_API guint referral_sim_n_cohorts (ReferralSim *sim);
REFERRAL_API const ReferralSimGroup *referral_sim_cohort (ReferralSim *sim, guint index);

/* referral_sim_rank_group:
 * Returns: (transfer none): the members whose rank is @rank at the end,
 * valid until the next step; NULL for a rank the scheme does not have. */
REFERRAL_API const ReferralSimGroup *referral_sim_rank_group (ReferralSim *sim,
                                                              ReferralRank rank);

/* Per member (index as in the engine's tree; @member must exist). */
/* Returns: the day @member joined (1-based). */
REFERRAL_API guint referral_sim_member_join_day (const ReferralSim *sim, ReferralMember member);
/* Returns: TRUE unless @member churned. */
REFERRAL_API gboolean referral_sim_member_active (const ReferralSim *sim, ReferralMember member);
/* Returns: what @member paid for its orders, less refunds (minor units). */
REFERRAL_API gint64 referral_sim_member_paid (const ReferralSim *sim, ReferralMember member);
/* Returns: the net rewards @member received (minor units). */
REFERRAL_API gint64 referral_sim_member_rewards (const ReferralSim *sim, ReferralMember member);
/* Returns: rewards - paid. */
REFERRAL_API gint64 referral_sim_member_net (const ReferralSim *sim, ReferralMember member);

/* referral_sim_first_rejection:
 * Returns: (transfer none) (nullable): the message of the first event the
 * engine rejected, or NULL when none was. */
REFERRAL_API const char *referral_sim_first_rejection (const ReferralSim *sim);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReferralSim, referral_sim_free)

G_END_DECLS

#endif
