/* libreferral: the double-entry ledger (read-only view).
 *
 * Every amount of money lives in an account; a posting moves a positive
 * amount from one account to another.  Accounts are numbered:
 *
 *   REFERRAL_ACCOUNT_OUTSIDE   the world outside the scheme (payments come
 *                              in from it, withdrawals and refunds go out)
 *   REFERRAL_ACCOUNT_PLATFORM  the platform running the scheme
 *   pools                      one per pool the scheme's rules declare
 *   members                    two per member: available and held funds
 *
 * The sum of all balances, the outside's included, is zero after every
 * event.  Postings are never edited or removed; a correction is a new
 * posting (flag REFERRAL_POSTING_REVERSAL for the reversals of a refund).
 *
 * A ReferralLedger is owned by its engine; see referral_engine_ledger(). */
#ifndef REFERRAL_LEDGER_H
#define REFERRAL_LEDGER_H

#include <glib.h>
#include <referral/export.h>
#include <referral/tree.h>

G_BEGIN_DECLS

typedef guint32 ReferralAccount;
typedef guint16 ReferralKind;

#define REFERRAL_ACCOUNT_OUTSIDE ((ReferralAccount) 0)
#define REFERRAL_ACCOUNT_PLATFORM ((ReferralAccount) 1)
#define REFERRAL_NO_ACCOUNT ((ReferralAccount) 0xffffffffu)

/* "No posting": the cause of a posting that no other posting caused. */
#define REFERRAL_NO_POSTING G_MAXUINT64

/* Posting flags. */
#define REFERRAL_POSTING_REVERSAL 0x01 /* reverses posting `cause` (refund) */

/* Kinds every engine knows.  Rules intern their own with referral_setup_kind(). */
#define REFERRAL_KIND_SALE ((ReferralKind) 0)     /* a buyer's payment: outside -> platform */
#define REFERRAL_KIND_WITHDRAW ((ReferralKind) 1) /* member available -> outside */
#define REFERRAL_KIND_HOLD ((ReferralKind) 2)     /* member available -> member held */
#define REFERRAL_KIND_RELEASE ((ReferralKind) 3)  /* member held -> member available */

/* One money movement.  32 bytes. */
typedef struct {
  gint64 amount;         /* > 0, minor units */
  ReferralAccount from;
  ReferralAccount to;
  guint32 event;         /* sequence number of the event that made it */
  guint32 cause_delta;   /* 0: no cause; else the causing posting's index is
                            this posting's index minus cause_delta (use
                            referral_posting_cause()) */
  ReferralKind kind;
  guint8 rule;           /* 0: the engine; n: the scheme's rule n-1 */
  guint8 flags;          /* REFERRAL_POSTING_* */
} ReferralPosting;

typedef struct _ReferralLedger ReferralLedger;

/* referral_ledger_balance: Returns: the balance of @account, O(1). */
REFERRAL_API gint64 referral_ledger_balance (const ReferralLedger *ledger,
                                             ReferralAccount account);

/* referral_ledger_n_accounts: Returns: the number of accounts. */
REFERRAL_API guint32 referral_ledger_n_accounts (const ReferralLedger *ledger);

/* referral_ledger_member_account:
 * Returns: the account of @member's held funds when @held, else of its
 * available funds. */
REFERRAL_API ReferralAccount referral_ledger_member_account (const ReferralLedger *ledger,
                                                             ReferralMember member,
                                                             gboolean held);

/* referral_ledger_account_member:
 * Returns: the member that owns @account (setting *@held when @held is not
 * NULL), or REFERRAL_NO_MEMBER for the outside, the platform and pools. */
REFERRAL_API ReferralMember referral_ledger_account_member (const ReferralLedger *ledger,
                                                            ReferralAccount account,
                                                            gboolean *held);

/* Pools, numbered 0 .. n_pools-1 in the order the scheme declared them. */
REFERRAL_API guint referral_ledger_n_pools (const ReferralLedger *ledger);
REFERRAL_API ReferralAccount referral_ledger_pool_account (const ReferralLedger *ledger,
                                                           guint pool);
/* Returns: (transfer none): the pool's name. */
REFERRAL_API const char *referral_ledger_pool_name (const ReferralLedger *ledger,
                                                    guint pool);
/* Returns: the account of the pool named @name, or REFERRAL_NO_ACCOUNT. */
REFERRAL_API ReferralAccount referral_ledger_lookup_pool (const ReferralLedger *ledger,
                                                          const char *name);

/* referral_ledger_account_name:
 * Returns: (transfer full): "outside", "platform", "pool:NAME",
 * "KEY:available" or "KEY:held"; free with g_free(). */
REFERRAL_API char *referral_ledger_account_name (const ReferralLedger *ledger,
                                                 ReferralAccount account);

/* referral_ledger_n_postings: Returns: the number of postings so far. */
REFERRAL_API guint64 referral_ledger_n_postings (const ReferralLedger *ledger);

/* referral_ledger_posting:
 * Returns: (transfer none): posting number @index (0-based), valid until the
 * next event is applied. */
REFERRAL_API const ReferralPosting *referral_ledger_posting (const ReferralLedger *ledger,
                                                             guint64 index);

/* referral_posting_cause:
 * Returns: the index of the posting that caused posting @index, or
 * REFERRAL_NO_POSTING. */
REFERRAL_API guint64 referral_posting_cause (const ReferralPosting *posting,
                                             guint64 index);

/* referral_ledger_kind_name:
 * Returns: (transfer none): the name of @kind ("sale", "direct", ...). */
REFERRAL_API const char *referral_ledger_kind_name (const ReferralLedger *ledger,
                                                    ReferralKind kind);

/* referral_ledger_n_kinds:
 * Returns: the number of posting kinds; kinds are numbered 0 .. n-1, the
 * first four being the built-in REFERRAL_KIND_* ones. */
REFERRAL_API guint referral_ledger_n_kinds (const ReferralLedger *ledger);

/* referral_ledger_lookup_kind:
 * Returns: TRUE and sets *@kind when a kind named @name exists. */
REFERRAL_API gboolean referral_ledger_lookup_kind (const ReferralLedger *ledger,
                                                   const char *name,
                                                   ReferralKind *kind);

/* referral_ledger_event_postings:
 * Sets *@first and *@n to the range of postings made by event @seq. */
REFERRAL_API void referral_ledger_event_postings (const ReferralLedger *ledger,
                                                  guint32 seq,
                                                  guint64 *first,
                                                  guint64 *n);

/* referral_ledger_explain:
 * Returns: (transfer full): the indices (guint64) of every posting that
 * credits or debits one of @member's accounts, in ledger order.  Follow
 * referral_posting_cause() for the chain of causes.  Free with
 * g_array_unref().  O(number of postings). */
REFERRAL_API GArray *referral_ledger_explain (const ReferralLedger *ledger,
                                              ReferralMember member);

/* referral_ledger_is_balanced:
 * Returns: TRUE when the balances of all accounts sum to zero, as they do
 * unless the engine is broken (a 128-bit sum, so it cannot overflow). */
REFERRAL_API gboolean referral_ledger_is_balanced (const ReferralLedger *ledger);

G_END_DECLS

#endif
