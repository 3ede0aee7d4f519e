/* Large arrays in their own huge-page mappings; see mem.h. */
#include "mem.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((gsize) 2 << 20)

/* Precedes every block.  64 bytes keep the data cache-line aligned. */
typedef union {
  struct {
    gsize bytes;   /* usable bytes after the header */
    gsize mapped;  /* length of the mapping that starts at the header, or 0
                      for a malloc block */
  } h;
  char pad[64];
} Header;

static inline Header *
header_of (gpointer p)
{
  return (Header *) ((char *) p - sizeof (Header));
}

static gsize
checked_bytes (gsize n, gsize size)
{
  gsize bytes;
  if (!g_size_checked_mul (&bytes, n, size) || bytes > G_MAXSIZE - sizeof (Header) - 2 * HUGE_PAGE)
    g_error ("referral: overflow allocating %" G_GSIZE_FORMAT " x %" G_GSIZE_FORMAT " bytes", n,
             size);
  return bytes;
}

static gsize
mapping_length (gsize bytes)
{
  return (sizeof (Header) + bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

/* A free 2 MiB-aligned range of @length bytes of address space, reserved
 * (PROT_NONE) so that nothing else takes it before the caller maps over it
 * with MAP_FIXED or MREMAP_FIXED. */
static char *
reserve_aligned (gsize length)
{
  char *raw = mmap (NULL, length + HUGE_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                    -1, 0);
  if (raw == MAP_FAILED)
    g_error ("referral: cannot reserve %" G_GSIZE_FORMAT " bytes: %s", length, g_strerror (errno));
  char *start = (char *) (((uintptr_t) raw + HUGE_PAGE - 1) & ~(uintptr_t) (HUGE_PAGE - 1));
  if (start > raw)
    munmap (raw, (gsize) (start - raw));
  gsize tail = (gsize) (raw + length + HUGE_PAGE - (start + length));
  if (tail > 0)
    munmap (start + length, tail);
  return start;
}

static void
advise (char *start, gsize length)
{
#ifdef MADV_HUGEPAGE
  /* Only a hint: where THP is unavailable the pages stay small. */
  (void) madvise (start, length, MADV_HUGEPAGE);
#else
  (void) start;
  (void) length;
#endif
}

/* A new mapping of @bytes usable bytes, zero-filled. */
static Header *
map_block (gsize bytes)
{
  gsize length = mapping_length (bytes);
  char *start = reserve_aligned (length);
  if (mmap (start, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
      == MAP_FAILED)
    g_error ("referral: cannot map %" G_GSIZE_FORMAT " bytes: %s", length, g_strerror (errno));
  advise (start, length);
  Header *h = (Header *) start;
  h->h.mapped = length;
  return h;
}

gpointer
referral_mem_renew (gpointer p, gsize n, gsize size)
{
  gsize bytes = checked_bytes (n, size);
  Header *h = p ? header_of (p) : NULL;

  if (h == NULL || h->h.mapped == 0)
    {
      if (bytes < REFERRAL_MEM_HUGE_MIN)
        {
          /* malloc to malloc */
          h = g_realloc (h, sizeof (Header) + bytes);
          h->h.mapped = 0;
        }
      else
        {
          /* malloc to a mapping: copy once */
          Header *m = map_block (bytes);
          if (h)
            {
              memcpy (m + 1, h + 1, MIN (h->h.bytes, bytes));
              g_free (h);
            }
          h = m;
        }
    }
  else
    {
      gsize length = mapping_length (bytes);
      if (length != h->h.mapped)
        {
          /* Grow or shrink in place when the kernel can, else move the
           * page tables to a new aligned range. */
          void *moved = mremap (h, h->h.mapped, length, 0);
          if (moved == MAP_FAILED)
            {
              char *dest = reserve_aligned (length);
              moved = mremap (h, h->h.mapped, length, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
              if (moved == MAP_FAILED)
                g_error ("referral: cannot remap %" G_GSIZE_FORMAT " bytes: %s", length,
                         g_strerror (errno));
            }
          h = moved;
          advise ((char *) h, length);
          h->h.mapped = length;
        }
    }
  h->h.bytes = bytes;
  return h + 1;
}

gpointer
referral_mem_new0 (gsize n, gsize size)
{
  gsize bytes = checked_bytes (n, size);
  Header *h;
  if (bytes < REFERRAL_MEM_HUGE_MIN)
    {
      h = g_malloc0 (sizeof (Header) + bytes);
      h->h.mapped = 0;
    }
  else
    h = map_block (bytes); /* fresh anonymous pages are zero */
  h->h.bytes = bytes;
  return h + 1;
}

void
referral_mem_free (gpointer p)
{
  if (p == NULL)
    return;
  Header *h = header_of (p);
  if (h->h.mapped)
    munmap (h, h->h.mapped);
  else
    g_free (h);
}
