/* The member tree, observed through an engine: keys, sponsor and placement
 * relations, iteration order, ancestry, nearest_at_rank and its memo, and
 * subtree moves (which only a rule can propose: here the test_mover rule). */
#include "testutil.h"

#include <string.h>

static const char *const three_ranks[] = { "user", "member", "partner", NULL };

static ReferralEngine *
tree_engine (void)
{
  g_autoptr (ReferralScheme) scheme =
    tu_scheme_build ("tree", three_ranks, "test_mover", "mover", NULL, NULL);
  return tu_engine_new (scheme);
}

/*        R            Z
 *       / \
 *      A   X
 *     / \
 *    B   Y
 *    |
 *    C
 *    |
 *    D
 * Join order: R A B C D X Y Z (indices 0..7). */
static ReferralEngine *
sample_engine (void)
{
  ReferralEngine *e = tree_engine ();
  ev_join (e, "j-R", "R", NULL);
  ev_join (e, "j-A", "A", "R");
  ev_join (e, "j-B", "B", "A");
  ev_join (e, "j-C", "C", "B");
  ev_join (e, "j-D", "D", "C");
  ev_join (e, "j-X", "X", "R");
  ev_join (e, "j-Y", "Y", "A");
  ev_join (e, "j-Z", "Z", NULL);
  return e;
}

static ReferralMember
member_of (const ReferralEngine *e, const char *key)
{
  return tu_member (e, key);
}
#define M(key) member_of (e, key)

#define assert_children(key, want) do { \
    g_autofree char *got_ = tu_children_text (e, (key)); \
    ck_assert_msg (strcmp (got_, (want)) == 0, "children of %s: \"%s\", want \"%s\"", \
                   (key), got_, (want)); \
  } while (0)
#define assert_sponsored(key, want) do { \
    g_autofree char *got_ = tu_sponsored_text (e, (key)); \
    ck_assert_msg (strcmp (got_, (want)) == 0, "sponsored of %s: \"%s\", want \"%s\"", \
                   (key), got_, (want)); \
  } while (0)

START_TEST (test_keys)
{
  g_autoptr (ReferralEngine) e = tree_engine ();
  const ReferralTree *t = referral_engine_tree (e);
  ck_assert_uint_eq (referral_tree_size (t), 0);
  ck_assert_uint_eq (referral_tree_lookup (t, "A"), REFERRAL_NO_MEMBER);

  /* Keys are copied: the event's strings may die after apply. */
  const char *keys[] = { "root", "alice", "bob", "carol", "dave" };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      char *key = g_strdup (keys[i]);
      char *id = g_strdup_printf ("join-%u", i);
      ev_join (e, id, key, i ? keys[i - 1] : NULL);
      memset (key, 'x', strlen (key));
      g_free (key);
      g_free (id);
    }
  ck_assert_uint_eq (referral_tree_size (t), G_N_ELEMENTS (keys));
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      ck_assert_uint_eq (referral_tree_lookup (t, keys[i]), i);
      ck_assert_str_eq (referral_tree_key (t, i), keys[i]);
    }
  ck_assert_uint_eq (referral_tree_lookup (t, "nobody"), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_lookup (t, ""), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_lookup (t, "ALICE"), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_lookup (t, "alic"), REFERRAL_NO_MEMBER);

  /* Many keys: every one still found at its index. */
  for (guint i = 0; i < 5000; i++)
    {
      char key[32], id[32];
      g_snprintf (key, sizeof key, "m%u", i);
      g_snprintf (id, sizeof id, "jm%u", i);
      ev_join (e, id, key, i % 3 ? "root" : NULL);
    }
  ck_assert_uint_eq (referral_tree_size (t), 5005);
  for (guint i = 0; i < 5000; i++)
    {
      char key[32];
      g_snprintf (key, sizeof key, "m%u", i);
      tu_check (referral_tree_lookup (t, key) == 5 + i, "lookup %s", key);
      tu_check (strcmp (referral_tree_key (t, 5 + i), key) == 0, "key of %u", 5 + i);
    }
}
END_TEST

START_TEST (test_relations)
{
  g_autoptr (ReferralEngine) e = sample_engine ();
  const ReferralTree *t = referral_engine_tree (e);
  ck_assert_uint_eq (referral_tree_size (t), 8);
  const char *order = "RABCDXYZ";
  for (guint i = 0; i < 8; i++)
    {
      char key[2] = { order[i], 0 };
      ck_assert_uint_eq (M (key), i);
      ck_assert_uint_eq (referral_tree_rank (t, i), 0);
    }
  ck_assert_uint_eq (referral_tree_sponsor (t, M ("R")), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_parent (t, M ("R")), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_sponsor (t, M ("Z")), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_parent (t, M ("Z")), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_sponsor (t, M ("A")), M ("R"));
  ck_assert_uint_eq (referral_tree_parent (t, M ("A")), M ("R"));
  ck_assert_uint_eq (referral_tree_sponsor (t, M ("D")), M ("C"));
  ck_assert_uint_eq (referral_tree_parent (t, M ("D")), M ("C"));
  ck_assert_uint_eq (referral_tree_sponsor (t, M ("Y")), M ("A"));
  ck_assert_uint_eq (referral_tree_parent (t, M ("X")), M ("R"));

  assert_children ("R", "A,X");
  assert_children ("A", "B,Y");
  assert_children ("B", "C");
  assert_children ("C", "D");
  assert_children ("D", "");
  assert_children ("X", "");
  assert_children ("Z", "");
  assert_sponsored ("R", "A,X");
  assert_sponsored ("A", "B,Y");
  assert_sponsored ("D", "");
  ck_assert_uint_eq (referral_tree_n_children (t, M ("R")), 2);
  ck_assert_uint_eq (referral_tree_n_sponsored (t, M ("A")), 2);

  ck_assert (referral_tree_is_ancestor (t, M ("R"), M ("D")));
  ck_assert (referral_tree_is_ancestor (t, M ("A"), M ("D")));
  ck_assert (referral_tree_is_ancestor (t, M ("C"), M ("D")));
  ck_assert (referral_tree_is_ancestor (t, M ("A"), M ("Y")));
  ck_assert (!referral_tree_is_ancestor (t, M ("D"), M ("D")));
  ck_assert (!referral_tree_is_ancestor (t, M ("D"), M ("R")));
  ck_assert (!referral_tree_is_ancestor (t, M ("X"), M ("D")));
  ck_assert (!referral_tree_is_ancestor (t, M ("B"), M ("Y")));
  ck_assert (!referral_tree_is_ancestor (t, M ("Z"), M ("D")));
  ck_assert (!referral_tree_is_ancestor (t, M ("R"), M ("Z")));

  ck_assert_uint_eq (referral_tree_depth (t, M ("R")), 0);
  ck_assert_uint_eq (referral_tree_depth (t, M ("A")), 1);
  ck_assert_uint_eq (referral_tree_depth (t, M ("B")), 2);
  ck_assert_uint_eq (referral_tree_depth (t, M ("D")), 4);
  ck_assert_uint_eq (referral_tree_depth (t, M ("Y")), 2);
  ck_assert_uint_eq (referral_tree_depth (t, M ("Z")), 0);
}
END_TEST

START_TEST (test_nearest_at_rank)
{
  g_autoptr (ReferralEngine) e = sample_engine ();
  const ReferralTree *t = referral_engine_tree (e);
  /* Rank 0: the nearest strict ancestor at all, i.e. the parent. */
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 0), M ("C"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("R"), 0), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 1), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("C"), 1), REFERRAL_NO_MEMBER);

  /* A promote invalidates the memo just filled. */
  ev_promote (e, "p-B", "B", "member");
  ck_assert_uint_eq (referral_tree_rank (t, M ("B")), 1);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 1), M ("B"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("C"), 1), M ("B"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("B"), 1), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("Y"), 1), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 2), REFERRAL_NO_MEMBER);

  ev_promote (e, "p-A", "A", "partner");
  ck_assert_uint_eq (referral_tree_rank (t, M ("A")), 2);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 2), M ("A"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 1), M ("B"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("B"), 1), M ("A"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("Y"), 1), M ("A"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("A"), 1), REFERRAL_NO_MEMBER);

  ev_promote (e, "p-C", "C", "member");
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 1), M ("C"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 2), M ("A"));
  ev_promote (e, "p-C2", "C", "partner");
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 2), M ("C"));

  /* A move invalidates it too: C (partner) and D go under X (user). */
  ev_move (e, "mv-1", "C", "X");
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 2), M ("C"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("C"), 1), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("C"), 0), M ("X"));
  ev_move (e, "mv-2", "D", "X");
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 1), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 0), M ("X"));
  ev_move (e, "mv-3", "X", "B");
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 1), M ("B"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 2), M ("A"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("C"), 2), M ("A"));
  ev_move (e, "mv-4", "A", NULL);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("A"), 0), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 2), M ("A"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("R"), 0), REFERRAL_NO_MEMBER);
}
END_TEST

START_TEST (test_moves)
{
  g_autoptr (ReferralEngine) e = sample_engine ();
  const ReferralTree *t = referral_engine_tree (e);

  ev_move (e, "mv-1", "C", "X");
  ck_assert_uint_eq (referral_tree_parent (t, M ("C")), M ("X"));
  ck_assert_uint_eq (referral_tree_sponsor (t, M ("C")), M ("B"));
  ck_assert_uint_eq (referral_tree_parent (t, M ("D")), M ("C"));
  assert_children ("B", "");
  assert_children ("X", "C");
  assert_children ("R", "A,X");
  assert_sponsored ("B", "C");   /* sponsorship never changes */
  assert_sponsored ("X", "");
  ck_assert_uint_eq (referral_tree_depth (t, M ("D")), 3);
  ck_assert (referral_tree_is_ancestor (t, M ("X"), M ("D")));
  ck_assert (!referral_tree_is_ancestor (t, M ("B"), M ("D")));
  ck_assert (!referral_tree_is_ancestor (t, M ("A"), M ("C")));
  ck_assert (referral_tree_is_ancestor (t, M ("R"), M ("C")));

  /* A moved member goes after the children already placed. */
  ev_move (e, "mv-2", "B", "R");
  assert_children ("R", "A,X,B");
  assert_children ("A", "Y");
  ev_move (e, "mv-3", "Z", "A");
  assert_children ("A", "Y,Z");
  ck_assert_uint_eq (referral_tree_depth (t, M ("Z")), 2);
  ev_move (e, "mv-4", "Y", "D");
  assert_children ("A", "Z");
  assert_children ("D", "Y");
  ck_assert_uint_eq (referral_tree_depth (t, M ("Y")), 4);  /* under D, C, X, R */

  /* Back where it was: placed last, not at its old position. */
  ev_move (e, "mv-5", "Y", "A");
  assert_children ("A", "Z,Y");

  /* To the root. */
  ev_move (e, "mv-6", "A", NULL);
  ck_assert_uint_eq (referral_tree_parent (t, M ("A")), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_depth (t, M ("A")), 0);
  ck_assert_uint_eq (referral_tree_depth (t, M ("Z")), 1);
  assert_children ("R", "X,B");
  ck_assert (!referral_tree_is_ancestor (t, M ("R"), M ("Y")));
  ck_assert_uint_eq (referral_tree_sponsor (t, M ("A")), M ("R"));

  /* A member joining later is placed under its sponsor, after the others. */
  ev_join (e, "j-N", "N", "R");
  assert_children ("R", "X,B,N");
  assert_sponsored ("R", "A,X,N");
  ck_assert (referral_engine_check_invariants (e, NULL));
}
END_TEST

START_TEST (test_move_cycle)
{
  g_autoptr (ReferralEngine) e = sample_engine ();
  ev_promote (e, "p-B", "B", "member");
  TuSnapshot before;
  tu_snapshot_take (&before, e);

  ReferralEvent ev = tu_command ("mv-bad", "move", "A", NULL, "D");
  apply_reject (e, &ev, REFERRAL_ERROR_CYCLE);
  assert_snapshot_equal (&before, e);

  ReferralEvent self = tu_command ("mv-self", "move", "B", NULL, "B");
  apply_reject (e, &self, REFERRAL_ERROR_CYCLE);
  assert_snapshot_equal (&before, e);

  ReferralEvent child = tu_command ("mv-child", "move", "R", NULL, "A");
  apply_reject (e, &child, REFERRAL_ERROR_CYCLE);
  assert_snapshot_equal (&before, e);
  tu_snapshot_clear (&before);

  const ReferralTree *t = referral_engine_tree (e);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 1), M ("B"));
  assert_children ("A", "B,Y");
  /* The rejected ids were not recorded: the same id applies a valid move. */
  ReferralEvent ok = tu_command ("mv-bad", "move", "D", NULL, "A");
  apply_ok (e, &ok);
  assert_children ("A", "B,Y,D");
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("D"), 1), REFERRAL_NO_MEMBER);
}
END_TEST

/* Brute force versions of the queries. */
static ReferralMember
slow_nearest (const ReferralTree *t, ReferralMember m, ReferralRank r)
{
  for (ReferralMember p = referral_tree_parent (t, m); p != REFERRAL_NO_MEMBER;
       p = referral_tree_parent (t, p))
    if (referral_tree_rank (t, p) >= r)
      return p;
  return REFERRAL_NO_MEMBER;
}

static guint32
slow_depth (const ReferralTree *t, ReferralMember m)
{
  guint32 d = 0;
  for (ReferralMember p = referral_tree_parent (t, m); p != REFERRAL_NO_MEMBER;
       p = referral_tree_parent (t, p))
    d++;
  return d;
}

static void
check_whole_tree (const ReferralEngine *e, guint step)
{
  const ReferralTree *t = referral_engine_tree (e);
  guint32 n = referral_tree_size (t);
  guint32 non_roots = 0, child_links = 0;
  for (ReferralMember m = 0; m < n; m++)
    {
      ReferralMember p = referral_tree_parent (t, m);
      if (p != REFERRAL_NO_MEMBER)
        non_roots++;
      tu_check (referral_tree_depth (t, m) == slow_depth (t, m), "step %u: depth of %u is %u, want %u",
                step, m, referral_tree_depth (t, m), slow_depth (t, m));
      for (ReferralRank r = 0; r < 3; r++)
        {
          ReferralMember want = slow_nearest (t, m, r);
          ReferralMember got = referral_tree_nearest_at_rank (t, m, r);
          tu_check (got == want, "step %u: nearest_at_rank(%u, %u) = %u, want %u",
                         step, m, r, got, want);
        }
      guint32 k = 0;
      for (ReferralMember c = referral_tree_first_child (t, m); c != REFERRAL_NO_MEMBER;
           c = referral_tree_next_sibling (t, c))
        {
          tu_check (referral_tree_parent (t, c) == m, "step %u: child %u of %u has parent %u",
                    step, c, m, referral_tree_parent (t, c));
          tu_check (++k <= n, "step %u: children of %u do not end", step, m);
        }
      tu_check (k == referral_tree_n_children (t, m), "step %u: %u has %u children, n_children %u",
                step, m, k, referral_tree_n_children (t, m));
      child_links += k;
      if (p != REFERRAL_NO_MEMBER)
        {
          tu_check (referral_tree_is_ancestor (t, p, m), "step %u: %u not ancestor of %u", step, p, m);
          tu_check (!referral_tree_is_ancestor (t, m, p), "step %u: %u ancestor of %u", step, m, p);
        }
    }
  tu_check (child_links == non_roots, "step %u: %u child links for %u non-roots", step,
            child_links, non_roots);
}

/* Random promotes and moves on a random tree; after every event the memoised
 * nearest_at_rank, depth and children agree with brute force. */
START_TEST (test_memo_random)
{
  g_autoptr (ReferralEngine) e = tree_engine ();
  const ReferralTree *t = referral_engine_tree (e);
  GRand *rand = g_rand_new_with_seed (20240611);
  const guint n = 120;
  char key[32], key2[32], id[32];
  for (guint i = 0; i < n; i++)
    {
      g_snprintf (key, sizeof key, "m%u", i);
      g_snprintf (key2, sizeof key2, "m%u", i ? g_rand_int_range (rand, 0, (gint32) i) : 0);
      g_snprintf (id, sizeof id, "j%u", i);
      ev_join (e, id, key, i && g_rand_int_range (rand, 0, 10) ? key2 : NULL);
    }
  check_whole_tree (e, 0);
  guint cycles = 0, moves = 0;
  for (guint step = 1; step <= 400; step++)
    {
      ReferralMember m = (ReferralMember) g_rand_int_range (rand, 0, n);
      g_snprintf (key, sizeof key, "m%u", m);
      g_snprintf (id, sizeof id, "s%u", step);
      if (g_rand_boolean (rand))
        {
          ReferralRank r = referral_tree_rank (t, m);
          if (r < 2)
            ev_promote (e, id, key, r == 0 ? "member" : "partner");
        }
      else
        {
          ReferralMember p = g_rand_int_range (rand, 0, 8) == 0
                               ? REFERRAL_NO_MEMBER
                               : (ReferralMember) g_rand_int_range (rand, 0, n);
          g_snprintf (key2, sizeof key2, "m%u", p);
          const char *np = p == REFERRAL_NO_MEMBER ? NULL : key2;
          if (p != REFERRAL_NO_MEMBER && (p == m || referral_tree_is_ancestor (t, m, p)))
            {
              ReferralEvent ev = tu_command (id, "move", key, NULL, np);
              apply_reject (e, &ev, REFERRAL_ERROR_CYCLE);
              cycles++;
            }
          else
            {
              ReferralMember old = referral_tree_parent (t, m);
              guint32 old_n = old == REFERRAL_NO_MEMBER ? 0 : referral_tree_n_children (t, old);
              ev_move (e, id, key, np);
              ck_assert_uint_eq (referral_tree_parent (t, m), p);
              if (old != REFERRAL_NO_MEMBER && old != p)
                ck_assert_uint_eq (referral_tree_n_children (t, old), old_n - 1);
              moves++;
            }
        }
      check_whole_tree (e, step);
    }
  ck_assert_uint_gt (cycles, 0);
  ck_assert_uint_gt (moves, 100);
  g_rand_free (rand);
}
END_TEST

/* A chain of 3000 members: depth and nearest_at_rank stay right. */
START_TEST (test_deep_chain)
{
  g_autoptr (ReferralEngine) e = tree_engine ();
  const ReferralTree *t = referral_engine_tree (e);
  const guint n = 3000;
  char key[32], prev[32], id[32];
  for (guint i = 0; i < n; i++)
    {
      g_snprintf (key, sizeof key, "c%u", i);
      g_snprintf (id, sizeof id, "j%u", i);
      ev_join (e, id, key, i ? prev : NULL);
      memcpy (prev, key, sizeof key);
    }
  ReferralMember last = M ("c2999");
  ck_assert_uint_eq (referral_tree_depth (t, last), n - 1);
  ck_assert (referral_tree_is_ancestor (t, M ("c0"), last));
  for (guint i = 0; i < n; i++)
    tu_check (referral_tree_nearest_at_rank (t, i, 1) == REFERRAL_NO_MEMBER,
              "nearest_at_rank (%u, 1) = %u", i, referral_tree_nearest_at_rank (t, i, 1));
  ev_promote (e, "p1", "c1000", "member");
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, last, 1), M ("c1000"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("c1001"), 1), M ("c1000"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("c1000"), 1), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("c999"), 1), REFERRAL_NO_MEMBER);
  ev_promote (e, "p2", "c2500", "member");
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, last, 1), M ("c2500"));
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("c2500"), 1), M ("c1000"));
  ev_move (e, "mv", "c2000", NULL);
  ck_assert_uint_eq (referral_tree_depth (t, last), n - 1 - 2000);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, M ("c2500"), 1), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, last, 1), M ("c2500"));
}
END_TEST

int
main (void)
{
  tu_register_test_rules ();
  Suite *s = suite_create ("tree");
  TCase *tc = tu_tcase (s, "relations", 60);
  tcase_add_test (tc, test_keys);
  tcase_add_test (tc, test_relations);
  tcase_add_test (tc, test_nearest_at_rank);
  tc = tu_tcase (s, "moves", 60);
  tcase_add_test (tc, test_moves);
  tcase_add_test (tc, test_move_cycle);
  tcase_add_test (tc, test_memo_random);
  tcase_add_test (tc, test_deep_chain);
  return tu_run_suites (s, NULL);
}
