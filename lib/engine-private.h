/* The engine's internals: state, undo log, and the context given to rules. */
#ifndef REFERRAL_ENGINE_PRIVATE_H
#define REFERRAL_ENGINE_PRIVATE_H

#include <referral/engine.h>
#include <referral/rule.h>

#include "intern.h"
#include "ledger-private.h"
#include "scheme-private.h"
#include "tree-private.h"

/* One entry of the undo log.  The log of the event being applied is also
 * the list of its effects, which subscribers are told after commit. */
typedef enum {
  UNDO_JOIN,       /* a: member */
  UNDO_POST,       /* a posting was appended */
  UNDO_RANK,       /* a: member, b: old rank, c: new rank */
  UNDO_MOVE,       /* a: member, b: old parent, c: old previous sibling,
                      d: new parent */
  UNDO_FIELD,      /* a: field, b: member, c: word, v: old value */
  UNDO_LIST_PUSH,  /* a: list */
  UNDO_LIST_CLEAR, /* a: list, p: the old records (GArray*) */
  UNDO_ORDER,      /* an order was added */
  UNDO_REFUNDED,   /* a: order */
  UNDO_PERIOD      /* the period counter went up */
} UndoKind;

typedef struct {
  UndoKind kind;
  guint32 a, b, c, d;
  gint64 v;
  gpointer p;
} UndoEntry;

typedef struct {
  guint id;
  ReferralSubscriber sub;
  gpointer user_data;
  GDestroyNotify destroy;
} Subscription;

/* Hooks a rule may implement, so that the engine calls only those rules
 * that have each one. */
typedef enum {
  HOOK_JOIN, HOOK_ORDER, HOOK_REFUND, HOOK_PERIOD_CLOSE, HOOK_WITHDRAW,
  HOOK_RANK_CHANGE, HOOK_POSTING, HOOK_REVERSE, HOOK_EVENT_END, N_HOOKS
} HookId;

/* referral_intern_hash() of the event's keys (those it has), and their
 * lengths, computed once per event: the batch call computes them ahead, to
 * prefetch the slots, and every lookup and insertion of those keys, and the
 * event's fingerprint, reuse them. */
typedef struct {
  guint32 id, member, sponsor, order;
  gsize id_len, member_len, sponsor_len, order_len;
} EventHashes;

/* event.c: referral_event_fingerprint() of @ev, given the lengths of its
 * id, member, sponsor and order keys (those it has). */
guint64 referral_event_fingerprint_sized (const ReferralEvent *ev, const EventHashes *h);

struct _ReferralCtx {
  ReferralEngine *engine;
  const ReferralEvent *event;
  const EventHashes *hashes; /* of event */
  guint32 seq;
  guint8 rule;       /* rule running now: index + 1, 0 for the engine */
  guint depth;       /* nesting of posting / rank-change hooks */
  GError *failed;    /* the first effect a rule proposed that was refused:
                        the event is rejected even if the rule ignored it */
};

struct _ReferralEngine {
  ReferralScheme *scheme;
  ReferralRuleInstance **rules;
  guint n_rules;
  guint8 *hooks[N_HOOKS];   /* rule indices having each hook */
  guint n_hooks[N_HOOKS];
  /* per posting kind, the rules whose on_posting wants it (in rule order):
   * kind_hooks[k][0 .. n_kind_hooks[k]) */
  guint8 **kind_hooks;
  guint8 *n_kind_hooks;

  ReferralTree tree;
  ReferralLedger ledger;

  /* member fields: one row of row_words int64 words per member holding all
   * its fields, so that the rules' reads of one member share cache lines;
   * field f is words field_offset[f] .. + field_words[f] of the row */
  guint n_fields;
  guint *field_words;
  guint *field_offset;
  guint row_words;
  gint64 *rows;
  guint32 field_cap;

  /* lists: one GArray of int64 words per list */
  guint n_lists;
  guint *list_words;
  GArray **lists;

  /* orders: index == entry of order_keys */
  ReferralIntern order_keys;
  ReferralIntern skus;      /* distinct skus, interned */
  guint32 n_orders, cap_orders;
  ReferralMember *order_buyer;
  gint64 *order_amount;
  guint32 *order_sku;       /* sku entry, or REFERRAL_INTERN_NONE */
  guint32 *order_event;
  guint32 *order_period;
  guint8 *order_refunded;

  /* applied events: seq == entry of event_ids */
  ReferralIntern event_ids;
  guint64 *event_fp;
  guint32 n_periods;

  /* the event being applied: its undo log and the members it changed
   * (each once); plain arrays, so that a push is a few inline stores */
  UndoEntry *undo;
  guint n_undo, cap_undo;
  guint n_undo_lists;       /* UNDO_LIST_CLEAR entries in it (saved lists) */
  ReferralMember *changed;
  guint n_changed, cap_changed;
  /* ...and the same members as a small open-addressing set (slots hold a
   * member or REFERRAL_NO_MEMBER; CHANGED_SET_MIN slots, more while an
   * event changes many members), so that marking a member again is found
   * without touching per-member memory */
  ReferralMember *changed_set;
  guint32 changed_mask;     /* slots - 1 */
  guint changed_shift;      /* 32 - log2 (slots) */

  gboolean check_invariants;
  GArray *subscriptions;    /* Subscription */
  guint next_subscription;
};

/* Appends @u to the undo log of the event being applied. */
static inline void
referral_engine_push_undo (ReferralEngine *e, UndoEntry u)
{
  if (G_UNLIKELY (e->n_undo == e->cap_undo))
    {
      e->cap_undo = e->cap_undo ? e->cap_undo * 2 : 64;
      e->undo = g_renew (UndoEntry, e->undo, e->cap_undo);
    }
  e->undo[e->n_undo++] = u;
}

/* ctx.c: effects with undo, used by the engine itself too. */
gboolean referral_engine_post (ReferralCtx *ctx, ReferralAccount from, ReferralAccount to,
                               gint64 amount, ReferralKind kind, guint64 cause,
                               guint8 flags, gboolean run_hooks, guint64 *index,
                               GError **error);
gboolean referral_engine_set_rank (ReferralCtx *ctx, ReferralMember member,
                                   ReferralRank rank, GError **error);
void referral_engine_mark_changed (ReferralEngine *engine, ReferralMember member);
/* Sets up (first call) or empties the changed-members set, for the next
 * event. */
void referral_engine_reset_changed (ReferralEngine *engine);
void referral_engine_fill_order (const ReferralEngine *engine, guint32 index,
                                 ReferralOrder *out);

#endif
