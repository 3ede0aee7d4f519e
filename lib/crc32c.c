/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * journal records and snapshots.  Slicing by one byte with a table built
 * on first use: fast enough next to an fsync, and simple to check. */
#include "durability-private.h"

static guint32 crc_table[256];

static gpointer
build_table (gpointer data)
{
  (void) data;
  for (guint32 i = 0; i < 256; i++)
    {
      guint32 c = i;
      for (int k = 0; k < 8; k++)
        c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      crc_table[i] = c;
    }
  return NULL;
}

guint32
referral_crc32c (guint32 crc, const void *data, gsize len)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, build_table, NULL);
  const guint8 *p = data;
  crc = ~crc;
  for (gsize i = 0; i < len; i++)
    crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}
