/* Helpers shared by the chain 2+1 suites (test-chain21*.c).
 *
 * Amounts are minor units (fen): 69900 is 699.00. */
#ifndef TEST_CHAIN21_COMMON_H
#define TEST_CHAIN21_COMMON_H

#include "testutil.h"

G_BEGIN_DECLS

#define GIFT 69900

/* A fresh event id ("t1", "t2", ...); valid until four more are made. */
const char *c21_id (void);

/* Event shorthands: each applies one event, which must apply. */
#define JOIN(e, m, s) ev_join ((e), c21_id (), (m), (s))
#define BUY(e, o, m) ev_order ((e), c21_id (), (o), (m), GIFT, "gift")
#define ORDER(e, o, m, amount, sku) ev_order ((e), c21_id (), (o), (m), (amount), (sku))
#define PROMOTE(e, m, r) ev_promote ((e), c21_id (), (m), (r))
#define REFUND(e, o) ev_refund ((e), c21_id (), (o))
#define CLOSE(e, p) ev_close ((e), c21_id (), (p))
#define WITHDRAW(e, m, a) ev_withdraw ((e), c21_id (), (m), (a))
#define TRANSPOSE(e, m, o, n) c21_transpose_at (__FILE__, __LINE__, (e), (m), (o), (n))
ReferralApplyResult c21_transpose_at (const char *file, int line, ReferralEngine *e,
                                      const char *member, const char *old_member,
                                      const char *new_member);

/* The built-in chain21 scheme's engine (invariants on). */
ReferralEngine *c21_engine (void);
/* The same scheme text plus the probe rule (see c21_probe). */
ReferralEngine *c21_probed_engine (void);

/* Fails unless @key has exactly @avail available and @held held. */
#define assert_funds(e, key, avail, held) \
  c21_assert_funds_at (__FILE__, __LINE__, (e), (key), (avail), (held))
void c21_assert_funds_at (const char *file, int line, const ReferralEngine *e,
                          const char *key, gint64 avail, gint64 held);

/* The balance of the pool named "pool". */
gint64 c21_pool (const ReferralEngine *e);
/* (transfer none) the rank name of @key, and its placement parent's key
 * ("-" for a root). */
const char *c21_rank (const ReferralEngine *e, const char *key);
const char *c21_parent (const ReferralEngine *e, const char *key);

/* The rule type "test_chain21_probe" (registered by c21_register_probe):
 * declares the fields "seeds" (2 words), "help_fund_released",
 * "performance:pool" and "sponsored_at_least:1", and the command "probe",
 * which always fails, with the member's values as its message, so that
 * reading them changes nothing.  c21_probe returns (transfer full) that
 * text: "seeds=B,C released=0 perf=69900 count=2". */
void c21_register_probe (void);
#define c21_probe(e, key) c21_probe_at (__FILE__, __LINE__, (e), (key))
char *c21_probe_at (const char *file, int line, ReferralEngine *e, const char *key);
#define assert_probe(e, key, want) do { \
    g_autofree char *got_ = c21_probe ((e), (key)); \
    ck_assert_msg (strcmp (got_, (want)) == 0, "probe %s:\n  got  %s\n  want %s", \
                   (key), got_, (want)); \
  } while (0)

/* (transfer full) the postings of applied event @r, as text:
 * "sale outside>platform 69900; direct platform>A:available 30000". */
char *c21_postings_text (const ReferralEngine *e, ReferralApplyResult r);
#define assert_postings(e, r, want) do { \
    g_autofree char *got_ = c21_postings_text ((e), (r)); \
    ck_assert_msg (strcmp (got_, (want)) == 0, "postings:\n  got  %s\n  want %s", got_, (want)); \
  } while (0)

/* A subscriber that logs rank changes, moves, releases and commits:
 * "rank B user>agent; move C B>A; release R 28000; applied; ". */
typedef struct {
  ReferralEngine *engine;
  GString *text;
  guint id;
} C21Log;
void c21_log_start (C21Log *log, ReferralEngine *e);
/* (transfer full) the text logged since the last call. */
char *c21_log_take (C21Log *log);
void c21_log_stop (C21Log *log);

G_END_DECLS

#endif
