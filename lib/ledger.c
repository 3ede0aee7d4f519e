/* The double-entry ledger: balances in one array, postings in another. */
#include "ledger-private.h"

#include <referral/money.h>

#include <string.h>

__extension__ typedef __int128 i128;

void
referral_ledger_init (ReferralLedger *l, const ReferralTree *tree,
                      const char *const *pool_names, guint n_pools,
                      const char *const *kind_names, guint n_kinds)
{
  memset (l, 0, sizeof *l);
  l->tree = tree;
  l->n_pools = n_pools;
  l->pool_names = g_new0 (char *, n_pools + 1);
  for (guint i = 0; i < n_pools; i++)
    l->pool_names[i] = g_strdup (pool_names[i]);
  l->n_kinds = n_kinds;
  l->kind_names = g_new0 (char *, n_kinds + 1);
  for (guint i = 0; i < n_kinds; i++)
    l->kind_names[i] = g_strdup (kind_names[i]);
  l->member_base = 2 + n_pools;
  l->n_accounts = l->member_base;
  l->cap_accounts = l->member_base + 512;
  l->balances = referral_new0 (gint64, l->cap_accounts);
  l->cap_event_first = 1024;
  l->event_first = referral_renew (guint64, NULL, l->cap_event_first);
  l->event_first[0] = 0;
  l->n_event_first = 1;
}

void
referral_ledger_clear (ReferralLedger *l)
{
  g_strfreev (l->pool_names);
  g_strfreev (l->kind_names);
  referral_mem_free (l->balances);
  referral_mem_free (l->postings);
  referral_mem_free (l->event_first);
  memset (l, 0, sizeof *l);
}

void
referral_ledger_set_members (ReferralLedger *l, guint32 n_members)
{
  guint64 need = (guint64) l->member_base + 2 * (guint64) n_members;
  g_assert (need < G_MAXUINT32);
  if (need > l->cap_accounts)
    {
      guint32 cap = l->cap_accounts;
      while (cap < need)
        cap = cap < G_MAXUINT32 / 2 ? cap * 2 : G_MAXUINT32 - 1;
      l->balances = referral_renew (gint64, l->balances, cap);
      memset (l->balances + l->cap_accounts, 0, (cap - l->cap_accounts) * sizeof (gint64));
      l->cap_accounts = cap;
    }
  if (need < l->n_accounts)
    /* Accounts of removed members had zero balances (their postings were
     * undone first); keep the invariant that unused slots are zero. */
    memset (l->balances + need, 0, (l->n_accounts - need) * sizeof (gint64));
  l->n_accounts = (guint32) need;
}

gboolean
referral_ledger_append (ReferralLedger *l, const ReferralPosting *p)
{
  gint64 from_bal, to_bal;
  if (!referral_money_sub (l->balances[p->from], p->amount, &from_bal)
      || !referral_money_add (l->balances[p->to], p->amount, &to_bal))
    return FALSE;
  if (l->n_postings == l->cap_postings)
    {
      l->cap_postings = l->cap_postings ? l->cap_postings * 2 : 1024;
      l->postings = referral_renew (ReferralPosting, l->postings, l->cap_postings);
    }
  l->postings[l->n_postings++] = *p;
  l->balances[p->from] = from_bal;
  l->balances[p->to] = to_bal;
  return TRUE;
}

void
referral_ledger_unappend (ReferralLedger *l)
{
  g_assert (l->n_postings > 0);
  const ReferralPosting *p = &l->postings[--l->n_postings];
  l->balances[p->from] += p->amount;
  l->balances[p->to] -= p->amount;
}

void
referral_ledger_commit_event (ReferralLedger *l)
{
  if (l->n_event_first == l->cap_event_first)
    {
      l->cap_event_first *= 2;
      l->event_first = referral_renew (guint64, l->event_first, l->cap_event_first);
    }
  l->event_first[l->n_event_first++] = l->n_postings;
}

/* Public read-only queries. */

gint64
referral_ledger_balance (const ReferralLedger *ledger, ReferralAccount account)
{
  g_return_val_if_fail (ledger != NULL && account < ledger->n_accounts, 0);
  return ledger->balances[account];
}

guint32
referral_ledger_n_accounts (const ReferralLedger *ledger)
{
  g_return_val_if_fail (ledger != NULL, 0);
  return ledger->n_accounts;
}

ReferralAccount
referral_ledger_member_account (const ReferralLedger *ledger, ReferralMember member,
                                gboolean held)
{
  g_return_val_if_fail (ledger != NULL, REFERRAL_NO_ACCOUNT);
  g_return_val_if_fail (member < ledger->tree->n, REFERRAL_NO_ACCOUNT);
  return ledger->member_base + 2 * member + (held ? 1 : 0);
}

ReferralMember
referral_ledger_account_member (const ReferralLedger *ledger, ReferralAccount account,
                                gboolean *held)
{
  g_return_val_if_fail (ledger != NULL, REFERRAL_NO_MEMBER);
  if (account < ledger->member_base || account >= ledger->n_accounts)
    return REFERRAL_NO_MEMBER;
  if (held)
    *held = (account - ledger->member_base) & 1;
  return (account - ledger->member_base) / 2;
}

guint
referral_ledger_n_pools (const ReferralLedger *ledger)
{
  g_return_val_if_fail (ledger != NULL, 0);
  return ledger->n_pools;
}

ReferralAccount
referral_ledger_pool_account (const ReferralLedger *ledger, guint pool)
{
  g_return_val_if_fail (ledger != NULL && pool < ledger->n_pools, REFERRAL_NO_ACCOUNT);
  return 2 + pool;
}

const char *
referral_ledger_pool_name (const ReferralLedger *ledger, guint pool)
{
  g_return_val_if_fail (ledger != NULL && pool < ledger->n_pools, NULL);
  return ledger->pool_names[pool];
}

ReferralAccount
referral_ledger_lookup_pool (const ReferralLedger *ledger, const char *name)
{
  g_return_val_if_fail (ledger != NULL && name != NULL, REFERRAL_NO_ACCOUNT);
  for (guint i = 0; i < ledger->n_pools; i++)
    if (strcmp (ledger->pool_names[i], name) == 0)
      return 2 + i;
  return REFERRAL_NO_ACCOUNT;
}

char *
referral_ledger_account_name (const ReferralLedger *ledger, ReferralAccount account)
{
  g_return_val_if_fail (ledger != NULL && account < ledger->n_accounts, NULL);
  if (account == REFERRAL_ACCOUNT_OUTSIDE)
    return g_strdup ("outside");
  if (account == REFERRAL_ACCOUNT_PLATFORM)
    return g_strdup ("platform");
  if (account < ledger->member_base)
    return g_strdup_printf ("pool:%s", ledger->pool_names[account - 2]);
  gboolean held = FALSE;
  ReferralMember m = referral_ledger_account_member (ledger, account, &held);
  return g_strdup_printf ("%s:%s", referral_tree_key (ledger->tree, m),
                          held ? "held" : "available");
}

guint64
referral_ledger_n_postings (const ReferralLedger *ledger)
{
  g_return_val_if_fail (ledger != NULL, 0);
  return ledger->n_postings;
}

const ReferralPosting *
referral_ledger_posting (const ReferralLedger *ledger, guint64 index)
{
  g_return_val_if_fail (ledger != NULL && index < ledger->n_postings, NULL);
  return &ledger->postings[index];
}

guint64
referral_posting_cause (const ReferralPosting *posting, guint64 index)
{
  g_return_val_if_fail (posting != NULL, REFERRAL_NO_POSTING);
  if (posting->cause_delta == 0)
    return REFERRAL_NO_POSTING;
  return index - posting->cause_delta;
}

const char *
referral_ledger_kind_name (const ReferralLedger *ledger, ReferralKind kind)
{
  g_return_val_if_fail (ledger != NULL && kind < ledger->n_kinds, NULL);
  return ledger->kind_names[kind];
}

guint
referral_ledger_n_kinds (const ReferralLedger *ledger)
{
  g_return_val_if_fail (ledger != NULL, 0);
  return ledger->n_kinds;
}

gboolean
referral_ledger_lookup_kind (const ReferralLedger *ledger, const char *name,
                             ReferralKind *kind)
{
  g_return_val_if_fail (ledger != NULL && name != NULL, FALSE);
  for (guint i = 0; i < ledger->n_kinds; i++)
    if (strcmp (ledger->kind_names[i], name) == 0)
      {
        if (kind)
          *kind = (ReferralKind) i;
        return TRUE;
      }
  return FALSE;
}

void
referral_ledger_event_postings (const ReferralLedger *ledger, guint32 seq,
                                guint64 *first, guint64 *n)
{
  g_return_if_fail (ledger != NULL && first != NULL && n != NULL);
  g_return_if_fail (seq + 1 < ledger->n_event_first);
  *first = ledger->event_first[seq];
  *n = ledger->event_first[seq + 1] - ledger->event_first[seq];
}

GArray *
referral_ledger_explain (const ReferralLedger *ledger, ReferralMember member)
{
  g_return_val_if_fail (ledger != NULL && member < ledger->tree->n, NULL);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (guint64));
  ReferralAccount avail = ledger->member_base + 2 * member;
  for (guint64 i = 0; i < ledger->n_postings; i++)
    {
      const ReferralPosting *p = &ledger->postings[i];
      if (p->from == avail || p->from == avail + 1 || p->to == avail || p->to == avail + 1)
        g_array_append_val (out, i);
    }
  return out;
}

gboolean
referral_ledger_is_balanced (const ReferralLedger *ledger)
{
  g_return_val_if_fail (ledger != NULL, FALSE);
  i128 sum = 0;
  for (guint32 a = 0; a < ledger->n_accounts; a++)
    sum += ledger->balances[a];
  return sum == 0;
}
