/* libreferral: the member tree (read-only view).
 *
 * Members are numbered densely from 0 in join order; the number is a
 * ReferralMember (32 bits).  Each member has an external key (a string,
 * interned once), a sponsor (who referred it; never changes), a parent (its
 * place in the placement tree; schemes may move it) and a rank (a small
 * integer whose names the scheme defines; 0 is the entry rank).
 *
 * A ReferralTree is owned by its engine and borrowed by callers through
 * referral_engine_tree() or, inside a rule, referral_ctx_tree().  It is only
 * valid while the engine lives and changes as events are applied. */
#ifndef REFERRAL_TREE_H
#define REFERRAL_TREE_H

#include <glib.h>
#include <referral/export.h>

G_BEGIN_DECLS

typedef guint32 ReferralMember;
typedef guint8 ReferralRank;

/* "No member": the sponsor or parent of a root, the end of an iteration, the
 * answer of a failed lookup. */
#define REFERRAL_NO_MEMBER ((ReferralMember) 0xffffffffu)

/* The largest number of ranks a scheme may define. */
#define REFERRAL_MAX_RANKS 16

typedef struct _ReferralTree ReferralTree;

/* referral_tree_size: Returns: the number of members. */
REFERRAL_API guint32 referral_tree_size (const ReferralTree *tree);

/* referral_tree_lookup:
 * Returns: the member whose key is @key, or REFERRAL_NO_MEMBER.  O(1). */
REFERRAL_API ReferralMember referral_tree_lookup (const ReferralTree *tree,
                                                  const char *key);

/* referral_tree_key:
 * Returns: (transfer none): the key of @member, valid while the engine lives. */
REFERRAL_API const char *referral_tree_key (const ReferralTree *tree,
                                            ReferralMember member);

/* referral_tree_sponsor / referral_tree_parent / referral_tree_rank:
 * Returns: who referred @member, its placement parent (REFERRAL_NO_MEMBER
 * for a root), and its rank. */
REFERRAL_API ReferralMember referral_tree_sponsor (const ReferralTree *tree,
                                                   ReferralMember member);
REFERRAL_API ReferralMember referral_tree_parent (const ReferralTree *tree,
                                                  ReferralMember member);
REFERRAL_API ReferralRank referral_tree_rank (const ReferralTree *tree,
                                              ReferralMember member);

/* Placement children, in the order they were placed:
 *   for (c = referral_tree_first_child (t, m); c != REFERRAL_NO_MEMBER;
 *        c = referral_tree_next_sibling (t, c))
 * referral_tree_n_children() is O(1). */
REFERRAL_API ReferralMember referral_tree_first_child (const ReferralTree *tree,
                                                       ReferralMember member);
REFERRAL_API ReferralMember referral_tree_next_sibling (const ReferralTree *tree,
                                                        ReferralMember member);
REFERRAL_API guint32 referral_tree_n_children (const ReferralTree *tree,
                                               ReferralMember member);

/* Directly sponsored members, in join order (same iteration pattern).
 * This relation never changes once a member has joined. */
REFERRAL_API ReferralMember referral_tree_first_sponsored (const ReferralTree *tree,
                                                           ReferralMember member);
REFERRAL_API ReferralMember referral_tree_next_sponsored (const ReferralTree *tree,
                                                          ReferralMember member);
REFERRAL_API guint32 referral_tree_n_sponsored (const ReferralTree *tree,
                                                ReferralMember member);

/* referral_tree_is_ancestor:
 * Returns: TRUE when @ancestor is a strict ancestor of @member in the
 * placement tree.  O(depth). */
REFERRAL_API gboolean referral_tree_is_ancestor (const ReferralTree *tree,
                                                 ReferralMember ancestor,
                                                 ReferralMember member);

/* referral_tree_depth:
 * Returns: the number of placement ancestors of @member.  O(depth). */
REFERRAL_API guint32 referral_tree_depth (const ReferralTree *tree,
                                          ReferralMember member);

/* referral_tree_nearest_at_rank:
 * Returns: the nearest strict placement ancestor of @member whose rank is at
 * least @min_rank, or REFERRAL_NO_MEMBER.  ("superior" in chain 2+1.)
 * Answers are memoised and the memo is dropped whenever a rank or a
 * placement changes, so repeated queries on a deep, stable tree cost O(1)
 * amortised instead of O(depth). */
REFERRAL_API ReferralMember referral_tree_nearest_at_rank (const ReferralTree *tree,
                                                           ReferralMember member,
                                                           ReferralRank min_rank);

G_END_DECLS

#endif
