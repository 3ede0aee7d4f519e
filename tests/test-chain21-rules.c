/* The ten rule types chain 2+1 is built from, each in isolation (or with
 * only the rules it needs to have something to react to: the lead's
 * direct_award as a source of credits, the seeds rule as the source of
 * seeds), in schemes with ranks user, agent, partner.  Amounts are minor
 * units (fen). */
#include "test-chain21-common.h"

#include <string.h>

static const char *const ranks[] = { "user", "agent", "partner", NULL };

#define PARAMS(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* An engine for a scheme of the given rules (type, name, params triples,
 * NULL-terminated), with the probe rule appended. */
static ReferralEngine *
rules_engine (const char *type, ...)
{
  c21_register_probe ();
  tu_register_test_rules ();
  g_autoptr (GError) err = NULL;
  g_autoptr (ReferralSchemeBuilder) b = referral_scheme_builder_new ("rules");
  ck_assert (referral_scheme_builder_set_ranks (b, ranks, &err));
  va_list ap;
  va_start (ap, type);
  for (; type != NULL; type = va_arg (ap, const char *))
    {
      const char *name = va_arg (ap, const char *);
      const char *const *params = va_arg (ap, const char *const *);
      ck_assert_msg (referral_scheme_builder_add_rule (b, type, name, params, &err),
                     "rule %s: %s", name, err ? err->message : "");
    }
  va_end (ap);
  ck_assert (referral_scheme_builder_add_rule (b, "test_chain21_probe", "probe", NULL, &err));
  g_autoptr (ReferralScheme) scheme = referral_scheme_builder_finish (g_steal_pointer (&b), &err);
  ck_assert_msg (scheme != NULL, "%s", err ? err->message : "");
  return tu_engine_new (scheme);
}

/* The error of adding one rule of @type with @params to a three-rank scheme. */
static GError *
rule_refused (const char *type, const char *const *params)
{
  GError *err = NULL;
  g_autoptr (ReferralSchemeBuilder) b = referral_scheme_builder_new ("rules");
  ck_assert (referral_scheme_builder_set_ranks (b, ranks, NULL));
  ck_assert_msg (!referral_scheme_builder_add_rule (b, type, "r", params, &err),
                 "rule %s accepted", type);
  return err;
}

static void
move (ReferralEngine *e, const char *member, const char *parent)
{
  ev_move (e, c21_id (), member, parent);
}

/* ---- seller_award ----------------------------------------------------------- */

START_TEST (test_seller_award)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "seller_award", "seller", PARAMS ("amounts", "0.00, 100.00, 300.00"), NULL);
  JOIN (e, "A", NULL);
  JOIN (e, "B", "A");
  /* The seller is B's sponsor A, a user: 0.00, nothing posted. */
  ReferralApplyResult r = BUY (e, "o1", "B");
  assert_postings (e, r, "sale outside>platform 69900");
  PROMOTE (e, "A", "agent");
  r = BUY (e, "o2", "B");
  assert_postings (e, r, "sale outside>platform 69900; direct platform>A:available 10000");
  PROMOTE (e, "A", "partner");
  r = BUY (e, "o3", "B");
  assert_postings (e, r, "sale outside>platform 69900; direct platform>A:available 30000");
  /* An agent buyer sells to itself: a rebate. */
  PROMOTE (e, "B", "agent");
  r = BUY (e, "o4", "B");
  assert_postings (e, r, "sale outside>platform 69900; rebate platform>B:available 10000");
  /* Another sku, or none: nothing. */
  r = ORDER (e, "o5", "B", GIFT, "book");
  assert_postings (e, r, "sale outside>platform 69900");
  r = ORDER (e, "o6", "B", GIFT, NULL);
  assert_postings (e, r, "sale outside>platform 69900");
  /* A user without sponsor has no seller. */
  JOIN (e, "C", NULL);
  r = BUY (e, "o7", "C");
  assert_postings (e, r, "sale outside>platform 69900");
}
END_TEST

START_TEST (test_seller_award_parameters)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "seller_award", "seller",
    PARAMS ("sku", "", "amounts", "1.00, 2.00, 3.00", "self_rank", "partner",
            "kind", "sponsor_award", "self_kind", "own"),
    NULL);
  JOIN (e, "A", NULL);
  JOIN (e, "B", "A");
  PROMOTE (e, "B", "agent");
  /* Every sku; an agent is not its own seller below self_rank = partner. */
  ReferralApplyResult r = ORDER (e, "o1", "B", 500, "book");
  assert_postings (e, r, "sale outside>platform 500; sponsor_award platform>A:available 100");
  PROMOTE (e, "B", "partner");
  r = ORDER (e, "o2", "B", 500, NULL);
  assert_postings (e, r, "sale outside>platform 500; own platform>B:available 300");

  g_autoptr (GError) err = rule_refused ("seller_award", PARAMS ("amounts", "1.00, 2.00"));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "rule \"r\"", "amounts");
  g_autoptr (GError) err2 = rule_refused ("seller_award", NULL);
  assert_error_has (err2, REFERRAL_ERROR_SCHEME, "required parameter \"amounts\"");
}
END_TEST

/* ---- team_award ------------------------------------------------------------- */

START_TEST (test_team_award)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "team_award", "team", NULL,
    "test_mover", "mover", NULL, NULL);
  JOIN (e, "R", NULL);
  PROMOTE (e, "R", "partner");
  JOIN (e, "C", "R");
  PROMOTE (e, "C", "agent");
  JOIN (e, "D", "C");
  /* D (user) buys: seller C, an agent; its superior R gets 200.00. */
  ReferralApplyResult r = BUY (e, "o1", "D");
  assert_postings (e, r, "sale outside>platform 69900; team platform>R:available 20000");
  /* An agent buyer is its own seller: the team award goes to its superior. */
  r = BUY (e, "o2", "C");
  assert_postings (e, r, "sale outside>platform 69900; team platform>R:available 20000");
  /* The superior is found in the placement tree, not the sponsor chain. */
  JOIN (e, "X", NULL);
  PROMOTE (e, "X", "partner");
  move (e, "C", "X");
  r = BUY (e, "o3", "D");
  assert_postings (e, r, "sale outside>platform 69900; team platform>X:available 20000");
  /* A partner seller earns its superior nothing (seller_ranks = agent). */
  PROMOTE (e, "C", "partner");
  r = BUY (e, "o4", "D");
  assert_postings (e, r, "sale outside>platform 69900");
  /* No superior: nothing. */
  JOIN (e, "E", NULL);
  PROMOTE (e, "E", "agent");
  JOIN (e, "F", "E");
  r = BUY (e, "o5", "F");
  assert_postings (e, r, "sale outside>platform 69900");
  /* A user seller: nothing. */
  JOIN (e, "G", "F");
  r = BUY (e, "o6", "G");
  assert_postings (e, r, "sale outside>platform 69900");
}
END_TEST

START_TEST (test_team_award_parameters)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "team_award", "team",
    PARAMS ("sku", "pack", "amount", "12.34", "seller_ranks", "agent, partner",
            "superior_rank", "agent", "kind", "override"),
    NULL);
  JOIN (e, "R", NULL);
  PROMOTE (e, "R", "agent");
  JOIN (e, "C", "R");
  PROMOTE (e, "C", "partner");
  JOIN (e, "D", "C");
  ReferralApplyResult r = ORDER (e, "o1", "D", 100, "pack");
  assert_postings (e, r, "sale outside>platform 100; override platform>R:available 1234");
  r = ORDER (e, "o2", "D", 100, "gift");
  assert_postings (e, r, "sale outside>platform 100");

  g_autoptr (GError) err = rule_refused ("team_award", PARAMS ("seller_ranks", "agent, boss"));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "seller_ranks", "\"boss\"");
}
END_TEST

/* ---- peer_award ------------------------------------------------------------- */

START_TEST (test_peer_award)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "direct_award", "direct", PARAMS ("amounts", "0.00, 10.05, 100.00"),
    "direct_award", "bonus", PARAMS ("amounts", "0.00, 0.00, 50.00", "kind", "bonus"),
    "peer_award", "peer", NULL, NULL);
  JOIN (e, "A", NULL);
  JOIN (e, "B", "A");
  JOIN (e, "C", "B");
  JOIN (e, "D", "C");
  PROMOTE (e, "A", "partner");
  PROMOTE (e, "B", "partner");
  PROMOTE (e, "C", "partner");
  /* D buys: C (partner) gets 100.00 direct and 50.00 bonus; C's sponsor B
   * (partner) 10% of the direct only; the peer award pays no peer award to A. */
  ReferralApplyResult r = ORDER (e, "o1", "D", 1000, NULL);
  assert_postings (e, r, "sale outside>platform 1000; "
                         "direct platform>C:available 10000; peer platform>B:available 1000; "
                         "bonus platform>C:available 5000");
  /* An agent earner: no peer award; 10% of 10.05 would round down anyway. */
  JOIN (e, "E", NULL);
  JOIN (e, "F", "E");
  JOIN (e, "G", "F");
  PROMOTE (e, "E", "partner");
  PROMOTE (e, "F", "agent");
  r = ORDER (e, "o2", "G", 1000, NULL);
  assert_postings (e, r, "sale outside>platform 1000; direct platform>F:available 1005");
  /* A partner earner whose sponsor is an agent: none either. */
  JOIN (e, "H", NULL);
  JOIN (e, "I", "H");
  JOIN (e, "J", "I");
  PROMOTE (e, "H", "agent");
  PROMOTE (e, "I", "partner");
  r = ORDER (e, "o3", "J", 1000, NULL);
  assert_postings (e, r, "sale outside>platform 1000; "
                         "direct platform>I:available 10000; bonus platform>I:available 5000");
}
END_TEST

START_TEST (test_peer_award_parameters)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "direct_award", "direct", PARAMS ("amounts", "0.00, 10.05, 100.00"),
    "peer_award", "peer",
    PARAMS ("rate", "10%", "kinds", "direct", "earner_rank", "agent", "sponsor_rank", "agent",
            "kind", "override"),
    NULL);
  JOIN (e, "E", NULL);
  JOIN (e, "F", "E");
  JOIN (e, "G", "F");
  PROMOTE (e, "E", "agent");
  PROMOTE (e, "F", "agent");
  /* 10% of 10.05 = 1.005, rounded down to 1.00. */
  ReferralApplyResult r = ORDER (e, "o1", "G", 1000, NULL);
  assert_postings (e, r, "sale outside>platform 1000; "
                         "direct platform>F:available 1005; override platform>E:available 100");

  g_autoptr (GError) err = rule_refused ("peer_award", PARAMS ("kinds", "direct, peer"));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "\"kinds\"", "\"peer\"");
}
END_TEST

/* ---- help_fund -------------------------------------------------------------- */

START_TEST (test_help_fund)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "direct_award", "direct", PARAMS ("amounts", "0.00, 0.00, 300.00"),
    "direct_award", "other", PARAMS ("amounts", "0.00, 0.00, 1.00", "kind", "other"),
    "seeds", "seeds", NULL,
    "help_fund", "help_fund", NULL, NULL);
  C21Log log;
  JOIN (e, "A", NULL);
  PROMOTE (e, "A", "partner");
  JOIN (e, "B", "A");
  JOIN (e, "C", "A");
  JOIN (e, "D", "A");
  /* Locked: 20% of the direct credit is held; "other" is not split. */
  ReferralApplyResult r = ORDER (e, "o1", "D", 100, NULL);
  assert_postings (e, r, "sale outside>platform 100; "
                         "direct platform>A:available 30000; hold A:available>A:held 6000; "
                         "other platform>A:available 100");
  ORDER (e, "o2", "D", 100, NULL);
  assert_funds (e, "A", 48200, 12000);
  /* Refund while locked: the hold is reversed too. */
  r = REFUND (e, "o2");
  assert_postings (e, r, "-other A:available>platform 100; -hold A:held>A:available 6000; "
                         "-direct A:available>platform 30000; -sale platform>outside 100");
  /* Seeds B (agent) and C (partner): still locked. */
  PROMOTE (e, "B", "agent");
  PROMOTE (e, "C", "partner");
  assert_probe (e, "A", "seeds=B,C released=0 perf=0 count=0");
  /* B becomes a partner: A's fund is released in that event. */
  c21_log_start (&log, e);
  r = PROMOTE (e, "B", "partner");
  assert_postings (e, r, "release A:held>A:available 6000");
  g_autofree char *text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank B agent>partner; release A 6000; applied; ");
  assert_probe (e, "A", "seeds=B,C released=1 perf=0 count=0");
  assert_funds (e, "A", 24100 + 6000, 0);
  /* Released for good: no more holds; a refund of o1 (held 60.00 when paid)
   * takes everything from available. */
  r = ORDER (e, "o3", "D", 100, NULL);
  assert_postings (e, r, "sale outside>platform 100; direct platform>A:available 30000; "
                         "other platform>A:available 100");
  r = REFUND (e, "o1");
  assert_postings (e, r, "-other A:available>platform 100; "
                         "-direct A:available>platform 30000; -sale platform>outside 100");
  assert_funds (e, "A", 30100, 0);
  c21_log_stop (&log);
}
END_TEST

START_TEST (test_help_fund_parameters)
{
  /* One seed suffices, of at least agent; 50% held; only "other" split. */
  g_autoptr (ReferralEngine) e = rules_engine (
    "direct_award", "direct", PARAMS ("amounts", "0.00, 0.00, 0.03"),
    "direct_award", "other", PARAMS ("amounts", "0.00, 0.00, 1.01", "kind", "other"),
    "seeds", "seeds", PARAMS ("field", "first", "count", "1"),
    "help_fund", "help_fund",
    PARAMS ("rate", "50%", "kinds", "other", "seeds_field", "first", "seeds", "1",
            "seed_rank", "agent", "released_field", "free"),
    NULL);
  JOIN (e, "A", NULL);
  PROMOTE (e, "A", "partner");
  JOIN (e, "B", "A");
  ReferralApplyResult r = ORDER (e, "o1", "B", 100, NULL);
  /* 50% of 1.01 = 0.505 -> 0.50 held. */
  assert_postings (e, r, "sale outside>platform 100; direct platform>A:available 3; "
                         "other platform>A:available 101; hold A:available>A:held 50");
  r = PROMOTE (e, "B", "agent");
  assert_postings (e, r, "release A:held>A:available 50");

  /* A credit too small to hold anything posts no hold. */
  g_autoptr (ReferralEngine) e2 = rules_engine (
    "direct_award", "direct", PARAMS ("amounts", "0.00, 0.00, 0.04"),
    "help_fund", "help_fund", NULL, NULL);
  JOIN (e2, "A", NULL);
  PROMOTE (e2, "A", "partner");
  JOIN (e2, "B", "A");
  r = ORDER (e2, "o1", "B", 100, NULL);
  assert_postings (e2, r, "sale outside>platform 100; direct platform>A:available 4");

  g_autoptr (GError) err = rule_refused ("help_fund", PARAMS ("kinds", "direct, hold"));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "\"kinds\"", "\"hold\"");
  g_autoptr (GError) err2 = rule_refused ("help_fund", PARAMS ("seeds", "0"));
  assert_error_has (err2, REFERRAL_ERROR_SCHEME, "\"seeds\"");
}
END_TEST

/* ---- rank_on_purchase ------------------------------------------------------- */

START_TEST (test_rank_on_purchase)
{
  g_autoptr (ReferralEngine) e = rules_engine ("rank_on_purchase", "gift_rank", NULL, NULL);
  C21Log log;
  JOIN (e, "A", NULL);
  JOIN (e, "B", NULL);
  JOIN (e, "C", NULL);
  PROMOTE (e, "C", "partner");
  c21_log_start (&log, e);
  BUY (e, "o1", "A");
  BUY (e, "o2", "A");                /* already an agent */
  ORDER (e, "o3", "B", GIFT, "book"); /* another sku */
  ORDER (e, "o4", "B", GIFT, NULL);   /* no sku */
  BUY (e, "o5", "C");                /* above the rank: never lowered */
  g_autofree char *text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank A user>agent; applied; applied; applied; applied; applied; ");
  ck_assert_str_eq (c21_rank (e, "C"), "partner");
  c21_log_stop (&log);

  g_autoptr (ReferralEngine) e2 = rules_engine (
    "rank_on_purchase", "any", PARAMS ("sku", "", "rank", "partner"), NULL);
  JOIN (e2, "A", NULL);
  c21_log_start (&log, e2);
  ORDER (e2, "o1", "A", 1, "book");
  g_free (text);
  text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank A user>partner; applied; ");
  c21_log_stop (&log);
}
END_TEST

/* ---- seeds ------------------------------------------------------------------ */

START_TEST (test_seeds)
{
  g_autoptr (ReferralEngine) e = rules_engine ("seeds", "seeds", NULL, NULL);
  JOIN (e, "A", NULL);
  JOIN (e, "B", "A");
  JOIN (e, "C", "A");
  JOIN (e, "D", "A");
  JOIN (e, "E", "B");
  /* In the order they reach agent, not the join order; whatever A's rank. */
  PROMOTE (e, "C", "agent");
  assert_probe (e, "A", "seeds=C released=0 perf=0 count=0");
  PROMOTE (e, "B", "partner"); /* through agent */
  PROMOTE (e, "D", "agent");  /* the third: not recorded */
  assert_probe (e, "A", "seeds=C,B released=0 perf=0 count=0");
  ck_assert_str_eq (c21_rank (e, "A"), "user");
  /* A promotion after reaching the rank records nothing more. */
  PROMOTE (e, "C", "partner");
  assert_probe (e, "A", "seeds=C,B released=0 perf=0 count=0");
  assert_probe (e, "B", "seeds= released=0 perf=0 count=0");
  PROMOTE (e, "E", "agent");
  assert_probe (e, "B", "seeds=E released=0 perf=0 count=0");

  /* Recorded when reaching partner, with rank = partner. */
  g_autoptr (ReferralEngine) e2 = rules_engine (
    "seeds", "seeds", PARAMS ("rank", "partner"), NULL);
  JOIN (e2, "A", NULL);
  JOIN (e2, "B", "A");
  PROMOTE (e2, "B", "agent");
  assert_probe (e2, "A", "seeds= released=0 perf=0 count=0");
  PROMOTE (e2, "B", "partner");
  assert_probe (e2, "A", "seeds=B released=0 perf=0 count=0");
}
END_TEST

START_TEST (test_seeds_width_must_agree)
{
  /* The probe declares "seeds" with 2 words; a seeds rule of count 1 clashes. */
  c21_register_probe ();
  g_autoptr (ReferralSchemeBuilder) b = referral_scheme_builder_new ("rules");
  g_autoptr (GError) err = NULL;
  ck_assert (referral_scheme_builder_set_ranks (b, ranks, NULL));
  ck_assert (referral_scheme_builder_add_rule (b, "test_chain21_probe", "probe", NULL, NULL));
  ck_assert (!referral_scheme_builder_add_rule (b, "seeds", "seeds", PARAMS ("count", "1"), &err));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "seeds");
  g_autoptr (GError) err2 = rule_refused ("seeds", PARAMS ("count", "0"));
  assert_error_has (err2, REFERRAL_ERROR_SCHEME, "\"count\"");
}
END_TEST

/* ---- break_away ------------------------------------------------------------- */

/* R partner; X under R with sponsored S1, S2, S3 (agents in that order) and
 * S1a under S1. */
static ReferralEngine *
break_away_engine (const char *const *params, gboolean with_superior)
{
  ReferralEngine *e = rules_engine ("seeds", "seeds", NULL,
                                    "break_away", "break_away", params,
                                    "test_mover", "mover", NULL, NULL);
  JOIN (e, "R", NULL);
  PROMOTE (e, "R", "partner");
  JOIN (e, "X", with_superior ? "R" : NULL);
  JOIN (e, "S1", "X");
  JOIN (e, "S2", "X");
  JOIN (e, "S3", "X");
  JOIN (e, "S1a", "S1");
  PROMOTE (e, "S1", "agent");
  PROMOTE (e, "S2", "agent");
  PROMOTE (e, "S3", "agent");
  assert_probe (e, "X", "seeds=S1,S2 released=0 perf=0 count=0");
  return e;
}

START_TEST (test_break_away)
{
  g_autoptr (ReferralEngine) e = break_away_engine (NULL, TRUE);
  C21Log log;
  c21_log_start (&log, e);
  PROMOTE (e, "X", "partner");
  g_autofree char *text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank X user>agent; rank X agent>partner; move S1 X>R; move S2 X>R; "
                          "applied; ");
  ck_assert_str_eq (c21_parent (e, "S1a"), "S1");
  ck_assert_str_eq (c21_parent (e, "S3"), "X");
  c21_log_stop (&log);
}
END_TEST

START_TEST (test_break_away_parameters)
{
  C21Log log;
  /* pass_up = 1: only the first seed. */
  g_autoptr (ReferralEngine) e = break_away_engine (PARAMS ("pass_up", "1"), TRUE);
  c21_log_start (&log, e);
  PROMOTE (e, "X", "partner");
  g_autofree char *text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank X user>agent; rank X agent>partner; move S1 X>R; applied; ");
  c21_log_stop (&log);

  /* A seed no longer placed under X stays where it is. */
  g_autoptr (ReferralEngine) e2 = break_away_engine (NULL, TRUE);
  move (e2, "S1", "S3");
  c21_log_start (&log, e2);
  PROMOTE (e2, "X", "partner");
  g_free (text);
  text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank X user>agent; rank X agent>partner; move S2 X>R; applied; ");
  ck_assert_str_eq (c21_parent (e2, "S1"), "S3");
  c21_log_stop (&log);

  /* No superior: nothing moves. */
  g_autoptr (ReferralEngine) e3 = break_away_engine (NULL, FALSE);
  c21_log_start (&log, e3);
  PROMOTE (e3, "X", "partner");
  g_free (text);
  text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank X user>agent; rank X agent>partner; applied; ");
  c21_log_stop (&log);

  /* Break away on reaching agent, to the nearest agent-or-better ancestor. */
  g_autoptr (ReferralEngine) e4 = rules_engine (
    "seeds", "seeds", NULL,
    "break_away", "break_away", PARAMS ("rank", "agent", "superior_rank", "agent"), NULL);
  JOIN (e4, "R", NULL);
  PROMOTE (e4, "R", "agent");
  JOIN (e4, "X", "R");
  JOIN (e4, "S1", "X");
  PROMOTE (e4, "S1", "agent");
  c21_log_start (&log, e4);
  PROMOTE (e4, "X", "agent");
  g_free (text);
  text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank X user>agent; move S1 X>R; applied; ");
  c21_log_stop (&log);

  g_autoptr (GError) err = rule_refused ("break_away", PARAMS ("pass_up", "3"));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "\"pass_up\"");
}
END_TEST

/* ---- promote_by_sponsored --------------------------------------------------- */

START_TEST (test_promote_by_sponsored)
{
  g_autoptr (ReferralEngine) e = rules_engine ("promote_by_sponsored", "promote", NULL, NULL);
  C21Log log;
  JOIN (e, "A", NULL);
  PROMOTE (e, "A", "agent");
  JOIN (e, "B", "A");
  JOIN (e, "C", "A");
  PROMOTE (e, "B", "agent");
  assert_probe (e, "A", "seeds= released=0 perf=0 count=1");
  c21_log_start (&log, e);
  PROMOTE (e, "C", "agent");
  g_autofree char *text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank C user>agent; rank A agent>partner; applied; ");
  /* A user is not promoted, however many agents it sponsored; it is at
   * once when it becomes an agent. */
  JOIN (e, "U", NULL);
  JOIN (e, "V", "U");
  JOIN (e, "W", "U");
  PROMOTE (e, "V", "partner");
  PROMOTE (e, "W", "agent");
  ck_assert_str_eq (c21_rank (e, "U"), "user");
  assert_probe (e, "U", "seeds= released=0 perf=0 count=2");
  g_free (c21_log_take (&log));
  PROMOTE (e, "U", "agent");
  g_free (text);
  text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank U user>agent; rank U agent>partner; applied; ");
  c21_log_stop (&log);
}
END_TEST

/* Two instances counting the same rank share one count, never doubled. */
START_TEST (test_promote_by_sponsored_shared_count)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "promote_by_sponsored", "to_partner", NULL,
    "promote_by_sponsored", "to_agent", PARAMS ("from_rank", "user", "to_rank", "agent",
                                                "count", "3"),
    NULL);
  C21Log log;
  JOIN (e, "A", NULL);
  JOIN (e, "B", "A");
  JOIN (e, "C", "A");
  JOIN (e, "D", "A");
  PROMOTE (e, "B", "agent");
  PROMOTE (e, "C", "agent");
  assert_probe (e, "A", "seeds= released=0 perf=0 count=2");
  ck_assert_str_eq (c21_rank (e, "A"), "user");
  c21_log_start (&log, e);
  PROMOTE (e, "D", "agent");
  g_autofree char *text = c21_log_take (&log);
  ck_assert_str_eq (text, "rank D user>agent; rank A user>agent; rank A agent>partner; "
                          "applied; ");
  assert_probe (e, "A", "seeds= released=0 perf=0 count=3");
  c21_log_stop (&log);

  g_autoptr (GError) err = rule_refused ("promote_by_sponsored",
                                         PARAMS ("from_rank", "partner", "to_rank", "agent"));
  assert_error_has (err, REFERRAL_ERROR_SCHEME, "\"to_rank\"");
}
END_TEST

/* ---- bonus_pool ------------------------------------------------------------- */

START_TEST (test_bonus_pool)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "bonus_pool", "pool", NULL,
    "direct_award", "direct", PARAMS ("amounts", "0.00, 50.00, 100.00"),
    "direct_award", "team", PARAMS ("amounts", "0.00, 0.00, 1.00", "kind", "team"), NULL);
  JOIN (e, "P", NULL);
  PROMOTE (e, "P", "partner");
  JOIN (e, "U", "P");
  /* 5% of 1000.00 into the pool; P credited direct and team: 1000.00 of
   * performance, once. */
  ReferralApplyResult r = ORDER (e, "o1", "U", 100000, "book");
  assert_postings (e, r, "sale outside>platform 100000; "
                         "pool_contribution platform>pool:pool 5000; "
                         "direct platform>P:available 10000; team platform>P:available 100");
  assert_probe (e, "P", "seeds= released=0 perf=100000 count=0");
  /* Too small to contribute: no posting. */
  r = ORDER (e, "o2", "U", 19, NULL);
  assert_postings (e, r, "sale outside>platform 19; direct platform>P:available 10000; "
                         "team platform>P:available 100");
  assert_probe (e, "P", "seeds= released=0 perf=100019 count=0");
  /* An agent earns no performance. */
  JOIN (e, "A", NULL);
  PROMOTE (e, "A", "agent");
  JOIN (e, "V", "A");
  ORDER (e, "o3", "V", 20000, NULL);
  assert_probe (e, "A", "seeds= released=0 perf=0 count=0");
  /* A refund in the same period takes o2's performance back exactly. */
  REFUND (e, "o2");
  assert_probe (e, "P", "seeds= released=0 perf=100000 count=0");
  /* Pool 50.00 + 10.00 = 60.00: all to P, the only partner with performance. */
  ck_assert_int_eq (c21_pool (e), 6000);
  r = CLOSE (e, "p1");
  assert_postings (e, r, "pool pool:pool>P:available 6000");
  assert_probe (e, "P", "seeds= released=0 perf=0 count=0");
  /* A refund after the close: performance stays untouched, the pool goes
   * negative. */
  REFUND (e, "o1");
  assert_probe (e, "P", "seeds= released=0 perf=0 count=0");
  ck_assert_int_eq (c21_pool (e), -5000);
}
END_TEST

START_TEST (test_bonus_pool_parameters)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "bonus_pool", "bonus",
    PARAMS ("pool", "bonus", "rate", "10%", "sku", "gift", "contribution_kind", "in",
            "performance_kinds", "direct", "performance_rank", "agent", "kind", "share"),
    "direct_award", "direct", PARAMS ("amounts", "0.00, 50.00, 100.00"), NULL);
  JOIN (e, "A", NULL);
  PROMOTE (e, "A", "agent");
  JOIN (e, "U", "A");
  ReferralApplyResult r = ORDER (e, "o1", "U", 1000, "book");
  assert_postings (e, r, "sale outside>platform 1000; direct platform>A:available 5000");
  r = ORDER (e, "o2", "U", 1000, "gift");
  assert_postings (e, r, "sale outside>platform 1000; in platform>pool:bonus 100; "
                         "direct platform>A:available 5000");
  r = CLOSE (e, "p1");
  assert_postings (e, r, "share pool:bonus>A:available 100");
}
END_TEST

/* Shares are computed with 128-bit intermediates: pool x performance does not
 * fit in 64 bits here. */
START_TEST (test_bonus_pool_large_amounts)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "direct_award", "direct", PARAMS ("amounts", "0.00, 0.00, 1.00"),
    "bonus_pool", "pool", NULL, NULL);
  JOIN (e, "P1", NULL);
  JOIN (e, "P2", NULL);
  PROMOTE (e, "P1", "partner");
  PROMOTE (e, "P2", "partner");
  JOIN (e, "U1", "P1");
  JOIN (e, "U2", "P2");
  ORDER (e, "o1", "U1", G_GINT64_CONSTANT (900000000000000000), NULL);
  ORDER (e, "o2", "U2", G_GINT64_CONSTANT (300000000000000001), NULL);
  /* Pool 45000000000000000 + 15000000000000000 = 60000000000000000.
   * P1: 6e16 x 9e17 / 1200000000000000001 = 44999999999999999.96...
   * P2: 6e16 x 300000000000000001 / 1200000000000000001 = 15000000000000000.03...
   * floors 44999999999999999 + 15000000000000000; the fen left goes to P1
   * (remainder .96 > .03). */
  ck_assert_int_eq (c21_pool (e), G_GINT64_CONSTANT (60000000000000000));
  ReferralApplyResult r = CLOSE (e, "p1");
  assert_postings (e, r, "pool pool:pool>P1:available 45000000000000000; "
                         "pool pool:pool>P2:available 15000000000000000");
}
END_TEST

/* ---- transpose -------------------------------------------------------------- */

START_TEST (test_transpose_command_name)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "seeds", "seeds", NULL,
    "transpose", "swap", PARAMS ("command", "swap"), NULL);
  JOIN (e, "A", NULL);
  JOIN (e, "B", "A");
  JOIN (e, "C", "A");
  JOIN (e, "D", "A");
  PROMOTE (e, "B", "agent");
  PROMOTE (e, "D", "agent");
  PROMOTE (e, "C", "partner"); /* the third agent: not a seed */
  assert_probe (e, "A", "seeds=B,D released=0 perf=0 count=0");
  ReferralEvent ev = tu_command (c21_id (), "swap", "A", "B", "C");
  ReferralApplyResult r = apply_ok (e, &ev);
  ck_assert_uint_eq (r.n_postings, 0);
  assert_probe (e, "A", "seeds=C,D released=0 perf=0 count=0");
  ck_assert_str_eq (c21_parent (e, "B"), "A");
  /* Errors name the command as configured. */
  ev = tu_command (c21_id (), "swap", "A", "B", "C");
  g_autoptr (GError) err = apply_fail (e, &ev, REFERRAL_ERROR_REJECTED);
  ck_assert_str_eq (err->message, "swap \"A\": old \"B\" is not a seed of \"A\"");
  /* Under its own name only. */
  ev = tu_command (c21_id (), "transpose", "A", "D", "B");
  g_autoptr (GError) err2 = apply_fail (e, &ev, REFERRAL_ERROR_UNKNOWN_COMMAND);
  assert_contains (err2->message, "no command \"transpose\"");
}
END_TEST

static Suite *
rules_suite (void)
{
  Suite *s = suite_create ("chain21 rules");
  TCase *tc = tu_tcase (s, "seller_award", 10);
  tcase_add_test (tc, test_seller_award);
  tcase_add_test (tc, test_seller_award_parameters);
  tc = tu_tcase (s, "team_award", 10);
  tcase_add_test (tc, test_team_award);
  tcase_add_test (tc, test_team_award_parameters);
  tc = tu_tcase (s, "peer_award", 10);
  tcase_add_test (tc, test_peer_award);
  tcase_add_test (tc, test_peer_award_parameters);
  tc = tu_tcase (s, "help_fund", 10);
  tcase_add_test (tc, test_help_fund);
  tcase_add_test (tc, test_help_fund_parameters);
  tc = tu_tcase (s, "rank_on_purchase", 10);
  tcase_add_test (tc, test_rank_on_purchase);
  tc = tu_tcase (s, "seeds", 10);
  tcase_add_test (tc, test_seeds);
  tcase_add_test (tc, test_seeds_width_must_agree);
  tc = tu_tcase (s, "break_away", 10);
  tcase_add_test (tc, test_break_away);
  tcase_add_test (tc, test_break_away_parameters);
  tc = tu_tcase (s, "promote_by_sponsored", 10);
  tcase_add_test (tc, test_promote_by_sponsored);
  tcase_add_test (tc, test_promote_by_sponsored_shared_count);
  tc = tu_tcase (s, "bonus_pool", 10);
  tcase_add_test (tc, test_bonus_pool);
  tcase_add_test (tc, test_bonus_pool_parameters);
  tcase_add_test (tc, test_bonus_pool_large_amounts);
  tc = tu_tcase (s, "transpose", 10);
  tcase_add_test (tc, test_transpose_command_name);
  return s;
}

int
main (void)
{
  return tu_run_suites (rules_suite (), NULL);
}
