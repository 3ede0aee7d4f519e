/* String intern table with linear probing and last-in-first-out removal. */
#include "intern.h"

#include <string.h>

guint32
referral_intern_hash (const char *key)
{
  /* FNV-1a, then a final avalanche so that the low bits used for the slot
   * depend on every byte. */
  guint32 h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *) key; *p; p++)
    h = (h ^ *p) * 16777619u;
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  return h;
}

#define CHUNK_SIZE (64 * 1024)

void
referral_intern_init (ReferralIntern *in)
{
  memset (in, 0, sizeof *in);
  in->chunks = g_ptr_array_new_with_free_func (g_free);
  in->mask = 15;
  in->slots = g_new0 (guint64, in->mask + 1);
}

void
referral_intern_clear (ReferralIntern *in)
{
  if (in->chunks)
    g_ptr_array_free (in->chunks, TRUE);
  g_free (in->keys);
  g_free (in->hashes);
  g_free (in->slots);
  memset (in, 0, sizeof *in);
}

guint32
referral_intern_lookup (const ReferralIntern *in, const char *key)
{
  guint32 h = referral_intern_hash (key);
  for (guint32 i = h & in->mask;; i = (i + 1) & in->mask)
    {
      guint64 s = in->slots[i];
      if (s == 0)
        return REFERRAL_INTERN_NONE;
      guint32 e = (guint32) s - 1;
      if ((guint32) (s >> 32) == h && strcmp (in->keys[e], key) == 0)
        return e;
    }
}

static void
place (ReferralIntern *in, guint32 entry)
{
  guint32 i = in->hashes[entry] & in->mask;
  while (in->slots[i] != 0)
    i = (i + 1) & in->mask;
  in->slots[i] = ((guint64) in->hashes[entry] << 32) | (entry + 1);
}

static void
grow_slots (ReferralIntern *in)
{
  g_free (in->slots);
  in->mask = in->mask * 2 + 1;
  in->slots = g_new0 (guint64, (gsize) in->mask + 1);
  for (guint32 e = 0; e < in->n; e++)
    place (in, e);
}

guint32
referral_intern_add (ReferralIntern *in, const char *key)
{
  if (in->n >= G_MAXUINT32 - 1)
    return REFERRAL_INTERN_NONE;
  gsize len = strlen (key) + 1;
  if (in->chunk == NULL || in->chunk_used + len > in->chunk_size)
    {
      /* Start a new chunk; the old one stays where it is. */
      in->chunk_size = MAX (CHUNK_SIZE, len);
      in->chunk = g_malloc (in->chunk_size);
      in->chunk_used = 0;
      g_ptr_array_add (in->chunks, in->chunk);
    }
  if (in->n == in->cap)
    {
      in->cap = in->cap ? in->cap * 2 : 64;
      in->keys = g_renew (char *, in->keys, in->cap);
      in->hashes = g_renew (guint32, in->hashes, in->cap);
    }
  /* Keep the load factor at most 1/2 so probe sequences stay short. */
  if ((gsize) (in->n + 1) * 2 > (gsize) in->mask + 1)
    grow_slots (in);
  guint32 e = in->n++;
  in->keys[e] = in->chunk + in->chunk_used;
  memcpy (in->keys[e], key, len);
  in->chunk_used += len;
  in->hashes[e] = referral_intern_hash (key);
  place (in, e);
  return e;
}

void
referral_intern_pop (ReferralIntern *in)
{
  g_return_if_fail (in->n > 0);
  guint32 e = in->n - 1;
  guint32 i = in->hashes[e] & in->mask;
  while ((guint32) in->slots[i] != e + 1)
    i = (i + 1) & in->mask;
  /* Backward-shift deletion: pull later members of the probe run into the
   * hole so that lookups never stop early at it. */
  guint32 hole = i;
  for (guint32 j = (i + 1) & in->mask; in->slots[j] != 0; j = (j + 1) & in->mask)
    {
      guint32 home = (guint32) (in->slots[j] >> 32) & in->mask;
      /* Move slot j into the hole when its home is not in (hole, j]. */
      gboolean in_range = hole <= j ? (home > hole && home <= j)
                                    : (home > hole || home <= j);
      if (!in_range)
        {
          in->slots[hole] = in->slots[j];
          hole = j;
        }
    }
  in->slots[hole] = 0;
  /* The newest key is the last thing written to the current chunk. */
  g_assert (in->keys[e] >= in->chunk && in->keys[e] < in->chunk + in->chunk_size);
  in->chunk_used = (gsize) (in->keys[e] - in->chunk);
  in->n--;
}

gsize
referral_intern_bytes (const ReferralIntern *in)
{
  return (in->chunks ? in->chunks->len : 0) * (gsize) CHUNK_SIZE
         + (gsize) in->cap * (sizeof (char *) + sizeof (guint32))
         + ((gsize) in->mask + 1) * sizeof (guint64);
}
