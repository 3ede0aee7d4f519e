/* The member tree: dense arrays indexed by member, keys interned once. */
#include "tree-private.h"

#include <string.h>

void
referral_tree_init (ReferralTree *tree)
{
  memset (tree, 0, sizeof *tree);
  referral_intern_init (&tree->keys);
  for (guint r = 0; r < REFERRAL_MAX_RANKS; r++)
    tree->memo_version[r] = 1;
  tree->walk = g_array_new (FALSE, FALSE, sizeof (ReferralMember));
}

void
referral_tree_clear (ReferralTree *tree)
{
  referral_intern_clear (&tree->keys);
  referral_mem_free (tree->sponsor);
  referral_mem_free (tree->parent);
  referral_mem_free (tree->rank);
  referral_mem_free (tree->first_child);
  referral_mem_free (tree->last_child);
  referral_mem_free (tree->next_sibling);
  referral_mem_free (tree->prev_sibling);
  referral_mem_free (tree->n_children);
  referral_mem_free (tree->first_sponsored);
  referral_mem_free (tree->last_sponsored);
  referral_mem_free (tree->next_sponsored);
  referral_mem_free (tree->n_sponsored);
  for (guint r = 0; r < REFERRAL_MAX_RANKS; r++)
    {
      referral_mem_free (tree->memo[r]);
    }
  if (tree->walk)
    g_array_unref (tree->walk);
  memset (tree, 0, sizeof *tree);
}

static void
grow (ReferralTree *t)
{
  guint32 cap = t->cap ? t->cap * 2 : 256;
  t->sponsor = referral_renew (ReferralMember, t->sponsor, cap);
  t->parent = referral_renew (ReferralMember, t->parent, cap);
  t->rank = referral_renew (ReferralRank, t->rank, cap);
  t->first_child = referral_renew (ReferralMember, t->first_child, cap);
  t->last_child = referral_renew (ReferralMember, t->last_child, cap);
  t->next_sibling = referral_renew (ReferralMember, t->next_sibling, cap);
  t->prev_sibling = referral_renew (ReferralMember, t->prev_sibling, cap);
  t->n_children = referral_renew (guint32, t->n_children, cap);
  t->first_sponsored = referral_renew (ReferralMember, t->first_sponsored, cap);
  t->last_sponsored = referral_renew (ReferralMember, t->last_sponsored, cap);
  t->next_sponsored = referral_renew (ReferralMember, t->next_sponsored, cap);
  t->n_sponsored = referral_renew (guint32, t->n_sponsored, cap);
  for (guint r = 0; r < REFERRAL_MAX_RANKS; r++)
    if (t->memo[r])
      {
        t->memo[r] = referral_renew (ReferralMemoEntry, t->memo[r], cap);
        memset (t->memo[r] + t->cap, 0, (cap - t->cap) * sizeof (ReferralMemoEntry));
      }
  t->cap = cap;
}

/* Invalidates the memo of thresholds lo+1 .. hi. */
static void
invalidate_memo (ReferralTree *t, guint lo, guint hi)
{
  for (guint r = lo + 1; r <= hi && r < REFERRAL_MAX_RANKS; r++)
    if (++t->memo_version[r] == 0)
      {
        /* The stamp wrapped: forget this memo explicitly. */
        if (t->memo[r])
          memset (t->memo[r], 0, t->cap * sizeof (ReferralMemoEntry));
        t->memo_version[r] = 1;
      }
}

static void
link_child (ReferralTree *t, ReferralMember m, ReferralMember parent,
            ReferralMember after, gboolean at_end)
{
  t->parent[m] = parent;
  if (parent == REFERRAL_NO_MEMBER)
    {
      t->next_sibling[m] = t->prev_sibling[m] = REFERRAL_NO_MEMBER;
      return;
    }
  ReferralMember prev = at_end ? t->last_child[parent] : after;
  ReferralMember next = prev == REFERRAL_NO_MEMBER ? t->first_child[parent]
                                                    : t->next_sibling[prev];
  t->prev_sibling[m] = prev;
  t->next_sibling[m] = next;
  if (prev == REFERRAL_NO_MEMBER)
    t->first_child[parent] = m;
  else
    t->next_sibling[prev] = m;
  if (next == REFERRAL_NO_MEMBER)
    t->last_child[parent] = m;
  else
    t->prev_sibling[next] = m;
  t->n_children[parent]++;
}

static void
unlink_child (ReferralTree *t, ReferralMember m)
{
  ReferralMember parent = t->parent[m];
  if (parent == REFERRAL_NO_MEMBER)
    return;
  ReferralMember prev = t->prev_sibling[m], next = t->next_sibling[m];
  if (prev == REFERRAL_NO_MEMBER)
    t->first_child[parent] = next;
  else
    t->next_sibling[prev] = next;
  if (next == REFERRAL_NO_MEMBER)
    t->last_child[parent] = prev;
  else
    t->prev_sibling[next] = prev;
  t->n_children[parent]--;
  t->parent[m] = REFERRAL_NO_MEMBER;
}

ReferralMember
referral_tree_add (ReferralTree *t, const char *key, ReferralMember sponsor)
{
  gsize len;
  guint32 h = referral_intern_hash_len (key, &len);
  return referral_tree_add_hashed (t, key, len, h, sponsor);
}

ReferralMember
referral_tree_add_hashed (ReferralTree *t, const char *key, gsize len, guint32 h,
                          ReferralMember sponsor)
{
  if (t->n == G_MAXUINT32 - 1)
    return REFERRAL_NO_MEMBER;
  if (t->n == t->cap)
    grow (t);
  guint32 k = referral_intern_add_sized (&t->keys, key, len, h);
  if (k == REFERRAL_INTERN_NONE)
    return REFERRAL_NO_MEMBER;
  ReferralMember m = t->n++;
  g_assert (k == m);
  t->sponsor[m] = sponsor;
  t->rank[m] = 0;
  t->first_child[m] = t->last_child[m] = REFERRAL_NO_MEMBER;
  t->n_children[m] = 0;
  t->first_sponsored[m] = t->last_sponsored[m] = REFERRAL_NO_MEMBER;
  t->next_sponsored[m] = REFERRAL_NO_MEMBER;
  t->n_sponsored[m] = 0;
  for (guint r = 0; r < REFERRAL_MAX_RANKS; r++)
    if (t->memo[r])
      t->memo[r][m].stamp = 0;
  link_child (t, m, sponsor, REFERRAL_NO_MEMBER, TRUE);
  if (sponsor != REFERRAL_NO_MEMBER)
    {
      if (t->last_sponsored[sponsor] == REFERRAL_NO_MEMBER)
        t->first_sponsored[sponsor] = m;
      else
        t->next_sponsored[t->last_sponsored[sponsor]] = m;
      t->last_sponsored[sponsor] = m;
      t->n_sponsored[sponsor]++;
    }
  return m;
}

void
referral_tree_pop (ReferralTree *t)
{
  g_return_if_fail (t->n > 0);
  ReferralMember m = t->n - 1;
  /* Being the newest member, m has no children and is the last member
   * its sponsor sponsored. */
  g_assert (t->first_child[m] == REFERRAL_NO_MEMBER);
  unlink_child (t, m);
  ReferralMember s = t->sponsor[m];
  if (s != REFERRAL_NO_MEMBER)
    {
      ReferralMember prev = REFERRAL_NO_MEMBER;
      for (ReferralMember c = t->first_sponsored[s]; c != m; c = t->next_sponsored[c])
        prev = c;
      if (prev == REFERRAL_NO_MEMBER)
        t->first_sponsored[s] = REFERRAL_NO_MEMBER;
      else
        t->next_sponsored[prev] = REFERRAL_NO_MEMBER;
      t->last_sponsored[s] = prev;
      t->n_sponsored[s]--;
    }
  referral_intern_pop (&t->keys);
  t->n--;
}

void
referral_tree_set_rank (ReferralTree *t, ReferralMember m, ReferralRank r)
{
  ReferralRank old = t->rank[m];
  t->rank[m] = r;
  invalidate_memo (t, MIN (old, r), MAX (old, r));
}

void
referral_tree_place (ReferralTree *t, ReferralMember m, ReferralMember parent,
                     ReferralMember after, gboolean at_end)
{
  unlink_child (t, m);
  link_child (t, m, parent, after, at_end);
  /* Threshold 0 is met by everyone and needs no memo. */
  invalidate_memo (t, 0, REFERRAL_MAX_RANKS - 1);
}

char *
referral_tree_check (const ReferralTree *t)
{
  for (ReferralMember m = 0; m < t->n; m++)
    {
      guint32 count = 0;
      ReferralMember prev = REFERRAL_NO_MEMBER;
      for (ReferralMember c = t->first_child[m]; c != REFERRAL_NO_MEMBER; c = t->next_sibling[c])
        {
          if (c >= t->n || t->parent[c] != m || t->prev_sibling[c] != prev)
            return g_strdup_printf ("member %u: child list broken at %u", m, c);
          prev = c;
          if (++count > t->n)
            return g_strdup_printf ("member %u: child list loops", m);
        }
      if (count != t->n_children[m] || prev != t->last_child[m])
        return g_strdup_printf ("member %u: child count or tail wrong", m);
      if (t->parent[m] != REFERRAL_NO_MEMBER && t->parent[m] >= t->n)
        return g_strdup_printf ("member %u: parent out of range", m);
    }
  return NULL;
}

/* Public read-only queries. */

guint32
referral_tree_size (const ReferralTree *tree)
{
  g_return_val_if_fail (tree != NULL, 0);
  return tree->n;
}

ReferralMember
referral_tree_lookup (const ReferralTree *tree, const char *key)
{
  g_return_val_if_fail (tree != NULL && key != NULL, REFERRAL_NO_MEMBER);
  return referral_intern_lookup (&tree->keys, key);
}

#define CHECK_MEMBER(t, m, ret) \
  g_return_val_if_fail ((t) != NULL && (m) < (t)->n, ret)

const char *
referral_tree_key (const ReferralTree *tree, ReferralMember member)
{
  CHECK_MEMBER (tree, member, NULL);
  return referral_intern_key (&tree->keys, member);
}

ReferralMember
referral_tree_sponsor (const ReferralTree *tree, ReferralMember member)
{
  CHECK_MEMBER (tree, member, REFERRAL_NO_MEMBER);
  return tree->sponsor[member];
}

ReferralMember
referral_tree_parent (const ReferralTree *tree, ReferralMember member)
{
  CHECK_MEMBER (tree, member, REFERRAL_NO_MEMBER);
  return tree->parent[member];
}

ReferralRank
referral_tree_rank (const ReferralTree *tree, ReferralMember member)
{
  CHECK_MEMBER (tree, member, 0);
  return tree->rank[member];
}

ReferralMember
referral_tree_first_child (const ReferralTree *tree, ReferralMember member)
{
  CHECK_MEMBER (tree, member, REFERRAL_NO_MEMBER);
  return tree->first_child[member];
}

ReferralMember
referral_tree_next_sibling (const ReferralTree *tree, ReferralMember member)
{
  CHECK_MEMBER (tree, member, REFERRAL_NO_MEMBER);
  return tree->next_sibling[member];
}

guint32
referral_tree_n_children (const ReferralTree *tree, ReferralMember member)
{
  CHECK_MEMBER (tree, member, 0);
  return tree->n_children[member];
}

ReferralMember
referral_tree_first_sponsored (const ReferralTree *tree, ReferralMember member)
{
  CHECK_MEMBER (tree, member, REFERRAL_NO_MEMBER);
  return tree->first_sponsored[member];
}

ReferralMember
referral_tree_next_sponsored (const ReferralTree *tree, ReferralMember member)
{
  CHECK_MEMBER (tree, member, REFERRAL_NO_MEMBER);
  return tree->next_sponsored[member];
}

guint32
referral_tree_n_sponsored (const ReferralTree *tree, ReferralMember member)
{
  CHECK_MEMBER (tree, member, 0);
  return tree->n_sponsored[member];
}

gboolean
referral_tree_is_ancestor (const ReferralTree *tree, ReferralMember ancestor,
                           ReferralMember member)
{
  CHECK_MEMBER (tree, member, FALSE);
  for (ReferralMember a = tree->parent[member]; a != REFERRAL_NO_MEMBER; a = tree->parent[a])
    if (a == ancestor)
      return TRUE;
  return FALSE;
}

guint32
referral_tree_depth (const ReferralTree *tree, ReferralMember member)
{
  CHECK_MEMBER (tree, member, 0);
  guint32 d = 0;
  for (ReferralMember a = tree->parent[member]; a != REFERRAL_NO_MEMBER; a = tree->parent[a])
    d++;
  return d;
}

ReferralMember
referral_tree_nearest_at_rank (const ReferralTree *tree, ReferralMember member,
                               ReferralRank min_rank)
{
  CHECK_MEMBER (tree, member, REFERRAL_NO_MEMBER);
  g_return_val_if_fail (min_rank < REFERRAL_MAX_RANKS, REFERRAL_NO_MEMBER);
  if (min_rank == 0)
    return tree->parent[member]; /* every member meets threshold 0 */
  /* The memo is a cache, not state: filling it does not change what any
   * query answers, so it may be written through a const tree. */
  ReferralTree *t = (ReferralTree *) tree;
  if (t->memo[min_rank] == NULL)
    t->memo[min_rank] = referral_new0 (ReferralMemoEntry, t->cap);
  ReferralMemoEntry *memo = t->memo[min_rank];
  guint32 version = t->memo_version[min_rank];

  if (memo[member].stamp == version)
    return memo[member].value;
  /* Walk up until a member of the rank, a member whose answer is known, or
   * the root; then every member passed has the same answer. */
  g_array_set_size (t->walk, 0);
  g_array_append_val (t->walk, member);
  ReferralMember found = REFERRAL_NO_MEMBER;
  for (ReferralMember a = t->parent[member]; a != REFERRAL_NO_MEMBER; a = t->parent[a])
    {
      if (t->rank[a] >= min_rank)
        {
          found = a;
          break;
        }
      if (memo[a].stamp == version)
        {
          found = memo[a].value;
          break;
        }
      g_array_append_val (t->walk, a);
    }
  for (guint i = 0; i < t->walk->len; i++)
    {
      ReferralMember w = g_array_index (t->walk, ReferralMember, i);
      memo[w] = (ReferralMemoEntry) { version, found };
    }
  return found;
}
