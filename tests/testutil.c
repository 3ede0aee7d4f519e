/* Shared helpers for the Check suites; see testutil.h. */
#include "testutil.h"

#include <stdarg.h>
#include <string.h>

#include <glib/gstdio.h>

/* ---- running ---------------------------------------------------------- */

int
tu_run_suites (Suite *first, ...)
{
  SRunner *sr = srunner_create (first);
  va_list ap;
  va_start (ap, first);
  for (Suite *s = va_arg (ap, Suite *); s != NULL; s = va_arg (ap, Suite *))
    srunner_add_suite (sr, s);
  va_end (ap);
  srunner_run_all (sr, CK_ENV);
  int failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed ? 1 : 0;
}

TCase *
tu_tcase (Suite *suite, const char *name, double timeout)
{
  TCase *tc = tcase_create (name);
  tcase_set_timeout (tc, timeout);
  suite_add_tcase (suite, tc);
  return tc;
}

char *
tu_source_path (const char *relative)
{
  const char *root = g_getenv ("REFERRAL_SOURCE_DIR");
  if (root == NULL || *root == '\0')
    root = "..";
  return g_build_filename (root, relative, NULL);
}

char *
tu_fixture_path (const char *relative)
{
  g_autofree char *dir = tu_source_path ("tests/fixtures");
  return g_build_filename (dir, relative, NULL);
}

/* ---- errors ----------------------------------------------------------- */

void
tu_assert_no_error_at (const char *file, int line, const GError *err)
{
  if (err != NULL)
    _ck_assert_failed (file, line, "unexpected error",
                       "unexpected error (code %d): %s", err->code, err->message);
}

void
tu_assert_error_at (const char *file, int line, const GError *err, int code,
                    const char *msg)
{
  if (err == NULL)
    _ck_assert_failed (file, line, "expected error",
                       "expected a REFERRAL_ERROR with code %d, got no error", code);
  if (err->domain != REFERRAL_ERROR || err->code != code)
    _ck_assert_failed (file, line, "wrong error",
                       "expected REFERRAL_ERROR code %d, got %s code %d: %s",
                       code, g_quark_to_string (err->domain), err->code,
                       err->message);
  if (msg != NULL && strcmp (err->message, msg) != 0)
    _ck_assert_failed (file, line, "wrong message",
                       "expected message '%s', got '%s'", msg, err->message);
}

void
tu_assert_error_has_at (const char *file, int line, const GError *err, int code, ...)
{
  tu_assert_error_at (file, line, err, code, NULL);
  va_list ap;
  va_start (ap, code);
  for (const char *s = va_arg (ap, const char *); s != NULL; s = va_arg (ap, const char *))
    if (strstr (err->message, s) == NULL)
      {
        va_end (ap);
        _ck_assert_failed (file, line, "message lacks text",
                           "message '%s' does not contain '%s'", err->message, s);
      }
  va_end (ap);
}

void
tu_assert_contains_at (const char *file, int line, const char *haystack,
                       const char *needle)
{
  if (haystack == NULL || strstr (haystack, needle) == NULL)
    _ck_assert_failed (file, line, "text lacks substring",
                       "'%s' does not contain '%s'",
                       haystack ? haystack : "(null)", needle);
}

/* ---- events ----------------------------------------------------------- */

ReferralEvent
tu_join (const char *id, const char *member, const char *sponsor)
{
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  ev.type = REFERRAL_EVENT_JOIN;
  ev.id = id;
  ev.member = member;
  ev.sponsor = sponsor;
  return ev;
}

ReferralEvent
tu_order (const char *id, const char *order, const char *member, gint64 amount,
          const char *sku)
{
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  ev.type = REFERRAL_EVENT_ORDER;
  ev.id = id;
  ev.order = order;
  ev.member = member;
  ev.amount = amount;
  ev.sku = sku;
  return ev;
}

ReferralEvent
tu_refund (const char *id, const char *order)
{
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  ev.type = REFERRAL_EVENT_REFUND;
  ev.id = id;
  ev.order = order;
  return ev;
}

ReferralEvent
tu_withdraw (const char *id, const char *member, gint64 amount)
{
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  ev.type = REFERRAL_EVENT_WITHDRAW;
  ev.id = id;
  ev.member = member;
  ev.amount = amount;
  return ev;
}

ReferralEvent
tu_promote (const char *id, const char *member, const char *rank)
{
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  ev.type = REFERRAL_EVENT_PROMOTE;
  ev.id = id;
  ev.member = member;
  ev.rank = rank;
  return ev;
}

ReferralEvent
tu_period_close (const char *id, const char *period)
{
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  ev.type = REFERRAL_EVENT_PERIOD_CLOSE;
  ev.id = id;
  ev.period = period;
  return ev;
}

ReferralEvent
tu_command (const char *id, const char *command, const char *member,
            const char *old_member, const char *new_member)
{
  ReferralEvent ev = REFERRAL_EVENT_INIT;
  ev.type = REFERRAL_EVENT_COMMAND;
  ev.id = id;
  ev.command = command;
  ev.member = member;
  ev.old_member = old_member;
  ev.new_member = new_member;
  return ev;
}

static const char *
ev_label (const ReferralEvent *ev)
{
  return ev->id ? ev->id : "(no id)";
}

ReferralApplyResult
tu_apply_ok_at (const char *file, int line, ReferralEngine *engine,
                const ReferralEvent *ev)
{
  ReferralApplyResult res = { 0 };
  g_autoptr (GError) err = NULL;
  guint32 before = referral_engine_n_events (engine);
  if (!referral_engine_apply (engine, ev, &res, &err))
    _ck_assert_failed (file, line, "event rejected", "event %s (%s) rejected: %s",
                       ev_label (ev), referral_event_type_name (ev),
                       err ? err->message : "(no error set)");
  if (err != NULL)
    _ck_assert_failed (file, line, "error set on success",
                       "event %s applied but an error was set: %s",
                       ev_label (ev), err->message);
  if (res.status != REFERRAL_APPLIED)
    _ck_assert_failed (file, line, "event not applied",
                       "event %s was a duplicate, expected it to be applied",
                       ev_label (ev));
  if (res.seq != before || referral_engine_n_events (engine) != before + 1)
    _ck_assert_failed (file, line, "wrong seq",
                       "event %s: seq %u, n_events %u -> %u", ev_label (ev),
                       res.seq, before, referral_engine_n_events (engine));
  return res;
}

ReferralApplyResult
tu_apply_dup_at (const char *file, int line, ReferralEngine *engine,
                 const ReferralEvent *ev)
{
  ReferralApplyResult res = { 0 };
  g_autoptr (GError) err = NULL;
  guint32 before = referral_engine_n_events (engine);
  guint64 postings = referral_ledger_n_postings (referral_engine_ledger (engine));
  guint64 hash = referral_engine_state_hash (engine);
  if (!referral_engine_apply (engine, ev, &res, &err))
    _ck_assert_failed (file, line, "event rejected",
                       "duplicate event %s rejected: %s", ev_label (ev),
                       err ? err->message : "(no error set)");
  if (res.status != REFERRAL_DUPLICATE)
    _ck_assert_failed (file, line, "not a duplicate",
                       "event %s was applied again, expected a duplicate",
                       ev_label (ev));
  if (res.n_postings != 0
      || referral_engine_n_events (engine) != before
      || referral_ledger_n_postings (referral_engine_ledger (engine)) != postings
      || referral_engine_state_hash (engine) != hash)
    _ck_assert_failed (file, line, "duplicate changed state",
                       "duplicate event %s changed the engine", ev_label (ev));
  return res;
}

GError *
tu_apply_fail_at (const char *file, int line, ReferralEngine *engine,
                  const ReferralEvent *ev, int code)
{
  GError *err = NULL;
  ReferralApplyResult res = { 0 };
  guint32 before = referral_engine_n_events (engine);
  guint64 postings = referral_ledger_n_postings (referral_engine_ledger (engine));
  guint64 hash = referral_engine_state_hash (engine);
  if (referral_engine_apply (engine, ev, &res, &err))
    _ck_assert_failed (file, line, "event applied",
                       "event %s was %s, expected rejection with code %d",
                       ev_label (ev),
                       res.status == REFERRAL_DUPLICATE ? "a duplicate" : "applied",
                       code);
  if (err == NULL)
    _ck_assert_failed (file, line, "no error", "event %s rejected without an error",
                       ev_label (ev));
  if (err->domain != REFERRAL_ERROR || err->code != code)
    {
      char *msg = g_strdup (err->message);
      int got = err->code;
      g_error_free (err);
      _ck_assert_failed (file, line, "wrong error code",
                         "event %s: expected code %d, got %d: %s",
                         ev_label (ev), code, got, msg);
    }
  if (referral_engine_n_events (engine) != before
      || referral_ledger_n_postings (referral_engine_ledger (engine)) != postings
      || referral_engine_state_hash (engine) != hash)
    {
      g_error_free (err);
      _ck_assert_failed (file, line, "state changed",
                         "rejected event %s changed the engine", ev_label (ev));
    }
  return err;
}

ReferralApplyResult
tu_ev_join_at (const char *file, int line, ReferralEngine *e, const char *id,
               const char *member, const char *sponsor)
{
  ReferralEvent ev = tu_join (id, member, sponsor);
  return tu_apply_ok_at (file, line, e, &ev);
}

ReferralApplyResult
tu_ev_order_at (const char *file, int line, ReferralEngine *e, const char *id,
                const char *order, const char *member, gint64 amount,
                const char *sku)
{
  ReferralEvent ev = tu_order (id, order, member, amount, sku);
  return tu_apply_ok_at (file, line, e, &ev);
}

ReferralApplyResult
tu_ev_refund_at (const char *file, int line, ReferralEngine *e, const char *id,
                 const char *order)
{
  ReferralEvent ev = tu_refund (id, order);
  return tu_apply_ok_at (file, line, e, &ev);
}

ReferralApplyResult
tu_ev_withdraw_at (const char *file, int line, ReferralEngine *e, const char *id,
                   const char *member, gint64 amount)
{
  ReferralEvent ev = tu_withdraw (id, member, amount);
  return tu_apply_ok_at (file, line, e, &ev);
}

ReferralApplyResult
tu_ev_promote_at (const char *file, int line, ReferralEngine *e, const char *id,
                  const char *member, const char *rank)
{
  ReferralEvent ev = tu_promote (id, member, rank);
  return tu_apply_ok_at (file, line, e, &ev);
}

ReferralApplyResult
tu_ev_close_at (const char *file, int line, ReferralEngine *e, const char *id,
                const char *period)
{
  ReferralEvent ev = tu_period_close (id, period);
  return tu_apply_ok_at (file, line, e, &ev);
}

ReferralApplyResult
tu_ev_move_at (const char *file, int line, ReferralEngine *e, const char *id,
               const char *member, const char *new_parent)
{
  ReferralEvent ev = tu_command (id, "move", member, NULL, new_parent);
  return tu_apply_ok_at (file, line, e, &ev);
}

/* ---- schemes and engines ---------------------------------------------- */

ReferralScheme *
tu_scheme_from_text_at (const char *file, int line, const char *text)
{
  g_autoptr (GError) err = NULL;
  ReferralScheme *scheme = referral_scheme_load_data (text, -1, "test.ini", &err);
  if (scheme == NULL)
    _ck_assert_failed (file, line, "scheme refused", "scheme refused: %s",
                       err ? err->message : "(no error set)");
  return scheme;
}

ReferralScheme *
tu_scheme_build_at (const char *file, int line, const char *name,
                    const char *const *ranks, ...)
{
  g_autoptr (GError) err = NULL;
  ReferralSchemeBuilder *b = referral_scheme_builder_new (name);
  if (ranks != NULL && !referral_scheme_builder_set_ranks (b, ranks, &err))
    {
      referral_scheme_builder_free (b);
      _ck_assert_failed (file, line, "ranks refused", "ranks refused: %s", err->message);
    }
  va_list ap;
  va_start (ap, ranks);
  for (;;)
    {
      const char *type = va_arg (ap, const char *);
      if (type == NULL)
        break;
      const char *rule_name = va_arg (ap, const char *);
      const char *const *params = va_arg (ap, const char *const *);
      if (!referral_scheme_builder_add_rule (b, type, rule_name, params, &err))
        {
          va_end (ap);
          referral_scheme_builder_free (b);
          _ck_assert_failed (file, line, "rule refused", "rule %s (%s) refused: %s",
                             rule_name, type, err->message);
        }
    }
  va_end (ap);
  ReferralScheme *scheme = referral_scheme_builder_finish (b, &err);
  if (scheme == NULL)
    _ck_assert_failed (file, line, "scheme refused", "scheme %s refused: %s", name,
                       err ? err->message : "(no error set)");
  return scheme;
}

ReferralEngine *
tu_engine_new_at (const char *file, int line, ReferralScheme *scheme)
{
  g_autoptr (GError) err = NULL;
  ReferralEngine *engine = referral_engine_new (scheme, &err);
  if (engine == NULL)
    _ck_assert_failed (file, line, "engine refused", "referral_engine_new: %s",
                       err ? err->message : "(no error set)");
  referral_engine_set_check_invariants (engine, TRUE);
  return engine;
}

ReferralEngine *
tu_demo_engine_at (const char *file, int line)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (ReferralScheme) scheme = referral_scheme_new_builtin ("demo", &err);
  if (scheme == NULL)
    _ck_assert_failed (file, line, "no demo scheme", "built-in demo: %s",
                       err ? err->message : "(no error set)");
  return tu_engine_new_at (file, line, scheme);
}

/* ---- reading state ---------------------------------------------------- */

ReferralMember
tu_member_at (const char *file, int line, const ReferralEngine *engine,
              const char *key)
{
  ReferralMember m = referral_tree_lookup (referral_engine_tree (engine), key);
  if (m == REFERRAL_NO_MEMBER)
    _ck_assert_failed (file, line, "no such member", "member \"%s\" does not exist", key);
  return m;
}

gint64
tu_balance_at (const char *file, int line, const ReferralEngine *engine,
               const char *key, gboolean held)
{
  ReferralMember m = tu_member_at (file, line, engine, key);
  const ReferralLedger *l = referral_engine_ledger (engine);
  return referral_ledger_balance (l, referral_ledger_member_account (l, m, held));
}

gint64
tu_platform (const ReferralEngine *engine)
{
  return referral_ledger_balance (referral_engine_ledger (engine),
                                  REFERRAL_ACCOUNT_PLATFORM);
}

gint64
tu_outside (const ReferralEngine *engine)
{
  return referral_ledger_balance (referral_engine_ledger (engine),
                                  REFERRAL_ACCOUNT_OUTSIDE);
}

GArray *
tu_balances_dup (const ReferralEngine *engine)
{
  const ReferralLedger *l = referral_engine_ledger (engine);
  guint32 n = referral_ledger_n_accounts (l);
  GArray *a = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n);
  for (guint32 i = 0; i < n; i++)
    {
      gint64 b = referral_ledger_balance (l, i);
      g_array_append_val (a, b);
    }
  return a;
}

void
tu_snapshot_take (TuSnapshot *snap, const ReferralEngine *engine)
{
  const ReferralTree *t = referral_engine_tree (engine);
  snap->hash = referral_engine_state_hash (engine);
  snap->n_events = referral_engine_n_events (engine);
  snap->n_periods = referral_engine_n_periods (engine);
  snap->n_postings = referral_ledger_n_postings (referral_engine_ledger (engine));
  snap->n_members = referral_tree_size (t);
  snap->balances = tu_balances_dup (engine);
  snap->ranks = g_array_new (FALSE, FALSE, sizeof (ReferralRank));
  snap->parents = g_array_new (FALSE, FALSE, sizeof (ReferralMember));
  snap->children = g_string_new (NULL);
  for (ReferralMember m = 0; m < snap->n_members; m++)
    {
      ReferralRank r = referral_tree_rank (t, m);
      ReferralMember p = referral_tree_parent (t, m);
      g_array_append_val (snap->ranks, r);
      g_array_append_val (snap->parents, p);
      g_string_append_printf (snap->children, "%u(%u):", m,
                              referral_tree_n_children (t, m));
      for (ReferralMember c = referral_tree_first_child (t, m); c != REFERRAL_NO_MEMBER;
           c = referral_tree_next_sibling (t, c))
        g_string_append_printf (snap->children, "%u,", c);
      g_string_append_c (snap->children, ';');
    }
}

void
tu_snapshot_clear (TuSnapshot *snap)
{
  g_clear_pointer (&snap->balances, g_array_unref);
  g_clear_pointer (&snap->ranks, g_array_unref);
  g_clear_pointer (&snap->parents, g_array_unref);
  if (snap->children)
    g_string_free (snap->children, TRUE);
  snap->children = NULL;
}

void
tu_assert_snapshot_equal_at (const char *file, int line, const TuSnapshot *snap,
                             const ReferralEngine *engine)
{
  TuSnapshot now;
  tu_snapshot_take (&now, engine);
  char *what = NULL;
  if (now.n_events != snap->n_events)
    what = g_strdup_printf ("n_events %u, was %u", now.n_events, snap->n_events);
  else if (now.n_periods != snap->n_periods)
    what = g_strdup_printf ("n_periods %u, was %u", now.n_periods, snap->n_periods);
  else if (now.n_postings != snap->n_postings)
    what = g_strdup_printf ("n_postings %" G_GUINT64_FORMAT ", was %" G_GUINT64_FORMAT,
                            now.n_postings, snap->n_postings);
  else if (now.n_members != snap->n_members)
    what = g_strdup_printf ("n_members %u, was %u", now.n_members, snap->n_members);
  else if (now.balances->len != snap->balances->len)
    what = g_strdup_printf ("n_accounts %u, was %u", now.balances->len,
                            snap->balances->len);
  else if (now.children->len != snap->children->len
           || strcmp (now.children->str, snap->children->str) != 0)
    what = g_strdup_printf ("children '%s', were '%s'", now.children->str,
                            snap->children->str);
  for (guint i = 0; what == NULL && i < now.balances->len; i++)
    if (g_array_index (now.balances, gint64, i) != g_array_index (snap->balances, gint64, i))
      what = g_strdup_printf ("balance of account %u is %" G_GINT64_FORMAT
                              ", was %" G_GINT64_FORMAT, i,
                              g_array_index (now.balances, gint64, i),
                              g_array_index (snap->balances, gint64, i));
  for (guint i = 0; what == NULL && i < now.n_members; i++)
    if (g_array_index (now.ranks, ReferralRank, i) != g_array_index (snap->ranks, ReferralRank, i))
      what = g_strdup_printf ("rank of member %u is %u, was %u", i,
                              g_array_index (now.ranks, ReferralRank, i),
                              g_array_index (snap->ranks, ReferralRank, i));
    else if (g_array_index (now.parents, ReferralMember, i)
             != g_array_index (snap->parents, ReferralMember, i))
      what = g_strdup_printf ("parent of member %u is %u, was %u", i,
                              g_array_index (now.parents, ReferralMember, i),
                              g_array_index (snap->parents, ReferralMember, i));
  if (what == NULL && now.hash != snap->hash)
    what = g_strdup_printf ("state hash %016" G_GINT64_MODIFIER "x, was %016"
                            G_GINT64_MODIFIER "x", now.hash, snap->hash);
  tu_snapshot_clear (&now);
  if (what != NULL)
    _ck_assert_failed (file, line, "state changed", "state changed: %s", what);
}

static char *
relation_text (const char *file, int line, const ReferralEngine *engine,
               const char *key, gboolean sponsored)
{
  const ReferralTree *t = referral_engine_tree (engine);
  ReferralMember m = tu_member_at (file, line, engine, key);
  GString *s = g_string_new (NULL);
  guint32 n = 0;
  ReferralMember c = sponsored ? referral_tree_first_sponsored (t, m)
                               : referral_tree_first_child (t, m);
  for (; c != REFERRAL_NO_MEMBER;
       c = sponsored ? referral_tree_next_sponsored (t, c) : referral_tree_next_sibling (t, c))
    {
      if (n++ > 0)
        g_string_append_c (s, ',');
      g_string_append (s, referral_tree_key (t, c));
      if (n > referral_tree_size (t))
        _ck_assert_failed (file, line, "endless iteration",
                           "iteration over %s of %s does not end",
                           sponsored ? "sponsored" : "children", key);
    }
  guint32 counted = sponsored ? referral_tree_n_sponsored (t, m)
                              : referral_tree_n_children (t, m);
  if (counted != n)
    _ck_assert_failed (file, line, "count disagrees",
                       "%s of %s: iteration gives %u (%s), count says %u",
                       sponsored ? "sponsored" : "children", key, n, s->str, counted);
  return g_string_free (s, FALSE);
}

char *
tu_children_text_at (const char *file, int line, const ReferralEngine *engine,
                     const char *key)
{
  return relation_text (file, line, engine, key, FALSE);
}

char *
tu_sponsored_text_at (const char *file, int line, const ReferralEngine *engine,
                      const char *key)
{
  return relation_text (file, line, engine, key, TRUE);
}

/* ---- test rule types -------------------------------------------------- */

static const ReferralParamSpec no_params[] = { { NULL, 0, NULL, NULL } };

static gboolean
mover_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
            GError **error)
{
  *config = NULL;
  return referral_setup_command (setup, "move", error);
}

static gboolean
mover_on_command (ReferralCtx *ctx, gconstpointer config, const ReferralEvent *event,
                  GError **error)
{
  const ReferralTree *t = referral_ctx_tree (ctx);
  ReferralMember m = event->member ? referral_tree_lookup (t, event->member)
                                   : REFERRAL_NO_MEMBER;
  if (m == REFERRAL_NO_MEMBER)
    {
      g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_UNKNOWN_MEMBER,
                   "move: member \"%s\" does not exist",
                   event->member ? event->member : "");
      return FALSE;
    }
  ReferralMember p = REFERRAL_NO_MEMBER;
  if (event->new_member != NULL)
    {
      p = referral_tree_lookup (t, event->new_member);
      if (p == REFERRAL_NO_MEMBER)
        {
          g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_UNKNOWN_MEMBER,
                       "move: member \"%s\" does not exist", event->new_member);
          return FALSE;
        }
    }
  return referral_ctx_move (ctx, m, p, error);
}

static const ReferralRuleType mover_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "test_mover",
  .description = "test rule: the command \"move\" re-parents a member",
  .params = no_params,
  .init = mover_init,
  .on_command = mover_on_command,
};

static gboolean
fail_init (ReferralSetup *setup, const ReferralParams *params, gpointer *config,
           GError **error)
{
  *config = NULL;
  return TRUE;
}

static gboolean
refuse (GError **error, const char *what)
{
  g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_REJECTED,
               "test_fail refused %s", what);
  return FALSE;
}

static gboolean
fail_on_join (ReferralCtx *ctx, gconstpointer config, ReferralMember member,
              GError **error)
{
  const char *key = referral_tree_key (referral_ctx_tree (ctx), member);
  if (g_str_has_prefix (key, "boom"))
    return refuse (error, "the join");
  return TRUE;
}

static gboolean
fail_on_order (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order,
               GError **error)
{
  if (g_strcmp0 (order->sku, "boom") == 0)
    return refuse (error, "the order");
  return TRUE;
}

static gboolean
fail_on_refund (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order,
                GError **error)
{
  if (g_strcmp0 (order->sku, "boomrefund") == 0)
    return refuse (error, "the refund");
  return TRUE;
}

static gboolean
fail_on_period_close (ReferralCtx *ctx, gconstpointer config, const char *period,
                      GError **error)
{
  if (g_strcmp0 (period, "boom") == 0)
    return refuse (error, "the period close");
  return TRUE;
}

static gboolean
fail_on_withdraw (ReferralCtx *ctx, gconstpointer config, ReferralMember member,
                  gint64 amount, GError **error)
{
  if (amount == 13)
    return refuse (error, "the withdraw");
  return TRUE;
}

static const ReferralRuleType fail_type = {
  .abi_version = REFERRAL_RULE_ABI_VERSION,
  .name = "test_fail",
  .description = "test rule: refuses events marked \"boom\"",
  .params = no_params,
  .init = fail_init,
  .on_join = fail_on_join,
  .on_order = fail_on_order,
  .on_refund = fail_on_refund,
  .on_period_close = fail_on_period_close,
  .on_withdraw = fail_on_withdraw,
};

void
tu_register_test_rules (void)
{
  const ReferralRuleType *types[] = { &mover_type, &fail_type };
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      if (referral_rule_type_lookup (types[i]->name) == types[i])
        continue;
      g_autoptr (GError) err = NULL;
      if (!referral_rule_type_register (types[i], &err))
        ck_abort_msg ("registering %s: %s", types[i]->name, err->message);
    }
}

void
tu_remove_tree (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  if (d != NULL)
    {
      const char *name;
      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *p = g_build_filename (path, name, NULL);
          if (g_file_test (p, G_FILE_TEST_IS_DIR))
            tu_remove_tree (p);
          else
            g_remove (p);
        }
      g_dir_close (d);
    }
  g_rmdir (path);
}
