/* The ledger's storage and mutations (engine only). */
#ifndef REFERRAL_LEDGER_PRIVATE_H
#define REFERRAL_LEDGER_PRIVATE_H

#include <referral/ledger.h>

#include "tree-private.h"

struct _ReferralLedger {
  const ReferralTree *tree;   /* for account names */
  gint64 *balances;
  guint32 n_accounts;
  guint32 cap_accounts;
  ReferralAccount member_base; /* first member account: 2 + n_pools */
  guint n_pools;
  char **pool_names;           /* owned copy */
  char **kind_names;           /* owned copy, indexed by kind */
  guint n_kinds;
  ReferralPosting *postings;
  guint64 n_postings;
  guint64 cap_postings;
  /* event_first[seq] = index of event seq's first posting; one more entry
   * than committed events (the sentinel is n_postings at the last commit). */
  guint64 *event_first;
  guint32 n_event_first;
  guint32 cap_event_first;
};

void referral_ledger_init (ReferralLedger *l, const ReferralTree *tree,
                           const char *const *pool_names, guint n_pools,
                           const char *const *kind_names, guint n_kinds);
void referral_ledger_clear (ReferralLedger *l);
/* Makes room for the accounts of @n_members members (new ones are zero). */
void referral_ledger_set_members (ReferralLedger *l, guint32 n_members);
/* Appends @p, updating both balances.  Returns FALSE (nothing changed) when
 * either balance would overflow. */
gboolean referral_ledger_append (ReferralLedger *l, const ReferralPosting *p);
/* Removes the last posting and reverts its balances. */
void referral_ledger_unappend (ReferralLedger *l);
/* Closes event @seq's posting range at the current posting count. */
void referral_ledger_commit_event (ReferralLedger *l);

#endif
