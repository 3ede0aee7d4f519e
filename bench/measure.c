/* referral-bench: clocks, resident memory, and the memory model. */
#include "measure.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <referral/ledger.h>

gint64
bench_wall_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

gint64
bench_cpu_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

gboolean
bench_reset_peak_rss (void)
{
  int fd = open ("/proc/self/clear_refs", O_WRONLY);
  if (fd < 0)
    return FALSE;
  gboolean ok = write (fd, "5", 1) == 1;
  close (fd);
  return ok;
}

static guint64
status_kib (const char *field)
{
  FILE *f = fopen ("/proc/self/status", "r");
  if (f == NULL)
    return 0;
  char line[256];
  gsize len = strlen (field);
  guint64 kib = 0;
  while (fgets (line, sizeof line, f))
    if (strncmp (line, field, len) == 0 && line[len] == ':')
      {
        kib = g_ascii_strtoull (line + len + 1, NULL, 10);
        break;
      }
  fclose (f);
  return kib * 1024;
}

guint64
bench_rss_bytes (void)
{
  return status_kib ("VmRSS");
}

guint64
bench_peak_rss_bytes (void)
{
  return status_kib ("VmHWM");
}

guint64
bench_intern_slots (guint64 n)
{
  /* lib/intern.c: 16 slots at first, doubled whenever (n + 1) * 2 would
   * exceed them. */
  guint64 slots = 16;
  while (slots < 2 * n)
    slots *= 2;
  return slots;
}

/* Sizes from lib/ (see docs/performance.md, "Memory model").
 * Per member: tree.c arrays sponsor, parent, first_child, last_child,
 * next_sibling, prev_sibling, n_children, first_sponsored, last_sponsored,
 * next_sponsored, n_sponsored (11 x 4 bytes) + rank (1); the key's intern
 * entry (its pointer in `keys`, 8); two balances (2 x 8); per memoised
 * rank threshold a {stamp, value} entry (8); the scheme's member fields (8
 * per word).  (The engine's changed-members set is per event, not per
 * member.) */
#define MEMBER_FIXED (11 * 4 + 1 + 8 + 16)
#define MEMO_PER_THRESHOLD 8
/* Per event: the id's intern entry (8), its fingerprint (8), the ledger's
 * first-posting index (8). */
#define EVENT_FIXED (8 + 8 + 8)
/* Per order: the id's intern entry (8), buyer 4, amount 8, sku 4, event 4,
 * period 4, refunded 1. */
#define ORDER_FIXED (8 + 4 + 8 + 4 + 4 + 4 + 1)
/* lib/intern.h: a slot holds the hash (4) and the entry (4). */
#define SLOT_BYTES 8

void
bench_model_compute (const BenchSchemeShape *shape, const BenchCounts *c, BenchModel *out)
{
  double member_fixed = MEMBER_FIXED + MEMO_PER_THRESHOLD * shape->rank_thresholds
                        + 8.0 * shape->field_words;
  guint64 member_slots = SLOT_BYTES * bench_intern_slots (c->members);
  guint64 event_slots = SLOT_BYTES * bench_intern_slots (c->events);
  guint64 order_slots = SLOT_BYTES * bench_intern_slots (c->orders);

  out->bytes_per_member = member_fixed + (c->members ? (double) member_slots / c->members : 0);
  out->bytes_per_event = EVENT_FIXED + (c->events ? (double) event_slots / c->events : 0);
  out->bytes_per_order = ORDER_FIXED + (c->orders ? (double) order_slots / c->orders : 0);
  out->bytes_per_posting = sizeof (ReferralPosting);
  out->total_bytes = (guint64) (member_fixed * c->members) + member_slots + c->member_key_bytes
                     + EVENT_FIXED * c->events + event_slots + c->event_key_bytes
                     + ORDER_FIXED * c->orders + order_slots + c->order_key_bytes
                     + sizeof (ReferralPosting) * c->postings;
}
