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

/* A growable array of compact events. */
typedef struct {
  BenchEvent *ev;
  gsize n, cap;
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
 * Fills @stream with workload @name for @members members from @seed.  When
 * @bare is not NULL (workload "bare" and "chain21" only) it also records the
 * effects of every event.  @progress: print progress on stderr.
 * Returns: FALSE with @error when the oracle refused an event (a bug). */
gboolean bench_generate (const char *name, guint32 members, guint64 seed,
                         BenchStream *stream, BareProgram *bare, gboolean progress,
                         GError **error);

void bench_stream_clear (BenchStream *stream);
void bare_program_clear (BareProgram *bare);

/* An arena of key strings and the ReferralEvent structs of one chunk. */
typedef struct {
  ReferralEvent *events;
  char *arena;
  gsize cap_events;
  gsize cap_arena;
} BenchChunk;

/* bench_chunk_fill:
 * Materialises events [first, first + n) of @stream into @chunk (grown as
 * needed); event number i gets id "e<i>". */
void bench_chunk_fill (BenchChunk *chunk, const BenchStream *stream, gsize first, gsize n);
void bench_chunk_clear (BenchChunk *chunk);

/* bench_write_jsonl:
 * Writes @stream as JSON Lines (shared/spec/events.md).
 * Returns: FALSE on a write error (errno set). */
gboolean bench_write_jsonl (FILE *out, const BenchStream *stream);

/* Key strings of the workloads: "m<member>", "o<order>", "d<period>",
 * "e<event>".  Writes into @buf (at least 16 bytes); returns the length. */
gsize bench_key (char *buf, char prefix, guint64 number);

G_END_DECLS

#endif
