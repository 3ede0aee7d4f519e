/* Subscribers: every callback fires with the right arguments after the
 * event is committed; a rejected event gives only `rejected`; unsubscribe
 * stops the calls; destroy notifies are called exactly once. */
#include "testutil.h"

#include <string.h>

/* ---- test_keeper: holds and releases ----------------------------------- */

/* On an order with sku "keep": the buyer gets 1.00 (kind "keep") and 0.40
 * of it is held.  The command "release" releases member's held funds. */
static const ReferralParamSpec no_params[] = { { NULL, 0, NULL, NULL } };

static gboolean
keeper_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
             GError **error)
{
  *config = GUINT_TO_POINTER ((guint) referral_setup_kind (setup, "keep"));
  return referral_setup_command (setup, "release", error);
}

static gboolean
keeper_on_order (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order,
                 GError **error)
{
  if (g_strcmp0 (order->sku, "keep") != 0)
    return TRUE;
  const ReferralLedger *l = referral_ctx_ledger (ctx);
  guint64 idx;
  if (!referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM,
                          referral_ledger_member_account (l, order->buyer, FALSE), 100,
                          (ReferralKind) GPOINTER_TO_UINT (config), REFERRAL_NO_POSTING,
                          &idx, error))
    return FALSE;
  return referral_ctx_hold (ctx, order->buyer, 40, idx, error);
}

static gboolean
keeper_on_command (ReferralCtx *ctx, gconstpointer config, const ReferralEvent *event,
                   GError **error)
{
  ReferralMember m = referral_tree_lookup (referral_ctx_tree (ctx), event->member);
  gint64 amount = -1;
  if (!referral_ctx_release (ctx, m, &amount, error))
    return FALSE;
  return TRUE;
}

static const ReferralRuleType keeper_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "test_keeper",
  .description = "test rule: holds and releases",
  .params = no_params,
  .init = keeper_init,
  .on_order = keeper_on_order,
  .on_command = keeper_on_command,
};

/* ---- the recorder -------------------------------------------------------- */

typedef struct {
  ReferralEngine *engine;
  GString *applied, *rejected, *joined, *posted, *ranks, *moved, *released;
  GString *problems;  /* anything seen before commit, or inconsistent */
  guint *destroyed;   /* incremented by the destroy notify */
} Rec;

static const char *
key_or_none (const ReferralEngine *e, ReferralMember m)
{
  return m == REFERRAL_NO_MEMBER ? "none" : referral_tree_key (referral_engine_tree (e), m);
}

static void
on_applied (gpointer data, const ReferralEvent *event, guint32 seq)
{
  Rec *r = data;
  g_string_append_printf (r->applied, "%s:%s:%u;", referral_event_type_name (event),
                          event->id, seq);
  if (referral_engine_n_events (r->engine) != seq + 1
      || g_strcmp0 (referral_engine_event_id (r->engine, seq), event->id) != 0)
    g_string_append_printf (r->problems, "applied %s before commit;", event->id);
}

static void
on_rejected (gpointer data, const ReferralEvent *event, const GError *error)
{
  Rec *r = data;
  g_string_append_printf (r->rejected, "%s:%d;", event->id,
                          error && error->domain == REFERRAL_ERROR ? error->code : -1);
}

static void
on_joined (gpointer data, ReferralMember member)
{
  Rec *r = data;
  const ReferralTree *t = referral_engine_tree (r->engine);
  if (member >= referral_tree_size (t))
    {
      g_string_append_printf (r->problems, "joined %u before commit;", member);
      return;
    }
  g_string_append_printf (r->joined, "%s;", referral_tree_key (t, member));
}

static void
on_posted (gpointer data, const ReferralPosting *posting, guint64 index)
{
  Rec *r = data;
  const ReferralLedger *l = referral_engine_ledger (r->engine);
  if (index >= referral_ledger_n_postings (l)
      || memcmp (referral_ledger_posting (l, index), posting, sizeof *posting) != 0)
    {
      g_string_append_printf (r->problems, "posted %" G_GUINT64_FORMAT " not in ledger;", index);
      return;
    }
  g_autofree char *from = referral_ledger_account_name (l, posting->from);
  g_autofree char *to = referral_ledger_account_name (l, posting->to);
  g_string_append_printf (r->posted, "%" G_GUINT64_FORMAT ":%s:%s>%s:%" G_GINT64_FORMAT "%s;",
                          index, referral_ledger_kind_name (l, posting->kind), from, to,
                          posting->amount,
                          posting->flags & REFERRAL_POSTING_REVERSAL ? ":rev" : "");
}

static void
on_rank_changed (gpointer data, ReferralMember member, ReferralRank old_rank,
                 ReferralRank new_rank)
{
  Rec *r = data;
  if (referral_tree_rank (referral_engine_tree (r->engine), member) < new_rank)
    g_string_append (r->problems, "rank change before commit;");
  g_string_append_printf (r->ranks, "%s:%u->%u;", key_or_none (r->engine, member),
                          old_rank, new_rank);
}

static void
on_moved (gpointer data, ReferralMember member, ReferralMember old_parent,
          ReferralMember new_parent)
{
  Rec *r = data;
  if (referral_tree_parent (referral_engine_tree (r->engine), member) != new_parent)
    g_string_append (r->problems, "move before commit;");
  g_string_append_printf (r->moved, "%s:%s->%s;", key_or_none (r->engine, member),
                          key_or_none (r->engine, old_parent),
                          key_or_none (r->engine, new_parent));
}

static void
on_released (gpointer data, ReferralMember member, gint64 amount, guint64 posting_index)
{
  Rec *r = data;
  const ReferralLedger *l = referral_engine_ledger (r->engine);
  if (posting_index >= referral_ledger_n_postings (l))
    {
      g_string_append (r->problems, "release before commit;");
      return;
    }
  const ReferralPosting *p = referral_ledger_posting (l, posting_index);
  if (p->kind != REFERRAL_KIND_RELEASE || p->amount != amount
      || p->from != referral_ledger_member_account (l, member, TRUE)
      || p->to != referral_ledger_member_account (l, member, FALSE))
    g_string_append (r->problems, "released does not match its posting;");
  g_string_append_printf (r->released, "%s:%" G_GINT64_FORMAT ":%" G_GUINT64_FORMAT ";",
                          key_or_none (r->engine, member), amount, posting_index);
}

static void
rec_destroy (gpointer data)
{
  Rec *r = data;
  (*r->destroyed)++;
}

static void
rec_init (Rec *r, ReferralEngine *e, guint *destroyed)
{
  r->engine = e;
  r->applied = g_string_new (NULL);
  r->rejected = g_string_new (NULL);
  r->joined = g_string_new (NULL);
  r->posted = g_string_new (NULL);
  r->ranks = g_string_new (NULL);
  r->moved = g_string_new (NULL);
  r->released = g_string_new (NULL);
  r->problems = g_string_new (NULL);
  r->destroyed = destroyed;
}

static void
rec_clear_logs (Rec *r)
{
  GString *all[] = { r->applied, r->rejected, r->joined, r->posted, r->ranks, r->moved,
                     r->released };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    g_string_truncate (all[i], 0);
}

static void
rec_free (Rec *r)
{
  GString *all[] = { r->applied, r->rejected, r->joined, r->posted, r->ranks, r->moved,
                     r->released, r->problems };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    g_string_free (all[i], TRUE);
}

#define assert_log(rec, field, want) \
  ck_assert_msg (strcmp ((rec)->field->str, (want)) == 0, #field ": \"%s\", want \"%s\"", \
                 (rec)->field->str, (want))

#define assert_quiet(rec) do { \
    assert_log (rec, applied, ""); assert_log (rec, rejected, ""); \
    assert_log (rec, joined, ""); assert_log (rec, posted, ""); \
    assert_log (rec, ranks, ""); assert_log (rec, moved, ""); \
    assert_log (rec, released, ""); \
  } while (0)

static const char *const three_ranks[] = { "user", "member", "partner", NULL };

static ReferralEngine *
sub_engine (void)
{
  g_autoptr (ReferralScheme) s = tu_scheme_build (
    "subs", three_ranks,
    "direct_award", "direct", (const char *const[]) { "rates", "5%, 10%, 10%", NULL },
    "test_keeper", "keeper", NULL,
    "test_mover", "mover", NULL,
    "test_fail", "fail", NULL,
    NULL);
  return tu_engine_new (s);
}

START_TEST (test_callbacks)
{
  ReferralEngine *e = sub_engine ();
  guint destroyed1 = 0, destroyed2 = 0;
  Rec r1, r2;
  rec_init (&r1, e, &destroyed1);
  rec_init (&r2, e, &destroyed2);
  ReferralSubscriber all = {
    .version = REFERRAL_SUBSCRIBER_VERSION, .applied = on_applied, .rejected = on_rejected,
    .joined = on_joined, .posted = on_posted, .rank_changed = on_rank_changed,
    .moved = on_moved, .released = on_released,
  };
  ReferralSubscriber some = {
    .version = REFERRAL_SUBSCRIBER_VERSION, .applied = on_applied, .rejected = on_rejected,
  };
  guint id1 = referral_engine_subscribe (e, &all, &r1, rec_destroy);
  guint id2 = referral_engine_subscribe (e, &some, &r2, rec_destroy);
  ck_assert_uint_gt (id1, 0);
  ck_assert_uint_gt (id2, 0);
  ck_assert_uint_ne (id1, id2);
  /* The table was copied: changing ours changes nothing. */
  all.joined = NULL;
  all.applied = NULL;

  ev_join (e, "jA", "A", NULL);
  ev_join (e, "jB", "B", "A");
  assert_log (&r1, applied, "join:jA:0;join:jB:1;");
  assert_log (&r1, joined, "A;B;");
  assert_log (&r1, posted, "");
  assert_log (&r2, applied, "join:jA:0;join:jB:1;");
  assert_log (&r2, joined, "");
  rec_clear_logs (&r1);
  rec_clear_logs (&r2);

  ev_order (e, "e-o1", "o1", "B", 10000, NULL);
  assert_log (&r1, applied, "order:e-o1:2;");
  assert_log (&r1, posted, "0:sale:outside>platform:10000;1:direct:platform>A:available:500;");
  assert_log (&r1, joined, "");
  assert_log (&r1, ranks, "");
  rec_clear_logs (&r1);

  ev_promote (e, "pB", "B", "partner");
  assert_log (&r1, applied, "promote:pB:3;");
  assert_log (&r1, ranks, "B:0->1;B:1->2;");
  rec_clear_logs (&r1);

  ev_move (e, "mv", "B", NULL);
  assert_log (&r1, applied, "move:mv:4;");
  assert_log (&r1, moved, "B:A->none;");
  rec_clear_logs (&r1);
  ev_move (e, "mv2", "A", "B");
  assert_log (&r1, moved, "A:none->B;");
  rec_clear_logs (&r1);

  ev_order (e, "e-o2", "o2", "B", 1000, "keep");
  assert_log (&r1, posted, "2:sale:outside>platform:1000;3:direct:platform>A:available:50;"
                           "4:keep:platform>B:available:100;5:hold:B:available>B:held:40;");
  ck_assert_int_eq (tu_held (e, "B"), 40);
  rec_clear_logs (&r1);
  ReferralEvent rel = tu_command ("rel", "release", "B", NULL, NULL);
  apply_ok (e, &rel);
  assert_log (&r1, released, "B:40:6;");
  assert_log (&r1, posted, "6:release:B:held>B:available:40;");
  assert_log (&r1, applied, "release:rel:7;");
  rec_clear_logs (&r1);
  /* Nothing held: no release, no posting. */
  ReferralEvent rel2 = tu_command ("rel2", "release", "B", NULL, NULL);
  apply_ok (e, &rel2);
  assert_log (&r1, released, "");
  assert_log (&r1, posted, "");
  rec_clear_logs (&r1);

  ev_refund (e, "e-r1", "o1");
  assert_log (&r1, posted, "7:direct:A:available>platform:500:rev;"
                           "8:sale:platform>outside:10000:rev;");
  rec_clear_logs (&r1);
  rec_clear_logs (&r2);

  /* Rejected events: `rejected` only, even when rules had proposed
   * postings, a rank change, a join or a move before the refusal. */
  ReferralEvent boom = tu_order ("e-boom", "oboom", "B", 5000, "keep");
  boom.sku = "boom";
  apply_reject (e, &boom, REFERRAL_ERROR_REJECTED);
  ReferralEvent bj = tu_join ("e-bj", "boomer", "A");
  apply_reject (e, &bj, REFERRAL_ERROR_REJECTED);
  ReferralEvent unknown = tu_order ("e-x", "ox", "X", 100, NULL);
  apply_reject (e, &unknown, REFERRAL_ERROR_UNKNOWN_MEMBER);
  ReferralEvent cyc = tu_command ("e-cyc", "move", "B", NULL, "A");
  apply_reject (e, &cyc, REFERRAL_ERROR_CYCLE);
  ReferralEvent conflict = tu_join ("jA", "Q", NULL);
  apply_reject (e, &conflict, REFERRAL_ERROR_ID_CONFLICT);
  g_autofree char *want_rej = g_strdup_printf (
    "e-boom:%d;e-bj:%d;e-x:%d;e-cyc:%d;jA:%d;", REFERRAL_ERROR_REJECTED,
    REFERRAL_ERROR_REJECTED, REFERRAL_ERROR_UNKNOWN_MEMBER, REFERRAL_ERROR_CYCLE,
    REFERRAL_ERROR_ID_CONFLICT);
  assert_log (&r1, rejected, want_rej);
  assert_log (&r2, rejected, want_rej);
  assert_log (&r1, applied, "");
  assert_log (&r1, joined, "");
  assert_log (&r1, posted, "");
  assert_log (&r1, ranks, "");
  assert_log (&r1, moved, "");
  assert_log (&r1, released, "");
  rec_clear_logs (&r1);
  rec_clear_logs (&r2);

  /* Unsubscribe: r1 hears nothing more, r2 still does. */
  ck_assert_uint_eq (destroyed1, 0);
  ck_assert (referral_engine_unsubscribe (e, id1));
  ck_assert_uint_eq (destroyed1, 1);
  ck_assert_uint_eq (destroyed2, 0);
  ck_assert (!referral_engine_unsubscribe (e, id1));
  ck_assert (!referral_engine_unsubscribe (e, id1 + id2 + 100));
  ck_assert_uint_eq (destroyed1, 1);
  ev_join (e, "jC", "C", "B");
  ev_order (e, "e-o3", "o3", "C", 100, NULL);
  ReferralEvent unknown2 = tu_order ("e-y", "oy", "Y", 100, NULL);
  apply_reject (e, &unknown2, REFERRAL_ERROR_UNKNOWN_MEMBER);
  assert_quiet (&r1);
  assert_log (&r2, applied, "join:jC:10;order:e-o3:11;");
  g_autofree char *want_rej2 = g_strdup_printf ("e-y:%d;", REFERRAL_ERROR_UNKNOWN_MEMBER);
  assert_log (&r2, rejected, want_rej2);

  assert_log (&r1, problems, "");
  assert_log (&r2, problems, "");

  /* Freeing the engine notifies the remaining subscriber, once. */
  referral_engine_free (e);
  ck_assert_uint_eq (destroyed1, 1);
  ck_assert_uint_eq (destroyed2, 1);
  rec_free (&r1);
  rec_free (&r2);
}
END_TEST

/* A subscriber may have no callbacks and no destroy notify; several
 * subscribers are called in subscription order. */
static void
order_applied (gpointer data, const ReferralEvent *event, guint32 seq)
{
  g_string_append ((GString *) data, "x");
}

static void
order_applied_2 (gpointer data, const ReferralEvent *event, guint32 seq)
{
  g_string_append ((GString *) data, "y");
}

START_TEST (test_many_subscribers)
{
  g_autoptr (ReferralEngine) e = sub_engine ();
  GString *log = g_string_new (NULL);
  ReferralSubscriber empty = { .version = REFERRAL_SUBSCRIBER_VERSION };
  ReferralSubscriber sx = { .version = REFERRAL_SUBSCRIBER_VERSION, .applied = order_applied };
  ReferralSubscriber sy = { .version = REFERRAL_SUBSCRIBER_VERSION, .applied = order_applied_2 };
  guint a = referral_engine_subscribe (e, &empty, NULL, NULL);
  guint b = referral_engine_subscribe (e, &sx, log, NULL);
  guint c = referral_engine_subscribe (e, &sy, log, NULL);
  ck_assert (a && b && c && a != b && b != c && a != c);
  ev_join (e, "j1", "A", NULL);
  ev_join (e, "j2", "B", "A");
  ck_assert_str_eq (log->str, "xyxy");
  ck_assert (referral_engine_unsubscribe (e, b));
  ev_join (e, "j3", "C", "A");
  ck_assert_str_eq (log->str, "xyxyy");
  ck_assert (referral_engine_unsubscribe (e, a));
  ck_assert (referral_engine_unsubscribe (e, c));
  ev_join (e, "j4", "D", "A");
  ck_assert_str_eq (log->str, "xyxyy");
  g_string_free (log, TRUE);
}
END_TEST

int
main (void)
{
  tu_register_test_rules ();
  g_autoptr (GError) err = NULL;
  if (!referral_rule_type_register (&keeper_type, &err))
    g_error ("registering test_keeper: %s", err->message);
  Suite *s = suite_create ("subscribers");
  TCase *tc = tu_tcase (s, "subscribers", 30);
  tcase_add_test (tc, test_callbacks);
  tcase_add_test (tc, test_many_subscribers);
  return tu_run_suites (s, NULL);
}
