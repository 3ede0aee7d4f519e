/* A string intern table: each distinct key gets a dense index (0, 1, 2, ...)
 * in insertion order.  Keys live in chunks that never move; lookup is one
 * linear-probe sequence over 8-byte slots that hold the hash and the entry,
 * so a miss (a new key) costs one memory read and a hit three (slot, the
 * key's pointer in `keys`, the key), which the engine's batch call
 * prefetches in stages.  Slots of 8 bytes rather than 16 (with the key
 * pointer) halve the table, which at load 1/4 to 1/2 is most of what a key
 * costs.  Only the most recently added key can be removed (the engine's
 * undo is last-in, first-out). */
#ifndef REFERRAL_INTERN_H
#define REFERRAL_INTERN_H

#include <glib.h>

#include "mem.h"

#define REFERRAL_INTERN_NONE G_MAXUINT32

typedef struct {
  guint32 hash;       /* of the key */
  guint32 entry;      /* entry + 1, or 0 for an empty slot */
} ReferralInternSlot;

typedef struct {
  /* Keys are copied into chunks that never move, so that a key pointer
   * handed out stays valid as long as the table (callers keep them across
   * events).  Full chunks are kept in `chunks`; `chunk` is the one being
   * filled. */
  GPtrArray *chunks;
  char *chunk;
  gsize chunk_used;
  gsize chunk_size;   /* of `chunk` */
  gsize chunk_bytes;  /* of all chunks */
  char **keys;        /* entry -> its key */
  guint32 n;
  guint32 cap;
  ReferralInternSlot *slots;
  guint32 mask;       /* number of slots - 1 (a power of two) */
} ReferralIntern;

void referral_intern_init (ReferralIntern *in);
void referral_intern_clear (ReferralIntern *in);
guint32 referral_intern_lookup (const ReferralIntern *in, const char *key);
/* As referral_intern_lookup(), given @h == referral_intern_hash (@key)
 * (for callers that hashed the key already, to prefetch its slot). */
guint32 referral_intern_lookup_hashed (const ReferralIntern *in, const char *key, guint32 h);
/* Adds @key, which must not be present.  Returns its index, or
 * REFERRAL_INTERN_NONE when the table is full (2^32 - 2 keys). */
guint32 referral_intern_add (ReferralIntern *in, const char *key);
/* As referral_intern_add(), given @h == referral_intern_hash (@key) and
 * @len == strlen (@key). */
guint32 referral_intern_add_sized (ReferralIntern *in, const char *key, gsize len, guint32 h);
/* Makes room for @n keys in all (key array and slots at the load factor
 * add() keeps), so that adding up to @n keys neither reallocates nor
 * rehashes; for loaders that know the count. */
void referral_intern_reserve (ReferralIntern *in, guint32 n);
/* Removes the most recently added key. */
void referral_intern_pop (ReferralIntern *in);
static inline const char *
referral_intern_key (const ReferralIntern *in, guint32 index)
{
  return in->keys[index];
}
guint32 referral_intern_hash (const char *key);
/* As referral_intern_hash(), and sets *@len to strlen (@key), which the
 * hash needs anyway: callers that insert the key or hash it again (the
 * event fingerprint) reuse it. */
guint32 referral_intern_hash_len (const char *key, gsize *len);
/* Prefetching (referral_engine_apply_many): start loading the slot where
 * the probe for hash @h begins. */
static inline void
referral_intern_prefetch (const ReferralIntern *in, guint32 h)
{
  __builtin_prefetch (&in->slots[h & in->mask]);
}
/* Prefetching: the entry of the first slot on @h's probe run whose hash is
 * @h, or REFERRAL_INTERN_NONE; starts loading that entry's key pointer (see
 * referral_intern_prefetch_key for the key itself).  It does not compare
 * keys, so it may name another key with the same hash: a guess for
 * prefetching, never an answer. */
static inline guint32
referral_intern_peek (const ReferralIntern *in, guint32 h)
{
  for (guint32 i = h & in->mask;; i = (i + 1) & in->mask)
    {
      const ReferralInternSlot *s = &in->slots[i];
      if (s->entry == 0)
        return REFERRAL_INTERN_NONE;
      if (s->hash == h)
        {
          __builtin_prefetch (&in->keys[s->entry - 1]);
          return s->entry - 1;
        }
    }
}
/* Prefetching: start loading the key of @index (an entry that exists),
 * once its pointer has arrived (a later stage than referral_intern_peek). */
static inline void
referral_intern_prefetch_key (const ReferralIntern *in, guint32 index)
{
  __builtin_prefetch (in->keys[index]);
}
/* Bytes used, for accounting. */
gsize referral_intern_bytes (const ReferralIntern *in);

#endif
