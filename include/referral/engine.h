/* libreferral: the engine.
 *
 * An engine folds events into state (tree, rule data, ledger) under one
 * scheme.  Each event is applied whole or, when invalid or refused by a rule,
 * not at all: on failure the state, the ledger and the idempotency record are
 * exactly as before and the engine stays usable.
 *
 * An engine is not thread-safe; use one per thread, or lock around it. */
#ifndef REFERRAL_ENGINE_H
#define REFERRAL_ENGINE_H

#include <glib.h>
#include <referral/export.h>
#include <referral/event.h>
#include <referral/ledger.h>
#include <referral/scheme.h>
#include <referral/tree.h>

G_BEGIN_DECLS

typedef struct _ReferralEngine ReferralEngine;

typedef enum {
  REFERRAL_APPLIED = 0,  /* the event was applied */
  REFERRAL_DUPLICATE     /* an event with this id and content was applied
                            before; nothing was done */
} ReferralApplyStatus;

typedef struct {
  ReferralApplyStatus status;
  guint32 seq;           /* the event's sequence number (of the first
                            application, for a duplicate) */
  guint64 first_posting; /* the postings it made (none for a duplicate) */
  guint64 n_postings;
} ReferralApplyResult;

/* An order as the engine records it. */
typedef struct {
  const char *key;       /* the order id (borrowed) */
  ReferralMember buyer;
  gint64 amount;
  const char *sku;       /* NULL when the order had none (borrowed) */
  guint32 event;         /* sequence number of the order event */
  guint32 period;        /* number of period closes before the order */
  gboolean refunded;
} ReferralOrder;

/* referral_engine_new:
 * Returns: (transfer full): an empty engine for @scheme (which it refs), or
 * NULL with an error when a rule could not be set up. */
REFERRAL_API ReferralEngine *referral_engine_new (ReferralScheme *scheme,
                                                  GError **error);

/* Frees @engine; NULL is a no-op. */
REFERRAL_API void referral_engine_free (ReferralEngine *engine);

/* Returns: (transfer none): the engine's scheme. */
REFERRAL_API ReferralScheme *referral_engine_scheme (const ReferralEngine *engine);
/* Returns: (transfer none): the member tree, valid while @engine lives. */
REFERRAL_API const ReferralTree *referral_engine_tree (const ReferralEngine *engine);
/* Returns: (transfer none): the ledger, valid while @engine lives. */
REFERRAL_API const ReferralLedger *referral_engine_ledger (const ReferralEngine *engine);

/* referral_engine_apply:
 * Applies @event.
 * @result: (out) (optional): what happened
 * @error: on rejection, a REFERRAL_ERROR whose message names the event and
 *   the reason, for example: order "o9": member "X" does not exist.
 * Returns: TRUE when applied or recognised as a duplicate; FALSE when
 * rejected, with nothing changed. */
REFERRAL_API gboolean referral_engine_apply (ReferralEngine *engine,
                                             const ReferralEvent *event,
                                             ReferralApplyResult *result,
                                             GError **error);

/* referral_engine_apply_many:
 * Applies @n_events events in order, exactly as that many
 * referral_engine_apply() calls would (the same results, subscribers told
 * the same things), and stops at the first rejected event, which changes
 * nothing.  Faster on large batches: while it applies one event it
 * prefetches what the next ones will read (their key slots, their members'
 * tree, field and balance entries), so that cache misses overlap instead of
 * following one another.
 * @events: (array length=n_events): the events
 * @n_done: (out) (optional): events applied or skipped as duplicates; on
 *   failure also the index of the rejected event
 * @n_duplicates: (out) (optional): how many of those were duplicates
 * @error: the rejected event's error, as referral_engine_apply() gives it
 * Returns: TRUE when every event was applied or was a duplicate. */
REFERRAL_API gboolean referral_engine_apply_many (ReferralEngine *engine,
                                                  const ReferralEvent *events,
                                                  gsize n_events, gsize *n_done,
                                                  gsize *n_duplicates, GError **error);

/* referral_engine_n_events: Returns: the number of events applied. */
REFERRAL_API guint32 referral_engine_n_events (const ReferralEngine *engine);

/* referral_engine_event_id:
 * Returns: (transfer none): the id of applied event @seq. */
REFERRAL_API const char *referral_engine_event_id (const ReferralEngine *engine,
                                                   guint32 seq);

/* referral_engine_n_periods: Returns: the number of period closes applied. */
REFERRAL_API guint32 referral_engine_n_periods (const ReferralEngine *engine);

/* referral_engine_lookup_order:
 * Returns: TRUE and fills @out (strings borrowed from the engine) when an
 * order with id @key was applied. */
REFERRAL_API gboolean referral_engine_lookup_order (const ReferralEngine *engine,
                                                    const char *key,
                                                    ReferralOrder *out);

/* referral_engine_set_check_invariants:
 * When @check is TRUE, the engine verifies after every event that the
 * ledger sums to zero and the tree is consistent, and rejects (and rolls
 * back) the event otherwise.  O(members) per event: for tests.  Builds
 * configured with -Dinvariants=true turn it on by default in every new
 * engine; this call still decides for one engine (scale tests turn it off). */
REFERRAL_API void referral_engine_set_check_invariants (ReferralEngine *engine,
                                                        gboolean check);

/* referral_engine_check_invariants:
 * Returns: TRUE when the ledger sums to zero and every placement parent
 * link is consistent; otherwise FALSE with REFERRAL_ERROR_REJECTED saying
 * what is broken. */
REFERRAL_API gboolean referral_engine_check_invariants (const ReferralEngine *engine,
                                                        GError **error);

/* referral_engine_state_hash:
 * Returns: a 64-bit digest of the whole state: members (keys, relations,
 * ranks, rule data), orders, balances and every posting.  Equal engines
 * have equal hashes; use it to compare runs. */
REFERRAL_API guint64 referral_engine_state_hash (const ReferralEngine *engine);

/* Subscribers are told what happened after an event is committed (never for
 * a rejected event, except through `rejected`).  Any callback may be NULL. */
#define REFERRAL_SUBSCRIBER_VERSION 1
typedef struct {
  guint32 version; /* REFERRAL_SUBSCRIBER_VERSION */
  void (*applied) (gpointer user_data, const ReferralEvent *event, guint32 seq);
  void (*rejected) (gpointer user_data, const ReferralEvent *event, const GError *error);
  void (*joined) (gpointer user_data, ReferralMember member);
  void (*posted) (gpointer user_data, const ReferralPosting *posting, guint64 index);
  void (*rank_changed) (gpointer user_data, ReferralMember member,
                        ReferralRank old_rank, ReferralRank new_rank);
  void (*moved) (gpointer user_data, ReferralMember member,
                 ReferralMember old_parent, ReferralMember new_parent);
  void (*released) (gpointer user_data, ReferralMember member, gint64 amount,
                    guint64 posting_index);
} ReferralSubscriber;

/* referral_engine_subscribe:
 * Registers @subscriber (copied) with @user_data; @destroy (may be NULL) is
 * called on @user_data when unsubscribed or when the engine is freed.
 * Returns: a subscription id > 0. */
REFERRAL_API guint referral_engine_subscribe (ReferralEngine *engine,
                                              const ReferralSubscriber *subscriber,
                                              gpointer user_data,
                                              GDestroyNotify destroy);

/* referral_engine_unsubscribe:
 * Returns: TRUE when @id was a subscription of @engine. */
REFERRAL_API gboolean referral_engine_unsubscribe (ReferralEngine *engine,
                                                   guint id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReferralEngine, referral_engine_free)

G_END_DECLS

#endif
