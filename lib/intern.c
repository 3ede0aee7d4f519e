/* String intern table with linear probing and last-in-first-out removal. */
#include "intern.h"
#include "words.h"

#include <string.h>

static inline guint64
hash_step (guint64 h, guint64 w)
{
  h ^= w;
  h *= 0x9e3779b97f4a7c15ull;
  return h ^ (h >> 32);
}

guint32
referral_intern_hash_len (const char *key, gsize *len)
{
  /* Eight bytes per step (keys are mostly 5-12 bytes: one or two steps
   * instead of a multiply per byte), the last 0-7 bytes as one word
   * (words.h), then a final avalanche so that the low bits used for the
   * slot depend on every byte.  Only ever used in memory: the tables are
   * rebuilt on load. */
  gsize n = strlen (key);
  const guint8 *p = (const guint8 *) key;
  guint64 h = 0x243f6a8885a308d3ull ^ n;
  gsize left = n;
  for (; left >= 8; p += 8, left -= 8)
    h = hash_step (h, referral_word_at (p));
  h = hash_step (h, referral_tail_word (p, left));
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 29;
  *len = n;
  return (guint32) h;
}

guint32
referral_intern_hash (const char *key)
{
  gsize len;
  return referral_intern_hash_len (key, &len);
}

/* Key chunks start small (a table of a few keys stays small) and double up
 * to a size that huge pages can back. */
#define FIRST_CHUNK_SIZE (64 * 1024)
#define MAX_CHUNK_SIZE ((gsize) REFERRAL_MEM_HUGE_MIN)

void
referral_intern_init (ReferralIntern *in)
{
  memset (in, 0, sizeof *in);
  in->chunks = g_ptr_array_new_with_free_func (referral_mem_free);
  in->mask = 15;
  in->slots = referral_new0 (ReferralInternSlot, in->mask + 1);
}

void
referral_intern_clear (ReferralIntern *in)
{
  if (in->chunks)
    g_ptr_array_free (in->chunks, TRUE);
  referral_mem_free (in->keys);
  referral_mem_free (in->slots);
  memset (in, 0, sizeof *in);
}

guint32
referral_intern_lookup (const ReferralIntern *in, const char *key)
{
  return referral_intern_lookup_hashed (in, key, referral_intern_hash (key));
}

guint32
referral_intern_lookup_hashed (const ReferralIntern *in, const char *key, guint32 h)
{
  for (guint32 i = h & in->mask;; i = (i + 1) & in->mask)
    {
      const ReferralInternSlot *s = &in->slots[i];
      if (s->entry == 0)
        return REFERRAL_INTERN_NONE;
      if (s->hash == h && strcmp (in->keys[s->entry - 1], key) == 0)
        return s->entry - 1;
    }
}

static void
place (ReferralIntern *in, ReferralInternSlot slot)
{
  guint32 i = slot.hash & in->mask;
  while (in->slots[i].entry != 0)
    i = (i + 1) & in->mask;
  in->slots[i] = slot;
}

/* Rehashes into @n_slots slots (a power of two that holds every key). */
static void
resize_slots (ReferralIntern *in, gsize n_slots)
{
  ReferralInternSlot *old = in->slots;
  guint32 old_n = in->mask + 1;
  in->mask = (guint32) (n_slots - 1);
  in->slots = referral_new0 (ReferralInternSlot, n_slots);
  for (guint32 i = 0; i < old_n; i++)
    if (old[i].entry != 0)
      place (in, old[i]);
  referral_mem_free (old);
}

static void
grow_slots (ReferralIntern *in)
{
  resize_slots (in, ((gsize) in->mask + 1) * 2);
}

void
referral_intern_reserve (ReferralIntern *in, guint32 n)
{
  if (n > in->cap)
    {
      in->cap = n;
      in->keys = referral_renew (char *, in->keys, in->cap);
    }
  /* The load factor add() keeps: (n + 1) * 2 <= slots. */
  gsize slots = (gsize) in->mask + 1;
  gsize need = ((gsize) n + 1) * 2;
  if (slots >= need)
    return;
  while (slots < need)
    slots *= 2;
  resize_slots (in, slots);
}

guint32
referral_intern_add (ReferralIntern *in, const char *key)
{
  gsize len;
  guint32 h = referral_intern_hash_len (key, &len);
  return referral_intern_add_sized (in, key, len, h);
}

guint32
referral_intern_add_sized (ReferralIntern *in, const char *key, gsize key_len, guint32 h)
{
  if (in->n >= G_MAXUINT32 - 1)
    return REFERRAL_INTERN_NONE;
  gsize len = key_len + 1;
  if (in->chunk == NULL || in->chunk_used + len > in->chunk_size)
    {
      /* Start a new chunk; the old one stays where it is. */
      gsize size = in->chunk ? MIN (in->chunk_size * 2, MAX_CHUNK_SIZE) : FIRST_CHUNK_SIZE;
      in->chunk_size = MAX (size, len);
      in->chunk = referral_mem_renew (NULL, in->chunk_size, 1);
      in->chunk_bytes += in->chunk_size;
      in->chunk_used = 0;
      g_ptr_array_add (in->chunks, in->chunk);
    }
  if (in->n == in->cap)
    {
      in->cap = in->cap ? in->cap * 2 : 64;
      in->keys = referral_renew (char *, in->keys, in->cap);
    }
  /* Keep the load factor at most 1/2 so probe sequences stay short. */
  if ((gsize) (in->n + 1) * 2 > (gsize) in->mask + 1)
    grow_slots (in);
  guint32 e = in->n++;
  in->keys[e] = in->chunk + in->chunk_used;
  memcpy (in->keys[e], key, len);
  in->chunk_used += len;
  place (in, (ReferralInternSlot) { h, e + 1 });
  return e;
}

void
referral_intern_pop (ReferralIntern *in)
{
  g_return_if_fail (in->n > 0);
  guint32 e = in->n - 1;
  guint32 i = referral_intern_hash (in->keys[e]) & in->mask;
  while (in->slots[i].entry != e + 1)
    i = (i + 1) & in->mask;
  /* Backward-shift deletion: pull later members of the probe run into the
   * hole so that lookups never stop early at it. */
  guint32 hole = i;
  for (guint32 j = (i + 1) & in->mask; in->slots[j].entry != 0; j = (j + 1) & in->mask)
    {
      guint32 home = in->slots[j].hash & in->mask;
      /* Move slot j into the hole when its home is not in (hole, j]. */
      gboolean in_range = hole <= j ? (home > hole && home <= j)
                                    : (home > hole || home <= j);
      if (!in_range)
        {
          in->slots[hole] = in->slots[j];
          hole = j;
        }
    }
  in->slots[hole] = (ReferralInternSlot) { 0, 0 };
  /* The newest key is the last thing written to the current chunk. */
  g_assert (in->keys[e] >= in->chunk && in->keys[e] < in->chunk + in->chunk_size);
  in->chunk_used = (gsize) (in->keys[e] - in->chunk);
  in->n--;
}

gsize
referral_intern_bytes (const ReferralIntern *in)
{
  return in->chunk_bytes
         + (gsize) in->cap * sizeof (char *)
         + ((gsize) in->mask + 1) * sizeof (ReferralInternSlot);
}
