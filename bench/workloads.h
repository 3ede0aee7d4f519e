/* referral-bench: deterministic workloads.
 *
 * A workload is a stream of compact events (BenchEvent, 24 bytes each)
 * generated from a seed before any clock starts.  Timed runs turn a chunk of
 * compact events at a time into ReferralEvent structs whose key strings
 * ("m123", "o45", "e678") are written into an arena, outside the clock, then
 * apply the chunk with the clock running.
 *
 * The chain21 generator needs to know the state to emit only valid
 * withdrawals (amount <= available) and transpositions: it applies each event
 * to an "oracle" engine as it generates the stream and asks it.  The oracle is
 * freed before the timed runs; every timed run uses a fresh engine. */
#ifndef BENCH_WORKLOADS_H
#define BENCH_WORKLOADS_H

#include <stdio.h>

#include <referral/referral.h>

G_BEGIN_DECLS

typedef enum {
  BENCH_JOIN,      /* a: member, b: sponsor + 1 (0: none) */
  BENCH_PROMOTE,   /* a: member, rank */
  BENCH_ORDER,     /* a: buyer, b: order number, amount, sku */
  BENCH_REFUND,    /* b: order number */
  BENCH_CLOSE,     /* b: period number */
  BENCH_WITHDRAW,  /* a: member, amount */
  BENCH_TRANSPOSE  /* a: member, b: old seed, c: new seed */
} BenchEventType;

typedef enum { BENCH_SKU_NONE, BENCH_SKU_GIFT, BENCH_SKU_STD } BenchSku;

typedef struct {
  guint8 type;
  guint8 sku;
  guint8 rank;
  guint8 pad;
  guint32 a, b, c;
  gint64 amount;
} BenchEvent;

/* A growable array of compact events.  Events [base, n) of the stream are
 * in ev[0 .. n - base): base is 0 unless the stream spills (below) or is a
 * window read back from a spill file (bench_spill_read()). */
typedef struct {
  BenchEvent *ev;
  gsize n, cap;
  gsize base;
  /* Spilling (bench_stream_spill_to()): the file, and errno of the first
   * write that failed (0: none). */
  gboolean spill;
  int spill_fd;
  int spill_errno;
  /* Filled in by bench_generate(): order events in the whole stream, and
   * for chain21 the oracle's referral_engine_state_hash() at the end. */
  guint64 n_orders;
  gboolean have_oracle_hash;
  guint64 oracle_hash;
} BenchStream;

/* Effects of the oracle run, for the bare-limit loop (see bare.c). */
typedef enum {
  BARE_EVENT_END, /* one event done */
  BARE_JOIN,      /* a: member, b: parent */
  BARE_POST,      /* a: from account, b: to account, amount */
  BARE_RANK,      /* a: member, b: new rank */
  BARE_MOVE,      /* a: member, b: new parent */
  BARE_WALK       /* a: member whose superior (nearest partner ancestor) is needed */
} BareOpType;

typedef struct {
  guint32 op;
  guint32 a, b;
  guint32 pad;
  gint64 amount;
} BareOp;

typedef struct {
  BareOp *ops;
  gsize n, cap;
  guint32 n_members;
  guint32 n_accounts_base; /* first member account */
  guint64 n_postings;
} BareProgram;

typedef struct {
  const char *name;
  const char *description;
  guint32 default_members;
  gboolean needs_oracle;
} BenchWorkloadInfo;

/* The workloads, NULL-terminated by name. */
extern const BenchWorkloadInfo bench_workloads[];
const BenchWorkloadInfo *bench_workload_lookup (const char *name);

/* bench_scheme_new:
 * Returns: (transfer full): the scheme a workload runs under: the built-in
 * chain21, or for "unilevel" a scheme built in code with the builder API. */
ReferralScheme *bench_scheme_new (const char *workload, GError **error);

/* bench_generate:
 * Fills @stream with workload @name for @members members from @seed (or
 * writes it to the stream's spill file, see bench_stream_spill_to()), and
 * sets stream->n_orders and, for chain21 and bare, the oracle's final state
 * hash.  When
 * @bare is not NULL (workload "bare" and "chain21" only) it also records the
 * effects of every event.  @progress: print progress on stderr.
 * Returns: FALSE with @error when the oracle refused an event (a bug). */
gboolean bench_generate (const char *name, guint32 members, guint64 seed,
                         BenchStream *stream, BareProgram *bare, gboolean progress,
                         GError **error);

void bench_stream_clear (BenchStream *stream);

/* Spill files.  A stream too large to hold in memory next to the oracle
 * engine is written to a file while it is generated: a header of
 * BENCH_SPILL_HEADER bytes, then the compact events in order.  The
 * generator keeps at most a window of events in memory (BENCH_SPILL_EVENTS
 * unless told otherwise); a timed run reads them back a window at a
 * time. */
#define BENCH_SPILL_HEADER 64
#define BENCH_SPILL_EVENTS ((gsize) 1 << 20)

typedef struct {
  guint32 members;
  guint64 seed;
  guint64 n_events;
  guint64 n_orders;
  gboolean have_oracle_hash;
  guint64 oracle_hash;
} BenchSpillInfo;

/* bench_stream_spill_to:
 * Makes the empty @stream write its events to @fd (a new, empty file open
 * for reading and writing) whenever @window (> 0) of them are buffered,
 * keeping only the buffer in memory. */
void bench_stream_spill_to (BenchStream *stream, int fd, gsize window);

/* bench_stream_spill_finish:
 * Writes the events still buffered and the header (@members, @seed, the
 * counts and the oracle's hash from @stream), flushes the file to disk and
 * drops it from the page cache.
 * Returns: FALSE with @error on a write error. */
gboolean bench_stream_spill_finish (BenchStream *stream, guint32 members, guint64 seed,
                                    GError **error);

/* bench_spill_read_info:
 * Reads and checks the header of the spill file @fd (its size must match
 * the number of events it announces).
 * Returns: FALSE with @error when it is not a complete spill file. */
gboolean bench_spill_read_info (int fd, BenchSpillInfo *info, GError **error);

/* bench_spill_read:
 * Reads events [first, first + n) of the spill file @fd into @window
 * (grown as needed; window->base = first, window->n = first + n) and drops
 * those pages from the page cache.
 * Returns: FALSE with @error on a read error or a short file. */
gboolean bench_spill_read (int fd, gsize first, gsize n, BenchStream *window, GError **error);
void bare_program_clear (BareProgram *bare);

/* An arena of key strings and the ReferralEvent structs of one chunk. */
typedef struct {
  ReferralEvent *events;
  char *arena;
  gsize cap_events;
  gsize cap_arena;
} BenchChunk;

/* bench_chunk_fill:
 * Materialises events [first, first + n) of @stream (which must hold them:
 * stream->base <= first, first + n <= stream->n) into @chunk (grown as
 * needed); event number i gets id "e<i>". */
void bench_chunk_fill (BenchChunk *chunk, const BenchStream *stream, gsize first, gsize n);
void bench_chunk_clear (BenchChunk *chunk);

/* bench_write_jsonl:
 * Writes @stream (held in memory from event 0) as JSON Lines
 * (shared/spec/events.md).
 * Returns: FALSE on a write error (errno set). */
gboolean bench_write_jsonl (FILE *out, const BenchStream *stream);

/* Key strings of the workloads: "m<member>", "o<order>", "d<period>",
 * "e<event>".  Writes into @buf (at least 16 bytes); returns the length. */
gsize bench_key (char *buf, char prefix, guint64 number);

G_END_DECLS

#endif
