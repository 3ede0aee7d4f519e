/* Simulation internals: the configuration's layout, the random draws. */
#ifndef REFERRAL_SIM_PRIVATE_H
#define REFERRAL_SIM_PRIVATE_H

#include <referral/money.h>
#include <referral/sim.h>

/* ---- configuration (config.c) -------------------------------------------- */

typedef enum {
  SIM_KEY_SEED,
  SIM_KEY_MEMBERS,
  SIM_KEY_DAYS,
  SIM_KEY_FOUNDERS,
  SIM_KEY_FOUNDER_RANK,
  SIM_KEY_ENTRY_SKU,
  SIM_KEY_ENTRY_PRICE,
  SIM_KEY_REPURCHASE_SKU,
  SIM_KEY_REPURCHASE_PRICE,
  SIM_KEY_RECRUIT_RATES,
  SIM_KEY_RECRUIT_SATURATION,
  SIM_KEY_ENTRY_RATE,
  SIM_KEY_ENTRY_LATER_RATE,
  SIM_KEY_REPURCHASE_RATE,
  SIM_KEY_CHURN_RATES,
  SIM_KEY_REFUND_RATE,
  SIM_KEY_WITHDRAW_RATE,
  SIM_KEY_COHORT_DAYS,
  SIM_KEY_CHECK_INVARIANTS,
  SIM_N_KEYS
} SimKey;

typedef enum {
  SIM_TYPE_U64,       /* seed: 0 .. 2^64-1 */
  SIM_TYPE_COUNT,     /* a whole number within [min, max] */
  SIM_TYPE_RANK,      /* a rank name, or empty for the entry rank */
  SIM_TYPE_SKU,       /* non-empty text without control characters */
  SIM_TYPE_MONEY,     /* an amount > 0 (decimals checked with the scheme) */
  SIM_TYPE_RATE,      /* a probability, 0% to 100% */
  SIM_TYPE_RATE_LIST, /* 1 to REFERRAL_MAX_RANKS probabilities */
  SIM_TYPE_BOOL
} SimType;

typedef struct {
  char *text;         /* as set, or the default */
  char *where;        /* the prefix of messages about this value */
  gboolean is_set;
  guint64 u;          /* U64, COUNT, BOOL */
  ReferralRate rates[REFERRAL_MAX_RANKS]; /* RATE (1 entry), RATE_LIST */
  guint n_rates;
} SimValue;

struct _ReferralSimConfig {
  SimValue values[SIM_N_KEYS];
};

/* ---- random draws (a counter-based SplitMix64) ------------------------- */

/* The SplitMix64 output function (Steele, Lea, Flood 2014): a bijective
 * mixer of 64 bits.  Fed with a counter it is the SplitMix64 generator;
 * fed with a key it is a good 64-bit hash. */
static inline guint64
sim_mix64 (guint64 z)
{
  z += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* What a draw decides.  Each person draws at most once per purpose per
 * day, so (person, day, purpose) names every draw of a simulation. */
typedef enum {
  SIM_DRAW_CHURN = 1,
  SIM_DRAW_BUY,          /* entry later, or repurchase */
  SIM_DRAW_RECRUIT,
  SIM_DRAW_ENTRY_ON_JOIN,
  SIM_DRAW_REFUND_ENTRY,
  SIM_DRAW_REFUND_RETAIL,
  SIM_DRAW_WITHDRAW
} SimDraw;

/* A person's key: a hash of the seed and the person's number. */
static inline guint64
sim_person_key (guint64 seed, guint64 person)
{
  return sim_mix64 (sim_mix64 (seed) ^ sim_mix64 (person ^ G_GUINT64_CONSTANT (0x5851f42d4c957f2d)));
}

/* The 32-bit uniform number of one draw. */
static inline guint32
sim_draw (guint64 person_key, guint32 day, SimDraw what)
{
  return (guint32) (sim_mix64 (person_key ^ (((guint64) day << 8) | (guint64) what)) >> 32);
}

/* A probability as a threshold out of 2^32: a draw d succeeds when
 * d < threshold.  0 never succeeds, 2^32 always does. */
guint64 sim_rate_threshold (ReferralRate rate);

/* ---- the simulation (sim.c, metrics.c) ----------------------------------- */

struct _ReferralSim {
  ReferralScheme *scheme;
  ReferralEngine *engine;
  ReferralSimConfig *config;
  guint decimals;
  guint n_ranks;

  /* the configuration, resolved against the scheme */
  guint64 seed;
  guint32 market, n_days, founders, cohort_days;
  gboolean promote_founders;
  gboolean saturation;   /* recruiting gets harder as the market fills */
  ReferralRank founder_rank;
  const char *entry_sku, *retail_sku; /* borrowed from config */
  gint64 entry_price, retail_price;
  guint64 recruit_thr[REFERRAL_MAX_RANKS], churn_thr[REFERRAL_MAX_RANKS];
  guint64 entry_thr, entry_later_thr, repurchase_thr, refund_thr, withdraw_thr;

  /* people: persons used so far (joined, or refused by the engine) */
  guint32 persons;
  /* members, indexed as in the engine's tree */
  guint32 n_members, cap_members, active;
  guint64 *person_key;
  guint32 *join_day;
  guint8 *flags;
  gint64 *paid;     /* order amounts less refunds */
  gint64 *rewards;  /* net rewards */

  /* ids */
  guint64 n_event_ids, n_orders;
  /* PendingRefund: picked today (pending), to refund today (due) */
  GArray *pending, *due;

  /* figures */
  ReferralSimDay today;
  GArray *days;        /* ReferralSimDay */
  guint n_kinds;
  gint64 *kind_today, *kind_total;
  GPtrArray *kind_days; /* GArray of gint64 per day */
  gint64 held;
  guint32 rejected;
  char *first_rejection;

  /* the summary, computed on demand (metrics.c) */
  gboolean summary_valid;
  ReferralSimSummary summary;
  GArray *cohorts;     /* ReferralSimGroup */
  ReferralSimGroup rank_groups[REFERRAL_MAX_RANKS];
};

/* TRUE when @member bought the entry product (sim.c). */
gboolean sim_member_bought (const ReferralSim *sim, ReferralMember member);

#endif
