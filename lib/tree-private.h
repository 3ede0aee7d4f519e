/* The member tree's storage (struct of arrays) and its mutations, which only
 * the engine calls (rules go through ReferralCtx). */
#ifndef REFERRAL_TREE_PRIVATE_H
#define REFERRAL_TREE_PRIVATE_H

#include <referral/tree.h>

#include "intern.h"

/* One member's memo entry for one threshold: stamp and answer side by side,
 * so that a lookup touches one cache line. */
typedef struct {
  guint32 stamp;          /* == memo_version[rank] when value is current */
  ReferralMember value;
} ReferralMemoEntry;

struct _ReferralTree {
  ReferralIntern keys;     /* member index == intern entry */
  guint32 n;
  guint32 cap;
  ReferralMember *sponsor;
  ReferralMember *parent;
  ReferralRank *rank;
  /* placement children: doubly linked, in placement order */
  ReferralMember *first_child;
  ReferralMember *last_child;
  ReferralMember *next_sibling;
  ReferralMember *prev_sibling;
  guint32 *n_children;
  /* sponsored members: singly linked, in join order (never changes) */
  ReferralMember *first_sponsored;
  ReferralMember *last_sponsored;
  ReferralMember *next_sponsored;
  guint32 *n_sponsored;
  /* memo of referral_tree_nearest_at_rank, one array of entries per rank,
   * allocated on first use; an entry is valid when its stamp equals
   * memo_version[rank].  A move bumps every version; a rank change bumps
   * only the versions of the thresholds it crosses, so that users becoming
   * agents do not flush the memo of "nearest partner". */
  guint32 memo_version[REFERRAL_MAX_RANKS];
  ReferralMemoEntry *memo[REFERRAL_MAX_RANKS];
  GArray *walk;            /* scratch stack for the memo fill */
};

void referral_tree_init (ReferralTree *tree);
void referral_tree_clear (ReferralTree *tree);
/* Adds a member (key must be new, sponsor must exist or be NONE) placed
 * under its sponsor.  Returns its index, or REFERRAL_NO_MEMBER when full. */
ReferralMember referral_tree_add (ReferralTree *tree, const char *key,
                                  ReferralMember sponsor);
/* As referral_tree_add(), given @h == referral_intern_hash (@key) and
 * @len == strlen (@key). */
ReferralMember referral_tree_add_hashed (ReferralTree *tree, const char *key, gsize len, guint32 h,
                                         ReferralMember sponsor);
/* Removes the most recently added member (undo of add). */
void referral_tree_pop (ReferralTree *tree);
void referral_tree_set_rank (ReferralTree *tree, ReferralMember m, ReferralRank r);
/* Places @m under @parent right after @after (REFERRAL_NO_MEMBER: last). */
void referral_tree_place (ReferralTree *tree, ReferralMember m,
                          ReferralMember parent, ReferralMember after, gboolean at_end);
/* Checks every link; returns a description of the first fault or NULL. */
char *referral_tree_check (const ReferralTree *tree);

#endif
