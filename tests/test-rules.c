/* The built-in rules direct_award and unilevel, each in isolation, with
 * hand-computed numbers (amounts in minor units: 33333 is 333.33). */
#include "testutil.h"

#include <string.h>

static const char *const three_ranks[] = { "user", "member", "partner", NULL };

/* An engine whose scheme has ranks user, member, partner and the given
 * rules (type, name, params triples, NULL-terminated). */
#define rules_engine(...) rules_engine_at (tu_scheme_build ("rules", three_ranks, __VA_ARGS__))
static ReferralEngine *
rules_engine_at (ReferralScheme *scheme)
{
  ReferralEngine *e = tu_engine_new (scheme);
  referral_scheme_unref (scheme);
  return e;
}

#define PARAMS(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* The postings of the event applied as @r, as text:
 * "sale outside>platform 69900; direct platform>B:available 3495". */
static char *
postings_text (const ReferralEngine *e, ReferralApplyResult r)
{
  const ReferralLedger *l = referral_engine_ledger (e);
  GString *s = g_string_new (NULL);
  guint64 first = 0, n = 0;
  referral_ledger_event_postings (l, r.seq, &first, &n);
  ck_assert_uint_eq (n, r.n_postings);
  for (guint64 i = first; i < first + n; i++)
    {
      const ReferralPosting *p = referral_ledger_posting (l, i);
      g_autofree char *from = referral_ledger_account_name (l, p->from);
      g_autofree char *to = referral_ledger_account_name (l, p->to);
      if (i > first)
        g_string_append (s, "; ");
      g_string_append_printf (s, "%s %s>%s %" G_GINT64_FORMAT,
                              referral_ledger_kind_name (l, p->kind), from, to, p->amount);
    }
  return g_string_free (s, FALSE);
}

#define assert_postings(e, r, want) do { \
    g_autofree char *got_ = postings_text ((e), (r)); \
    ck_assert_msg (strcmp (got_, (want)) == 0, "postings:\n  got  %s\n  want %s", got_, (want)); \
  } while (0)

#define SALE(n) "sale outside>platform " #n

/* Apply an order and compare its postings. */
#define order_pays(e, id, buyer, amount, sku, want) do { \
    ReferralApplyResult r_ = ev_order ((e), "e-" id, (id), (buyer), (amount), (sku)); \
    assert_postings ((e), r_, (want)); \
  } while (0)

/* ---- direct_award -------------------------------------------------------- */

START_TEST (test_direct_rates_by_rank)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "direct_award", "direct", PARAMS ("rates", "5%, 10%, 12.5%"), NULL);
  ev_join (e, "j1", "A", NULL);
  ev_join (e, "j2", "B", "A");
  /* The sponsor's rank chooses the rate; awards are floored. */
  order_pays (e, "o1", "B", 33333, NULL, SALE (33333) "; direct platform>A:available 1666");
  ev_promote (e, "p1", "A", "member");
  order_pays (e, "o2", "B", 33333, NULL, SALE (33333) "; direct platform>A:available 3333");
  ev_promote (e, "p2", "A", "partner");
  order_pays (e, "o3", "B", 33333, NULL, SALE (33333) "; direct platform>A:available 4166");
  /* The buyer's own rank does not matter. */
  ev_promote (e, "p3", "B", "partner");
  order_pays (e, "o4", "B", 10000, NULL, SALE (10000) "; direct platform>A:available 1250");
  /* A root buyer has no sponsor: nothing but the sale. */
  order_pays (e, "o5", "A", 10000, NULL, SALE (10000));
  /* An award that floors to zero is not posted. */
  ev_join (e, "j3", "C", "B");
  order_pays (e, "o6", "C", 7, NULL, SALE (7));  /* 12.5% of 0.07 = 0.00875 */
  order_pays (e, "o7", "C", 8, NULL, SALE (8) "; direct platform>B:available 1");

  ck_assert_int_eq (tu_available (e, "A"), 1666 + 3333 + 4166 + 1250);
  ck_assert_int_eq (tu_available (e, "B"), 1);
  ck_assert_int_eq (tu_available (e, "C"), 0);
  ck_assert_int_eq (tu_platform (e), 3 * 33333 + 10000 + 10000 + 7 + 8 - 10415 - 1);
  ck_assert_int_eq (tu_held (e, "A"), 0);
  /* Postings are made by rule 1 (the scheme's first rule). */
  const ReferralLedger *l = referral_engine_ledger (e);
  ck_assert_uint_eq (referral_ledger_posting (l, 1)->rule, 1);
  ck_assert_uint_eq (referral_ledger_posting (l, 0)->rule, 0);
}
END_TEST

START_TEST (test_direct_amounts)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "direct_award", "direct", PARAMS ("amounts", "1.00, 2.50, 0"), NULL);
  ev_join (e, "j1", "A", NULL);
  ev_join (e, "j2", "B", "A");
  order_pays (e, "o1", "B", 5, NULL, SALE (5) "; direct platform>A:available 100");
  order_pays (e, "o2", "B", 99999999, NULL, SALE (99999999) "; direct platform>A:available 100");
  ev_promote (e, "p1", "A", "member");
  order_pays (e, "o3", "B", 100, NULL, SALE (100) "; direct platform>A:available 250");
  ev_promote (e, "p2", "A", "partner");
  order_pays (e, "o4", "B", 100, NULL, SALE (100));
  ck_assert_int_eq (tu_available (e, "A"), 450);
}
END_TEST

START_TEST (test_direct_amounts_and_rates)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "direct_award", "direct",
    PARAMS ("amounts", "1.00, 2.00, 3.00", "rates", "1%, 2%, 3%", "kind", "bonus"), NULL);
  ev_join (e, "j1", "A", NULL);
  ev_join (e, "j2", "B", "A");
  /* One posting of amount + floor(rate * order). */
  order_pays (e, "o1", "B", 10050, NULL, SALE (10050) "; bonus platform>A:available 200");
  ev_promote (e, "p1", "A", "partner");
  order_pays (e, "o2", "B", 10050, NULL, SALE (10050) "; bonus platform>A:available 601");
  ReferralKind k;
  ck_assert (referral_ledger_lookup_kind (referral_engine_ledger (e), "bonus", &k));
  ck_assert (!referral_ledger_lookup_kind (referral_engine_ledger (e), "direct", &k));
}
END_TEST

START_TEST (test_direct_sku)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "direct_award", "direct", PARAMS ("rates", "10%, 10%, 10%", "sku", "pack"), NULL);
  ev_join (e, "j1", "A", NULL);
  ev_join (e, "j2", "B", "A");
  order_pays (e, "o1", "B", 1000, NULL, SALE (1000));
  order_pays (e, "o2", "B", 1000, "other", SALE (1000));
  order_pays (e, "o3", "B", 1000, "PACK", SALE (1000));
  order_pays (e, "o4", "B", 1000, "pack2", SALE (1000));
  order_pays (e, "o5", "B", 1000, "pack", SALE (1000) "; direct platform>A:available 100");
  ck_assert_int_eq (tu_available (e, "A"), 100);
}
END_TEST

START_TEST (test_direct_empty)
{
  /* No amounts, no rates: nothing is ever paid. */
  g_autoptr (ReferralEngine) e = rules_engine ("direct_award", "direct", NULL, NULL);
  ev_join (e, "j1", "A", NULL);
  ev_join (e, "j2", "B", "A");
  ev_promote (e, "p1", "A", "partner");
  order_pays (e, "o1", "B", 100000, NULL, SALE (100000));
}
END_TEST

/* A scheme whose building must fail with REFERRAL_ERROR_SCHEME at
 * add_rule, finish or engine_new. */
static void
assert_bad_rule (const char *type, const char *const *params)
{
  GError *err = NULL;
  ReferralSchemeBuilder *b = referral_scheme_builder_new ("bad");
  ck_assert (referral_scheme_builder_set_ranks (b, three_ranks, &err));
  if (!referral_scheme_builder_add_rule (b, type, "r", params, &err))
    {
      referral_scheme_builder_free (b);
      assert_error (err, REFERRAL_ERROR_SCHEME, NULL);
      g_error_free (err);
      return;
    }
  ReferralScheme *s = referral_scheme_builder_finish (b, &err);
  if (s == NULL)
    {
      assert_error (err, REFERRAL_ERROR_SCHEME, NULL);
      g_error_free (err);
      return;
    }
  ReferralEngine *e = referral_engine_new (s, &err);
  referral_scheme_unref (s);
  ck_assert_msg (e == NULL, "%s with %s=%s was accepted", type, params[0], params[1]);
  assert_error (err, REFERRAL_ERROR_SCHEME, NULL);
  g_error_free (err);
}

START_TEST (test_bad_params)
{
  assert_bad_rule ("direct_award", PARAMS ("rates", "5%, 10%"));        /* 2 for 3 ranks */
  assert_bad_rule ("direct_award", PARAMS ("rates", "5%, 10%, 1%, 1%"));
  assert_bad_rule ("direct_award", PARAMS ("rates", "5%, x, 1%"));
  assert_bad_rule ("direct_award", PARAMS ("amounts", "1.00"));
  assert_bad_rule ("direct_award", PARAMS ("amounts", "1.00, 2.001, 3.00"));
  assert_bad_rule ("unilevel", PARAMS ("levels", "3", "rates", "5%, 3%"));
  assert_bad_rule ("unilevel", PARAMS ("levels", "2", "rates", "5%, 3%, 1%"));
  assert_bad_rule ("unilevel", PARAMS ("levels", "3", "rates", "5%, 3%, -1%"));
  assert_bad_rule ("unilevel", PARAMS ("levels", "1", "rates", "5%", "min_rank", "boss"));
}
END_TEST

/* ---- unilevel ------------------------------------------------------------- */

/* Sponsor chain R <- A <- B <- C <- D <- E. */
static void
join_chain (ReferralEngine *e)
{
  ev_join (e, "jR", "R", NULL);
  ev_join (e, "jA", "A", "R");
  ev_join (e, "jB", "B", "A");
  ev_join (e, "jC", "C", "B");
  ev_join (e, "jD", "D", "C");
  ev_join (e, "jE", "E", "D");
}

START_TEST (test_unilevel_levels)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "unilevel", "uni", PARAMS ("levels", "3", "rates", "5%, 3%, 1%"), NULL);
  join_chain (e);
  order_pays (e, "o1", "E", 100000, NULL,
              SALE (100000) "; unilevel platform>D:available 5000"
              "; unilevel platform>C:available 3000; unilevel platform>B:available 1000");
  /* Floors per level: 1666.65, 999.99, 333.33. */
  order_pays (e, "o2", "E", 33333, NULL,
              SALE (33333) "; unilevel platform>D:available 1666"
              "; unilevel platform>C:available 999; unilevel platform>B:available 333");
  /* A short chain ends early. */
  order_pays (e, "o3", "B", 100000, NULL,
              SALE (100000) "; unilevel platform>A:available 5000"
              "; unilevel platform>R:available 3000");
  order_pays (e, "o4", "R", 100000, NULL, SALE (100000));
  /* Zero after flooring: not posted, and the walk goes on. */
  order_pays (e, "o5", "E", 30, NULL,
              SALE (30) "; unilevel platform>D:available 1");
  ck_assert_int_eq (tu_available (e, "D"), 5000 + 1666 + 1);
  ck_assert_int_eq (tu_available (e, "C"), 3000 + 999);
  ck_assert_int_eq (tu_available (e, "B"), 1000 + 333);
  ck_assert_int_eq (tu_available (e, "A"), 5000);
  ck_assert_int_eq (tu_available (e, "R"), 3000);
  ck_assert_int_eq (tu_available (e, "E"), 0);
}
END_TEST

START_TEST (test_unilevel_two_levels)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "unilevel", "uni", PARAMS ("levels", "2", "rates", "10%, 2.5%", "kind", "team"), NULL);
  join_chain (e);
  order_pays (e, "o1", "E", 100000, NULL,
              SALE (100000) "; team platform>D:available 10000; team platform>C:available 2500");
}
END_TEST

START_TEST (test_unilevel_default_levels)
{
  /* levels defaults to 3. */
  g_autoptr (ReferralEngine) e = rules_engine (
    "unilevel", "uni", PARAMS ("rates", "3%, 2%, 1%"), NULL);
  join_chain (e);
  order_pays (e, "o1", "E", 10000, NULL,
              SALE (10000) "; unilevel platform>D:available 300"
              "; unilevel platform>C:available 200; unilevel platform>B:available 100");
}
END_TEST

START_TEST (test_unilevel_min_rank)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "unilevel", "uni",
    PARAMS ("levels", "3", "rates", "5%, 3%, 1%", "min_rank", "member"), NULL);
  join_chain (e);
  /* Nobody qualifies yet. */
  order_pays (e, "o0", "E", 100000, NULL, SALE (100000));
  ev_promote (e, "pD", "D", "member");
  ev_promote (e, "pB", "B", "partner");
  ev_promote (e, "pA", "A", "member");
  ev_promote (e, "pR", "R", "member");
  /* C (a user) is skipped but uses up level 2; A would be level 4. */
  order_pays (e, "o1", "E", 100000, NULL,
              SALE (100000) "; unilevel platform>D:available 5000"
              "; unilevel platform>B:available 1000");
  /* From D: C (skipped, level 1), B level 2, A level 3. */
  order_pays (e, "o2", "D", 100000, NULL,
              SALE (100000) "; unilevel platform>B:available 3000"
              "; unilevel platform>A:available 1000");
}
END_TEST

START_TEST (test_unilevel_compress)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "unilevel", "uni",
    PARAMS ("levels", "3", "rates", "5%, 3%, 1%", "min_rank", "member", "compress", "true"),
    NULL);
  join_chain (e);
  ev_promote (e, "pD", "D", "member");
  ev_promote (e, "pB", "B", "partner");
  ev_promote (e, "pA", "A", "member");
  ev_promote (e, "pR", "R", "member");
  /* C is skipped and does not count: D 1, B 2, A 3; R would be 4. */
  order_pays (e, "o1", "E", 100000, NULL,
              SALE (100000) "; unilevel platform>D:available 5000"
              "; unilevel platform>B:available 3000; unilevel platform>A:available 1000");
  order_pays (e, "o2", "D", 100000, NULL,
              SALE (100000) "; unilevel platform>B:available 5000"
              "; unilevel platform>A:available 3000; unilevel platform>R:available 1000");
}
END_TEST

START_TEST (test_unilevel_sku)
{
  g_autoptr (ReferralEngine) e = rules_engine (
    "unilevel", "uni", PARAMS ("levels", "1", "rates", "50%", "sku", "gift"), NULL);
  join_chain (e);
  order_pays (e, "o1", "E", 1000, NULL, SALE (1000));
  order_pays (e, "o2", "E", 1000, "gifts", SALE (1000));
  order_pays (e, "o3", "E", 1000, "gift", SALE (1000) "; unilevel platform>D:available 500");
}
END_TEST

/* unilevel follows the sponsor chain, not the placement tree. */
START_TEST (test_unilevel_sponsor_chain)
{
  tu_register_test_rules ();
  g_autoptr (ReferralEngine) e = rules_engine (
    "unilevel", "uni", PARAMS ("levels", "3", "rates", "5%, 3%, 1%"),
    "test_mover", "mover", NULL, NULL);
  join_chain (e);
  ev_move (e, "m1", "D", "R");
  ev_move (e, "m2", "E", "A");
  const ReferralTree *t = referral_engine_tree (e);
  ck_assert_uint_eq (referral_tree_parent (t, tu_member (e, "E")), tu_member (e, "A"));
  order_pays (e, "o1", "E", 100000, NULL,
              SALE (100000) "; unilevel platform>D:available 5000"
              "; unilevel platform>C:available 3000; unilevel platform>B:available 1000");
}
END_TEST

/* The demo scheme: direct_award 5%/10% by rank + unilevel 5/3/1% for
 * members only. */
START_TEST (test_demo_scheme)
{
  g_autoptr (ReferralEngine) e = tu_demo_engine ();
  ev_join (e, "jR", "R", NULL);
  ev_join (e, "jA", "A", "R");
  ev_join (e, "jB", "B", "A");
  ev_join (e, "jC", "C", "B");
  order_pays (e, "o1", "C", 69900, NULL, SALE (69900) "; direct platform>B:available 3495");
  ev_promote (e, "pA", "A", "member");
  ev_promote (e, "pB", "B", "member");
  /* R (a user) is skipped at level 3. */
  order_pays (e, "o2", "C", 69900, NULL,
              SALE (69900) "; direct platform>B:available 6990"
              "; unilevel platform>B:available 3495; unilevel platform>A:available 2097");
  ev_promote (e, "pR", "R", "member");
  order_pays (e, "o3", "C", 69900, "any",
              SALE (69900) "; direct platform>B:available 6990"
              "; unilevel platform>B:available 3495; unilevel platform>A:available 2097"
              "; unilevel platform>R:available 699");
  ck_assert_int_eq (tu_available (e, "B"), 3495 + 6990 + 3495 + 6990 + 3495);
  ck_assert_int_eq (tu_available (e, "A"), 2097 * 2);
  ck_assert_int_eq (tu_available (e, "R"), 699);
  ck_assert_int_eq (tu_platform (e), 3 * 69900 - 3495 - 2 * (6990 + 3495 + 2097) - 699);
  ck_assert_int_eq (tu_outside (e), -3 * 69900);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("rules");
  TCase *tc = tu_tcase (s, "direct_award", 30);
  tcase_add_test (tc, test_direct_rates_by_rank);
  tcase_add_test (tc, test_direct_amounts);
  tcase_add_test (tc, test_direct_amounts_and_rates);
  tcase_add_test (tc, test_direct_sku);
  tcase_add_test (tc, test_direct_empty);
  tcase_add_test (tc, test_bad_params);
  tc = tu_tcase (s, "unilevel", 30);
  tcase_add_test (tc, test_unilevel_levels);
  tcase_add_test (tc, test_unilevel_two_levels);
  tcase_add_test (tc, test_unilevel_default_levels);
  tcase_add_test (tc, test_unilevel_min_rank);
  tcase_add_test (tc, test_unilevel_compress);
  tcase_add_test (tc, test_unilevel_sku);
  tcase_add_test (tc, test_unilevel_sponsor_chain);
  tcase_add_test (tc, test_demo_scheme);
  return tu_run_suites (s, NULL);
}
