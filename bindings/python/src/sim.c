/* referral.Simulation: the seeded population simulation of sim.h, with the
 * figures of `referral simulate --json` as Python objects.
 *
 * Names follow the tool's JSON report (docs/simulation.md); money is
 * decimal.Decimal (the report's decimal text), counts int, ratios float.
 * Days run with the GIL released. */
#include "pyreferral.h"

#include <string.h>

typedef struct {
  PyObject_HEAD
  ReferralSim *sim;
  PyObject *scheme;   /* the referral.Scheme */
  PyObject *label;    /* what the scheme was given as (str), for report() */
  guint decimals;
  gboolean busy;      /* a day is running without the GIL */
} PyRefSim;

/* ------------------------------------------------------------ figures */

typedef enum { FIG_U32, FIG_U64, FIG_MONEY, FIG_REAL } FigType;

typedef struct {
  const char *name;
  FigType type;
  gsize offset;
} Figure;

#define DAY(f) G_STRUCT_OFFSET (ReferralSimDay, f)
#define SUM(f) G_STRUCT_OFFSET (ReferralSimSummary, f)
#define ORIGIN(a, o) (a + (o) * sizeof (gint64))

static const Figure day_figures[] = {
  { "day", FIG_U32, DAY (day) },
  { "members", FIG_U32, DAY (members) },
  { "joined", FIG_U32, DAY (joined) },
  { "active", FIG_U32, DAY (active) },
  { "churned", FIG_U32, DAY (churned) },
  { "entry_orders", FIG_U32, DAY (entry_orders) },
  { "retail_orders", FIG_U32, DAY (retail_orders) },
  { "refunds", FIG_U32, DAY (refunds) },
  { "withdrawals", FIG_U32, DAY (withdrawals) },
  { "rejected", FIG_U32, DAY (rejected) },
  { "entry_sales", FIG_MONEY, DAY (entry_sales) },
  { "retail_sales", FIG_MONEY, DAY (retail_sales) },
  { "refunded", FIG_MONEY, DAY (refunded) },
  { "withdrawn", FIG_MONEY, DAY (withdrawn) },
  { "rewards", FIG_MONEY, DAY (rewards) },
  { "rewards_entry", FIG_MONEY, ORIGIN (DAY (rewards_by_origin), REFERRAL_SIM_ORIGIN_ENTRY) },
  { "rewards_retail", FIG_MONEY, ORIGIN (DAY (rewards_by_origin), REFERRAL_SIM_ORIGIN_RETAIL) },
  { "rewards_pool", FIG_MONEY, ORIGIN (DAY (rewards_by_origin), REFERRAL_SIM_ORIGIN_POOL) },
  { "rewards_other", FIG_MONEY, ORIGIN (DAY (rewards_by_origin), REFERRAL_SIM_ORIGIN_OTHER) },
  { "sales_total", FIG_MONEY, DAY (sales_total) },
  { "rewards_total", FIG_MONEY, DAY (rewards_total) },
  { "held", FIG_MONEY, DAY (held) },
  { "pool", FIG_MONEY, DAY (pool) },
  { "losers", FIG_U32, DAY (losers) },
  { "saturation", FIG_REAL, DAY (saturation) },
  { "payout_ratio", FIG_REAL, DAY (payout_ratio) },
  { "loss_share", FIG_REAL, DAY (loss_share) },
  { NULL, 0, 0 }
};

#define SHARE(o) (SUM (origin_share) + (o) * sizeof (double))

static const Figure summary_figures[] = {
  { "days", FIG_U32, SUM (days) },
  { "market", FIG_U32, SUM (market) },
  { "members", FIG_U32, SUM (members) },
  { "active", FIG_U32, SUM (active) },
  { "buyers", FIG_U32, SUM (buyers) },
  { "events", FIG_U64, SUM (events) },
  { "rejected", FIG_U32, SUM (rejected) },
  { "entry_orders", FIG_U32, SUM (entry_orders) },
  { "retail_orders", FIG_U32, SUM (retail_orders) },
  { "refunds", FIG_U32, SUM (refunds) },
  { "withdrawals", FIG_U32, SUM (withdrawals) },
  { "entry_sales", FIG_MONEY, SUM (entry_sales) },
  { "retail_sales", FIG_MONEY, SUM (retail_sales) },
  { "refunded", FIG_MONEY, SUM (refunded) },
  { "sales", FIG_MONEY, SUM (sales) },
  { "rewards", FIG_MONEY, SUM (rewards) },
  { "rewards_entry", FIG_MONEY, ORIGIN (SUM (rewards_by_origin), REFERRAL_SIM_ORIGIN_ENTRY) },
  { "rewards_retail", FIG_MONEY, ORIGIN (SUM (rewards_by_origin), REFERRAL_SIM_ORIGIN_RETAIL) },
  { "rewards_pool", FIG_MONEY, ORIGIN (SUM (rewards_by_origin), REFERRAL_SIM_ORIGIN_POOL) },
  { "rewards_other", FIG_MONEY, ORIGIN (SUM (rewards_by_origin), REFERRAL_SIM_ORIGIN_OTHER) },
  { "held", FIG_MONEY, SUM (held) },
  { "pool", FIG_MONEY, SUM (pool) },
  { "withdrawn", FIG_MONEY, SUM (withdrawn) },
  { "losers", FIG_U32, SUM (losers) },
  { "winners", FIG_U32, SUM (winners) },
  { "net_min", FIG_MONEY, SUM (net_min) },
  { "net_p10", FIG_MONEY, SUM (net_p10) },
  { "net_median", FIG_MONEY, SUM (net_median) },
  { "net_p90", FIG_MONEY, SUM (net_p90) },
  { "net_max", FIG_MONEY, SUM (net_max) },
  { "saturation", FIG_REAL, SUM (saturation) },
  { "payout_ratio", FIG_REAL, SUM (payout_ratio) },
  { "loss_share", FIG_REAL, SUM (loss_share) },
  { "gini", FIG_REAL, SUM (gini) },
  { "top1_share", FIG_REAL, SUM (top1_share) },
  { "top10_share", FIG_REAL, SUM (top10_share) },
  { "entry_share", FIG_REAL, SHARE (REFERRAL_SIM_ORIGIN_ENTRY) },
  { "retail_share", FIG_REAL, SHARE (REFERRAL_SIM_ORIGIN_RETAIL) },
  { "pool_share", FIG_REAL, SHARE (REFERRAL_SIM_ORIGIN_POOL) },
  { "other_share", FIG_REAL, SHARE (REFERRAL_SIM_ORIGIN_OTHER) },
  { NULL, 0, 0 }
};

static PyObject *
figure_value (const Figure *f, gconstpointer base, guint decimals)
{
  const char *p = (const char *) base + f->offset;
  switch (f->type)
    {
    case FIG_U32:
      return PyLong_FromUnsignedLong (*(const guint32 *) (const void *) p);
    case FIG_U64:
      return PyLong_FromUnsignedLongLong (*(const guint64 *) (const void *) p);
    case FIG_MONEY:
      return pyref_decimal_from_minor (*(const gint64 *) (const void *) p, decimals);
    case FIG_REAL:
    default:
      return PyFloat_FromDouble (*(const double *) (const void *) p);
    }
}

/* Adds every figure of @figures read from @base to @dict. */
static gboolean
add_figures (PyObject *dict, const Figure *figures, gconstpointer base, guint decimals)
{
  for (const Figure *f = figures; f->name != NULL; f++)
    {
      PyObject *v = figure_value (f, base, decimals);
      if (v == NULL || PyDict_SetItemString (dict, f->name, v) < 0)
        {
          Py_XDECREF (v);
          return FALSE;
        }
      Py_DECREF (v);
    }
  return TRUE;
}

static const ReferralScheme *
sim_scheme (PyRefSim *self)
{
  return referral_engine_scheme (referral_sim_engine (self->sim));
}

/* {rank name: count} of @counts, one per rank of the scheme. */
static PyObject *
by_rank_dict (PyRefSim *self, const guint32 *counts)
{
  const ReferralScheme *scheme = sim_scheme (self);
  PyObject *dict = PyDict_New ();
  for (guint r = 0; dict != NULL && r < referral_scheme_n_ranks (scheme); r++)
    {
      PyObject *n = PyLong_FromUnsignedLong (counts[r]);
      if (n == NULL
          || PyDict_SetItemString (dict, referral_scheme_rank_name (scheme, (ReferralRank) r),
                                   n) < 0)
        Py_CLEAR (dict);
      Py_XDECREF (n);
    }
  return dict;
}

/* {kind name: Decimal} of the rewards of @day (0: whole run), for every
 * kind that paid rewards on some day, as the tool's report lists them. */
static PyObject *
kinds_dict (PyRefSim *self, guint day)
{
  const ReferralLedger *ledger = referral_engine_ledger (referral_sim_engine (self->sim));
  guint n_kinds = referral_sim_n_kinds (self->sim), days = referral_sim_days_done (self->sim);
  PyObject *dict = PyDict_New ();
  for (guint k = 0; dict != NULL && k < n_kinds; k++)
    {
      gboolean used = FALSE;
      for (guint d = 1; d <= days && !used; d++)
        used = referral_sim_day_kind_rewards (self->sim, d, (ReferralKind) k) != 0;
      if (!used)
        continue;
      PyObject *v = pyref_decimal_from_minor (
        referral_sim_day_kind_rewards (self->sim, day, (ReferralKind) k), self->decimals);
      if (v == NULL
          || PyDict_SetItemString (dict, referral_ledger_kind_name (ledger, (ReferralKind) k),
                                   v) < 0)
        Py_CLEAR (dict);
      Py_XDECREF (v);
    }
  return dict;
}

static PyObject *
group_dict (PyRefSim *self, const ReferralSimGroup *g, gboolean cohort)
{
  PyObject *dict;
  if (cohort)
    dict = Py_BuildValue ("{s:I,s:I}", "first_day", g->first_day, "last_day", g->last_day);
  else
    dict = Py_BuildValue ("{s:s}", "rank", referral_scheme_rank_name (sim_scheme (self), g->rank));
  if (dict == NULL)
    return NULL;
  PyObject *net = pyref_decimal_from_minor (g->net_total, self->decimals);
  PyObject *rest = net != NULL ? Py_BuildValue ("{s:I,s:I,s:d,s:N}", "members", g->members,
                                                "losers", g->losers, "loss_share",
                                                g->loss_share, "net_total", net)
                               : NULL;
  if (rest == NULL || PyDict_Update (dict, rest) < 0)
    Py_CLEAR (dict);
  Py_XDECREF (rest);
  return dict;
}

/* ------------------------------------------------------------ life */

static gboolean
check_idle (PyRefSim *self)
{
  if (self->sim == NULL)
    {
      PyErr_SetString (PyExc_RuntimeError, "the simulation was not initialised");
      return FALSE;
    }
  if (self->busy)
    {
      PyErr_SetString (PyExc_RuntimeError, "the simulation is running in another thread");
      return FALSE;
    }
  return TRUE;
}

#define CHECK(self)            \
  do {                         \
    if (!check_idle (self))    \
      return NULL;             \
  } while (0)

/* Sets @key of @config from @value (converted like scheme parameters). */
static gboolean
config_set (ReferralSimConfig *config, PyObject *key, PyObject *value, const char *source)
{
  const char *k = pyref_utf8 (key, "simulation setting", NULL);
  if (k == NULL)
    return FALSE;
  char *where = g_strdup_printf ("%s %s", source, k);
  PyObject *text = pyref_setting_text (value, where);
  const char *v = text != NULL ? pyref_utf8 (text, where, NULL) : NULL;
  GError *error = NULL;
  gboolean ok = v != NULL && referral_sim_config_set (config, k, v, where, &error);
  if (!ok && error != NULL)
    pyref_raise_gerror (error);
  Py_XDECREF (text);
  g_free (where);
  return ok;
}

static int
sim_init (PyRefSim *self, PyObject *args, PyObject *kwargs)
{
  if (self->sim != NULL)
    {
      PyErr_SetString (PyExc_RuntimeError, "a Simulation cannot be initialised twice");
      return -1;
    }
  PyObject *scheme_obj = NULL, *config_obj = Py_None;
  if (!PyArg_ParseTuple (args, "O:Simulation", &scheme_obj))
    return -1;
  /* Keyword arguments: config, then every simulation setting by name. */
  PyObject *settings = kwargs != NULL ? PyDict_Copy (kwargs) : PyDict_New ();
  if (settings == NULL)
    return -1;
  PyObject *c = PyDict_GetItemString (settings, "config");
  if (c != NULL)
    {
      config_obj = c;
      Py_INCREF (config_obj);
      PyDict_DelItemString (settings, "config");
    }
  else
    Py_INCREF (config_obj);

  int result = -1;
  ReferralScheme *scheme = NULL;
  ReferralSimConfig *config = referral_sim_config_new ();
  GError *error = NULL;
  if (config_obj != Py_None)
    {
      if (PyDict_Check (config_obj))
        {
          PyObject *key, *value;
          Py_ssize_t pos = 0;
          while (PyDict_Next (config_obj, &pos, &key, &value))
            if (!config_set (config, key, value, "config"))
              goto out;
        }
      else
        {
          PyObject *path = NULL;
          if (!PyUnicode_FSConverter (config_obj, &path))
            goto out;
          gboolean ok = referral_sim_config_load_file (config, PyBytes_AS_STRING (path), &error);
          Py_DECREF (path);
          if (!ok)
            {
              pyref_raise_gerror (error);
              goto out;
            }
        }
    }
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  while (PyDict_Next (settings, &pos, &key, &value))
    if (!config_set (config, key, value, "argument"))
      goto out;

  scheme = pyref_scheme_from_object (scheme_obj);
  if (scheme == NULL)
    goto out;
  ReferralSim *sim = referral_sim_new (scheme, config, &error);
  if (sim == NULL)
    {
      pyref_raise_gerror (error);
      goto out;
    }
  self->scheme = PyObject_TypeCheck (scheme_obj, &PyRefScheme_Type) ? Py_NewRef (scheme_obj)
                                                                     : pyref_scheme_wrap (scheme);
  self->label = PyUnicode_Check (scheme_obj) ? Py_NewRef (scheme_obj)
                                             : PyUnicode_FromString (referral_scheme_name (scheme));
  if (self->scheme == NULL || self->label == NULL)
    {
      referral_sim_free (sim);
      goto out;
    }
  self->sim = sim;
  self->decimals = referral_scheme_decimals (scheme);
  result = 0;

out:
  referral_scheme_unref (scheme);
  referral_sim_config_free (config);
  Py_DECREF (config_obj);
  Py_DECREF (settings);
  return result;
}

static void
sim_dealloc (PyRefSim *self)
{
  referral_sim_free (self->sim);
  Py_CLEAR (self->scheme);
  Py_CLEAR (self->label);
  Py_TYPE (self)->tp_free ((PyObject *) self);
}

/* ------------------------------------------------------------ running */

/* One day without the GIL.  Returns: 1 a day ran, 0 all done, -1 error. */
static int
step (PyRefSim *self)
{
  GError *error = NULL;
  ReferralSim *sim = self->sim;
  gboolean ran;
  self->busy = TRUE;
  Py_BEGIN_ALLOW_THREADS
  ran = referral_sim_step (sim, &error);
  Py_END_ALLOW_THREADS
  self->busy = FALSE;
  if (pyref_reraise_fatal ())
    {
      g_clear_error (&error);
      return -1;
    }
  if (error != NULL)
    {
      pyref_raise_gerror (error);
      return -1;
    }
  return ran ? 1 : 0;
}

static PyObject *
sim_step (PyRefSim *self, PyObject *noargs)
{
  CHECK (self);
  int r = step (self);
  return r < 0 ? NULL : PyBool_FromLong (r);
}

static PyObject *
sim_run (PyRefSim *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "progress", NULL };
  PyObject *progress = Py_None;
  CHECK (self);
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "|O:run", kwlist, &progress))
    return NULL;
  if (progress != Py_None && !PyCallable_Check (progress))
    return PyErr_Format (PyExc_TypeError, "progress must be callable");
  for (;;)
    {
      int r = step (self);
      if (r < 0)
        return NULL;
      if (r == 0)
        break;
      if (PyErr_CheckSignals () < 0)
        return NULL;
      if (progress != Py_None)
        {
          PyObject *ret = PyObject_CallFunction (progress, "II", referral_sim_days_done (self->sim),
                                                 referral_sim_n_days (self->sim));
          if (ret == NULL)
            return NULL;
          Py_DECREF (ret);
        }
    }
  return Py_NewRef ((PyObject *) self);
}

/* ------------------------------------------------------------ figures out */

static PyObject *
sim_summary (PyRefSim *self, PyObject *noargs)
{
  CHECK (self);
  const ReferralSimSummary *s = referral_sim_summary (self->sim);
  PyObject *dict = PyDict_New ();
  if (dict == NULL || !add_figures (dict, summary_figures, s, self->decimals))
    {
      Py_XDECREF (dict);
      return NULL;
    }
  guint32 counts[REFERRAL_MAX_RANKS] = { 0 };
  for (guint r = 0; r < referral_scheme_n_ranks (sim_scheme (self)); r++)
    counts[r] = referral_sim_rank_group (self->sim, (ReferralRank) r)->members;
  PyObject *ranks = by_rank_dict (self, counts);
  PyObject *kinds = kinds_dict (self, 0);
  if (ranks == NULL || kinds == NULL || PyDict_SetItemString (dict, "by_rank", ranks) < 0
      || PyDict_SetItemString (dict, "rewards_by_kind", kinds) < 0)
    Py_CLEAR (dict);
  Py_XDECREF (ranks);
  Py_XDECREF (kinds);
  return dict;
}

static PyObject *
day_dict (PyRefSim *self, guint d)
{
  const ReferralSimDay *day = referral_sim_day (self->sim, d);
  PyObject *dict = PyDict_New ();
  if (dict == NULL || !add_figures (dict, day_figures, day, self->decimals))
    {
      Py_XDECREF (dict);
      return NULL;
    }
  PyObject *ranks = by_rank_dict (self, day->by_rank);
  PyObject *kinds = kinds_dict (self, d);
  if (ranks == NULL || kinds == NULL || PyDict_SetItemString (dict, "by_rank", ranks) < 0
      || PyDict_SetItemString (dict, "rewards_by_kind", kinds) < 0)
    Py_CLEAR (dict);
  Py_XDECREF (ranks);
  Py_XDECREF (kinds);
  return dict;
}

static PyObject *
sim_day (PyRefSim *self, PyObject *arg)
{
  CHECK (self);
  long d = PyLong_AsLong (arg);
  if (d == -1 && PyErr_Occurred ())
    return NULL;
  if (d < 1 || d > (long) referral_sim_days_done (self->sim))
    return PyErr_Format (PyExc_IndexError, "day %ld was not simulated (days 1 to %u)", d,
                         referral_sim_days_done (self->sim));
  return day_dict (self, (guint) d);
}

static PyObject *
sim_days (PyRefSim *self, PyObject *noargs)
{
  CHECK (self);
  guint n = referral_sim_days_done (self->sim);
  PyObject *list = PyList_New (n);
  for (guint d = 1; list != NULL && d <= n; d++)
    {
      PyObject *day = day_dict (self, d);
      if (day == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, d - 1, day);
    }
  return list;
}

static PyObject *
sim_ranks (PyRefSim *self, PyObject *noargs)
{
  CHECK (self);
  referral_sim_summary (self->sim); /* the groups are as of the summary */
  guint n = referral_scheme_n_ranks (sim_scheme (self));
  PyObject *list = PyList_New (n);
  for (guint r = 0; list != NULL && r < n; r++)
    {
      PyObject *g = group_dict (self, referral_sim_rank_group (self->sim, (ReferralRank) r),
                                FALSE);
      if (g == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, r, g);
    }
  return list;
}

static PyObject *
sim_cohorts (PyRefSim *self, PyObject *noargs)
{
  CHECK (self);
  referral_sim_summary (self->sim);
  guint n = referral_sim_n_cohorts (self->sim);
  PyObject *list = PyList_New (n);
  for (guint c = 0; list != NULL && c < n; c++)
    {
      PyObject *g = group_dict (self, referral_sim_cohort (self->sim, c), TRUE);
      if (g == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, c, g);
    }
  return list;
}

static PyObject *
sim_config (PyRefSim *self, PyObject *noargs)
{
  CHECK (self);
  const ReferralSimConfig *config = referral_sim_config (self->sim);
  PyObject *dict = PyDict_New ();
  for (const char *const *k = referral_sim_config_keys (); dict != NULL && *k != NULL; k++)
    {
      PyObject *v = PyUnicode_FromString (referral_sim_config_get (config, *k));
      if (v == NULL || PyDict_SetItemString (dict, *k, v) < 0)
        Py_CLEAR (dict);
      Py_XDECREF (v);
    }
  return dict;
}

static PyObject *
sim_config_text (PyRefSim *self, PyObject *noargs)
{
  CHECK (self);
  char *text = referral_sim_config_to_data (referral_sim_config (self->sim));
  PyObject *s = PyUnicode_FromString (text);
  g_free (text);
  return s;
}

static PyObject *
sim_report (PyRefSim *self, PyObject *noargs)
{
  CHECK (self);
  ReferralEngine *engine = referral_sim_engine (self->sim);
  char hash[17];
  g_snprintf (hash, sizeof hash, "%016" G_GINT64_MODIFIER "x",
              referral_engine_state_hash (engine));
  return Py_BuildValue ("{s:O,s:s,s:I,s:s,s:N,s:N,s:N,s:N,s:N}",
                        "scheme", self->label,
                        "scheme_name", referral_scheme_name (referral_engine_scheme (engine)),
                        "decimals", self->decimals, "state_hash", hash,
                        "config", sim_config (self, NULL),
                        "summary", sim_summary (self, NULL),
                        "ranks", sim_ranks (self, NULL),
                        "cohorts", sim_cohorts (self, NULL),
                        "days", sim_days (self, NULL));
}

static PyObject *
sim_member_columns (PyRefSim *self, PyObject *noargs)
{
  CHECK (self);
  guint32 n = referral_tree_size (referral_engine_tree (referral_sim_engine (self->sim)));
  PyObject *numpy = PyImport_ImportModule ("numpy");
  if (numpy == NULL)
    return NULL;
  static const char *const names[] = { "join_day", "active", "paid", "rewards", "net" };
  static const char *const dtypes[] = { "int64", "bool", "int64", "int64", "int64" };
  PyObject *arrays[5] = { NULL };
  Py_buffer views[5];
  gboolean ok = TRUE;
  for (int i = 0; ok && i < 5; i++)
    {
      arrays[i] = PyObject_CallMethod (numpy, "empty", "Is", n, dtypes[i]);
      ok = arrays[i] != NULL
           && PyObject_GetBuffer (arrays[i], &views[i], PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) == 0;
      if (!ok)
        Py_CLEAR (arrays[i]);
    }
  Py_DECREF (numpy);
  if (ok)
    {
      gint64 *join_day = views[0].buf, *paid = views[2].buf, *rewards = views[3].buf;
      gint64 *net = views[4].buf;
      guint8 *active = views[1].buf;
      for (guint32 m = 0; m < n; m++)
        {
          join_day[m] = referral_sim_member_join_day (self->sim, m);
          active[m] = referral_sim_member_active (self->sim, m) ? 1 : 0;
          paid[m] = referral_sim_member_paid (self->sim, m);
          rewards[m] = referral_sim_member_rewards (self->sim, m);
          net[m] = referral_sim_member_net (self->sim, m);
        }
    }
  PyObject *dict = ok ? PyDict_New () : NULL;
  for (int i = 0; i < 5; i++)
    {
      if (arrays[i] == NULL)
        continue;
      PyBuffer_Release (&views[i]);
      if (dict != NULL && PyDict_SetItemString (dict, names[i], arrays[i]) < 0)
        Py_CLEAR (dict);
      Py_DECREF (arrays[i]);
    }
  return dict;
}

static PyObject *
sim_get_engine (PyRefSim *self, void *closure)
{
  CHECK (self);
  return pyref_engine_view (referral_sim_engine (self->sim), (PyObject *) self, &self->busy);
}

static PyObject *
sim_get_scheme (PyRefSim *self, void *closure)
{
  CHECK (self);
  return Py_NewRef (self->scheme);
}

static PyObject *
sim_get_n_days (PyRefSim *self, void *closure)
{
  CHECK (self);
  return PyLong_FromUnsignedLong (referral_sim_n_days (self->sim));
}

static PyObject *
sim_get_days_done (PyRefSim *self, void *closure)
{
  CHECK (self);
  return PyLong_FromUnsignedLong (referral_sim_days_done (self->sim));
}

static PyObject *
sim_get_first_rejection (PyRefSim *self, void *closure)
{
  CHECK (self);
  const char *m = referral_sim_first_rejection (self->sim);
  if (m == NULL)
    Py_RETURN_NONE;
  return PyUnicode_FromString (m);
}

static PyObject *
sim_repr (PyRefSim *self)
{
  if (self->sim == NULL)
    return PyUnicode_FromString ("<referral.Simulation (uninitialised)>");
  return PyUnicode_FromFormat ("<referral.Simulation scheme '%s': day %u of %u>",
                               referral_scheme_name (sim_scheme (self)),
                               referral_sim_days_done (self->sim),
                               referral_sim_n_days (self->sim));
}

PyObject *
pyref_sim_config_keys (PyObject *module, PyObject *noargs)
{
  PyObject *list = PyList_New (0);
  for (const char *const *k = referral_sim_config_keys (); list != NULL && *k != NULL; k++)
    {
      PyObject *item = Py_BuildValue ("{s:s,s:s,s:s,s:s}", "name", *k,
                                      "default", referral_sim_config_key_default (*k),
                                      "syntax", referral_sim_config_key_syntax (*k),
                                      "description", referral_sim_config_key_description (*k));
      if (item == NULL || PyList_Append (list, item) < 0)
        Py_CLEAR (list);
      Py_XDECREF (item);
    }
  return list;
}

static PyMethodDef sim_methods[] = {
  { "step", (PyCFunction) sim_step, METH_NOARGS,
    "step() -> bool\n--\n\nSimulate the next day (without the GIL); False when every day "
    "is done." },
  { "run", (PyCFunction) (void (*) (void)) sim_run, METH_VARARGS | METH_KEYWORDS,
    "run(progress=None) -> Simulation\n--\n\n"
    "Simulate every remaining day, calling progress(days_done, n_days) after each\n"
    "(Ctrl-C stops between days).  Returns the simulation itself." },
  { "summary", (PyCFunction) sim_summary, METH_NOARGS,
    "summary() -> dict\n--\n\n"
    "The end-of-run figures, named as in `referral simulate --json` (\"summary\"):\n"
    "counts are int, money Decimal, ratios float (payout_ratio, loss_share, gini,\n"
    "top1_share, top10_share, entry_share = the recruitment share, ...), plus\n"
    "by_rank {rank: members} and rewards_by_kind {kind: Decimal}." },
  { "day", (PyCFunction) sim_day, METH_O,
    "day(d) -> dict\n--\n\nThe figures of day d (1-based), as an element of days()." },
  { "days", (PyCFunction) sim_days, METH_NOARGS,
    "days() -> list[dict]\n--\n\n"
    "One dict per simulated day (\"days\" of the JSON report): members, joined,\n"
    "active, churned, sales, rewards by origin, running totals, ratios, by_rank\n"
    "{rank: members} and rewards_by_kind." },
  { "ranks", (PyCFunction) sim_ranks, METH_NOARGS,
    "ranks() -> list[dict]\n--\n\n"
    "Members grouped by final rank: {rank, members, losers, loss_share, net_total}." },
  { "cohorts", (PyCFunction) sim_cohorts, METH_NOARGS,
    "cohorts() -> list[dict]\n--\n\n"
    "Members grouped by join days: {first_day, last_day, members, losers,\n"
    "loss_share, net_total}." },
  { "member_columns", (PyCFunction) sim_member_columns, METH_NOARGS,
    "member_columns() -> dict[str, numpy.ndarray]\n--\n\n"
    "Per member (by member number): join_day, active (bool), paid, rewards and\n"
    "net (int64 minor units: rewards received less amounts paid)." },
  { "config", (PyCFunction) sim_config, METH_NOARGS,
    "config() -> dict[str, str]\n--\n\nEvery simulation setting's text, defaults included." },
  { "config_text", (PyCFunction) sim_config_text, METH_NOARGS,
    "config_text() -> str\n--\n\nThe settings as a [sim] key file (for Simulation(config=...))." },
  { "report", (PyCFunction) sim_report, METH_NOARGS,
    "report() -> dict\n--\n\n"
    "Everything `referral simulate --json` prints, as Python objects: scheme,\n"
    "scheme_name, decimals, state_hash, config, summary, ranks, cohorts, days." },
  { NULL, NULL, 0, NULL }
};

static PyGetSetDef sim_getset[] = {
  { "engine", (getter) sim_get_engine, NULL,
    "The simulation's engine, read-only (query it like any Engine).", NULL },
  { "scheme", (getter) sim_get_scheme, NULL, "The Scheme simulated.", NULL },
  { "n_days", (getter) sim_get_n_days, NULL, "Days to simulate (setting `days`).", NULL },
  { "days_done", (getter) sim_get_days_done, NULL, "Days simulated so far.", NULL },
  { "first_rejection", (getter) sim_get_first_rejection, NULL,
    "The message of the first event the engine rejected, or None.", NULL },
  { NULL, NULL, NULL, NULL, NULL }
};

PyTypeObject PyRefSim_Type = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "referral._referral.Simulation",
  .tp_basicsize = sizeof (PyRefSim),
  .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
  .tp_doc = "Simulation(scheme, *, config=None, **settings)\n--\n\n"
            "The C core of referral.Simulation (see there).",
  .tp_new = PyType_GenericNew,
  .tp_init = (initproc) sim_init,
  .tp_dealloc = (destructor) sim_dealloc,
  .tp_repr = (reprfunc) sim_repr,
  .tp_methods = sim_methods,
  .tp_getset = sim_getset,
};
