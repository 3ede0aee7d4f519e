/* Allocation of the engine's large arrays.
 *
 * The per-member, per-order, per-event and per-posting arrays and the key
 * tables grow to hundreds of megabytes and are read at random (a member's
 * balance, a key's slot).  With 4 KiB pages nearly every such read is also a
 * TLB miss, and under a hypervisor a TLB miss costs a two-dimensional page
 * walk; growing them costs a page fault per 4 KiB.  So a block that reaches
 * REFERRAL_MEM_HUGE_MIN bytes is moved to its own anonymous mapping, aligned
 * to 2 MiB and advised MADV_HUGEPAGE (Debian's default THP mode is
 * "madvise": nothing is huge unless asked), and grows by mremap() to another
 * 2 MiB-aligned address, which moves page tables instead of copying bytes.
 * Smaller blocks are ordinary malloc blocks.  Where the kernel has no THP or
 * refuses, the mapping simply keeps small pages.
 *
 * Every block carries a small header, so blocks from these functions must be
 * grown with referral_mem_renew() and freed with referral_mem_free(), never
 * with g_realloc()/g_free(); NULL is the empty block for all three. */
#ifndef REFERRAL_MEM_H
#define REFERRAL_MEM_H

#include <glib.h>

/* Blocks from this size up get their own huge-page mapping. */
#define REFERRAL_MEM_HUGE_MIN ((gsize) 4 << 20)

/* Resizes @p (NULL: a new block) to @n elements of @size bytes, keeping the
 * contents up to the smaller size; new bytes are undefined.  Aborts on
 * overflow or when memory is exhausted, like g_realloc_n(). */
gpointer referral_mem_renew (gpointer p, gsize n, gsize size);
/* A new block of @n elements of @size bytes, zero-filled. */
gpointer referral_mem_new0 (gsize n, gsize size);
/* Frees a block of referral_mem_renew()/referral_mem_new0(); NULL is ok. */
void referral_mem_free (gpointer p);

#define referral_renew(T, p, n) ((T *) referral_mem_renew ((p), (n), sizeof (T)))
#define referral_new0(T, n) ((T *) referral_mem_new0 ((n), sizeof (T)))

#endif
