/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * journal records and snapshots.
 *
 * Three implementations that give the same bits:
 *   - bytewise: one table lookup per byte (the definition, kept as the
 *     reference and the fallback of the others' head and tail bytes);
 *   - slice-by-8: eight tables, eight bytes per step (portable C);
 *   - SSE4.2: the CPU's crc32 instruction, eight bytes per instruction
 *     (x86-64 with GCC or Clang, chosen at run time when the CPU has it).
 * referral_crc32c() picks the fastest available one on first use;
 * referral_crc32c_with() runs a given one (tests, bench).  Tables are
 * built on first use. */
#include "durability-private.h"

#include <string.h>

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_CRC32C_SSE42 1
#include <nmmintrin.h>
#endif

#define CRC32C_POLY 0x82F63B78u

/* table[0] is the bytewise table; table[k][i] is the CRC of byte i followed
 * by k zero bytes, which is what slice-by-8 folds eight bytes with. */
static guint32 table[8][256];

static gpointer
build_tables (gpointer data)
{
  (void) data;
  for (guint32 i = 0; i < 256; i++)
    {
      guint32 c = i;
      for (int k = 0; k < 8; k++)
        c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
      table[0][i] = c;
    }
  for (guint32 i = 0; i < 256; i++)
    for (int k = 1; k < 8; k++)
      table[k][i] = (table[k - 1][i] >> 8) ^ table[0][table[k - 1][i] & 0xff];
  return NULL;
}

static void
ensure_tables (void)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, build_tables, NULL);
}

/* These work on the inverted register (no ~ on entry or exit). */

static guint32
crc_bytewise (guint32 c, const guint8 *p, gsize len)
{
  for (gsize i = 0; i < len; i++)
    c = table[0][(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c;
}

static inline guint32
load_le32 (const guint8 *p)
{
  guint32 v;
  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static guint32
crc_slice8 (guint32 c, const guint8 *p, gsize len)
{
  /* Head bytes up to an 8-byte boundary, so the loads below are aligned
   * (cheaper on some CPUs; memcpy keeps them legal on all). */
  while (len > 0 && ((guintptr) p & 7) != 0)
    {
      c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
      len--;
    }
  while (len >= 8)
    {
      guint32 lo = load_le32 (p) ^ c;
      guint32 hi = load_le32 (p + 4);
      c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff]
          ^ table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff]
          ^ table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
      p += 8;
      len -= 8;
    }
  return crc_bytewise (c, p, len);
}

#ifdef HAVE_CRC32C_SSE42
__attribute__ ((target ("sse4.2"))) static guint32
crc_sse42 (guint32 c, const guint8 *p, gsize len)
{
  while (len > 0 && ((guintptr) p & 7) != 0)
    {
      c = _mm_crc32_u8 (c, *p++);
      len--;
    }
  guint64 c64 = c;
  while (len >= 8)
    {
      guint64 v;
      memcpy (&v, p, 8);
      c64 = _mm_crc32_u64 (c64, v);
      p += 8;
      len -= 8;
    }
  c = (guint32) c64;
  while (len > 0)
    {
      c = _mm_crc32_u8 (c, *p++);
      len--;
    }
  return c;
}
#endif

gboolean
referral_crc32c_available (ReferralCrc32cImpl impl)
{
  switch (impl)
    {
    case REFERRAL_CRC32C_AUTO:
    case REFERRAL_CRC32C_BYTEWISE:
    case REFERRAL_CRC32C_SLICE8:
      return TRUE;
    case REFERRAL_CRC32C_SSE42:
      /* decided once, in choose() */
      return referral_crc32c_chosen () == REFERRAL_CRC32C_SSE42;
    default:
      return FALSE;
    }
}

const char *
referral_crc32c_name (ReferralCrc32cImpl impl)
{
  switch (impl)
    {
    case REFERRAL_CRC32C_AUTO: return "auto";
    case REFERRAL_CRC32C_BYTEWISE: return "bytewise";
    case REFERRAL_CRC32C_SLICE8: return "slice-by-8";
    case REFERRAL_CRC32C_SSE42: return "sse4.2";
    default: return "unknown";
    }
}

static ReferralCrc32cImpl best;

static gpointer
choose (gpointer data)
{
  (void) data;
  ensure_tables ();
  best = REFERRAL_CRC32C_SLICE8;
#ifdef HAVE_CRC32C_SSE42
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("sse4.2"))
    best = REFERRAL_CRC32C_SSE42;
#endif
  return NULL;
}

ReferralCrc32cImpl
referral_crc32c_chosen (void)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, choose, NULL);
  return best;
}

guint32
referral_crc32c_with (ReferralCrc32cImpl impl, guint32 crc, const void *data, gsize len)
{
  ensure_tables ();
  if (impl == REFERRAL_CRC32C_AUTO)
    impl = referral_crc32c_chosen ();
  const guint8 *p = data;
  switch (impl)
    {
#ifdef HAVE_CRC32C_SSE42
    case REFERRAL_CRC32C_SSE42:
      g_return_val_if_fail (referral_crc32c_available (impl), 0);
      return ~crc_sse42 (~crc, p, len);
#endif
    case REFERRAL_CRC32C_SLICE8:
      return ~crc_slice8 (~crc, p, len);
    case REFERRAL_CRC32C_BYTEWISE:
      return ~crc_bytewise (~crc, p, len);
    default:
      g_return_val_if_reached (0);
    }
}

guint32
referral_crc32c (guint32 crc, const void *data, gsize len)
{
  ReferralCrc32cImpl impl = referral_crc32c_chosen ();
#ifdef HAVE_CRC32C_SSE42
  if (impl == REFERRAL_CRC32C_SSE42)
    return ~crc_sse42 (~crc, data, len);
#endif
  (void) impl;
  return ~crc_slice8 (~crc, data, len);
}
