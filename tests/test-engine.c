/* The engine: transactions (a rule failing after earlier rules proposed
 * postings, holds, a rank change, a field write, a list push and a move
 * leaves everything exactly as before), validation of every event type with
 * its code and message, effect validation, idempotency, and invariants. */
#include "testutil.h"

#include <string.h>

/* ---- test_fx: proposes one effect of every sort ----------------------- */

/* On an order with sku "boom" or "fx" it posts 1.23 from the platform to the
 * buyer, holds 0.23 of it, makes the buyer a partner, adds 42 to the
 * buyer's "fx_field", pushes {seq, 7} on "fx_list" and moves the buyer to
 * the root.  The command "probe" copies the field and the list into
 * `probe` for the test to read. */
typedef struct {
  gint field;
  gint list;
  ReferralKind kind;
} FxConfig;

static struct {
  gint64 field[64];
  guint32 n_members;
  guint64 list_len;
  gint64 last_record[2];
} probe;

static const ReferralParamSpec no_params[] = { { NULL, 0, NULL, NULL } };

static gboolean
fx_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
         GError **error)
{
  FxConfig *c = g_new0 (FxConfig, 1);
  *config = c;
  c->kind = referral_setup_kind (setup, "fx");
  c->field = referral_setup_field (setup, "fx_field", 1, error);
  if (c->field < 0)
    return FALSE;
  c->list = referral_setup_list (setup, "fx_list", 2, error);
  if (c->list < 0)
    return FALSE;
  return referral_setup_command (setup, "probe", error)
         && referral_setup_command (setup, "touch_all", error);
}

static gboolean
fx_on_order (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order,
             GError **error)
{
  const FxConfig *c = config;
  if (g_strcmp0 (order->sku, "boom") != 0 && g_strcmp0 (order->sku, "fx") != 0)
    return TRUE;
  const ReferralLedger *l = referral_ctx_ledger (ctx);
  guint64 idx = 0;
  if (!referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM,
                          referral_ledger_member_account (l, order->buyer, FALSE), 123,
                          c->kind, REFERRAL_NO_POSTING, &idx, error))
    return FALSE;
  if (!referral_ctx_hold (ctx, order->buyer, 23, idx, error))
    return FALSE;
  if (!referral_ctx_set_rank (ctx, order->buyer, 2, error))
    return FALSE;
  gint64 v = referral_ctx_field_get (ctx, c->field, order->buyer, 0);
  referral_ctx_field_set (ctx, c->field, order->buyer, 0, v + 42);
  gint64 rec[2] = { referral_ctx_event_seq (ctx), 7 };
  referral_ctx_list_push (ctx, c->list, rec);
  return referral_ctx_move (ctx, order->buyer, REFERRAL_NO_MEMBER, error);
}

static gboolean
fx_on_command (ReferralCtx *ctx, gconstpointer config, const ReferralEvent *event,
               GError **error)
{
  const FxConfig *c = config;
  const ReferralTree *t = referral_ctx_tree (ctx);
  if (strcmp (event->command, "touch_all") == 0)
    {
      /* Every member's field twice, newest member first: each member is
       * changed once, in this order. */
      for (ReferralMember m = referral_tree_size (t); m-- > 0;)
        for (int k = 0; k < 2; k++)
          referral_ctx_field_set (ctx, c->field, m,
                                  0, referral_ctx_field_get (ctx, c->field, m, 0) + 1);
      return TRUE;
    }
  memset (&probe, 0, sizeof probe);
  probe.n_members = referral_tree_size (t);
  for (ReferralMember m = 0; m < probe.n_members && m < 64; m++)
    probe.field[m] = referral_ctx_field_get (ctx, c->field, m, 0);
  probe.list_len = referral_ctx_list_length (ctx, c->list);
  if (probe.list_len > 0)
    memcpy (probe.last_record, referral_ctx_list_get (ctx, c->list, probe.list_len - 1),
            sizeof probe.last_record);
  return TRUE;
}

static const ReferralRuleType fx_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "test_fx",
  .description = "test rule: one effect of every sort",
  .params = no_params,
  .init = fx_init,
  .free_config = g_free,
  .on_order = fx_on_order,
  .on_command = fx_on_command,
};

/* ---- test_watch: what a later rule sees during the event -------------- */

static struct {
  gboolean seen;
  ReferralRank buyer_rank;
  ReferralMember buyer_parent;
  gint64 buyer_available, buyer_held, buyer_field;
  guint64 list_len;
  ReferralMember nearest[64];
  GString *rank_log;     /* "KEY:old->new;" for every on_rank_change */
  GString *changed_log;  /* "KEY," for referral_ctx_changed at event end */
} watch;

static gboolean
watch_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
            GError **error)
{
  FxConfig *c = g_new0 (FxConfig, 1);
  *config = c;
  /* Fields and lists are shared by name with test_fx. */
  c->field = referral_setup_field (setup, "fx_field", 1, error);
  c->list = referral_setup_list (setup, "fx_list", 2, error);
  return c->field >= 0 && c->list >= 0;
}

static gboolean
watch_on_order (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order,
                GError **error)
{
  const FxConfig *c = config;
  if (g_strcmp0 (order->sku, "boom") != 0)
    return TRUE;
  const ReferralTree *t = referral_ctx_tree (ctx);
  const ReferralLedger *l = referral_ctx_ledger (ctx);
  watch.seen = TRUE;
  watch.buyer_rank = referral_tree_rank (t, order->buyer);
  watch.buyer_parent = referral_tree_parent (t, order->buyer);
  watch.buyer_available =
    referral_ledger_balance (l, referral_ledger_member_account (l, order->buyer, FALSE));
  watch.buyer_held =
    referral_ledger_balance (l, referral_ledger_member_account (l, order->buyer, TRUE));
  watch.buyer_field = referral_ctx_field_get (ctx, c->field, order->buyer, 0);
  watch.list_len = referral_ctx_list_length (ctx, c->list);
  /* Fills the nearest_at_rank memo with answers that the rollback must
   * forget. */
  for (ReferralMember m = 0; m < referral_tree_size (t) && m < 64; m++)
    watch.nearest[m] = referral_tree_nearest_at_rank (t, m, 2);
  return TRUE;
}

static gboolean
watch_on_rank_change (ReferralCtx *ctx, gconstpointer config, ReferralMember member,
                      ReferralRank old_rank, ReferralRank new_rank, GError **error)
{
  if (watch.rank_log)
    g_string_append_printf (watch.rank_log, "%s:%u->%u;",
                            referral_tree_key (referral_ctx_tree (ctx), member),
                            old_rank, new_rank);
  return TRUE;
}

static gboolean
watch_on_event_end (ReferralCtx *ctx, gconstpointer config, GError **error)
{
  if (watch.changed_log == NULL)
    return TRUE;
  g_string_truncate (watch.changed_log, 0);
  for (guint i = 0; i < referral_ctx_n_changed (ctx); i++)
    g_string_append_printf (watch.changed_log, "%s,",
                            referral_tree_key (referral_ctx_tree (ctx),
                                               referral_ctx_changed (ctx, i)));
  return TRUE;
}

static const ReferralRuleType watch_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "test_watch",
  .description = "test rule: records what it sees",
  .params = no_params,
  .init = watch_init,
  .free_config = g_free,
  .on_order = watch_on_order,
  .on_rank_change = watch_on_rank_change,
  .on_event_end = watch_on_event_end,
};

/* ---- test_bad: invalid effects, on the command "bad" ------------------ */

/* `member` names the member, `old_member` the case.  Every case first
 * posts 0.01 to the member (so there is something to undo), then proposes
 * an invalid effect and returns its error — except "ignore", which drops
 * the error and returns TRUE: the engine must still reject the event. */
static gboolean
bad_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
          GError **error)
{
  *config = NULL;
  return referral_setup_command (setup, "bad", error);
}

static gboolean
bad_on_command (ReferralCtx *ctx, gconstpointer config, const ReferralEvent *event,
                GError **error)
{
  const ReferralTree *t = referral_ctx_tree (ctx);
  const ReferralLedger *l = referral_ctx_ledger (ctx);
  ReferralMember m = referral_tree_lookup (t, event->member);
  ReferralAccount av = referral_ledger_member_account (l, m, FALSE);
  const char *what = event->old_member;
  guint64 idx = 0;
  if (!referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM, av, 1, REFERRAL_KIND_RELEASE,
                          REFERRAL_NO_POSTING, &idx, error))
    return FALSE;
  if (strcmp (what, "zero") == 0)
    return referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM, av, 0, REFERRAL_KIND_RELEASE,
                              REFERRAL_NO_POSTING, NULL, error);
  if (strcmp (what, "negative") == 0)
    return referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM, av, -5, REFERRAL_KIND_RELEASE,
                              REFERRAL_NO_POSTING, NULL, error);
  if (strcmp (what, "account") == 0)
    return referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM, referral_ledger_n_accounts (l),
                              5, REFERRAL_KIND_RELEASE, REFERRAL_NO_POSTING, NULL, error);
  if (strcmp (what, "self") == 0)
    return referral_ctx_post (ctx, av, av, 5, REFERRAL_KIND_RELEASE, REFERRAL_NO_POSTING,
                              NULL, error);
  if (strcmp (what, "cause") == 0)
    return referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM, av, 5, REFERRAL_KIND_RELEASE,
                              idx + 10, NULL, error);
  if (strcmp (what, "overflow") == 0)
    {
      if (!referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM, av, G_MAXINT64 - 1,
                              REFERRAL_KIND_RELEASE, REFERRAL_NO_POSTING, NULL, error))
        return FALSE;
      return referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM, av, G_MAXINT64 - 1,
                                REFERRAL_KIND_RELEASE, REFERRAL_NO_POSTING, NULL, error);
    }
  if (strcmp (what, "cycle") == 0)
    {
      ReferralMember root = m;
      while (referral_tree_parent (t, root) != REFERRAL_NO_MEMBER)
        root = referral_tree_parent (t, root);
      return referral_ctx_move (ctx, root, m, error);
    }
  if (strcmp (what, "ignore") == 0)
    {
      GError *local = NULL;
      referral_ctx_post (ctx, REFERRAL_ACCOUNT_PLATFORM, av, -1, REFERRAL_KIND_RELEASE,
                         REFERRAL_NO_POSTING, NULL, &local);
      g_clear_error (&local);
      return TRUE;
    }
  return TRUE;
}

static const ReferralRuleType bad_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "test_bad",
  .description = "test rule: proposes invalid effects",
  .params = no_params,
  .init = bad_init,
  .on_command = bad_on_command,
};

/* ---- test_kinds_fx / test_kinds_all: which postings on_posting sees ---- */

static GString *kinds_log; /* "RULE:KIND;" for every on_posting call */

static gboolean
kinds_fx_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
               GError **error)
{
  *config = NULL;
  /* Not a kind of the scheme: refused, nothing declared. */
  GError *bad = NULL;
  ck_assert (!referral_setup_posting_kind (setup, 9999, &bad));
  ck_assert (g_error_matches (bad, REFERRAL_ERROR, REFERRAL_ERROR_SCHEME));
  g_error_free (bad);
  return referral_setup_posting_kind (setup, referral_setup_kind (setup, "fx"), error)
         && referral_setup_posting_kind (setup, referral_setup_kind (setup, "fx"), error)
         && referral_setup_posting_kind (setup, REFERRAL_KIND_HOLD, error);
}

static gboolean
kinds_all_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
                GError **error)
{
  *config = NULL;
  return TRUE;
}

static void
kinds_record (ReferralCtx *ctx, const char *who, const ReferralPosting *posting)
{
  if (kinds_log != NULL)
    g_string_append_printf (kinds_log, "%s:%s;", who,
                            referral_ledger_kind_name (referral_ctx_ledger (ctx), posting->kind));
}

static gboolean
kinds_fx_on_posting (ReferralCtx *ctx, gconstpointer config, const ReferralPosting *posting,
                     guint64 index, GError **error)
{
  kinds_record (ctx, "only", posting);
  return TRUE;
}

static gboolean
kinds_all_on_posting (ReferralCtx *ctx, gconstpointer config, const ReferralPosting *posting,
                      guint64 index, GError **error)
{
  kinds_record (ctx, "all", posting);
  return TRUE;
}

static const ReferralRuleType kinds_fx_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "test_kinds_fx",
  .description = "test rule: on_posting for fx and hold postings only",
  .params = no_params,
  .init = kinds_fx_init,
  .on_posting = kinds_fx_on_posting,
};

static const ReferralRuleType kinds_all_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "test_kinds_all",
  .description = "test rule: on_posting for every posting",
  .params = no_params,
  .init = kinds_all_init,
  .on_posting = kinds_all_on_posting,
};

/* ---- schemes -------------------------------------------------------------- */

static const char *const three_ranks[] = { "user", "member", "partner", NULL };

/* direct_award, test_fx, test_watch, test_mover, test_bad, test_fail. */
static ReferralEngine *
txn_engine (void)
{
  g_autoptr (ReferralScheme) s = tu_scheme_build (
    "txn", three_ranks,
    "direct_award", "direct", (const char *const[]) { "rates", "5%, 10%, 10%", NULL },
    "test_fx", "fx", NULL,
    "test_watch", "watch", NULL,
    "test_mover", "mover", NULL,
    "test_bad", "bad", NULL,
    "test_fail", "fail", NULL,
    NULL);
  return tu_engine_new (s);
}

/* R; A under R; B1, B, B2 under A; C under B.  C buys 100.00 (B: 5.00). */
static ReferralEngine *
txn_sample (void)
{
  ReferralEngine *e = txn_engine ();
  ev_join (e, "jR", "R", NULL);
  ev_join (e, "jA", "A", "R");
  ev_join (e, "jB1", "B1", "A");
  ev_join (e, "jB", "B", "A");
  ev_join (e, "jB2", "B2", "A");
  ev_join (e, "jC", "C", "B");
  ev_order (e, "e-o1", "o1", "C", 10000, NULL);
  ck_assert_int_eq (tu_available (e, "B"), 500);
  return e;
}

static void
do_probe (ReferralEngine *e, const char *id)
{
  ReferralEvent ev = tu_command (id, "probe", NULL, NULL, NULL);
  apply_ok (e, &ev);
}

#define assert_children(key, want) do { \
    g_autofree char *got_ = tu_children_text (e, (key)); \
    ck_assert_msg (strcmp (got_, (want)) == 0, "children of %s: \"%s\", want \"%s\"", \
                   (key), got_, (want)); \
  } while (0)

/* ---- transactions -------------------------------------------------------- */

START_TEST (test_rollback_order)
{
  g_autoptr (ReferralEngine) e = txn_sample ();
  const ReferralTree *t = referral_engine_tree (e);
  ReferralMember B = tu_member (e, "B"), C = tu_member (e, "C");
  do_probe (e, "probe1");
  ck_assert_int_eq (probe.field[B], 0);
  ck_assert_uint_eq (probe.list_len, 0);

  ReferralMember nearest_before[64];
  for (ReferralMember m = 0; m < referral_tree_size (t); m++)
    nearest_before[m] = referral_tree_nearest_at_rank (t, m, 2);
  ck_assert_uint_eq (nearest_before[C], REFERRAL_NO_MEMBER);

  TuSnapshot before;
  tu_snapshot_take (&before, e);
  memset (&watch, 0, sizeof watch);

  ReferralEvent boom = tu_order ("e-boom", "oboom", "B", 10000, "boom");
  g_autoptr (GError) err = apply_fail (e, &boom, REFERRAL_ERROR_REJECTED);
  assert_contains (err->message, "test_fail refused the order");
  ck_assert_msg (g_str_has_prefix (err->message, "order \"oboom\": "), "%s", err->message);

  /* During the event, the later rule saw every earlier effect. */
  ck_assert (watch.seen);
  ck_assert_uint_eq (watch.buyer_rank, 2);
  ck_assert_uint_eq (watch.buyer_parent, REFERRAL_NO_MEMBER);
  ck_assert_int_eq (watch.buyer_available, 500 + 123 - 23);
  ck_assert_int_eq (watch.buyer_held, 23);
  ck_assert_int_eq (watch.buyer_field, 42);
  ck_assert_uint_eq (watch.list_len, 1);
  ck_assert_uint_eq (watch.nearest[C], B);  /* B is a partner above C */
  ck_assert_uint_eq (watch.nearest[B], REFERRAL_NO_MEMBER);  /* B is a root */

  /* Afterwards nothing of it remains. */
  assert_snapshot_equal (&before, e);
  tu_snapshot_clear (&before);
  ReferralOrder o;
  ck_assert (!referral_engine_lookup_order (e, "oboom", &o));
  assert_children ("A", "B1,B,B2");
  assert_children ("B", "C");
  ck_assert_uint_eq (referral_tree_parent (t, B), tu_member (e, "A"));
  for (ReferralMember m = 0; m < referral_tree_size (t); m++)
    ck_assert_uint_eq (referral_tree_nearest_at_rank (t, m, 2), nearest_before[m]);
  ReferralKind fx;
  ck_assert (referral_ledger_lookup_kind (referral_engine_ledger (e), "fx", &fx));
  do_probe (e, "probe2");
  ck_assert_int_eq (probe.field[B], 0);
  ck_assert_uint_eq (probe.list_len, 0);
  ck_assert (referral_engine_check_invariants (e, NULL));

  /* The id was not recorded: a valid variant applies (not a duplicate, not
   * a conflict), and every effect is now real. */
  ReferralEvent fxev = tu_order ("e-boom", "oboom", "B", 10000, "fx");
  ReferralApplyResult r = apply_ok (e, &fxev);
  ck_assert_uint_eq (r.n_postings, 4);  /* sale, direct to A, fx, hold */
  ck_assert_uint_eq (referral_tree_rank (t, B), 2);
  ck_assert_uint_eq (referral_tree_parent (t, B), REFERRAL_NO_MEMBER);
  ck_assert_int_eq (tu_available (e, "B"), 600);
  ck_assert_int_eq (tu_held (e, "B"), 23);
  ck_assert_int_eq (tu_available (e, "A"), 500);
  assert_children ("A", "B1,B2");
  ck_assert_uint_eq (referral_tree_nearest_at_rank (t, C, 2), B);
  ck_assert (referral_engine_lookup_order (e, "oboom", &o));
  do_probe (e, "probe3");
  ck_assert_int_eq (probe.field[B], 42);
  ck_assert_uint_eq (probe.list_len, 1);
  ck_assert_int_eq (probe.last_record[0], r.seq);
  ck_assert_int_eq (probe.last_record[1], 7);
  /* And it is a duplicate now. */
  apply_dup (e, &fxev);
}
END_TEST

START_TEST (test_rollback_other_events)
{
  g_autoptr (ReferralEngine) e = txn_sample ();
  const ReferralTree *t = referral_engine_tree (e);
  const ReferralLedger *l = referral_engine_ledger (e);
  TuSnapshot before;
  tu_snapshot_take (&before, e);
  guint32 n_accounts = referral_ledger_n_accounts (l);

  /* A join refused by a rule: the member, its key and accounts vanish. */
  ReferralEvent j = tu_join ("e-j", "boom1", "A");
  g_autoptr (GError) ej = apply_fail (e, &j, REFERRAL_ERROR_REJECTED);
  assert_contains (ej->message, "test_fail refused the join");
  ck_assert_msg (g_str_has_prefix (ej->message, "join \"boom1\": "), "%s", ej->message);
  assert_snapshot_equal (&before, e);
  ck_assert_uint_eq (referral_tree_lookup (t, "boom1"), REFERRAL_NO_MEMBER);
  ck_assert_uint_eq (referral_ledger_n_accounts (l), n_accounts);
  assert_children ("A", "B1,B,B2");
  g_autofree char *sponsored = tu_sponsored_text (e, "A");
  ck_assert_str_eq (sponsored, "B1,B,B2");

  /* A period close. */
  ReferralEvent pc = tu_period_close ("e-pc", "boom");
  g_autoptr (GError) epc = apply_fail (e, &pc, REFERRAL_ERROR_REJECTED);
  ck_assert_msg (g_str_has_prefix (epc->message, "period_close \"boom\": "), "%s", epc->message);
  assert_snapshot_equal (&before, e);
  ck_assert_uint_eq (referral_engine_n_periods (e), 0);

  /* A withdraw (of exactly 0.13). */
  ReferralEvent w = tu_withdraw ("e-w", "B", 13);
  g_autoptr (GError) ew = apply_fail (e, &w, REFERRAL_ERROR_REJECTED);
  ck_assert_msg (g_str_has_prefix (ew->message, "withdraw \"B\": "), "%s", ew->message);
  assert_snapshot_equal (&before, e);

  /* A refund: the order stays unrefunded, the reversals vanish. */
  tu_snapshot_clear (&before);
  ev_order (e, "e-o2", "o2", "C", 2000, "boomrefund");
  tu_snapshot_take (&before, e);
  ReferralEvent rf = tu_refund ("e-rf", "o2");
  g_autoptr (GError) erf = apply_fail (e, &rf, REFERRAL_ERROR_REJECTED);
  assert_contains (erf->message, "test_fail refused the refund");
  assert_snapshot_equal (&before, e);
  ReferralOrder o;
  ck_assert (referral_engine_lookup_order (e, "o2", &o));
  ck_assert (!o.refunded);
  tu_snapshot_clear (&before);

  /* The ids were not recorded and the engine is fully usable: the same ids
   * apply other, valid events, and members get the next indices. */
  guint32 size = referral_tree_size (t);
  ev_join (e, "e-j", "D", "A");
  ck_assert_uint_eq (tu_member (e, "D"), size);
  ck_assert_uint_eq (referral_ledger_member_account (l, size, FALSE), n_accounts);
  assert_children ("A", "B1,B,B2,D");
  ev_close (e, "e-pc", "p1");
  ck_assert_uint_eq (referral_engine_n_periods (e), 1);
  ev_withdraw (e, "e-w", "B", 12);
  ck_assert_int_eq (tu_available (e, "B"), 500 + 100 - 12);
  ck_assert (referral_engine_check_invariants (e, NULL));
}
END_TEST

/* Invalid effects proposed by a rule reject the whole event. */
START_TEST (test_invalid_effects)
{
  g_autoptr (ReferralEngine) e = txn_sample ();
  static const struct { const char *what; int code; } cases[] = {
    { "zero", REFERRAL_ERROR_INVALID_EVENT },
    { "negative", REFERRAL_ERROR_INVALID_EVENT },
    { "account", REFERRAL_ERROR_INVALID_EVENT },
    { "self", REFERRAL_ERROR_INVALID_EVENT },
    { "cause", REFERRAL_ERROR_INVALID_EVENT },
    { "overflow", REFERRAL_ERROR_OVERFLOW },
    { "cycle", REFERRAL_ERROR_CYCLE },
    { "ignore", REFERRAL_ERROR_INVALID_EVENT },
  };
  TuSnapshot before;
  tu_snapshot_take (&before, e);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      ReferralEvent ev = tu_command ("e-bad", "bad", "C", cases[i].what, NULL);
      GError *err = NULL;
      ck_assert_msg (!referral_engine_apply (e, &ev, NULL, &err),
                     "case %s was applied", cases[i].what);
      ck_assert_msg (err && err->domain == REFERRAL_ERROR && err->code == cases[i].code,
                     "case %s: expected code %d, got %d (%s)", cases[i].what, cases[i].code,
                     err ? err->code : -1, err ? err->message : "no error");
      g_error_free (err);
      assert_snapshot_equal (&before, e);
    }
  tu_snapshot_clear (&before);
  /* A valid case under the same id. */
  ReferralEvent ok = tu_command ("e-bad", "bad", "C", "none", NULL);
  apply_ok (e, &ok);
  ck_assert_int_eq (tu_available (e, "C"), 1);
}
END_TEST

START_TEST (test_rank_hooks)
{
  g_autoptr (ReferralEngine) e = txn_sample ();
  const ReferralTree *t = referral_engine_tree (e);
  watch.rank_log = g_string_new (NULL);
  watch.changed_log = g_string_new (NULL);

  /* promote raises one step at a time, each through on_rank_change. */
  ev_promote (e, "p1", "C", "partner");
  ck_assert_str_eq (watch.rank_log->str, "C:0->1;C:1->2;");
  ck_assert_str_eq (watch.changed_log->str, "C,");
  ck_assert_uint_eq (referral_tree_rank (t, tu_member (e, "C")), 2);

  g_string_truncate (watch.rank_log, 0);
  ev_promote (e, "p2", "B1", "member");
  ck_assert_str_eq (watch.rank_log->str, "B1:0->1;");
  ck_assert_str_eq (watch.changed_log->str, "B1,");

  /* A rule's direct set_rank: one change. */
  g_string_truncate (watch.rank_log, 0);
  ev_order (e, "e-fx", "ofx", "B2", 100, "fx");
  ck_assert_str_eq (watch.rank_log->str, "B2:0->2;");
  ck_assert_str_eq (watch.changed_log->str, "B2,");

  /* An order that changes nobody's rank or fields. */
  g_string_truncate (watch.rank_log, 0);
  ev_order (e, "e-plain", "oplain", "C", 100, NULL);
  ck_assert_str_eq (watch.rank_log->str, "");
  ck_assert_str_eq (watch.changed_log->str, "");

  g_string_free (watch.rank_log, TRUE);
  g_string_free (watch.changed_log, TRUE);
  watch.rank_log = watch.changed_log = NULL;
}
END_TEST

/* on_posting is called only for the kinds a rule declared, in rule order
 * among the rules that want the kind; a rule that declared none sees all. */
START_TEST (test_posting_kinds)
{
  g_autoptr (ReferralScheme) s = tu_scheme_build (
    "kinds", three_ranks,
    "test_kinds_all", "all", NULL,
    "direct_award", "direct", (const char *const[]) { "rates", "5%, 10%, 10%", NULL },
    "test_fx", "fx", NULL,
    "test_kinds_fx", "only", NULL,
    NULL);
  g_autoptr (ReferralEngine) e = tu_engine_new (s);
  ev_join (e, "jA", "A", NULL);
  ev_join (e, "jB", "B", "A");
  kinds_log = g_string_new (NULL);
  /* sale, then the direct award: "only" wants neither. */
  ev_order (e, "e-o1", "o1", "B", 10000, NULL);
  ck_assert_str_eq (kinds_log->str, "all:sale;all:direct;");
  /* sale, direct, then test_fx's fx posting and hold: "only" sees those
   * two, after "all" (rule order), each within its posting. */
  g_string_truncate (kinds_log, 0);
  ev_order (e, "e-o2", "o2", "B", 100, "fx");
  ck_assert_str_eq (kinds_log->str,
                    "all:sale;all:direct;all:fx;only:fx;all:hold;only:hold;");
  g_string_free (kinds_log, TRUE);
  kinds_log = NULL;
}
END_TEST

/* An event that changes many members: each is listed once, in the order
 * first changed, and the next event starts from an empty set. */
START_TEST (test_changed_many)
{
  g_autoptr (ReferralEngine) e = txn_sample ();
  guint n0 = referral_tree_size (referral_engine_tree (e));
  for (int i = 0; i < 1000; i++)
    {
      char id[16], key[16];
      g_snprintf (id, sizeof id, "j-m%d", i);
      g_snprintf (key, sizeof key, "m%d", i);
      ev_join (e, id, key, "R");
    }
  watch.changed_log = g_string_new (NULL);
  ReferralEvent touch = tu_command ("e-touch", "touch_all", "R", NULL, NULL);
  apply_ok (e, &touch);
  g_autoptr (GString) expect = g_string_new (NULL);
  const ReferralTree *t = referral_engine_tree (e);
  for (ReferralMember m = referral_tree_size (t); m-- > 0;)
    g_string_append_printf (expect, "%s,", referral_tree_key (t, m));
  ck_assert_uint_eq (referral_tree_size (t), n0 + 1000);
  ck_assert_str_eq (watch.changed_log->str, expect->str);
  ev_promote (e, "p-after", "m7", "member");
  ck_assert_str_eq (watch.changed_log->str, "m7,");
  ReferralEvent touch2 = tu_command ("e-touch2", "touch_all", "R", NULL, NULL);
  apply_ok (e, &touch2);
  ck_assert_str_eq (watch.changed_log->str, expect->str);
  g_string_free (watch.changed_log, TRUE);
  watch.changed_log = NULL;
}
END_TEST

/* ---- validation: codes and messages ------------------------------------ */

#define assert_prefix(err, prefix) \
  ck_assert_msg (g_str_has_prefix ((err)->message, (prefix)), "message '%s' does not start with '%s'", \
                 (err)->message, (prefix))

START_TEST (test_event_errors)
{
  g_autoptr (ReferralEngine) e = tu_demo_engine ();
  ev_join (e, "e1", "A", NULL);
  ev_join (e, "e2", "B", "A");
  ev_order (e, "e3", "o1", "B", 10000, NULL);   /* A: 5.00 */
  ck_assert_int_eq (tu_available (e, "A"), 500);
  GError *err;

  ReferralEvent ev = tu_order ("e9", "o9", "X", 100, NULL);
  err = apply_fail (e, &ev, REFERRAL_ERROR_UNKNOWN_MEMBER);
  assert_error (err, REFERRAL_ERROR_UNKNOWN_MEMBER, "order \"o9\": member \"X\" does not exist");
  g_error_free (err);

  ev = tu_join ("e10", "B2", "Z");
  err = apply_fail (e, &ev, REFERRAL_ERROR_UNKNOWN_MEMBER);
  assert_error (err, REFERRAL_ERROR_UNKNOWN_MEMBER, "join \"B2\": sponsor \"Z\" does not exist");
  g_error_free (err);

  ev = tu_withdraw ("e11", "A", 1000);
  err = apply_fail (e, &ev, REFERRAL_ERROR_INSUFFICIENT_FUNDS);
  assert_error (err, REFERRAL_ERROR_INSUFFICIENT_FUNDS,
                "withdraw \"A\": amount 10.00 exceeds available 5.00");
  g_error_free (err);

  ev_refund (e, "e12", "o1");
  ev = tu_refund ("e13", "o1");
  err = apply_fail (e, &ev, REFERRAL_ERROR_ALREADY_REFUNDED);
  assert_error (err, REFERRAL_ERROR_ALREADY_REFUNDED,
                "refund \"o1\": order \"o1\" was already refunded");
  g_error_free (err);

  ev = tu_refund ("e14", "nope");
  err = apply_fail (e, &ev, REFERRAL_ERROR_UNKNOWN_ORDER);
  assert_prefix (err, "refund \"nope\": ");
  assert_contains (err->message + strlen ("refund \"nope\": "), "nope");
  g_error_free (err);

  ev = tu_join ("e15", "A", NULL);
  err = apply_fail (e, &ev, REFERRAL_ERROR_DUPLICATE_MEMBER);
  assert_prefix (err, "join \"A\": ");
  g_error_free (err);

  ev = tu_order ("e16", "o1", "A", 100, NULL);
  err = apply_fail (e, &ev, REFERRAL_ERROR_DUPLICATE_ORDER);
  assert_prefix (err, "order \"o1\": ");
  g_error_free (err);

  ev = tu_order ("e17", "o17", "A", 0, NULL);
  err = apply_fail (e, &ev, REFERRAL_ERROR_INVALID_EVENT);
  assert_prefix (err, "order \"o17\": ");
  assert_contains (err->message, "amount");
  g_error_free (err);
  ev = tu_order ("e17", "o17", "A", -100, NULL);
  apply_reject (e, &ev, REFERRAL_ERROR_INVALID_EVENT);

  ev = tu_withdraw ("e18", "A", 0);
  err = apply_fail (e, &ev, REFERRAL_ERROR_INVALID_EVENT);
  assert_prefix (err, "withdraw \"A\": ");
  assert_contains (err->message, "amount");
  g_error_free (err);
  ev = tu_withdraw ("e18", "A", -5);
  apply_reject (e, &ev, REFERRAL_ERROR_INVALID_EVENT);
  ev = tu_withdraw ("e19", "Q", 5);
  err = apply_fail (e, &ev, REFERRAL_ERROR_UNKNOWN_MEMBER);
  assert_prefix (err, "withdraw \"Q\": ");
  assert_contains (err->message, "\"Q\"");
  g_error_free (err);

  /* Promotions must go up, to a rank that exists, of a member that exists. */
  ev = tu_promote ("e20", "A", "boss");
  err = apply_fail (e, &ev, REFERRAL_ERROR_INVALID_RANK);
  assert_prefix (err, "promote \"A\": ");
  assert_contains (err->message, "boss");
  g_error_free (err);
  ev = tu_promote ("e21", "A", "user");
  err = apply_fail (e, &ev, REFERRAL_ERROR_INVALID_RANK);
  assert_prefix (err, "promote \"A\": ");
  g_error_free (err);
  ev_promote (e, "e22", "A", "member");
  ev = tu_promote ("e23", "A", "member");
  apply_reject (e, &ev, REFERRAL_ERROR_INVALID_RANK);
  ev = tu_promote ("e24", "A", "user");
  apply_reject (e, &ev, REFERRAL_ERROR_INVALID_RANK);
  ev = tu_promote ("e25", "X", "member");
  err = apply_fail (e, &ev, REFERRAL_ERROR_UNKNOWN_MEMBER);
  assert_prefix (err, "promote \"X\": ");
  g_error_free (err);

  ev = tu_command ("e26", "frobnicate", "A", NULL, NULL);
  err = apply_fail (e, &ev, REFERRAL_ERROR_UNKNOWN_COMMAND);
  assert_contains (err->message, "frobnicate");
  g_error_free (err);

  /* Missing required fields. */
  ev = tu_join ("e27", NULL, NULL);
  apply_reject (e, &ev, REFERRAL_ERROR_INVALID_EVENT);
  ev = tu_order ("e28", NULL, "A", 100, NULL);
  apply_reject (e, &ev, REFERRAL_ERROR_INVALID_EVENT);
  ev = tu_order ("e29", "o29", NULL, 100, NULL);
  apply_reject (e, &ev, REFERRAL_ERROR_INVALID_EVENT);
  ev = tu_refund ("e30", NULL);
  apply_reject (e, &ev, REFERRAL_ERROR_INVALID_EVENT);
  ev = tu_promote ("e31", "A", NULL);
  apply_reject (e, &ev, REFERRAL_ERROR_INVALID_EVENT);
  ev = tu_withdraw ("e32", NULL, 5);
  apply_reject (e, &ev, REFERRAL_ERROR_INVALID_EVENT);
  ev = tu_period_close ("e33", NULL);
  apply_reject (e, &ev, REFERRAL_ERROR_INVALID_EVENT);

  ck_assert_uint_eq (referral_engine_n_events (e), 5);
  ck_assert (referral_engine_check_invariants (e, NULL));
}
END_TEST

/* ---- idempotency -------------------------------------------------------- */

START_TEST (test_idempotency)
{
  g_autoptr (ReferralEngine) e = tu_demo_engine ();
  ReferralEvent j = tu_join ("e1", "A", NULL);
  apply_ok (e, &j);
  ReferralEvent j2 = tu_join ("e2", "B", "A");
  apply_ok (e, &j2);

  /* Same id, same content (other string pointers): a duplicate, even though
   * a second join of A would otherwise be refused. */
  char *id = g_strdup ("e1"), *member = g_strdup ("A");
  ReferralEvent again = tu_join (id, member, NULL);
  ReferralApplyResult r = apply_dup (e, &again);
  ck_assert_uint_eq (r.seq, 0);
  ck_assert_uint_eq (r.n_postings, 0);
  g_free (id);
  g_free (member);

  /* Same id, different content. */
  ReferralEvent other = tu_join ("e1", "C", NULL);
  GError *err = apply_fail (e, &other, REFERRAL_ERROR_ID_CONFLICT);
  assert_contains (err->message, "e1");
  g_error_free (err);
  ReferralEvent with_sponsor = tu_join ("e1", "A", "B");
  apply_reject (e, &with_sponsor, REFERRAL_ERROR_ID_CONFLICT);
  ReferralEvent other_type = tu_promote ("e1", "A", "member");
  apply_reject (e, &other_type, REFERRAL_ERROR_ID_CONFLICT);
  ReferralEvent timed = tu_join ("e1", "A", NULL);
  timed.time = "2024-01-01T00:00:00Z";
  apply_reject (e, &timed, REFERRAL_ERROR_ID_CONFLICT);

  /* Amounts as written: "699" and "699.00" differ, so do "699" and 699. */
  ReferralEvent o = tu_order ("e3", "o1", "B", 69900, NULL);
  o.amount_text = "699";
  o.amount_quoted = TRUE;
  r = apply_ok (e, &o);
  ck_assert_uint_eq (r.seq, 2);
  ck_assert_int_eq (tu_available (e, "A"), 3495);
  ReferralEvent o_same = o;
  o_same.amount_text = g_strdup ("699");
  apply_dup (e, &o_same);
  g_free ((char *) o_same.amount_text);
  ReferralEvent o_dec = o;
  o_dec.amount_text = "699.00";
  apply_reject (e, &o_dec, REFERRAL_ERROR_ID_CONFLICT);
  ReferralEvent o_num = o;
  o_num.amount_quoted = FALSE;
  apply_reject (e, &o_num, REFERRAL_ERROR_ID_CONFLICT);
  ReferralEvent o_sku = o;
  o_sku.sku = "pack";
  apply_reject (e, &o_sku, REFERRAL_ERROR_ID_CONFLICT);
  ReferralEvent o_amt = o;
  o_amt.amount = 69901;
  o_amt.amount_text = "699.01";
  apply_reject (e, &o_amt, REFERRAL_ERROR_ID_CONFLICT);

  /* Events built in code compare their amounts. */
  ReferralEvent w = tu_withdraw ("e4", "A", 100);
  apply_ok (e, &w);
  apply_dup (e, &w);
  ReferralEvent w2 = tu_withdraw ("e4", "A", 101);
  apply_reject (e, &w2, REFERRAL_ERROR_ID_CONFLICT);

  /* A rejected event's id was never applied: it can be used again, even for
   * another type of event, and then it is recorded. */
  ReferralEvent bad = tu_order ("e5", "o5", "nobody", 100, NULL);
  apply_reject (e, &bad, REFERRAL_ERROR_UNKNOWN_MEMBER);
  apply_reject (e, &bad, REFERRAL_ERROR_UNKNOWN_MEMBER);
  ReferralEvent reuse = tu_join ("e5", "nobody", NULL);
  r = apply_ok (e, &reuse);
  ck_assert_uint_eq (r.seq, 4);
  apply_reject (e, &bad, REFERRAL_ERROR_ID_CONFLICT);
  ck_assert_str_eq (referral_engine_event_id (e, 4), "e5");

  ck_assert_uint_eq (referral_engine_n_events (e), 5);
  const char *ids[] = { "e1", "e2", "e3", "e4", "e5" };
  for (guint32 s = 0; s < 5; s++)
    ck_assert_str_eq (referral_engine_event_id (e, s), ids[s]);
}
END_TEST

/* Fingerprints are stored (journals, snapshots) and compared across runs
 * and versions, so their values are pinned: fields of every length 0..24
 * (every tail length of the eight-byte steps, in several field slots),
 * folded into one value computed by the byte-by-byte tail of a0b206f. */
START_TEST (test_fingerprint_pinned)
{
  const char *alpha = "abcdefghijklmnopqrstuvwxyz0123456789";
  guint64 fold = 0;
  for (int len = 0; len <= 24; len++)
    {
      char s[32];
      memcpy (s, alpha + len % 7, len);
      s[len] = '\0';
      ReferralEvent ev;
      memset (&ev, 0, sizeof ev);
      ev.type = REFERRAL_EVENT_ORDER;
      ev.id = s;
      ev.member = "m\xe4x";
      ev.order = s;
      ev.sku = len ? s + 1 : NULL;
      ev.amount = 1000 + len;
      guint64 f = referral_event_fingerprint (&ev);
      if (len == 0)
        ck_assert_uint_eq (f, 0x38e4dc740bbeb34cull);
      if (len == 23)
        ck_assert_uint_eq (f, 0x242395a17d178649ull);
      fold = (fold ^ f) * 0x100000001b3ull;
    }
  ck_assert_uint_eq (fold, 0xabdd735a952b494dull);
}
END_TEST

START_TEST (test_fingerprint)
{
  ReferralEvent a = tu_order ("e1", "o1", "B", 69900, "pack");
  char *o1 = g_strdup ("o1"), *b = g_strdup ("B"), *pack = g_strdup ("pack");
  ReferralEvent a2 = tu_order ("e1", o1, b, 69900, pack);
  guint64 fa = referral_event_fingerprint (&a);
  ck_assert_uint_eq (referral_event_fingerprint (&a2), fa);
  g_free (o1);
  g_free (b);
  g_free (pack);

  ReferralEvent v = a;
  v.member = "C";
  ck_assert_uint_ne (referral_event_fingerprint (&v), fa);
  v = a;
  v.order = "o2";
  ck_assert_uint_ne (referral_event_fingerprint (&v), fa);
  v = a;
  v.sku = NULL;
  ck_assert_uint_ne (referral_event_fingerprint (&v), fa);
  v = a;
  v.amount = 69901;
  ck_assert_uint_ne (referral_event_fingerprint (&v), fa);
  v = a;
  v.type = REFERRAL_EVENT_WITHDRAW;
  ck_assert_uint_ne (referral_event_fingerprint (&v), fa);
  v = a;
  v.amount_text = "699";
  v.amount_quoted = TRUE;
  guint64 f699q = referral_event_fingerprint (&v);
  ck_assert_uint_ne (f699q, fa);
  v.amount_quoted = FALSE;
  ck_assert_uint_ne (referral_event_fingerprint (&v), f699q);
  v.amount_text = "699.00";
  v.amount_quoted = TRUE;
  ck_assert_uint_ne (referral_event_fingerprint (&v), f699q);
  /* Fields moved between slots are different content. */
  ReferralEvent j1 = tu_join ("e", "A", "B"), j2 = tu_join ("e", "B", "A");
  ck_assert_uint_ne (referral_event_fingerprint (&j1), referral_event_fingerprint (&j2));
  ReferralEvent j3 = tu_join ("e", "AB", NULL), j4 = tu_join ("e", "A", "B");
  ck_assert_uint_ne (referral_event_fingerprint (&j3), referral_event_fingerprint (&j4));

  ck_assert_str_eq (referral_event_type_name (&a), "order");
  ReferralEvent t = tu_join ("e", "A", NULL);
  ck_assert_str_eq (referral_event_type_name (&t), "join");
  t = tu_refund ("e", "o");
  ck_assert_str_eq (referral_event_type_name (&t), "refund");
  t = tu_period_close ("e", "p");
  ck_assert_str_eq (referral_event_type_name (&t), "period_close");
  t = tu_withdraw ("e", "A", 1);
  ck_assert_str_eq (referral_event_type_name (&t), "withdraw");
  t = tu_promote ("e", "A", "member");
  ck_assert_str_eq (referral_event_type_name (&t), "promote");
  t = tu_command ("e", "transpose", "A", "B", "C");
  ck_assert_str_eq (referral_event_type_name (&t), "transpose");
}
END_TEST

/* ---- engine state accessors and invariants ----------------------------- */

START_TEST (test_accessors)
{
  g_autoptr (ReferralEngine) e = tu_demo_engine ();
  ck_assert_uint_eq (referral_engine_n_events (e), 0);
  ck_assert_uint_eq (referral_engine_n_periods (e), 0);
  guint64 empty_hash = referral_engine_state_hash (e);
  ev_join (e, "j1", "A", NULL);
  ev_join (e, "j2", "B", "A");
  ck_assert_uint_ne (referral_engine_state_hash (e), empty_hash);
  ev_order (e, "e-o1", "o1", "B", 1234, "pack");
  ev_close (e, "c1", "2024-01");
  ev_order (e, "e-o2", "o2", "B", 99, NULL);
  ck_assert_uint_eq (referral_engine_n_periods (e), 1);
  ck_assert_uint_eq (referral_engine_n_events (e), 5);
  ck_assert_str_eq (referral_engine_event_id (e, 3), "c1");

  ReferralOrder o;
  memset (&o, 0, sizeof o);
  ck_assert (referral_engine_lookup_order (e, "o1", &o));
  ck_assert_str_eq (o.key, "o1");
  ck_assert_uint_eq (o.buyer, tu_member (e, "B"));
  ck_assert_int_eq (o.amount, 1234);
  ck_assert_str_eq (o.sku, "pack");
  ck_assert_uint_eq (o.event, 2);
  ck_assert_uint_eq (o.period, 0);
  ck_assert (!o.refunded);
  ck_assert (referral_engine_lookup_order (e, "o2", &o));
  ck_assert_ptr_null (o.sku);
  ck_assert_uint_eq (o.event, 4);
  ck_assert_uint_eq (o.period, 1);
  ck_assert (!referral_engine_lookup_order (e, "o3", &o));
  ev_refund (e, "r1", "o1");
  ck_assert (referral_engine_lookup_order (e, "o1", &o));
  ck_assert (o.refunded);

  g_autoptr (GError) err = NULL;
  ck_assert (referral_engine_check_invariants (e, &err));
  assert_no_error (err);

  /* Equal streams, equal hashes; a different stream, a different hash. */
  g_autoptr (ReferralEngine) e2 = tu_demo_engine ();
  ev_join (e2, "j1", "A", NULL);
  ev_join (e2, "j2", "B", "A");
  ev_order (e2, "e-o1", "o1", "B", 1234, "pack");
  ev_close (e2, "c1", "2024-01");
  guint64 partial = referral_engine_state_hash (e2);
  ev_order (e2, "e-o2", "o2", "B", 99, NULL);
  ev_refund (e2, "r1", "o1");
  ck_assert_uint_eq (referral_engine_state_hash (e2), referral_engine_state_hash (e));
  ck_assert_uint_ne (partial, referral_engine_state_hash (e));
  g_autoptr (ReferralEngine) e3 = tu_demo_engine ();
  ev_join (e3, "j1", "A", NULL);
  ev_join (e3, "j2", "B", "A");
  ev_order (e3, "e-o1", "o1", "B", 1234, "pack");
  ev_close (e3, "c1", "2024-01");
  ev_order (e3, "e-o2", "o2", "B", 100, NULL);
  ev_refund (e3, "r1", "o1");
  ck_assert_uint_ne (referral_engine_state_hash (e3), referral_engine_state_hash (e));
  /* Ranks are part of the state. */
  g_autoptr (ReferralEngine) e4 = tu_demo_engine ();
  g_autoptr (ReferralEngine) e5 = tu_demo_engine ();
  ev_join (e4, "j1", "A", NULL);
  ev_join (e5, "j1", "A", NULL);
  ck_assert_uint_eq (referral_engine_state_hash (e4), referral_engine_state_hash (e5));
  ev_promote (e4, "p", "A", "member");
  ck_assert_uint_ne (referral_engine_state_hash (e4), referral_engine_state_hash (e5));

  /* Invariant checking can be switched off and on. */
  referral_engine_set_check_invariants (e, FALSE);
  ev_join (e, "j3", "C", "B");
  referral_engine_set_check_invariants (e, TRUE);
  ev_order (e, "e-o3", "o3", "C", 500, NULL);
  ck_assert (referral_ledger_is_balanced (referral_engine_ledger (e)));
}
END_TEST

int
main (void)
{
  tu_register_test_rules ();
  const ReferralRuleType *types[] = { &fx_type, &watch_type, &bad_type, &kinds_fx_type,
                                      &kinds_all_type };
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr (GError) err = NULL;
      if (!referral_rule_type_register (types[i], &err))
        g_error ("registering %s: %s", types[i]->name, err->message);
    }
  Suite *s = suite_create ("engine");
  TCase *tc = tu_tcase (s, "transactions", 30);
  tcase_add_test (tc, test_rollback_order);
  tcase_add_test (tc, test_rollback_other_events);
  tcase_add_test (tc, test_invalid_effects);
  tcase_add_test (tc, test_rank_hooks);
  tcase_add_test (tc, test_changed_many);
  tcase_add_test (tc, test_posting_kinds);
  tc = tu_tcase (s, "validation", 30);
  tcase_add_test (tc, test_event_errors);
  tc = tu_tcase (s, "idempotency", 30);
  tcase_add_test (tc, test_idempotency);
  tcase_add_test (tc, test_fingerprint);
  tcase_add_test (tc, test_fingerprint_pinned);
  tc = tu_tcase (s, "state", 30);
  tcase_add_test (tc, test_accessors);
  return tu_run_suites (s, NULL);
}
