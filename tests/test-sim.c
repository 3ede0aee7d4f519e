/* The population simulation (include/referral/sim.h): configuration, the
 * hand-computed tiny market, metric definitions recomputed independently
 * from the engine's ledger and tree, determinism, rejected events. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---------------------------------------------------------------- */

/* A configuration from NULL-terminated key, value pairs over the defaults,
 * with invariant checking on (small markets only). */
static ReferralSimConfig *
config_with (const char *first_key, ...)
{
  ReferralSimConfig *config = referral_sim_config_new ();
  g_autoptr (GError) error = NULL;
  ck_assert (referral_sim_config_set (config, "check_invariants", "true", NULL, &error));
  va_list ap;
  va_start (ap, first_key);
  for (const char *key = first_key; key != NULL; key = va_arg (ap, const char *))
    {
      const char *value = va_arg (ap, const char *);
      if (!referral_sim_config_set (config, key, value, NULL, &error))
        ck_abort_msg ("%s = %s refused: %s", key, value, error->message);
    }
  va_end (ap);
  return config;
}

static ReferralScheme *
builtin (const char *name)
{
  g_autoptr (GError) error = NULL;
  ReferralScheme *scheme = referral_scheme_new_builtin (name, &error);
  assert_no_error (error);
  return scheme;
}

static ReferralSim *
run_sim (ReferralScheme *scheme, const ReferralSimConfig *config)
{
  g_autoptr (GError) error = NULL;
  ReferralSim *sim = referral_sim_new (scheme, config, &error);
  assert_no_error (error);
  ck_assert (referral_sim_run (sim, NULL, NULL, &error));
  assert_no_error (error);
  return sim;
}

/* Every figure of a run as text, to compare runs. */
static char *
figures_text (ReferralSim *sim)
{
  GString *s = g_string_new (NULL);
  for (guint d = 1; d <= referral_sim_days_done (sim); d++)
    {
      const ReferralSimDay *day = referral_sim_day (sim, d);
      g_string_append_printf (s, "%u %u %u %u %u|", day->day, day->members, day->joined,
                              day->active, day->churned);
      for (guint r = 0; r < REFERRAL_MAX_RANKS; r++)
        g_string_append_printf (s, "%u,", day->by_rank[r]);
      g_string_append_printf (s, "|%u %u %u %u %u %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                              " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
                              day->entry_orders, day->retail_orders, day->refunds,
                              day->withdrawals, day->rejected, day->entry_sales,
                              day->retail_sales, day->refunded, day->withdrawn, day->rewards);
      for (guint o = 0; o < REFERRAL_SIM_N_ORIGINS; o++)
        g_string_append_printf (s, " %" G_GINT64_FORMAT, day->rewards_by_origin[o]);
      g_string_append_printf (s, " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                              " %" G_GINT64_FORMAT " %u %.17g %.17g %.17g|", day->sales_total,
                              day->rewards_total, day->held, day->pool, day->losers,
                              day->saturation, day->payout_ratio, day->loss_share);
      for (guint k = 0; k < referral_sim_n_kinds (sim); k++)
        g_string_append_printf (s, "%" G_GINT64_FORMAT ",",
                                referral_sim_day_kind_rewards (sim, d, (ReferralKind) k));
      g_string_append_c (s, '\n');
    }
  const ReferralSimSummary *x = referral_sim_summary (sim);
  g_string_append_printf (s, "%u %u %u %u %u %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " %"
                          G_GINT64_FORMAT " %u %u %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                          " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                          " %.17g %.17g %.17g %.17g %.17g %.17g\n",
                          x->days, x->members, x->active, x->buyers, x->rejected, x->events,
                          x->sales, x->rewards, x->losers, x->winners, x->net_min, x->net_p10,
                          x->net_median, x->net_p90, x->net_max, x->saturation, x->payout_ratio,
                          x->loss_share, x->gini, x->top1_share, x->top10_share);
  for (guint c = 0; c < referral_sim_n_cohorts (sim); c++)
    {
      const ReferralSimGroup *g = referral_sim_cohort (sim, c);
      g_string_append_printf (s, "c%u-%u %u %u %" G_GINT64_FORMAT "\n", g->first_day,
                              g->last_day, g->members, g->losers, g->net_total);
    }
  const ReferralTree *tree = referral_engine_tree (referral_sim_engine (sim));
  for (ReferralMember m = 0; m < referral_tree_size (tree); m++)
    g_string_append_printf (s, "%s %u %d %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n",
                            referral_tree_key (tree, m), referral_sim_member_join_day (sim, m),
                            referral_sim_member_active (sim, m),
                            referral_sim_member_paid (sim, m),
                            referral_sim_member_rewards (sim, m));
  return g_string_free (s, FALSE);
}

static gint64
balance (const ReferralEngine *engine, ReferralMember m, gboolean held)
{
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  return referral_ledger_balance (ledger, referral_ledger_member_account (ledger, m, held));
}

/* ---- configuration ---------------------------------------------------------- */

START_TEST (test_config_defaults_and_set)
{
  g_autoptr (ReferralSimConfig) config = referral_sim_config_new ();
  const char *const *keys = referral_sim_config_keys ();
  ck_assert_str_eq (keys[0], "seed");
  guint n = 0;
  for (const char *const *k = keys; *k != NULL; k++, n++)
    {
      ck_assert_str_eq (referral_sim_config_get (config, *k),
                        referral_sim_config_key_default (*k));
      ck_assert (!referral_sim_config_is_set (config, *k));
      ck_assert_ptr_nonnull (referral_sim_config_key_description (*k));
      ck_assert_ptr_nonnull (referral_sim_config_key_syntax (*k));
    }
  ck_assert_uint_ge (n, 18);
  ck_assert_str_eq (referral_sim_config_get (config, "members"), "100000");
  ck_assert_str_eq (referral_sim_config_get (config, "days"), "60");
  ck_assert_str_eq (referral_sim_config_get (config, "entry_sku"), "gift");
  ck_assert_ptr_null (referral_sim_config_get (config, "nope"));
  ck_assert_ptr_null (referral_sim_config_key_default ("nope"));

  g_autoptr (GError) error = NULL;
  ck_assert (referral_sim_config_set (config, "members", " 250 ", NULL, &error));
  ck_assert_str_eq (referral_sim_config_get (config, "members"), "250");
  ck_assert (referral_sim_config_is_set (config, "members"));
  ck_assert (referral_sim_config_set (config, "recruit_rates", "1%, 0.5, 100%", NULL, &error));
  ck_assert (referral_sim_config_set (config, "seed", "18446744073709551615", NULL, &error));
  assert_no_error (error);
}
END_TEST

typedef struct {
  const char *key;
  const char *value;
  const char *message;
} BadValue;

static const BadValue bad_values[] = {
  { "members", "0", "where: \"0\" is not a whole number from 1 to 1073741824" },
  { "members", "ten", "where: \"ten\" is not a whole number from 1 to 1073741824" },
  { "days", "-1", "where: \"-1\" is not a whole number from 1 to 100000" },
  { "seed", "18446744073709551616", "where: \"18446744073709551616\" is not a whole number "
    "from 0 to 18446744073709551615" },
  { "entry_rate", "101%", "where: \"101%\" is more than 100%: a probability is at most 100%" },
  { "entry_rate", "5", "where: \"5\" is more than 100%: a probability is at most 100%" },
  { "recruit_rates", "1%,,2%", "where: entry 2 is empty" },
  { "recruit_rates", "", "where: is empty: give one probability per rank, lowest first" },
  { "entry_price", "0", "where: \"0\" is zero: a price must be positive" },
  { "entry_price", "-5", "where: amount \"-5\" " },
  { "entry_sku", "", "where: is empty: a sku is required" },
  { "entry_sku", "a\tb", "where: contains a control character" },
  { "check_invariants", "yes", "where: \"yes\" is not true or false" },
  { "bogus", "1", "where: unknown simulation key (known keys: seed, members, " },
};

START_TEST (test_config_bad_values)
{
  const BadValue *c = &bad_values[_i];
  g_autoptr (ReferralSimConfig) config = referral_sim_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *before = referral_sim_config_to_data (config);
  ck_assert (!referral_sim_config_set (config, c->key, c->value, "where", &error));
  assert_error_has (error, REFERRAL_ERROR_SCHEME, c->message);
  g_autofree char *after = referral_sim_config_to_data (config);
  ck_assert_str_eq (before, after);
}
END_TEST

START_TEST (test_config_where_default)
{
  g_autoptr (ReferralSimConfig) config = referral_sim_config_new ();
  g_autoptr (GError) error = NULL;
  ck_assert (!referral_sim_config_set (config, "days", "x", NULL, &error));
  assert_error (error, REFERRAL_ERROR_SCHEME,
                "key \"days\": \"x\" is not a whole number from 1 to 100000");
}
END_TEST

START_TEST (test_config_file)
{
  g_autoptr (ReferralSimConfig) config = referral_sim_config_new ();
  g_autoptr (GError) error = NULL;
  const char *text = "# a comment\n"
                     "[sim]\n"
                     "  members = 500   \n"
                     "; another comment\n"
                     "recruit_rates = 3%, 40%\n"
                     "\n"
                     "founder_rank = partner\n";
  ck_assert (referral_sim_config_load_data (config, text, -1, "x.ini", &error));
  assert_no_error (error);
  ck_assert_str_eq (referral_sim_config_get (config, "members"), "500");
  ck_assert_str_eq (referral_sim_config_get (config, "recruit_rates"), "3%, 40%");
  ck_assert_str_eq (referral_sim_config_get (config, "founder_rank"), "partner");
  ck_assert (!referral_sim_config_is_set (config, "days"));

  /* to_data loads back to the same configuration. */
  g_autofree char *data = referral_sim_config_to_data (config);
  g_autoptr (ReferralSimConfig) again = referral_sim_config_new ();
  ck_assert (referral_sim_config_load_data (again, data, -1, "again.ini", &error));
  g_autofree char *data2 = referral_sim_config_to_data (again);
  ck_assert_str_eq (data, data2);
  assert_contains (data, "\nmembers = 500\n");
  assert_contains (data, "\nseed = 1\n");
}
END_TEST

typedef struct {
  const char *text;
  const char *message;
} BadFile;

static const BadFile bad_files[] = {
  { "[sim]\nmembers = 5\nmembrs = 6\n",
    "x.ini:3: [sim] key \"membrs\": unknown simulation key (known keys: seed, " },
  { "[sim]\ndays = 5\n\ndays = 6\n", "x.ini:4: [sim] key \"days\" appears twice (first on line 2)" },
  { "[sim]\n[scheme]\n", "x.ini:2: unknown group [scheme] (a simulation file has only [sim])" },
  { "[sim]\n[sim]\n", "x.ini:2: [sim]: the group appears twice" },
  { "days = 5\n", "x.ini:1: key \"days\" is outside the [sim] group" },
  { "[sim]\njust words\n", "x.ini:2: \"just words\" is not \"key = value\"" },
  { "# nothing\n", "x.ini: no [sim] group" },
  { "[sim]\nmembers = 10\ndays = 0\n",
    "x.ini:3: [sim] key \"days\": \"0\" is not a whole number from 1 to 100000" },
  { "[sim]\nentry_price = 6.9.9\n", "x.ini:2: [sim] key \"entry_price\": amount \"6.9.9\"" },
};

START_TEST (test_config_bad_file)
{
  const BadFile *c = &bad_files[_i];
  g_autoptr (ReferralSimConfig) config = referral_sim_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *before = referral_sim_config_to_data (config);
  ck_assert (!referral_sim_config_load_data (config, c->text, -1, "x.ini", &error));
  assert_error_has (error, REFERRAL_ERROR_SCHEME, c->message);
  ck_assert_msg (g_str_has_prefix (error->message, "x.ini"), "%s", error->message);
  /* Nothing of a bad file is taken, not even its good lines. */
  g_autofree char *after = referral_sim_config_to_data (config);
  ck_assert_str_eq (before, after);
}
END_TEST

START_TEST (test_config_load_file)
{
  g_autoptr (ReferralSimConfig) config = referral_sim_config_new ();
  g_autoptr (GError) error = NULL;
  ck_assert (!referral_sim_config_load_file (config, "/no/such/sim.ini", &error));
  assert_error_has (error, REFERRAL_ERROR_IO, "/no/such/sim.ini");
  g_clear_error (&error);
  g_autofree char *example = tu_source_path ("examples/sim/chain21.ini");
  ck_assert (referral_sim_config_load_file (config, example, &error));
  assert_no_error (error);
  ck_assert (referral_sim_config_is_set (config, "members"));
  /* It suits its scheme. */
  g_autoptr (ReferralScheme) scheme = builtin ("chain21");
  g_autoptr (ReferralSim) sim = referral_sim_new (scheme, config, &error);
  assert_no_error (error);
  ck_assert_uint_eq (referral_sim_n_days (sim), 60);
}
END_TEST

/* Values that only the scheme can check, refused by referral_sim_new with
 * where they came from. */
START_TEST (test_config_against_scheme)
{
  g_autoptr (ReferralScheme) chain21 = builtin ("chain21");
  g_autoptr (ReferralScheme) demo = builtin ("demo");
  static const char *const one_rank[] = { "only", NULL };
  g_autoptr (ReferralScheme) single = tu_scheme_build ("single", one_rank, NULL);
  struct {
    ReferralScheme *scheme;
    const char *key, *value, *message;
  } cases[] = {
    { chain21, "founder_rank", "boss",
      "option --founder-rank: scheme \"chain21\" has no rank \"boss\" (ranks: user, agent, partner)" },
    { chain21, "founder_rank", "user",
      "option --founder-rank: is the entry rank, which every member has: leave it empty" },
    { chain21, "entry_price", "699.001",
      "option --entry-price: amount \"699.001\" has more than 2 decimals (scheme \"chain21\" "
      "has 2 decimals)" },
    { demo, "recruit_rates", "1%, 2%, 3%",
      "option --recruit-rates: has 3 entries but scheme \"demo\" has 2 ranks" },
    { single, "churn_rates", "1%, 2%",
      "option --churn-rates: has 2 entries but scheme \"single\" has 1 rank" },
    { chain21, "repurchase_sku", "gift",
      "option --repurchase-sku: is the entry product's sku: the two products must differ" },
    { chain21, "founders", "200000",
      "option --founders: 200000 founders do not fit in a market of 100000 people "
      "(key \"members\")" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (ReferralSimConfig) config = referral_sim_config_new ();
      g_autoptr (GError) error = NULL;
      g_autofree char *opt = g_strdelimit (g_strdup_printf ("option --%s", cases[i].key), "_", '-');
      ck_assert (referral_sim_config_set (config, cases[i].key, cases[i].value, opt, &error));
      ReferralSim *sim = referral_sim_new (cases[i].scheme, config, &error);
      ck_assert_ptr_null (sim);
      assert_error (error, REFERRAL_ERROR_SCHEME, cases[i].message);
    }
  /* The default per-rank lists (two entries) are cut to a one-rank scheme. */
  g_autoptr (ReferralSimConfig) config = config_with ("members", "30", "days", "3", NULL);
  g_autoptr (ReferralSim) sim = run_sim (single, config);
  ck_assert_uint_eq (referral_sim_days_done (sim), 3);
}
END_TEST

/* ---- the tiny market, computed by hand ------------------------------------------ */

/* Demo scheme (direct 5% to a user sponsor, 10% to a member sponsor;
 * unilevel 5/3/1% to members only), one founder promoted to member, every
 * probability 0% or 100% and no saturation, so the run is certain:
 *
 *   day 1: m1 joins, is promoted; m1 recruits m2, who buys 100.00:
 *          m1 gets direct 10.00 + unilevel level 1 5.00 = 15.00
 *   day 2: m1 recruits m3, who buys: m1 gets 15.00 again;
 *          m2 (a user) recruits m4, who buys: m2 gets direct 5.00,
 *          unilevel skips m2 (a user) at level 1, m1 gets 3% = 3.00 at level 2
 *
 *   rewards: m1 33.00, m2 5.00, m3 0, m4 0; paid: 0, 100, 100, 100
 *   net: +33.00, -95.00, -100.00, -100.00: 3 losers of 4
 *   Gini of (0, 0, 500, 3300) fen: (-3*0 - 1*0 + 1*500 + 3*3300) / (4 * 3800)
 *        = 10400 / 15200 = 13/19
 *   top 1% and top 10% (1 member each): 3300 / 3800 = 33/38 */
START_TEST (test_tiny_market_by_hand)
{
  g_autoptr (ReferralScheme) scheme = builtin ("demo");
  g_autoptr (ReferralSimConfig) config = config_with (
    "members", "4", "days", "2", "founders", "1", "founder_rank", "member",
    "recruit_rates", "100%", "recruit_saturation", "false", "entry_rate", "100%",
    "entry_later_rate", "0%", "repurchase_rate", "0%", "churn_rates", "0%",
    "refund_rate", "0%", "withdraw_rate", "0%", "entry_price", "100", "cohort_days", "1",
    "seed", "12345", NULL);
  g_autoptr (ReferralSim) sim = run_sim (scheme, config);
  ReferralEngine *engine = referral_sim_engine (sim);
  const ReferralTree *tree = referral_engine_tree (engine);

  ck_assert_uint_eq (referral_tree_size (tree), 4);
  g_autofree char *under_m1 = tu_sponsored_text (engine, "m1");
  g_autofree char *under_m2 = tu_sponsored_text (engine, "m2");
  ck_assert_str_eq (under_m1, "m2,m3");
  ck_assert_str_eq (under_m2, "m4");
  const gint64 rewards[] = { 3300, 500, 0, 0 }, paid[] = { 0, 10000, 10000, 10000 };
  const guint join_day[] = { 1, 1, 2, 2 };
  for (ReferralMember m = 0; m < 4; m++)
    {
      ck_assert_int_eq (referral_sim_member_rewards (sim, m), rewards[m]);
      ck_assert_int_eq (referral_sim_member_paid (sim, m), paid[m]);
      ck_assert_int_eq (referral_sim_member_net (sim, m), rewards[m] - paid[m]);
      ck_assert_uint_eq (referral_sim_member_join_day (sim, m), join_day[m]);
      ck_assert (referral_sim_member_active (sim, m));
      ck_assert_int_eq (balance (engine, m, FALSE), rewards[m]);
    }

  const ReferralSimDay *d1 = referral_sim_day (sim, 1), *d2 = referral_sim_day (sim, 2);
  ck_assert_ptr_null (referral_sim_day (sim, 0));
  ck_assert_ptr_null (referral_sim_day (sim, 3));
  ck_assert_uint_eq (d1->members, 2);
  ck_assert_uint_eq (d1->joined, 2);
  ck_assert_uint_eq (d1->entry_orders, 1);
  ck_assert_int_eq (d1->entry_sales, 10000);
  ck_assert_int_eq (d1->rewards, 1500);
  ck_assert_uint_eq (d1->by_rank[0], 1);
  ck_assert_uint_eq (d1->by_rank[1], 1);
  ck_assert_uint_eq (d1->losers, 1);
  ck_assert (d1->saturation == 0.5);
  ck_assert (d1->payout_ratio == 0.15);
  ck_assert (d1->loss_share == 0.5);
  ck_assert_uint_eq (d2->members, 4);
  ck_assert_uint_eq (d2->joined, 2);
  ck_assert_uint_eq (d2->entry_orders, 2);
  ck_assert_int_eq (d2->rewards, 2300);
  ck_assert_int_eq (d2->rewards_by_origin[REFERRAL_SIM_ORIGIN_ENTRY], 2300);
  ck_assert_int_eq (d2->sales_total, 30000);
  ck_assert_int_eq (d2->rewards_total, 3800);
  ck_assert_uint_eq (d2->losers, 3);
  ck_assert_uint_eq (d2->by_rank[0], 3);

  /* Rewards by kind: direct 10 + 10 + 5, unilevel 5 + 5 + 3. */
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  ReferralKind direct, unilevel;
  ck_assert (referral_ledger_lookup_kind (ledger, "direct", &direct));
  ck_assert (referral_ledger_lookup_kind (ledger, "unilevel", &unilevel));
  ck_assert_int_eq (referral_sim_day_kind_rewards (sim, 0, direct), 2500);
  ck_assert_int_eq (referral_sim_day_kind_rewards (sim, 0, unilevel), 1300);
  ck_assert_int_eq (referral_sim_day_kind_rewards (sim, 1, direct), 1000);
  ck_assert_int_eq (referral_sim_day_kind_rewards (sim, 2, unilevel), 800);
  ck_assert_int_eq (referral_sim_day_kind_rewards (sim, 0, REFERRAL_KIND_SALE), 0);
  ck_assert_uint_eq (referral_sim_n_kinds (sim), referral_ledger_n_kinds (ledger));

  const ReferralSimSummary *s = referral_sim_summary (sim);
  ck_assert_uint_eq (s->members, 4);
  ck_assert_uint_eq (s->market, 4);
  ck_assert_uint_eq (s->buyers, 3);
  ck_assert_uint_eq (s->entry_orders, 3);
  ck_assert_int_eq (s->sales, 30000);
  ck_assert_int_eq (s->rewards, 3800);
  ck_assert_int_eq (s->rewards_by_origin[REFERRAL_SIM_ORIGIN_ENTRY], 3800);
  ck_assert_uint_eq (s->losers, 3);
  ck_assert_uint_eq (s->winners, 1);
  ck_assert_int_eq (s->net_min, -10000);
  ck_assert_int_eq (s->net_p10, -10000);
  ck_assert_int_eq (s->net_median, -10000);
  ck_assert_int_eq (s->net_p90, 3300);
  ck_assert_int_eq (s->net_max, 3300);
  ck_assert (s->saturation == 1.0);
  ck_assert (s->loss_share == 0.75);
  ck_assert_msg (s->gini == 13.0 / 19.0, "gini %.17g", s->gini);
  ck_assert_msg (s->top1_share == 33.0 / 38.0, "top 1%% %.17g", s->top1_share);
  ck_assert (s->top10_share == 33.0 / 38.0);
  ck_assert (s->payout_ratio == 3800.0 / 30000.0);
  ck_assert (s->origin_share[REFERRAL_SIM_ORIGIN_ENTRY] == 1.0);
  ck_assert (s->origin_share[REFERRAL_SIM_ORIGIN_RETAIL] == 0.0);
  ck_assert_uint_eq (s->events, 10); /* 4 joins, 1 promote, 3 orders, 2 closes */

  /* Loss share by cohort (one day each) and by rank. */
  ck_assert_uint_eq (referral_sim_n_cohorts (sim), 2);
  const ReferralSimGroup *c1 = referral_sim_cohort (sim, 0), *c2 = referral_sim_cohort (sim, 1);
  ck_assert_uint_eq (c1->first_day, 1);
  ck_assert_uint_eq (c1->last_day, 1);
  ck_assert_uint_eq (c1->members, 2);
  ck_assert_uint_eq (c1->losers, 1);
  ck_assert (c1->loss_share == 0.5);
  ck_assert_int_eq (c1->net_total, 3300 - 9500);
  ck_assert_uint_eq (c2->members, 2);
  ck_assert (c2->loss_share == 1.0);
  const ReferralSimGroup *users = referral_sim_rank_group (sim, 0);
  const ReferralSimGroup *members = referral_sim_rank_group (sim, 1);
  ck_assert_ptr_null (referral_sim_rank_group (sim, 2));
  ck_assert_uint_eq (users->members, 3);
  ck_assert_uint_eq (users->losers, 3);
  ck_assert (users->loss_share == 1.0);
  ck_assert_uint_eq (members->members, 1);
  ck_assert (members->loss_share == 0.0);
  ck_assert_int_eq (members->net_total, 3300);

  /* Every day is done. */
  g_autoptr (GError) error = NULL;
  ck_assert (!referral_sim_step (sim, &error));
  assert_no_error (error);
}
END_TEST

/* A tiny market where refunds, repurchases and withdrawals are certain,
 * checked by hand (demo scheme, no promotion: everybody is a user, so the
 * direct award is 5% and the unilevel pays nobody; repurchase 99.00).
 *
 *   day 1: m1 joins and buys the entry (o1, 100.00; no sponsor, no award);
 *          its turn: it repurchases (o2, 99.00), recruits m2, who buys the
 *          entry (o3): m1 gets direct 5.00.  Every order is picked for a
 *          refund.  m1 withdraws its 5.00.
 *   day 2: o1, o2, o3 are refunded; o3's refund takes m1's 5.00 back
 *          (available -5.00).  m1 repurchases (o4); the market is full
 *          (2 people), so nobody is recruited; m2 repurchases (o5): m1 gets
 *          4.95 (available -0.05, so no withdrawal).
 *
 *   sales: 100 + 99 + 100 - 299 + 99 + 99 = 198.00
 *   rewards: m1 5.00 - 5.00 + 4.95 = 4.95 (entry +5.00 -5.00, retail 4.95)
 *   paid: m1 100 + 99 - 199 + 99 = 99.00, m2 100 - 100 + 99 = 99.00 */
START_TEST (test_tiny_market_refunds_and_withdrawals)
{
  g_autoptr (ReferralScheme) scheme = builtin ("demo");
  g_autoptr (ReferralSimConfig) config = config_with (
    "members", "2", "days", "2", "founders", "1", "recruit_rates", "100%",
    "recruit_saturation", "false", "entry_rate", "100%", "entry_later_rate", "0%",
    "repurchase_rate", "100%", "churn_rates", "0%", "refund_rate", "100%",
    "withdraw_rate", "100%", "entry_price", "100", NULL);
  g_autoptr (ReferralSim) sim = run_sim (scheme, config);
  ReferralEngine *engine = referral_sim_engine (sim);
  const ReferralSimDay *d1 = referral_sim_day (sim, 1), *d2 = referral_sim_day (sim, 2);
  ck_assert_uint_eq (d1->members, 2);
  ck_assert_uint_eq (d1->entry_orders, 2);
  ck_assert_uint_eq (d1->retail_orders, 1);
  ck_assert_int_eq (d1->entry_sales, 20000);
  ck_assert_int_eq (d1->retail_sales, 9900);
  ck_assert_int_eq (d1->rewards, 500);
  ck_assert_uint_eq (d1->withdrawals, 1);
  ck_assert_int_eq (d1->withdrawn, 500);
  ck_assert_int_eq (d1->sales_total, 29900);

  ck_assert_uint_eq (d2->joined, 0);
  ck_assert_uint_eq (d2->refunds, 3);
  ck_assert_int_eq (d2->refunded, 29900);
  ck_assert_uint_eq (d2->entry_orders, 0);
  ck_assert_uint_eq (d2->retail_orders, 2);
  ck_assert_int_eq (d2->retail_sales, 19800);
  ck_assert_int_eq (d2->rewards, -500 + 495);
  ck_assert_int_eq (d2->rewards_by_origin[REFERRAL_SIM_ORIGIN_ENTRY], -500);
  ck_assert_int_eq (d2->rewards_by_origin[REFERRAL_SIM_ORIGIN_RETAIL], 495);
  ck_assert_uint_eq (d2->withdrawals, 0);
  ck_assert_int_eq (d2->sales_total, 19800);
  ck_assert_int_eq (d2->rewards_total, 495);
  ck_assert_int_eq (balance (engine, 0, FALSE), -5);
  ck_assert_int_eq (referral_sim_member_rewards (sim, 0), 495);
  ck_assert_int_eq (referral_sim_member_paid (sim, 0), 9900);
  ck_assert_int_eq (referral_sim_member_paid (sim, 1), 9900);
  ck_assert_uint_eq (d2->losers, 2);

  const ReferralSimSummary *s = referral_sim_summary (sim);
  ck_assert_uint_eq (s->refunds, 3);
  ck_assert_int_eq (s->refunded, 29900);
  ck_assert_uint_eq (s->withdrawals, 1);
  ck_assert_int_eq (s->withdrawn, 500);
  ck_assert_int_eq (s->sales, 19800);
  ck_assert_int_eq (s->rewards, 495);
  ck_assert (s->origin_share[REFERRAL_SIM_ORIGIN_RETAIL] == 1.0);
  ck_assert (s->origin_share[REFERRAL_SIM_ORIGIN_ENTRY] == 0.0);
  ck_assert (s->payout_ratio == 495.0 / 19800.0);
  ck_assert_uint_eq (s->buyers, 2);
}
END_TEST

/* Certain churn: a member's turn starts with the churn draw, so the
 * founder leaves on day 1 before recruiting, and nobody else ever joins. */
START_TEST (test_tiny_market_churn)
{
  g_autoptr (ReferralScheme) scheme = builtin ("demo");
  g_autoptr (ReferralSimConfig) config = config_with (
    "members", "5", "days", "2", "founders", "1", "recruit_rates", "100%",
    "recruit_saturation", "false", "entry_rate", "100%", "churn_rates", "100%",
    "refund_rate", "100%", NULL);
  g_autoptr (ReferralSim) sim = run_sim (scheme, config);
  const ReferralSimDay *d1 = referral_sim_day (sim, 1), *d2 = referral_sim_day (sim, 2);
  ck_assert_uint_eq (d1->members, 1);
  ck_assert_uint_eq (d1->entry_orders, 1);
  ck_assert_uint_eq (d1->churned, 1);
  ck_assert_uint_eq (d1->active, 0);
  ck_assert_uint_eq (d2->joined, 0);
  ck_assert_uint_eq (d2->churned, 0);
  /* A churned member's order is still refunded. */
  ck_assert_uint_eq (d2->refunds, 1);
  ck_assert (!referral_sim_member_active (sim, 0));
  ck_assert_uint_eq (referral_sim_summary (sim)->active, 0);
  ck_assert_int_eq (referral_sim_member_paid (sim, 0), 0);
}
END_TEST

/* ---- metric definitions against the ledger ---------------------------------------- */

static gboolean
is_member_account (const ReferralLedger *ledger, ReferralAccount a)
{
  return referral_ledger_account_member (ledger, a, NULL) != REFERRAL_NO_MEMBER;
}

static int
cmp_gint64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return (x > y) - (x < y);
}

/* A random market under chain21; every figure is recomputed from the
 * engine's ledger and tree with other formulas. */
START_TEST (test_metrics_match_ledger)
{
  g_autoptr (ReferralScheme) scheme = builtin ("chain21");
  g_autoptr (ReferralSimConfig) config = config_with (
    "members", "400", "days", "25", "founders", "3", "recruit_rates", "3%, 45%",
    "repurchase_rate", "10%", "refund_rate", "10%", "withdraw_rate", "20%",
    "cohort_days", "5", "seed", "7", NULL);
  g_autoptr (ReferralSim) sim = run_sim (scheme, config);
  ReferralEngine *engine = referral_sim_engine (sim);
  const ReferralLedger *ledger = referral_engine_ledger (engine);
  const ReferralTree *tree = referral_engine_tree (engine);
  const ReferralSimSummary *s = referral_sim_summary (sim);
  guint32 n = referral_tree_size (tree);
  ck_assert_uint_eq (s->members, n);
  ck_assert_uint_gt (n, 100);
  ck_assert_uint_eq (s->rejected, 0);
  ck_assert_uint_eq (s->events, referral_engine_n_events (engine));
  ck_assert_uint_gt (s->refunds, 0);
  ck_assert_uint_gt (s->withdrawals, 0);
  ck_assert_uint_gt (s->retail_orders, 0);

  /* Rewards per member, by kind, and the outside's balance. */
  gint64 *rewards = g_new0 (gint64, n);
  gint64 by_kind[64] = { 0 };
  gint64 total = 0, withdrawn = 0, sales = 0;
  for (guint64 i = 0; i < referral_ledger_n_postings (ledger); i++)
    {
      const ReferralPosting *p = referral_ledger_posting (ledger, i);
      gboolean from_m = is_member_account (ledger, p->from), to_m = is_member_account (ledger, p->to);
      gboolean from_s = !from_m && p->from != REFERRAL_ACCOUNT_OUTSIDE;
      gboolean to_s = !to_m && p->to != REFERRAL_ACCOUNT_OUTSIDE;
      ck_assert_uint_lt (p->kind, 64);
      if (from_s && to_m)
        {
          rewards[referral_ledger_account_member (ledger, p->to, NULL)] += p->amount;
          by_kind[p->kind] += p->amount;
          total += p->amount;
        }
      else if (from_m && to_s)
        {
          rewards[referral_ledger_account_member (ledger, p->from, NULL)] -= p->amount;
          by_kind[p->kind] -= p->amount;
          total -= p->amount;
        }
      else if (from_m && p->to == REFERRAL_ACCOUNT_OUTSIDE)
        withdrawn += p->amount;
      else if (p->kind == REFERRAL_KIND_SALE)
        sales += (p->flags & REFERRAL_POSTING_REVERSAL) ? -p->amount : p->amount;
    }
  ck_assert_int_eq (s->rewards, total);
  ck_assert_int_eq (s->withdrawn, withdrawn);
  ck_assert_int_eq (s->sales, sales);
  ck_assert_int_eq (s->sales, s->entry_sales + s->retail_sales - s->refunded);
  ck_assert_int_eq (referral_ledger_balance (ledger, REFERRAL_ACCOUNT_OUTSIDE),
                    withdrawn - sales);
  gint64 origins = 0;
  for (guint o = 0; o < REFERRAL_SIM_N_ORIGINS; o++)
    origins += s->rewards_by_origin[o];
  ck_assert_int_eq (origins, total);
  ck_assert_int_gt (s->rewards_by_origin[REFERRAL_SIM_ORIGIN_POOL], 0);
  for (guint k = 0; k < 64; k++)
    ck_assert_int_eq (referral_sim_day_kind_rewards (sim, 0, (ReferralKind) k), by_kind[k]);

  /* Members: rewards, paid (sum = sales), held, pool, losers, ranks. */
  gint64 paid = 0, held = 0;
  guint32 losers = 0, winners = 0, by_rank[REFERRAL_MAX_RANKS] = { 0 };
  gint64 *nets = g_new (gint64, n);
  for (ReferralMember m = 0; m < n; m++)
    {
      ck_assert_int_eq (referral_sim_member_rewards (sim, m), rewards[m]);
      paid += referral_sim_member_paid (sim, m);
      held += balance (engine, m, TRUE);
      nets[m] = rewards[m] - referral_sim_member_paid (sim, m);
      ck_assert_int_eq (referral_sim_member_net (sim, m), nets[m]);
      losers += nets[m] < 0;
      winners += nets[m] > 0;
      by_rank[referral_tree_rank (tree, m)]++;
    }
  ck_assert_int_eq (paid, sales);
  ck_assert_int_eq (s->held, held);
  ck_assert_int_eq (s->pool, referral_ledger_balance (ledger, referral_ledger_lookup_pool (ledger, "pool")));
  ck_assert_uint_eq (s->losers, losers);
  ck_assert_uint_eq (s->winners, winners);
  ck_assert (s->loss_share == (double) losers / n);
  const ReferralSimDay *last = referral_sim_day (sim, 25);
  for (guint r = 0; r < 3; r++)
    {
      ck_assert_uint_eq (last->by_rank[r], by_rank[r]);
      ck_assert_uint_eq (referral_sim_rank_group (sim, (ReferralRank) r)->members, by_rank[r]);
    }
  ck_assert_uint_gt (by_rank[2], 0);

  /* Gini as the mean absolute difference over twice the mean, O(n^2). */
  double diff = 0;
  for (guint32 i = 0; i < n; i++)
    for (guint32 j = 0; j < n; j++)
      diff += (double) llabs (rewards[i] - rewards[j]);
  double gini = diff / (2.0 * n * (double) total);
  ck_assert_msg (fabs (s->gini - gini) < 1e-12, "gini %.17g, by pairs %.17g", s->gini, gini);
  ck_assert (s->gini > 0.5 && s->gini < 1.0);

  /* Top 10%: the ceil(n/10) largest earnings. */
  qsort (rewards, n, sizeof *rewards, cmp_gint64);
  guint32 k = (n + 9) / 10;
  gint64 top = 0;
  for (guint32 i = 0; i < k; i++)
    top += rewards[n - 1 - i];
  ck_assert (s->top10_share == (double) top / (double) total);
  guint32 k1 = (n + 99) / 100;
  gint64 top1 = 0;
  for (guint32 i = 0; i < k1; i++)
    top1 += rewards[n - 1 - i];
  ck_assert (s->top1_share == (double) top1 / (double) total);
  qsort (nets, n, sizeof *nets, cmp_gint64);
  ck_assert_int_eq (s->net_min, nets[0]);
  ck_assert_int_eq (s->net_max, nets[n - 1]);
  ck_assert_int_eq (s->net_median, nets[(n + 1) / 2 - 1]);

  /* Cohorts of 5 days: members and losers by join day. */
  ck_assert_uint_eq (referral_sim_n_cohorts (sim), 5);
  guint32 counted = 0;
  for (guint c = 0; c < 5; c++)
    {
      const ReferralSimGroup *g = referral_sim_cohort (sim, c);
      ck_assert_uint_eq (g->first_day, c * 5 + 1);
      ck_assert_uint_eq (g->last_day, c * 5 + 5);
      guint32 members = 0, lost = 0;
      for (ReferralMember m = 0; m < n; m++)
        if (referral_sim_member_join_day (sim, m) >= g->first_day
            && referral_sim_member_join_day (sim, m) <= g->last_day)
          {
            members++;
            lost += referral_sim_member_net (sim, m) < 0;
          }
      ck_assert_uint_eq (g->members, members);
      ck_assert_uint_eq (g->losers, lost);
      counted += members;
    }
  ck_assert_uint_eq (counted, n);

  /* Days: cumulative figures add up. */
  gint64 rewards_sum = 0;
  guint32 joined = 0;
  for (guint d = 1; d <= 25; d++)
    {
      const ReferralSimDay *day = referral_sim_day (sim, d);
      rewards_sum += day->rewards;
      joined += day->joined;
      ck_assert_int_eq (day->rewards_total, rewards_sum);
      ck_assert_uint_eq (day->members, joined);
      guint32 ranks = 0;
      for (guint r = 0; r < REFERRAL_MAX_RANKS; r++)
        ranks += day->by_rank[r];
      ck_assert_uint_eq (ranks, day->members);
    }
  g_free (rewards);
  g_free (nets);
}
END_TEST

/* ---- determinism ------------------------------------------------------------------ */

START_TEST (test_determinism)
{
  g_autoptr (ReferralScheme) scheme = builtin ("chain21");
  g_autoptr (ReferralSimConfig) a = config_with ("members", "600", "days", "20",
                                                 "founders", "5", "seed", "42", NULL);
  g_autoptr (ReferralSimConfig) b = config_with ("members", "600", "days", "20",
                                                 "founders", "5", "seed", "43", NULL);
  g_autoptr (ReferralSim) s1 = run_sim (scheme, a);
  g_autoptr (ReferralSim) s2 = run_sim (scheme, a);
  g_autoptr (ReferralSim) s3 = run_sim (scheme, b);
  guint64 h1 = referral_engine_state_hash (referral_sim_engine (s1));
  guint64 h2 = referral_engine_state_hash (referral_sim_engine (s2));
  guint64 h3 = referral_engine_state_hash (referral_sim_engine (s3));
  g_autofree char *f1 = figures_text (s1);
  g_autofree char *f2 = figures_text (s2);
  g_autofree char *f3 = figures_text (s3);
  ck_assert_uint_gt (referral_sim_summary (s1)->members, 50);
  ck_assert_uint_eq (h1, h2);
  ck_assert_str_eq (f1, f2);
  ck_assert_uint_ne (h1, h3);
  ck_assert_str_ne (f1, f3);

  /* Stepping by hand is the same as running; the summary is recomputed
   * after each step. */
  g_autoptr (GError) error = NULL;
  g_autoptr (ReferralSim) s4 = referral_sim_new (scheme, a, &error);
  guint steps = 0;
  guint32 members = 0;
  while (referral_sim_step (s4, &error))
    {
      steps++;
      ck_assert_uint_ge (referral_sim_summary (s4)->members, members);
      members = referral_sim_summary (s4)->members;
      ck_assert_uint_eq (referral_sim_summary (s4)->days, steps);
    }
  assert_no_error (error);
  ck_assert_uint_eq (steps, 20);
  g_autofree char *f4 = figures_text (s4);
  ck_assert_str_eq (f1, f4);

  /* Invariant checking changes nothing but the time. */
  g_autoptr (ReferralSimConfig) fast = referral_sim_config_copy (a);
  ck_assert (referral_sim_config_set (fast, "check_invariants", "false", NULL, &error));
  g_autoptr (ReferralSim) s5 = run_sim (scheme, fast);
  ck_assert_uint_eq (referral_engine_state_hash (referral_sim_engine (s5)), h1);
}
END_TEST

/* The same seed under two schemes: the same people join on the same days
 * as long as their ranks lead to the same chances (common random numbers):
 * with rank-independent rates, the populations are identical. */
START_TEST (test_common_random_numbers)
{
  g_autoptr (ReferralScheme) chain21 = builtin ("chain21");
  g_autoptr (ReferralScheme) demo = builtin ("demo");
  g_autoptr (ReferralSimConfig) config = config_with (
    "members", "300", "days", "15", "founders", "4", "recruit_rates", "20%",
    "churn_rates", "2%", "seed", "9", NULL);
  g_autoptr (ReferralSim) a = run_sim (chain21, config);
  g_autoptr (ReferralSim) b = run_sim (demo, config);
  const ReferralTree *ta = referral_engine_tree (referral_sim_engine (a));
  const ReferralTree *tb = referral_engine_tree (referral_sim_engine (b));
  ck_assert_uint_eq (referral_tree_size (ta), referral_tree_size (tb));
  for (ReferralMember m = 0; m < referral_tree_size (ta); m++)
    {
      ck_assert_str_eq (referral_tree_key (ta, m), referral_tree_key (tb, m));
      ck_assert_uint_eq (referral_tree_sponsor (ta, m), referral_tree_sponsor (tb, m));
      ck_assert_int_eq (referral_sim_member_paid (a, m), referral_sim_member_paid (b, m));
    }
}
END_TEST

/* ---- events the scheme rejects ---------------------------------------------------- */

START_TEST (test_rejected_events_are_counted)
{
  tu_register_test_rules ();
  static const char *const ranks[] = { "user", "agent", NULL };
  static const char *const direct[] = { "rates", "10%, 10%", NULL };
  g_autoptr (ReferralScheme) scheme = tu_scheme_build ("refusing", ranks,
                                                       "direct_award", "direct", direct,
                                                       "test_fail", "fail", NULL, NULL);
  /* test_fail refuses every order of sku "boom": the entry product here. */
  g_autoptr (ReferralSimConfig) config = config_with (
    "members", "50", "days", "5", "founders", "2", "entry_sku", "boom",
    "entry_rate", "100%", "recruit_rates", "50%", NULL);
  g_autoptr (ReferralSim) sim = run_sim (scheme, config);
  const ReferralSimSummary *s = referral_sim_summary (sim);
  ck_assert_uint_gt (s->rejected, 0);
  ck_assert_uint_eq (s->entry_orders, 0);
  ck_assert_uint_eq (s->buyers, 0);
  ck_assert_int_eq (s->sales, 0);
  ck_assert_uint_gt (s->members, 2);
  guint32 rejected = 0;
  for (guint d = 1; d <= 5; d++)
    rejected += referral_sim_day (sim, d)->rejected;
  ck_assert_uint_eq (rejected, s->rejected);
  const char *first = referral_sim_first_rejection (sim);
  ck_assert_ptr_nonnull (first);
  assert_contains (first, "test_fail refused");
  assert_contains (first, "order \"o1\"");
  for (ReferralMember m = 0; m < s->members; m++)
    ck_assert_int_eq (referral_sim_member_paid (sim, m), 0);

  g_autoptr (ReferralScheme) demo = builtin ("demo");
  g_autoptr (ReferralSim) clean = run_sim (demo, config);
  ck_assert_ptr_null (referral_sim_first_rejection (clean));
}
END_TEST

/* A market of 20,000 over 30 days without invariant checks: quick, and it
 * saturates (recruiting slows as the market fills, never past it). */
START_TEST (test_saturation)
{
  g_autoptr (ReferralScheme) scheme = builtin ("chain21");
  g_autoptr (ReferralSimConfig) config = config_with (
    "members", "20000", "days", "40", "founders", "50", "recruit_rates", "5%, 60%",
    "check_invariants", "false", NULL);
  g_autoptr (ReferralSim) sim = run_sim (scheme, config);
  const ReferralSimSummary *s = referral_sim_summary (sim);
  ck_assert_uint_le (s->members, 20000);
  ck_assert_msg (s->saturation > 0.8, "saturation %g", s->saturation);
  /* Daily joins peak, then fall as the market fills. */
  guint32 peak = 0, peak_day = 0;
  for (guint d = 1; d <= 40; d++)
    if (referral_sim_day (sim, d)->joined > peak)
      {
        peak = referral_sim_day (sim, d)->joined;
        peak_day = d;
      }
  ck_assert_uint_lt (peak_day, 40);
  ck_assert_uint_lt (referral_sim_day (sim, 40)->joined, peak);
  ck_assert (referral_engine_check_invariants (referral_sim_engine (sim), NULL));
}
END_TEST

static Suite *
sim_suite (void)
{
  Suite *s = suite_create ("sim");
  TCase *tc = tu_tcase (s, "config", 10);
  tcase_add_test (tc, test_config_defaults_and_set);
  tcase_add_loop_test (tc, test_config_bad_values, 0, G_N_ELEMENTS (bad_values));
  tcase_add_test (tc, test_config_where_default);
  tcase_add_test (tc, test_config_file);
  tcase_add_loop_test (tc, test_config_bad_file, 0, G_N_ELEMENTS (bad_files));
  tcase_add_test (tc, test_config_load_file);
  tcase_add_test (tc, test_config_against_scheme);
  tc = tu_tcase (s, "metrics", 30);
  tcase_add_test (tc, test_tiny_market_by_hand);
  tcase_add_test (tc, test_tiny_market_refunds_and_withdrawals);
  tcase_add_test (tc, test_tiny_market_churn);
  tcase_add_test (tc, test_metrics_match_ledger);
  tcase_add_test (tc, test_rejected_events_are_counted);
  tc = tu_tcase (s, "determinism", 60);
  tcase_add_test (tc, test_determinism);
  tcase_add_test (tc, test_common_random_numbers);
  tcase_add_test (tc, test_saturation);
  return s;
}

int
main (void)
{
  return tu_run_suites (sim_suite (), NULL);
}
