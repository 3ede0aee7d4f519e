/* Reading key bytes a word at a time, for the hashes over them: the event
 * fingerprint (lib/event.c) and the intern table's hash (lib/intern.c). */
#ifndef REFERRAL_WORDS_H
#define REFERRAL_WORDS_H

#include <glib.h>
#include <string.h>

/* The 8 bytes at @p as a little-endian word (any alignment). */
static inline guint64
referral_word_at (const guint8 *p)
{
  guint64 w;
  memcpy (&w, p, 8);
  return GUINT64_FROM_LE (w);
}

/* The last @len (0-7) bytes at @p as a little-endian word, read with two
 * overlapping loads (4..7 bytes) or three single bytes (1..3): the same
 * word as byte-by-byte assembly, without a loop, and reading no byte
 * outside the @len. */
static inline guint64
referral_tail_word (const guint8 *p, gsize len)
{
  if (len >= 4)
    {
      guint32 lo, hi;
      memcpy (&lo, p, 4);
      memcpy (&hi, p + len - 4, 4);
      return (guint64) GUINT32_FROM_LE (lo) | ((guint64) GUINT32_FROM_LE (hi) << (8 * (len - 4)));
    }
  if (len > 0)
    return (guint64) p[0] | ((guint64) p[len / 2] << (8 * (len / 2)))
           | ((guint64) p[len - 1] << (8 * (len - 1)));
  return 0;
}

#endif
