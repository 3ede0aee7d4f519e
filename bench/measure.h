/* referral-bench: clocks, resident memory, and the memory model. */
#ifndef BENCH_MEASURE_H
#define BENCH_MEASURE_H

#include <glib.h>

G_BEGIN_DECLS

/* Monotonic wall time and this thread's CPU time, in nanoseconds. */
gint64 bench_wall_ns (void);
gint64 bench_cpu_ns (void);

/* Resets the peak resident set size (VmHWM) of this process to its current
 * size (/proc/self/clear_refs, "5").  Returns: FALSE when not possible. */
gboolean bench_reset_peak_rss (void);

/* Returns: VmRSS / VmHWM of this process in bytes (0 when unknown). */
guint64 bench_rss_bytes (void);
guint64 bench_peak_rss_bytes (void);

/* The memory model: what the engine's data structures hold, computed from
 * public counts and the sizes of the structures in lib/ (see
 * docs/performance.md, "Memory model", for the derivation line by line). */
typedef struct {
  guint rank_thresholds; /* ranks the superior memo is kept for */
  guint field_words;     /* int64 words of member fields the scheme declares */
} BenchSchemeShape;

typedef struct {
  guint64 members, events, orders, postings;
  guint64 member_key_bytes, event_key_bytes, order_key_bytes; /* strlen + 1 each */
} BenchCounts;

typedef struct {
  double bytes_per_member;  /* excluding the key string */
  double bytes_per_event;   /* excluding the id string */
  double bytes_per_order;   /* excluding the order id string */
  double bytes_per_posting;
  guint64 total_bytes;      /* everything, key strings included */
} BenchModel;

/* Slots of an intern table holding @n keys (load factor at most 1/2). */
guint64 bench_intern_slots (guint64 n);

void bench_model_compute (const BenchSchemeShape *shape, const BenchCounts *counts,
                          BenchModel *out);

G_END_DECLS

#endif
