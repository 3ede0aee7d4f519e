/* The large-array allocator of lib/mem.c (private; compiled into this test):
 * contents survive every transition (malloc to malloc, malloc to a mapping,
 * growth of a mapping in place and by moving it, shrinking), mappings stay
 * 2 MiB-aligned, new0 is zero at every size, and free takes NULL. */
#include "testutil.h"

#include "../lib/mem.h"

#include <stdint.h>

#define MiB ((gsize) 1 << 20)

/* A word that depends on the position, so a block shifted or truncated by
 * a wrong copy is caught. */
static guint64
pattern (gsize i)
{
  return (i + 1) * 0x9e3779b97f4a7c15u;
}

static void
fill (guint64 *p, gsize from, gsize to)
{
  for (gsize i = from; i < to; i++)
    p[i] = pattern (i);
}

static void
check (const guint64 *p, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (p[i] != pattern (i))
      ck_abort_msg ("word %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " changed", i, n);
}

static gboolean
is_mapped (gpointer p)
{
  /* A mapping's header sits at a 2 MiB boundary, 64 bytes before the data. */
  return (((uintptr_t) p - 64) & (2 * MiB - 1)) == 0;
}

START_TEST (test_grow_through_every_transition)
{
  gsize n = 16;
  guint64 *p = referral_renew (guint64, NULL, n);
  fill (p, 0, n);
  ck_assert (!is_mapped (p));
  /* Doubling from 128 bytes to 64 MiB: malloc, then a mapping. */
  while (n * sizeof (guint64) < 64 * MiB)
    {
      p = referral_renew (guint64, p, n * 2);
      check (p, n);
      fill (p, n, n * 2);
      n *= 2;
      ck_assert (is_mapped (p) == (n * sizeof (guint64) >= REFERRAL_MEM_HUGE_MIN));
    }
  check (p, n);
  /* Shrinking keeps the prefix. */
  p = referral_renew (guint64, p, n / 4);
  check (p, n / 4);
  referral_mem_free (p);
}
END_TEST

START_TEST (test_grow_when_blocked)
{
  /* Two mappings made one after the other usually sit next to each other,
   * so growing the first cannot happen in place and the block must move. */
  gsize n = REFERRAL_MEM_HUGE_MIN / sizeof (guint64);
  guint64 *a = referral_renew (guint64, NULL, n);
  guint64 *b = referral_renew (guint64, NULL, n);
  fill (a, 0, n);
  fill (b, 0, n);
  for (int round = 0; round < 4; round++)
    {
      a = referral_renew (guint64, a, n * 2);
      b = referral_renew (guint64, b, n * 2);
      ck_assert (is_mapped (a) && is_mapped (b));
      check (a, n);
      check (b, n);
      fill (a, n, n * 2);
      fill (b, n, n * 2);
      n *= 2;
    }
  check (a, n);
  check (b, n);
  referral_mem_free (a);
  referral_mem_free (b);
}
END_TEST

START_TEST (test_new0_is_zero)
{
  static const gsize sizes[] = { 0, 1, 4096, REFERRAL_MEM_HUGE_MIN - 64, REFERRAL_MEM_HUGE_MIN,
                                 3 * REFERRAL_MEM_HUGE_MIN + 7 };
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      guint8 *p = referral_new0 (guint8, sizes[s]);
      ck_assert_ptr_nonnull (p);
      /* One assertion per block: Check writes a mark per assertion. */
      gsize nonzero = 0;
      for (gsize i = 0; i < sizes[s]; i++)
        nonzero += p[i] != 0;
      ck_assert_uint_eq (nonzero, 0);
      referral_mem_free (p);
    }
  referral_mem_free (NULL);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mem");
  TCase *tc = tu_tcase (s, "mem", 60);
  tcase_add_test (tc, test_grow_through_every_transition);
  tcase_add_test (tc, test_grow_when_blocked);
  tcase_add_test (tc, test_new0_is_zero);
  return tu_run_suites (s, NULL);
}
