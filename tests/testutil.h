/* Shared helpers for the Check suites of libreferral.
 *
 * Every helper that can fail reports the failure at the caller's file and
 * line (the macros pass __FILE__ and __LINE__) with the GError message, so a
 * failing test says which event was refused and why.
 *
 * Engines made here have invariant checking on: the ledger must sum to zero
 * and the tree must be consistent after every event. */
#ifndef REFERRAL_TESTUTIL_H
#define REFERRAL_TESTUTIL_H

#include <check.h>
#include <glib.h>
#include <referral/referral.h>

G_BEGIN_DECLS

/* ---- running ---------------------------------------------------------- */

/* tu_run_suites:
 * Runs the NULL-terminated list of suites with srunner_run_all (CK_ENV).
 * Returns: 0 when every test passed, 1 otherwise (use as main's result). */
int tu_run_suites (Suite *first, ...) G_GNUC_NULL_TERMINATED;

/* tu_tcase:
 * Returns: a new test case named @name with a timeout of @timeout seconds,
 * already added to @suite. */
TCase *tu_tcase (Suite *suite, const char *name, double timeout);

/* tu_fixture_path:
 * Returns: (transfer full): $REFERRAL_SOURCE_DIR/tests/fixtures/@relative
 * (meson sets the variable; without it, ../tests/fixtures/@relative). */
char *tu_fixture_path (const char *relative);

/* tu_source_path:
 * Returns: (transfer full): $REFERRAL_SOURCE_DIR/@relative. */
char *tu_source_path (const char *relative);

/* tu_check: like ck_assert_msg (a message is required), but silent on
 * success.  Check records a "mark point" through a pipe or file for every
 * passing ck_assert, which dominates the time of loops that assert a lot
 * (the property suite); use this one there. */
#define tu_check(expr, ...) do { \
    if (G_UNLIKELY (!(expr))) \
      ck_abort_msg (__VA_ARGS__); \
  } while (0)

/* ---- errors ----------------------------------------------------------- */

/* Fails unless @err (a GError *) is NULL; prints its message otherwise. */
#define assert_no_error(err) tu_assert_no_error_at (__FILE__, __LINE__, (err))
void tu_assert_no_error_at (const char *file, int line, const GError *err);

/* Fails unless @err is a REFERRAL_ERROR with @code; when @msg is not NULL
 * the message must be exactly @msg. */
#define assert_error(err, code, msg) \
  tu_assert_error_at (__FILE__, __LINE__, (err), (code), (msg))
void tu_assert_error_at (const char *file, int line, const GError *err,
                         int code, const char *msg);

/* Fails unless @err is a REFERRAL_ERROR with @code whose message contains
 * every one of the NULL-terminated substrings. */
#define assert_error_has(err, code, ...) \
  tu_assert_error_has_at (__FILE__, __LINE__, (err), (code), __VA_ARGS__, NULL)
void tu_assert_error_has_at (const char *file, int line, const GError *err,
                             int code, ...) G_GNUC_NULL_TERMINATED;

/* Fails unless @haystack contains @needle. */
#define assert_contains(haystack, needle) \
  tu_assert_contains_at (__FILE__, __LINE__, (haystack), (needle))
void tu_assert_contains_at (const char *file, int line, const char *haystack,
                            const char *needle);

/* ---- events ----------------------------------------------------------- */

/* Event constructors: the strings are borrowed, not copied. */
ReferralEvent tu_join (const char *id, const char *member, const char *sponsor);
ReferralEvent tu_order (const char *id, const char *order, const char *member,
                        gint64 amount, const char *sku);
ReferralEvent tu_refund (const char *id, const char *order);
ReferralEvent tu_withdraw (const char *id, const char *member, gint64 amount);
ReferralEvent tu_promote (const char *id, const char *member, const char *rank);
ReferralEvent tu_period_close (const char *id, const char *period);
ReferralEvent tu_command (const char *id, const char *command, const char *member,
                          const char *old_member, const char *new_member);

/* apply_ok: applies @ev (a const ReferralEvent *) and fails the test unless
 * it was applied (not a duplicate).  Evaluates to the ReferralApplyResult. */
#define apply_ok(engine, ev) tu_apply_ok_at (__FILE__, __LINE__, (engine), (ev))
ReferralApplyResult tu_apply_ok_at (const char *file, int line,
                                    ReferralEngine *engine,
                                    const ReferralEvent *ev);

/* apply_dup: as apply_ok, but the event must be recognised as a duplicate. */
#define apply_dup(engine, ev) tu_apply_dup_at (__FILE__, __LINE__, (engine), (ev))
ReferralApplyResult tu_apply_dup_at (const char *file, int line,
                                     ReferralEngine *engine,
                                     const ReferralEvent *ev);

/* apply_fail: applies @ev and fails the test unless it was rejected with
 * REFERRAL_ERROR @code, and unless the engine's state hash, number of
 * events and number of postings are unchanged.
 * Evaluates to the (transfer full) GError; free it with g_error_free() or
 * declare the receiver g_autoptr(GError). */
#define apply_fail(engine, ev, code) \
  tu_apply_fail_at (__FILE__, __LINE__, (engine), (ev), (code))
GError *tu_apply_fail_at (const char *file, int line, ReferralEngine *engine,
                          const ReferralEvent *ev, int code);
/* apply_reject: apply_fail when the message does not matter. */
#define apply_reject(engine, ev, code) \
  g_error_free (tu_apply_fail_at (__FILE__, __LINE__, (engine), (ev), (code)))

/* Shorthands that build and apply one event (which must apply); each
 * evaluates to the ReferralApplyResult. */
#define ev_join(e, id, member, sponsor) \
  tu_ev_join_at (__FILE__, __LINE__, (e), (id), (member), (sponsor))
#define ev_order(e, id, order, member, amount, sku) \
  tu_ev_order_at (__FILE__, __LINE__, (e), (id), (order), (member), (amount), (sku))
#define ev_refund(e, id, order) tu_ev_refund_at (__FILE__, __LINE__, (e), (id), (order))
#define ev_withdraw(e, id, member, amount) \
  tu_ev_withdraw_at (__FILE__, __LINE__, (e), (id), (member), (amount))
#define ev_promote(e, id, member, rank) \
  tu_ev_promote_at (__FILE__, __LINE__, (e), (id), (member), (rank))
#define ev_close(e, id, period) tu_ev_close_at (__FILE__, __LINE__, (e), (id), (period))
/* The "move" command of the test_mover rule: @new_parent NULL makes a root. */
#define ev_move(e, id, member, new_parent) \
  tu_ev_move_at (__FILE__, __LINE__, (e), (id), (member), (new_parent))

ReferralApplyResult tu_ev_join_at (const char *file, int line, ReferralEngine *e,
                                   const char *id, const char *member,
                                   const char *sponsor);
ReferralApplyResult tu_ev_order_at (const char *file, int line, ReferralEngine *e,
                                    const char *id, const char *order,
                                    const char *member, gint64 amount,
                                    const char *sku);
ReferralApplyResult tu_ev_refund_at (const char *file, int line, ReferralEngine *e,
                                     const char *id, const char *order);
ReferralApplyResult tu_ev_withdraw_at (const char *file, int line, ReferralEngine *e,
                                       const char *id, const char *member,
                                       gint64 amount);
ReferralApplyResult tu_ev_promote_at (const char *file, int line, ReferralEngine *e,
                                      const char *id, const char *member,
                                      const char *rank);
ReferralApplyResult tu_ev_close_at (const char *file, int line, ReferralEngine *e,
                                    const char *id, const char *period);
ReferralApplyResult tu_ev_move_at (const char *file, int line, ReferralEngine *e,
                                   const char *id, const char *member,
                                   const char *new_parent);

/* ---- schemes and engines ---------------------------------------------- */

/* tu_scheme_from_text: loads a scheme from @text (named "test.ini" in
 * messages); fails the test on error. */
#define tu_scheme_from_text(text) tu_scheme_from_text_at (__FILE__, __LINE__, (text))
ReferralScheme *tu_scheme_from_text_at (const char *file, int line, const char *text);

/* tu_scheme_build: builds a scheme in code.  @ranks is NULL-terminated;
 * then triples (type, name, params) terminated by a NULL type, params being
 * a NULL-terminated key/value array or NULL.  Fails the test on error. */
#define tu_scheme_build(name, ranks, ...) \
  tu_scheme_build_at (__FILE__, __LINE__, (name), (ranks), __VA_ARGS__)
ReferralScheme *tu_scheme_build_at (const char *file, int line, const char *name,
                                    const char *const *ranks, ...);

/* tu_engine_new: an engine for @scheme with invariant checking on; the
 * engine holds its own reference to @scheme.  Fails the test on error. */
#define tu_engine_new(scheme) tu_engine_new_at (__FILE__, __LINE__, (scheme))
ReferralEngine *tu_engine_new_at (const char *file, int line, ReferralScheme *scheme);

/* tu_demo_engine: an engine for the built-in "demo" scheme, invariants on. */
#define tu_demo_engine() tu_demo_engine_at (__FILE__, __LINE__)
ReferralEngine *tu_demo_engine_at (const char *file, int line);

/* ---- reading state ---------------------------------------------------- */

/* tu_member: the member with key @key, which must exist. */
#define tu_member(engine, key) tu_member_at (__FILE__, __LINE__, (engine), (key))
ReferralMember tu_member_at (const char *file, int line,
                             const ReferralEngine *engine, const char *key);

/* Balances of @key's available and held accounts. */
#define tu_available(engine, key) tu_balance_at (__FILE__, __LINE__, (engine), (key), FALSE)
#define tu_held(engine, key) tu_balance_at (__FILE__, __LINE__, (engine), (key), TRUE)
gint64 tu_balance_at (const char *file, int line, const ReferralEngine *engine,
                      const char *key, gboolean held);
gint64 tu_platform (const ReferralEngine *engine);
gint64 tu_outside (const ReferralEngine *engine);

/* tu_balances_dup: (transfer full) every account's balance, indexed by
 * account; free with g_array_unref(). */
GArray *tu_balances_dup (const ReferralEngine *engine);

/* tu_snapshot: a summary of an engine's whole observable state, to compare
 * before and after a rejected event. */
typedef struct {
  guint64 hash;
  guint32 n_events;
  guint32 n_periods;
  guint64 n_postings;
  guint32 n_members;
  GArray *balances;   /* gint64 per account */
  GArray *ranks;      /* ReferralRank per member */
  GArray *parents;    /* ReferralMember per member */
  GString *children;  /* "m:c1,c2;" for every member, in iteration order */
} TuSnapshot;

void tu_snapshot_take (TuSnapshot *snap, const ReferralEngine *engine);
void tu_snapshot_clear (TuSnapshot *snap);
/* Fails unless @engine's state equals @snap in every part. */
#define assert_snapshot_equal(snap, engine) \
  tu_assert_snapshot_equal_at (__FILE__, __LINE__, (snap), (engine))
void tu_assert_snapshot_equal_at (const char *file, int line,
                                  const TuSnapshot *snap,
                                  const ReferralEngine *engine);

/* tu_children_text: (transfer full) the keys of @key's placement children
 * in iteration order, comma separated ("" for none).  Checks that
 * n_children agrees with the iteration. */
#define tu_children_text(engine, key) tu_children_text_at (__FILE__, __LINE__, (engine), (key))
char *tu_children_text_at (const char *file, int line, const ReferralEngine *engine,
                           const char *key);
/* Same for the directly sponsored members (checks n_sponsored). */
#define tu_sponsored_text(engine, key) tu_sponsored_text_at (__FILE__, __LINE__, (engine), (key))
char *tu_sponsored_text_at (const char *file, int line, const ReferralEngine *engine,
                            const char *key);

/* ---- test rule types -------------------------------------------------- */

/* tu_register_test_rules: registers (once per process) the rule types below.
 *
 * "test_mover": declares the command "move"; an event of that command moves
 *   `member` under `new_member` (a root when new_member is NULL) through
 *   referral_ctx_move().  Moves are only possible through rules.
 *
 * "test_fail": refuses, with REFERRAL_ERROR_REJECTED and a message containing
 *   "test_fail refused", an order whose sku is "boom", a refund of an order
 *   whose sku is "boomrefund", a join of a member whose key starts with
 *   "boom", a period_close of period "boom" and a withdraw of exactly 13
 *   minor units.  Place it last in a scheme to fail after the other rules
 *   proposed their effects. */
void tu_register_test_rules (void);

/* Removes @path and, when it is a directory, everything below it (for
 * temporary directories of tests; errors are ignored). */
void tu_remove_tree (const char *path);

G_END_DECLS

#endif
