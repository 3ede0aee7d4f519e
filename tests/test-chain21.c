/* The chain 2+1 scheme (shared/spec/chain21.md) under the built-in "chain21"
 * scheme: the spec's worked examples to the fen, the example files through
 * `referral run`, the scheme file, promotions, refunds, transposition and
 * period closes.  Every number is worked out by hand in the comments;
 * amounts are minor units (fen). */
#include "test-chain21-common.h"

#include <string.h>

/* ---- the scheme ----------------------------------------------------------- */

START_TEST (test_builtin_is_the_file)
{
  g_autofree char *path = tu_source_path ("examples/schemes/chain21.ini");
  g_autofree char *text = NULL;
  g_autoptr (GError) err = NULL;
  ck_assert_msg (g_file_get_contents (path, &text, NULL, &err), "%s", err ? err->message : "");
  const char *builtin = referral_scheme_builtin_text ("chain21");
  ck_assert_ptr_nonnull (builtin);
  ck_assert_str_eq (builtin, text);

  g_autoptr (ReferralScheme) a = referral_scheme_new_builtin ("chain21", &err);
  assert_no_error (err);
  g_autoptr (ReferralScheme) b = referral_scheme_load_file (path, &err);
  assert_no_error (err);
  ck_assert_uint_eq (referral_scheme_identity (a), referral_scheme_identity (b));
  ck_assert_str_eq (referral_scheme_name (a), "chain21");
  ck_assert_uint_eq (referral_scheme_decimals (a), 2);
  ck_assert_uint_eq (referral_scheme_n_ranks (a), 3);
  ck_assert_str_eq (referral_scheme_rank_name (a, 0), "user");
  ck_assert_str_eq (referral_scheme_rank_name (a, 1), "agent");
  ck_assert_str_eq (referral_scheme_rank_name (a, 2), "partner");

  /* The composition, in order. */
  static const char *const want[][2] = {
    { "pool", "bonus_pool" }, { "seller", "seller_award" }, { "team", "team_award" },
    { "help_fund", "help_fund" }, { "peer", "peer_award" },
    { "gift_rank", "rank_on_purchase" }, { "seeds", "seeds" },
    { "break_away", "break_away" }, { "promote_partner", "promote_by_sponsored" },
    { "transpose", "transpose" },
  };
  ck_assert_uint_eq (referral_scheme_n_rules (a), G_N_ELEMENTS (want));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      ck_assert_str_eq (referral_scheme_rule_name (a, i), want[i][0]);
      ck_assert_str_eq (referral_scheme_rule_type (a, i), want[i][1]);
    }
}
END_TEST

/* Replaces the first line @old after the group header [rule @group] (and
 * before the next group) by @new_line. */
static char *
replace_in_group (char *text, const char *group, const char *old, const char *new_line)
{
  g_autofree char *header = g_strdup_printf ("[rule %s]\n", group);
  const char *start = strstr (text, header);
  ck_assert_msg (start != NULL, "no group %s", group);
  start += strlen (header);
  const char *end = strstr (start, "\n[");
  g_autofree char *needle = g_strdup_printf ("\n%s\n", old);
  const char *at = strstr (start - 1, needle);
  ck_assert_msg (at != NULL && (end == NULL || at < end), "no line \"%s\" in group %s", old, group);
  GString *s = g_string_new_len (text, at - text);
  g_string_append_printf (s, "\n%s\n", new_line);
  g_string_append (s, at + strlen (needle));
  g_free (text);
  return g_string_free (s, FALSE);
}

/* Every parameter of the spec's table is set in the file and takes effect:
 * gift_sku pack, agent_award 50.00, partner_award 150.00, team_award 120.00,
 * partner_after 3, pass_up 1, peer_rate 5%, pool_rate 2%, hold_rate 50%. */
START_TEST (test_spec_parameters_are_in_the_file)
{
  char *text = g_strdup (referral_scheme_builtin_text ("chain21"));
  text = replace_in_group (text, "pool", "rate = 5%", "rate = 2%");
  text = replace_in_group (text, "seller", "sku = gift", "sku = pack");
  text = replace_in_group (text, "seller", "amounts = 0.00, 100.00, 300.00",
                           "amounts = 0.00, 50.00, 150.00");
  text = replace_in_group (text, "team", "sku = gift", "sku = pack");
  text = replace_in_group (text, "team", "amount = 200.00", "amount = 120.00");
  text = replace_in_group (text, "help_fund", "rate = 20%", "rate = 50%");
  text = replace_in_group (text, "peer", "rate = 10%", "rate = 5%");
  text = replace_in_group (text, "gift_rank", "sku = gift", "sku = pack");
  text = replace_in_group (text, "break_away", "pass_up = 2", "pass_up = 1");
  text = replace_in_group (text, "promote_partner", "count = 2", "count = 3");
  g_autoptr (ReferralScheme) scheme = tu_scheme_from_text (text);
  g_free (text);
  g_autoptr (ReferralEngine) e = tu_engine_new (scheme);

  JOIN (e, "A", NULL);
  PROMOTE (e, "A", "partner");
  JOIN (e, "B", "A");
  /* B buys the pack (1000.00): pool 2% = 20.00; A (partner) 150.00, half held. */
  ORDER (e, "o1", "B", 100000, "pack");
  assert_funds (e, "A", 7500, 7500);
  ck_assert_str_eq (c21_rank (e, "B"), "agent");
  /* C, D under B buy: B (agent) 50.00 each, A team 120.00 each. */
  JOIN (e, "C", "B");
  ORDER (e, "o2", "C", 100000, "pack");
  JOIN (e, "D", "B");
  ORDER (e, "o3", "D", 100000, "pack");
  assert_funds (e, "B", 5000, 5000);
  assert_funds (e, "A", 19500, 19500);
  ck_assert_str_eq (c21_rank (e, "B"), "agent"); /* 2 direct agents: not enough */
  /* E: the third direct agent: B becomes a partner, passes up only its first
   * seed C. */
  JOIN (e, "E", "B");
  ORDER (e, "o4", "E", 100000, "pack");
  ck_assert_str_eq (c21_rank (e, "B"), "partner");
  ck_assert_str_eq (c21_parent (e, "C"), "A");
  ck_assert_str_eq (c21_parent (e, "D"), "B");
  ck_assert_str_eq (c21_parent (e, "E"), "B");
  assert_funds (e, "B", 7500, 7500);
  assert_funds (e, "A", 25500, 25500);
  /* F: B (partner) 150.00; peer 5% = 7.50 to A. */
  JOIN (e, "F", "B");
  ORDER (e, "o5", "F", 100000, "pack");
  assert_funds (e, "B", 15000, 15000);
  assert_funds (e, "A", 25875, 25875);
  /* "gift" is no gift pack any more: pool only (2.00), G stays a user. */
  JOIN (e, "G", "A");
  ORDER (e, "o6", "G", 10000, "gift");
  ck_assert_str_eq (c21_rank (e, "G"), "user");
  ck_assert_int_eq (c21_pool (e), 10200);
  /* Performance A 4 x 1000.00 (o1 direct, o2-o4 team), B 1000.00 (o5):
   * A 102.00 x 4/5 = 81.60, B 20.40, each half held. */
  CLOSE (e, "p1");
  assert_funds (e, "A", 25875 + 4080, 25875 + 4080);
  assert_funds (e, "B", 15000 + 1020, 15000 + 1020);
  ck_assert_int_eq (c21_pool (e), 0);
}
END_TEST

/* ---- the example files ------------------------------------------------------ */

static char *
read_file (const char *path)
{
  g_autoptr (GError) err = NULL;
  char *text = NULL;
  ck_assert_msg (g_file_get_contents (path, &text, NULL, &err), "%s: %s", path,
                 err ? err->message : "");
  return text;
}

/* The balances of @e in the format of `referral run --balances`, built from
 * the public API. */
static char *
balances_text (const ReferralEngine *e)
{
  const ReferralTree *t = referral_engine_tree (e);
  const ReferralLedger *l = referral_engine_ledger (e);
  const ReferralScheme *s = referral_engine_scheme (e);
  GString *out = g_string_new (NULL);
  char a[REFERRAL_MONEY_BUF_SIZE], h[REFERRAL_MONEY_BUF_SIZE];
  for (ReferralMember m = 0; m < referral_tree_size (t); m++)
    g_string_append_printf (out,
                            "{\"member\":\"%s\",\"rank\":\"%s\",\"available\":\"%s\",\"held\":\"%s\"}\n",
                            referral_tree_key (t, m),
                            referral_scheme_rank_name (s, referral_tree_rank (t, m)),
                            referral_money_format_buf (referral_ledger_balance (
                              l, referral_ledger_member_account (l, m, FALSE)), 2, a),
                            referral_money_format_buf (referral_ledger_balance (
                              l, referral_ledger_member_account (l, m, TRUE)), 2, h));
  for (guint p = 0; p < referral_ledger_n_pools (l); p++)
    g_string_append_printf (out, "{\"account\":\"%s\",\"balance\":\"%s\"}\n",
                            referral_ledger_pool_name (l, p),
                            referral_money_format_buf (referral_ledger_balance (
                              l, referral_ledger_pool_account (l, p)), 2, a));
  return g_string_free (out, FALSE);
}

static GPtrArray *
example_files (void)
{
  g_autofree char *dir = tu_source_path ("examples/events");
  g_autoptr (GError) err = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &err);
  ck_assert_msg (d != NULL, "%s", err ? err->message : "");
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  for (const char *name; (name = g_dir_read_name (d)) != NULL;)
    if (g_str_has_prefix (name, "chain21-") && g_str_has_suffix (name, ".jsonl")
        && !g_str_has_suffix (name, ".balances.jsonl"))
      g_ptr_array_add (files, g_build_filename (dir, name, NULL));
  g_ptr_array_sort (files, (GCompareFunc) g_strcmp0);
  return files;
}

static char *
expected_balances_path (const char *events)
{
  g_autofree char *stem = g_strndup (events, strlen (events) - strlen (".jsonl"));
  return g_strconcat (stem, ".balances.jsonl", NULL);
}

/* `referral run --scheme chain21 FILE --balances -` prints exactly the
 * expected balances beside each example file, and exits 0. */
START_TEST (test_example_files_cli)
{
  const char *build = g_getenv ("REFERRAL_BUILD_DIR");
  ck_assert_msg (build != NULL, "REFERRAL_BUILD_DIR is not set");
  g_autofree char *cli = g_build_filename (build, "tools", "referral", "referral", NULL);
  g_autoptr (GPtrArray) files = example_files ();
  ck_assert_uint_ge (files->len, 5);
  for (guint i = 0; i < files->len; i++)
    {
      const char *events = files->pdata[i];
      g_autofree char *want_path = expected_balances_path (events);
      g_autofree char *want = read_file (want_path);
      const char *argv[] = { cli, "run", "--scheme", "chain21", events, "--balances", "-", NULL };
      g_autofree char *out = NULL;
      g_autofree char *err_text = NULL;
      int status = 0;
      g_autoptr (GError) err = NULL;
      ck_assert_msg (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                   &out, &err_text, &status, &err),
                     "spawning %s: %s", cli, err ? err->message : "");
      ck_assert_msg (g_spawn_check_wait_status (status, NULL), "%s: exit status %d: %s",
                     events, status, err_text);
      ck_assert_msg (strcmp (out, want) == 0, "%s:\n--- got\n%s--- want\n%s", events, out, want);
    }
}
END_TEST

/* The same files through referral_engine_apply_jsonl(), balances built from
 * the public API: the library agrees with the expected files by itself. */
START_TEST (test_example_files_library)
{
  g_autoptr (GPtrArray) files = example_files ();
  ck_assert_uint_ge (files->len, 5);
  for (guint i = 0; i < files->len; i++)
    {
      const char *events = files->pdata[i];
      g_autoptr (ReferralEngine) e = c21_engine ();
      g_autoptr (GError) err = NULL;
      ReferralRunStats stats;
      ck_assert_msg (referral_engine_apply_jsonl (e, events, REFERRAL_RUN_STOP_AT_ERROR, NULL,
                                                  NULL, &stats, &err),
                     "%s: %s", events, err ? err->message : "an event was rejected");
      ck_assert_uint_eq (stats.errors, 0);
      g_autofree char *want_path = expected_balances_path (events);
      g_autofree char *want = read_file (want_path);
      g_autofree char *got = balances_text (e);
      ck_assert_msg (strcmp (got, want) == 0, "%s:\n--- got\n%s--- want\n%s", events, got, want);
      ck_assert (referral_ledger_is_balanced (referral_engine_ledger (e)));
    }
}
END_TEST

/* ---- the worked examples, step by step --------------------------------------- */

static void
example_1 (ReferralEngine *e)
{
  JOIN (e, "A", NULL);
  PROMOTE (e, "A", "partner");
  JOIN (e, "B", "A");
  JOIN (e, "C", "B");
  BUY (e, "o1", "B");
  BUY (e, "o2", "C");
}

static void
example_2 (ReferralEngine *e)
{
  example_1 (e);
  JOIN (e, "D", "B");
  BUY (e, "o3", "D");
  JOIN (e, "E", "B");
  BUY (e, "o4", "E");
}

START_TEST (test_worked_example_1)
{
  g_autoptr (ReferralEngine) e = c21_probed_engine ();
  JOIN (e, "A", NULL);
  PROMOTE (e, "A", "partner");
  JOIN (e, "B", "A");
  JOIN (e, "C", "B");

  /* B buys: seller A (partner): 300.00 direct, 60.00 held; pool 34.95. */
  ReferralApplyResult r = BUY (e, "o1", "B");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "direct platform>A:available 30000; hold A:available>A:held 6000");
  assert_funds (e, "A", 24000, 6000);
  ck_assert_str_eq (c21_rank (e, "B"), "agent");
  assert_probe (e, "A", "seeds=B released=0 perf=69900 count=1");

  /* C buys: seller B (agent) 100.00; B's superior A 200.00 team. */
  r = BUY (e, "o2", "C");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "direct platform>B:available 10000; hold B:available>B:held 2000; "
                         "team platform>A:available 20000; hold A:available>A:held 4000");
  assert_funds (e, "A", 40000, 10000);
  assert_funds (e, "B", 8000, 2000);
  assert_funds (e, "C", 0, 0);
  ck_assert_str_eq (c21_rank (e, "C"), "agent");
  ck_assert_int_eq (c21_pool (e), 6990);
  assert_probe (e, "B", "seeds=C released=0 perf=0 count=1");
  assert_probe (e, "A", "seeds=B released=0 perf=139800 count=1");
}
END_TEST

START_TEST (test_worked_example_2)
{
  g_autoptr (ReferralEngine) e = c21_probed_engine ();
  C21Log log;
  example_1 (e);
  JOIN (e, "D", "B");
  c21_log_start (&log, e);

  /* D buys: B (still an agent) 100.00, A 200.00 team; then D is an agent,
   * B has two direct agents and becomes a partner; its superior was A, so
   * its seeds C and D move under A. */
  ReferralApplyResult r = BUY (e, "o3", "D");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "direct platform>B:available 10000; hold B:available>B:held 2000; "
                         "team platform>A:available 20000; hold A:available>A:held 4000");
  g_autofree char *text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank D user>agent; rank B agent>partner; "
                          "move C B>A; move D B>A; applied; ");
  ck_assert_str_eq (c21_parent (e, "C"), "A");
  ck_assert_str_eq (c21_parent (e, "D"), "A");
  assert_probe (e, "B", "seeds=C,D released=0 perf=0 count=2");

  /* E buys: B (partner) 300.00 direct; B's sponsor A (partner) 30.00 peer. */
  JOIN (e, "E", "B");
  r = BUY (e, "o4", "E");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "direct platform>B:available 30000; hold B:available>B:held 6000; "
                         "peer platform>A:available 3000; hold A:available>A:held 600");
  ck_assert_str_eq (c21_parent (e, "E"), "B");
  assert_funds (e, "A", 58400, 14600);
  assert_funds (e, "B", 40000, 10000);
  ck_assert_int_eq (c21_pool (e), 13980);
  /* Performance: A 3 x 699.00 (the peer award is none), B 699.00. */
  assert_probe (e, "A", "seeds=B released=0 perf=209700 count=1");
  assert_probe (e, "B", "seeds=C,D released=0 perf=69900 count=3");
  c21_log_stop (&log);
}
END_TEST

START_TEST (test_worked_example_3)
{
  g_autoptr (ReferralEngine) e = c21_probed_engine ();
  example_2 (e);
  /* 139.80 shared 2097 : 699 -> A 104.85, B 34.95, each 20% held. */
  ReferralApplyResult r = CLOSE (e, "2024-01");
  assert_postings (e, r, "pool pool:pool>A:available 10485; hold A:available>A:held 2097; "
                         "pool pool:pool>B:available 3495; hold B:available>B:held 699");
  assert_funds (e, "A", 66788, 16697);
  assert_funds (e, "B", 42796, 10699);
  ck_assert_int_eq (c21_pool (e), 0);
  assert_probe (e, "A", "seeds=B released=0 perf=0 count=1");
  assert_probe (e, "B", "seeds=C,D released=0 perf=0 count=3");
  ck_assert_uint_eq (referral_engine_n_periods (e), 1);
}
END_TEST

/* ---- promotions ---------------------------------------------------------------- */

/* R partner; A and B under R buy (seeds(R) = [A, B]); A1 and A2 under A buy
 * (A becomes a partner, A1 and A2 move under R); B1 under B buys. */
static void
release_story_until_o5 (ReferralEngine *e)
{
  JOIN (e, "R", NULL);
  PROMOTE (e, "R", "partner");
  JOIN (e, "A", "R");
  BUY (e, "o1", "A");
  JOIN (e, "B", "R");
  BUY (e, "o2", "B");
  JOIN (e, "A1", "A");
  BUY (e, "o3", "A1");
  JOIN (e, "A2", "A");
  BUY (e, "o4", "A2");
  JOIN (e, "B1", "B");
  BUY (e, "o5", "B1");
}

/* b becomes an agent, its sponsor becomes a partner, that partner's sponsor's
 * help fund is released: all in the one event of b's order. */
START_TEST (test_cascade_in_one_event)
{
  g_autoptr (ReferralEngine) e = c21_probed_engine ();
  C21Log log;
  release_story_until_o5 (e);
  /* R: 2 x 300.00 direct + 3 x 200.00 team, 20% held. */
  assert_funds (e, "R", 96000, 24000);
  assert_probe (e, "R", "seeds=A,B released=0 perf=349500 count=2");
  ck_assert_str_eq (c21_rank (e, "A"), "partner");
  ck_assert_str_eq (c21_rank (e, "B"), "agent");
  JOIN (e, "B2", "B");

  c21_log_start (&log, e);
  ReferralApplyResult r = BUY (e, "o6", "B2");
  g_autofree char *text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank B2 user>agent; rank B agent>partner; move B1 B>R; move B2 B>R; "
                          "release R 28000; applied; ");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "direct platform>B:available 10000; hold B:available>B:held 2000; "
                         "team platform>R:available 20000; hold R:available>R:held 4000; "
                         "release R:held>R:available 28000");
  assert_funds (e, "R", 140000, 0);
  assert_funds (e, "B", 16000, 4000);
  assert_probe (e, "R", "seeds=A,B released=1 perf=419400 count=2");
  ck_assert_str_eq (c21_parent (e, "B1"), "R");
  ck_assert_str_eq (c21_parent (e, "B2"), "R");

  /* Released for good: later credits to R are not split. */
  JOIN (e, "A3", "A");
  r = BUY (e, "o7", "A3");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "direct platform>A:available 30000; hold A:available>A:held 6000; "
                         "peer platform>R:available 3000");
  assert_funds (e, "R", 143000, 0);
  c21_log_stop (&log);
}
END_TEST

START_TEST (test_break_away_without_superior)
{
  g_autoptr (ReferralEngine) e = c21_engine ();
  C21Log log;
  JOIN (e, "S", NULL);
  PROMOTE (e, "S", "agent");
  JOIN (e, "X", "S");
  JOIN (e, "Y", "S");
  /* Seller S (agent) 100.00; S has no superior: no team award. */
  ReferralApplyResult r = BUY (e, "o1", "X");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "direct platform>S:available 10000; hold S:available>S:held 2000");
  c21_log_start (&log, e);
  BUY (e, "o2", "Y");
  /* S becomes a partner with nobody above it: nothing moves. */
  g_autofree char *text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank Y user>agent; rank S agent>partner; applied; ");
  ck_assert_str_eq (c21_parent (e, "X"), "S");
  ck_assert_str_eq (c21_parent (e, "Y"), "S");
  assert_funds (e, "S", 16000, 4000);
  /* S is now the superior of its team: Z under X buys, X (agent) sells,
   * S gets the team award. */
  JOIN (e, "Z", "X");
  r = BUY (e, "o3", "Z");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "direct platform>X:available 10000; hold X:available>X:held 2000; "
                         "team platform>S:available 20000; hold S:available>S:held 4000");
  c21_log_stop (&log);
}
END_TEST

START_TEST (test_admin_promote_straight_to_partner)
{
  g_autoptr (ReferralEngine) e = c21_probed_engine ();
  C21Log log;
  JOIN (e, "R", NULL);
  PROMOTE (e, "R", "partner");
  JOIN (e, "S", "R");
  JOIN (e, "M", "S");
  JOIN (e, "K", "M");
  JOIN (e, "L", "M");
  PROMOTE (e, "K", "agent");
  PROMOTE (e, "L", "agent");
  /* Seeds are recorded whatever the sponsor's rank: M is a user. */
  assert_probe (e, "M", "seeds=K,L released=0 perf=0 count=2");
  ck_assert_str_eq (c21_rank (e, "M"), "user");

  /* M (a user) straight to partner: through agent (appended to S's seeds);
   * its superior just before was R (S is a user): K and L move under R. */
  c21_log_start (&log, e);
  PROMOTE (e, "M", "partner");
  g_autofree char *text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank M user>agent; rank M agent>partner; move K M>R; move L M>R; "
                          "applied; ");
  assert_probe (e, "S", "seeds=M released=0 perf=0 count=1");
  ck_assert_str_eq (c21_parent (e, "K"), "R");
  ck_assert_str_eq (c21_parent (e, "L"), "R");

  /* N straight to partner too: no seeds to pass up.  S is a user with two
   * direct partners: still a user, but both its seeds are partners, so its
   * (empty) help fund is released: the condition is on the seeds only. */
  JOIN (e, "N", "S");
  g_free (c21_log_take (&log));
  PROMOTE (e, "N", "partner");
  g_free (text);
  text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank N user>agent; rank N agent>partner; applied; ");
  ck_assert_str_eq (c21_rank (e, "S"), "user");
  assert_probe (e, "S", "seeds=M,N released=1 perf=0 count=2");

  /* S buys the gift: seller R (300.00 direct); S becomes an agent and at once
   * a partner (two direct agents); its seeds M and N move under R. */
  ReferralApplyResult r = BUY (e, "o1", "S");
  g_free (text);
  text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank S user>agent; rank S agent>partner; move M S>R; move N S>R; "
                          "applied; ");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "direct platform>R:available 30000; hold R:available>R:held 6000");
  assert_probe (e, "S", "seeds=M,N released=1 perf=0 count=2");
  c21_log_stop (&log);
}
END_TEST

/* An administrator's promote straight to partner breaks away before the
 * sponsor is checked: M's superior is taken while its sponsor S is still an
 * agent (none: K stays under M), then S becomes a partner. */
START_TEST (test_promote_breaks_away_before_sponsor_check)
{
  g_autoptr (ReferralEngine) e = c21_engine ();
  C21Log log;
  JOIN (e, "S", NULL);
  PROMOTE (e, "S", "agent");
  JOIN (e, "X", "S");
  PROMOTE (e, "X", "agent");
  JOIN (e, "M", "S");
  JOIN (e, "K", "M");
  PROMOTE (e, "K", "agent");

  c21_log_start (&log, e);
  PROMOTE (e, "M", "partner");
  g_autofree char *text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank M user>agent; rank M agent>partner; rank S agent>partner; "
                          "applied; ");
  ck_assert_str_eq (c21_parent (e, "K"), "M");
  ck_assert_str_eq (c21_parent (e, "M"), "S");

  /* K's superior is M: J under K buys, M gets the team award and S (M's
   * sponsor, a partner) the peer award on it. */
  JOIN (e, "J", "K");
  ReferralApplyResult r = BUY (e, "o1", "J");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "direct platform>K:available 10000; hold K:available>K:held 2000; "
                         "team platform>M:available 20000; hold M:available>M:held 4000; "
                         "peer platform>S:available 2000; hold S:available>S:held 400");
  c21_log_stop (&log);
}
END_TEST

START_TEST (test_pass_up_moves_whole_subtree)
{
  g_autoptr (ReferralEngine) e = c21_engine ();
  C21Log log;
  const ReferralTree *t = referral_engine_tree (e);
  JOIN (e, "A", NULL);
  PROMOTE (e, "A", "partner");
  JOIN (e, "B", "A");
  BUY (e, "o1", "B");
  JOIN (e, "C", "B");
  BUY (e, "o2", "C");
  JOIN (e, "C1", "C");
  BUY (e, "o3", "C1");
  JOIN (e, "C2", "C1");
  PROMOTE (e, "C2", "agent");
  JOIN (e, "E", "B");
  JOIN (e, "D", "B");
  ck_assert_uint_eq (referral_tree_depth (t, tu_member (e, "C2")), 4);

  c21_log_start (&log, e);
  BUY (e, "o4", "D");
  g_autofree char *text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank D user>agent; rank B agent>partner; move C B>A; move D B>A; "
                          "applied; ");
  /* C moved with its whole subtree: C1 and C2 are still below it. */
  ck_assert_str_eq (c21_parent (e, "C"), "A");
  ck_assert_str_eq (c21_parent (e, "C1"), "C");
  ck_assert_str_eq (c21_parent (e, "C2"), "C1");
  ck_assert_uint_eq (referral_tree_depth (t, tu_member (e, "C2")), 3);
  ck_assert (referral_tree_is_ancestor (t, tu_member (e, "A"), tu_member (e, "C2")));
  ck_assert (!referral_tree_is_ancestor (t, tu_member (e, "B"), tu_member (e, "C2")));
  g_autofree char *kids = tu_children_text (e, "B");
  ck_assert_str_eq (kids, "E");

  /* C2's team stays A's: G under C2 buys, C2 (agent) sells, A gets the team
   * award (C1, C are agents). */
  JOIN (e, "G", "C2");
  ReferralApplyResult r = BUY (e, "o5", "G");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "direct platform>C2:available 10000; hold C2:available>C2:held 2000; "
                         "team platform>A:available 20000; hold A:available>A:held 4000");
  /* E, placed under B and not a seed, now has B as its superior. */
  BUY (e, "o6", "E");
  JOIN (e, "F", "E");
  r = BUY (e, "o7", "F");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "direct platform>E:available 10000; hold E:available>E:held 2000; "
                         "team platform>B:available 20000; hold B:available>B:held 4000; "
                         "peer platform>A:available 2000; hold A:available>A:held 400");
  c21_log_stop (&log);
}
END_TEST

/* Self-purchases: an agent's rebate (with a team award to its superior), a
 * partner's rebate (no team award, no peer award; performance counts). */
START_TEST (test_self_purchase_rebates)
{
  g_autoptr (ReferralEngine) e = c21_probed_engine ();
  JOIN (e, "P", NULL);
  PROMOTE (e, "P", "partner");
  JOIN (e, "Q", "P");
  PROMOTE (e, "Q", "partner");
  JOIN (e, "U", "Q");
  PROMOTE (e, "U", "agent");
  ReferralApplyResult r = BUY (e, "o1", "U");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "rebate platform>U:available 10000; hold U:available>U:held 2000; "
                         "team platform>Q:available 20000; hold Q:available>Q:held 4000; "
                         "peer platform>P:available 2000; hold P:available>P:held 400");
  r = BUY (e, "o2", "Q");
  assert_postings (e, r, "sale outside>platform 69900; "
                         "pool_contribution platform>pool:pool 3495; "
                         "rebate platform>Q:available 30000; hold Q:available>Q:held 6000");
  assert_probe (e, "Q", "seeds=U released=0 perf=139800 count=1");
  assert_probe (e, "P", "seeds=Q released=0 perf=0 count=1");
  /* A sku other than the gift pays nothing but the pool. */
  r = ORDER (e, "o3", "U", 12345, "book");
  assert_postings (e, r, "sale outside>platform 12345; pool_contribution platform>pool:pool 617");
  r = ORDER (e, "o4", "U", 10, NULL);
  assert_postings (e, r, "sale outside>platform 10");
}
END_TEST

/* ---- refunds ------------------------------------------------------------------- */

static void
two_partners (ReferralEngine *e)
{
  JOIN (e, "P1", NULL);
  JOIN (e, "P2", NULL);
  PROMOTE (e, "P1", "partner");
  PROMOTE (e, "P2", "partner");
  JOIN (e, "U1", "P1");
  JOIN (e, "U2", "P2");
  BUY (e, "o1", "U1");
  BUY (e, "o2", "U2");
}

START_TEST (test_refund_before_close)
{
  g_autoptr (ReferralEngine) e = c21_probed_engine ();
  two_partners (e);
  assert_probe (e, "P1", "seeds=U1 released=0 perf=69900 count=1");
  ReferralApplyResult r = REFUND (e, "o1");
  /* Newest first; the held part comes back from held funds (locked). */
  assert_postings (e, r, "-hold P1:held>P1:available 6000; "
                         "-direct P1:available>platform 30000; "
                         "-pool_contribution pool:pool>platform 3495; "
                         "-sale platform>outside 69900");
  assert_funds (e, "P1", 0, 0);
  /* Same period: P1's performance is gone; rank and seeds stay. */
  assert_probe (e, "P1", "seeds=U1 released=0 perf=0 count=1");
  ck_assert_str_eq (c21_rank (e, "U1"), "agent");
  /* The close shares the pool (o2's 34.95) with P2 alone. */
  r = CLOSE (e, "p1");
  assert_postings (e, r, "pool pool:pool>P2:available 3495; hold P2:available>P2:held 699");
  assert_funds (e, "P1", 0, 0);
  assert_funds (e, "P2", 24000 + 2796, 6000 + 699);
}
END_TEST

START_TEST (test_refund_after_close)
{
  g_autoptr (ReferralEngine) e = c21_probed_engine ();
  two_partners (e);
  CLOSE (e, "p1"); /* 69.90: 34.95 each */
  assert_funds (e, "P1", 24000 + 2796, 6000 + 699);
  ReferralApplyResult r = REFUND (e, "o1");
  assert_postings (e, r, "-hold P1:held>P1:available 6000; "
                         "-direct P1:available>platform 30000; "
                         "-pool_contribution pool:pool>platform 3495; "
                         "-sale platform>outside 69900");
  /* The pool share P1 got for o1 stays; the pool goes negative. */
  assert_funds (e, "P1", 2796, 699);
  ck_assert_int_eq (c21_pool (e), -3495);
  /* Another period: performance is not touched (it stays zero). */
  assert_probe (e, "P1", "seeds=U1 released=0 perf=0 count=1");
  r = CLOSE (e, "p2");
  ck_assert_uint_eq (r.n_postings, 0);
  ck_assert_int_eq (c21_pool (e), -3495);
  /* U2 buys again (a rebate to U2, team to P2): the pool is back to 0.00,
   * nothing to share. */
  BUY (e, "o3", "U2");
  ck_assert_int_eq (c21_pool (e), 0);
  r = CLOSE (e, "p3");
  ck_assert_uint_eq (r.n_postings, 0);
  /* U1 buys again: the next close gives P1 the whole 34.95. */
  BUY (e, "o4", "U1");
  r = CLOSE (e, "p4");
  assert_postings (e, r, "pool pool:pool>P1:available 3495; hold P1:available>P1:held 699");
  assert_funds (e, "P1", 2796 + 16000 + 2796, 699 + 4000 + 699);
}
END_TEST

START_TEST (test_refund_after_release)
{
  g_autoptr (ReferralEngine) e = c21_probed_engine ();
  release_story_until_o5 (e);
  JOIN (e, "B2", "B");
  BUY (e, "o6", "B2"); /* releases R */
  JOIN (e, "A3", "A");
  BUY (e, "o7", "A3");
  assert_funds (e, "R", 143000, 0);
  assert_funds (e, "B", 16000, 4000);

  /* o6 made R's release; the release and R's hold are not reversed: R's
   * team award comes back from available; B is locked: its held part comes
   * back from held funds. */
  ReferralApplyResult r = REFUND (e, "o6");
  assert_postings (e, r, "-team R:available>platform 20000; "
                         "-hold B:held>B:available 2000; "
                         "-direct B:available>platform 10000; "
                         "-pool_contribution pool:pool>platform 3495; "
                         "-sale platform>outside 69900");
  assert_funds (e, "R", 123000, 0);
  assert_funds (e, "B", 8000, 2000);
  assert_probe (e, "R", "seeds=A,B released=1 perf=349500 count=2");
  ck_assert_str_eq (c21_rank (e, "B"), "partner");
  ck_assert_str_eq (c21_rank (e, "B2"), "agent");
  ck_assert_str_eq (c21_parent (e, "B2"), "R");

  /* A's fund is released by a transposition; then o7 is refunded after the
   * close: its 300.00 (60.00 held when paid) come back from available. */
  PROMOTE (e, "A2", "partner");
  PROMOTE (e, "A3", "partner");
  TRANSPOSE (e, "A", "A1", "A3");
  assert_funds (e, "A", 50000, 0);
  CLOSE (e, "p1");
  assert_funds (e, "A", 53495, 0);
  assert_funds (e, "R", 140475, 0);
  r = REFUND (e, "o7");
  assert_postings (e, r, "-peer R:available>platform 3000; "
                         "-direct A:available>platform 30000; "
                         "-pool_contribution pool:pool>platform 3495; "
                         "-sale platform>outside 69900");
  assert_funds (e, "A", 23495, 0);
  assert_funds (e, "R", 137475, 0);
  ck_assert_int_eq (c21_pool (e), -3495);
}
END_TEST

START_TEST (test_refund_twice_and_unknown)
{
  g_autoptr (ReferralEngine) e = c21_engine ();
  JOIN (e, "A", NULL);
  PROMOTE (e, "A", "partner");
  JOIN (e, "B", "A");
  BUY (e, "o1", "B");
  REFUND (e, "o1");
  ReferralEvent ev = tu_refund ("r2", "o1");
  g_autoptr (GError) err = apply_fail (e, &ev, REFERRAL_ERROR_ALREADY_REFUNDED);
  ck_assert_str_eq (err->message, "refund \"o1\": order \"o1\" was already refunded");
  ev = tu_refund ("r3", "nope");
  g_autoptr (GError) err2 = apply_fail (e, &ev, REFERRAL_ERROR_UNKNOWN_ORDER);
  ck_assert_str_eq (err2->message, "refund \"nope\": order \"nope\" does not exist");
}
END_TEST

START_TEST (test_refund_leaves_available_negative)
{
  g_autoptr (ReferralEngine) e = c21_engine ();
  JOIN (e, "A", NULL);
  PROMOTE (e, "A", "partner");
  JOIN (e, "B", "A");
  BUY (e, "o1", "B");
  WITHDRAW (e, "A", 24000);
  REFUND (e, "o1");
  assert_funds (e, "A", -24000, 0);
  ck_assert (referral_ledger_is_balanced (referral_engine_ledger (e)));
  /* A owes it back: nothing can be withdrawn. */
  ReferralEvent ev = tu_withdraw ("w2", "A", 1);
  g_autoptr (GError) err = apply_fail (e, &ev, REFERRAL_ERROR_INSUFFICIENT_FUNDS);
  assert_contains (err->message, "exceeds available -240.00");
}
END_TEST

/* ---- transposition ------------------------------------------------------------- */

/* R partner; A under R buys; A1, A2 under A buy (A partner); A3, A4 under A
 * buy; A2, A3 are made partners; B under R is made a partner.
 * seeds(A) = [A1 agent, A2 partner]; A: 640.00/160.00. */
static ReferralEngine *
transpose_setup (void)
{
  ReferralEngine *e = c21_probed_engine ();
  JOIN (e, "R", NULL);
  PROMOTE (e, "R", "partner");
  JOIN (e, "A", "R");
  BUY (e, "o1", "A");
  JOIN (e, "A1", "A");
  BUY (e, "o2", "A1");
  JOIN (e, "A2", "A");
  BUY (e, "o3", "A2");
  JOIN (e, "A3", "A");
  BUY (e, "o4", "A3");
  JOIN (e, "A4", "A");
  BUY (e, "o5", "A4");
  PROMOTE (e, "A2", "partner");
  PROMOTE (e, "A3", "partner");
  JOIN (e, "B", "R");
  PROMOTE (e, "B", "partner");
  assert_probe (e, "A", "seeds=A1,A2 released=0 perf=139800 count=4");
  assert_funds (e, "A", 64000, 16000);
  return e;
}

START_TEST (test_transpose_releases)
{
  g_autoptr (ReferralEngine) e = transpose_setup ();
  C21Log log;
  c21_log_start (&log, e);
  ReferralApplyResult r = TRANSPOSE (e, "A", "A1", "A3");
  assert_postings (e, r, "release A:held>A:available 16000");
  g_autofree char *text = c21_log_take (&log);
  ck_assert_str_eq (text, "release A 16000; applied; ");
  assert_probe (e, "A", "seeds=A3,A2 released=1 perf=139800 count=4");
  assert_funds (e, "A", 80000, 0);
  /* Placement does not change. */
  ck_assert_str_eq (c21_parent (e, "A1"), "R");
  ck_assert_str_eq (c21_parent (e, "A3"), "A");
  c21_log_stop (&log);
}
END_TEST

START_TEST (test_transpose_without_release)
{
  g_autoptr (ReferralEngine) e = c21_probed_engine ();
  JOIN (e, "A", NULL);
  JOIN (e, "A1", "A");
  JOIN (e, "A2", "A");
  JOIN (e, "A3", "A");
  PROMOTE (e, "A1", "agent");
  PROMOTE (e, "A2", "agent");
  PROMOTE (e, "A3", "partner");
  /* A (a user) has seeds A1, A2; A3 replaces A2; A1 is no partner. */
  ReferralApplyResult r = TRANSPOSE (e, "A", "A2", "A3");
  ck_assert_uint_eq (r.n_postings, 0);
  assert_probe (e, "A", "seeds=A1,A3 released=0 perf=0 count=3");
}
END_TEST

static void
transpose_refused (ReferralEngine *e, const char *m, const char *o, const char *n, int code,
                   const char *message)
{
  ReferralEvent ev = tu_command ("bad-transpose", "transpose", m, o, n);
  g_autoptr (GError) err = apply_fail (e, &ev, code);
  ck_assert_str_eq (err->message, message);
}

START_TEST (test_transpose_old_not_a_seed)
{
  g_autoptr (ReferralEngine) e = transpose_setup ();
  transpose_refused (e, "A", "A4", "A3", REFERRAL_ERROR_REJECTED,
                     "transpose \"A\": old \"A4\" is not a seed of \"A\"");
}
END_TEST

START_TEST (test_transpose_old_is_partner)
{
  g_autoptr (ReferralEngine) e = transpose_setup ();
  transpose_refused (e, "A", "A2", "A3", REFERRAL_ERROR_REJECTED,
                     "transpose \"A\": old \"A2\" has rank partner: "
                     "only a seed below partner can be replaced");
}
END_TEST

START_TEST (test_transpose_new_not_partner)
{
  g_autoptr (ReferralEngine) e = transpose_setup ();
  transpose_refused (e, "A", "A1", "A4", REFERRAL_ERROR_REJECTED,
                     "transpose \"A\": new \"A4\" has rank agent: "
                     "the new seed must be at least partner");
}
END_TEST

START_TEST (test_transpose_new_not_sponsored)
{
  g_autoptr (ReferralEngine) e = transpose_setup ();
  transpose_refused (e, "A", "A1", "B", REFERRAL_ERROR_REJECTED,
                     "transpose \"A\": new \"B\" was not sponsored by \"A\"");
}
END_TEST

START_TEST (test_transpose_new_already_seed)
{
  g_autoptr (ReferralEngine) e = transpose_setup ();
  transpose_refused (e, "A", "A1", "A2", REFERRAL_ERROR_REJECTED,
                     "transpose \"A\": new \"A2\" is already a seed of \"A\"");
}
END_TEST

START_TEST (test_transpose_unknown_member)
{
  g_autoptr (ReferralEngine) e = transpose_setup ();
  transpose_refused (e, "A", "A1", "ZZ", REFERRAL_ERROR_UNKNOWN_MEMBER,
                     "transpose \"A\": new \"ZZ\" does not exist");
  transpose_refused (e, "A", "ZZ", "A3", REFERRAL_ERROR_UNKNOWN_MEMBER,
                     "transpose \"A\": old \"ZZ\" does not exist");
  transpose_refused (e, "QQ", "A1", "A3", REFERRAL_ERROR_UNKNOWN_MEMBER,
                     "transpose \"QQ\": member \"QQ\" does not exist");
}
END_TEST

START_TEST (test_transpose_missing_field)
{
  g_autoptr (ReferralEngine) e = transpose_setup ();
  transpose_refused (e, "A", "A1", NULL, REFERRAL_ERROR_INVALID_EVENT,
                     "transpose \"A\": field \"new\" is missing");
  transpose_refused (e, "A", NULL, "A3", REFERRAL_ERROR_INVALID_EVENT,
                     "transpose \"A\": field \"old\" is missing");
}
END_TEST

/* ---- period close ------------------------------------------------------------- */

/* Partners P1, P2, P3 (joined in that order) with agents U1, U2, U3 under
 * them.  An agent's gift self-purchase of amount x gives its partner x of
 * performance and the pool floor(x * 5%). */
static void
three_partners (ReferralEngine *e)
{
  JOIN (e, "P1", NULL);
  JOIN (e, "P2", NULL);
  JOIN (e, "P3", NULL);
  PROMOTE (e, "P1", "partner");
  PROMOTE (e, "P2", "partner");
  PROMOTE (e, "P3", "partner");
  JOIN (e, "U1", "P1");
  JOIN (e, "U2", "P2");
  JOIN (e, "U3", "P3");
  PROMOTE (e, "U1", "agent");
  PROMOTE (e, "U2", "agent");
  PROMOTE (e, "U3", "agent");
}

START_TEST (test_close_largest_remainder)
{
  g_autoptr (ReferralEngine) e = c21_engine ();
  three_partners (e);
  ORDER (e, "o1", "U1", 100, "gift"); /* perf P1 1.00, pool 0.05 */
  ORDER (e, "o2", "U2", 200, "gift"); /* perf P2 2.00, pool 0.10 */
  ORDER (e, "o3", "U3", 400, "gift"); /* perf P3 4.00, pool 0.20 */
  ORDER (e, "o4", "U1", 40, "book");  /* pool 0.02: 0.37 in all */
  ck_assert_int_eq (c21_pool (e), 37);
  /* 37 x 1/7 = 5.29, 37 x 2/7 = 10.57, 37 x 4/7 = 21.14: 36 by floor; the
   * fen left goes to the largest remainder, P2's (4/7), not to the earliest
   * joined.  Holds: floor(20%). */
  ReferralApplyResult r = CLOSE (e, "p1");
  assert_postings (e, r, "pool pool:pool>P1:available 5; hold P1:available>P1:held 1; "
                         "pool pool:pool>P2:available 11; hold P2:available>P2:held 2; "
                         "pool pool:pool>P3:available 21; hold P3:available>P3:held 4");
  ck_assert_int_eq (c21_pool (e), 0);
}
END_TEST

START_TEST (test_close_tie_by_join_order)
{
  g_autoptr (ReferralEngine) e = c21_engine ();
  three_partners (e);
  /* P3's performance comes first in the period, P2's second. */
  ORDER (e, "o1", "U3", 100, "gift"); /* perf P3 1.00, pool 0.05 */
  ORDER (e, "o2", "U2", 100, "gift"); /* perf P2 1.00, pool 0.05 */
  ORDER (e, "o3", "U1", 200, "gift"); /* perf P1 2.00, pool 0.10 */
  ORDER (e, "o4", "U1", 40, "book");  /* pool 0.02: 0.22 */
  /* 22 x 2/4 = 11; 22 x 1/4 = 5.5 twice: the fen left goes to P2, joined
   * before P3. */
  ReferralApplyResult r = CLOSE (e, "p1");
  assert_postings (e, r, "pool pool:pool>P1:available 11; hold P1:available>P1:held 2; "
                         "pool pool:pool>P2:available 6; hold P2:available>P2:held 1; "
                         "pool pool:pool>P3:available 5; hold P3:available>P3:held 1");
}
END_TEST

START_TEST (test_close_carries_over_without_performance)
{
  g_autoptr (ReferralEngine) e = c21_engine ();
  JOIN (e, "A", NULL);
  ORDER (e, "o1", "A", 10000, "book"); /* pool 5.00 */
  BUY (e, "o2", "A");                   /* no seller; pool 34.95; A agent */
  ReferralApplyResult r = CLOSE (e, "p1");
  ck_assert_uint_eq (r.n_postings, 0);
  ck_assert_int_eq (c21_pool (e), 3995);
  /* An agent's sale: no partner performance either. */
  JOIN (e, "B", "A");
  BUY (e, "o3", "B");
  r = CLOSE (e, "p2");
  ck_assert_uint_eq (r.n_postings, 0);
  ck_assert_int_eq (c21_pool (e), 7490);
  /* Now a partner with performance takes everything carried over. */
  JOIN (e, "P", NULL);
  PROMOTE (e, "P", "partner");
  JOIN (e, "Q", "P");
  BUY (e, "o4", "Q");
  r = CLOSE (e, "p3");
  assert_postings (e, r, "pool pool:pool>P:available 10985; hold P:available>P:held 2197");
  ck_assert_int_eq (c21_pool (e), 0);
  ck_assert_uint_eq (referral_engine_n_periods (e), 3);
}
END_TEST

START_TEST (test_close_negative_pool_after_late_refund)
{
  g_autoptr (ReferralEngine) e = c21_engine ();
  JOIN (e, "P", NULL);
  PROMOTE (e, "P", "partner");
  JOIN (e, "U1", "P");
  BUY (e, "o1", "U1");
  CLOSE (e, "p1"); /* P gets 34.95 */
  assert_funds (e, "P", 24000 + 2796, 6000 + 699);
  REFUND (e, "o1");
  ck_assert_int_eq (c21_pool (e), -3495);
  JOIN (e, "U2", "P");
  BUY (e, "o2", "U2"); /* pool back to 0.00; P has performance */
  ReferralApplyResult r = CLOSE (e, "p2");
  ck_assert_uint_eq (r.n_postings, 0); /* nothing positive to share */
  JOIN (e, "U3", "P");
  BUY (e, "o3", "U3");
  ORDER (e, "o4", "U3", 20000, "book");
  ck_assert_int_eq (c21_pool (e), 4495);
  r = CLOSE (e, "p3");
  assert_postings (e, r, "pool pool:pool>P:available 4495; hold P:available>P:held 899");
}
END_TEST

static Suite *
chain21_suite (void)
{
  Suite *s = suite_create ("chain21");
  TCase *tc = tu_tcase (s, "scheme", 10);
  tcase_add_test (tc, test_builtin_is_the_file);
  tcase_add_test (tc, test_spec_parameters_are_in_the_file);
  tc = tu_tcase (s, "examples", 30);
  tcase_add_test (tc, test_example_files_cli);
  tcase_add_test (tc, test_example_files_library);
  tcase_add_test (tc, test_worked_example_1);
  tcase_add_test (tc, test_worked_example_2);
  tcase_add_test (tc, test_worked_example_3);
  tc = tu_tcase (s, "promotions", 10);
  tcase_add_test (tc, test_cascade_in_one_event);
  tcase_add_test (tc, test_break_away_without_superior);
  tcase_add_test (tc, test_admin_promote_straight_to_partner);
  tcase_add_test (tc, test_promote_breaks_away_before_sponsor_check);
  tcase_add_test (tc, test_pass_up_moves_whole_subtree);
  tcase_add_test (tc, test_self_purchase_rebates);
  tc = tu_tcase (s, "refunds", 10);
  tcase_add_test (tc, test_refund_before_close);
  tcase_add_test (tc, test_refund_after_close);
  tcase_add_test (tc, test_refund_after_release);
  tcase_add_test (tc, test_refund_twice_and_unknown);
  tcase_add_test (tc, test_refund_leaves_available_negative);
  tc = tu_tcase (s, "transposition", 10);
  tcase_add_test (tc, test_transpose_releases);
  tcase_add_test (tc, test_transpose_without_release);
  tcase_add_test (tc, test_transpose_old_not_a_seed);
  tcase_add_test (tc, test_transpose_old_is_partner);
  tcase_add_test (tc, test_transpose_new_not_partner);
  tcase_add_test (tc, test_transpose_new_not_sponsored);
  tcase_add_test (tc, test_transpose_new_already_seed);
  tcase_add_test (tc, test_transpose_unknown_member);
  tcase_add_test (tc, test_transpose_missing_field);
  tc = tu_tcase (s, "period close", 10);
  tcase_add_test (tc, test_close_largest_remainder);
  tcase_add_test (tc, test_close_tie_by_join_order);
  tcase_add_test (tc, test_close_carries_over_without_performance);
  tcase_add_test (tc, test_close_negative_pool_after_late_refund);
  return s;
}

int
main (void)
{
  return tu_run_suites (chain21_suite (), NULL);
}
