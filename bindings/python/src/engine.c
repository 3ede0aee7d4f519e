/* referral.Engine: events in, state out. */
#include "pyreferral.h"

#include <string.h>

gboolean
pyref_engine_check_idle (PyRefEngine *self)
{
  if (self->engine == NULL)
    {
      PyErr_SetString (PyExc_RuntimeError, "the engine was not initialised");
      return FALSE;
    }
  if (self->busy || (self->owner_busy != NULL && *self->owner_busy))
    {
      PyErr_SetString (PyExc_RuntimeError,
                       "the engine is busy applying events (in another thread, or a rule "
                       "of this engine called it back); an engine is not reentrant");
      return FALSE;
    }
  return TRUE;
}

gboolean
pyref_engine_check_writable (PyRefEngine *self)
{
  if (!pyref_engine_check_idle (self))
    return FALSE;
  if (self->owner != NULL)
    {
      PyErr_SetString (PyExc_RuntimeError,
                       "this engine belongs to a Simulation and is read-only: events applied "
                       "to it would make the simulation's metrics meaningless");
      return FALSE;
    }
  return TRUE;
}

/* The class of engine views: referral.Engine once the package told us. */
static PyTypeObject *view_class;

PyObject *
pyref_engine_set_view_class (PyObject *module, PyObject *cls)
{
  if (!PyType_Check (cls) || !PyType_IsSubtype ((PyTypeObject *) cls, &PyRefEngine_Type))
    return PyErr_Format (PyExc_TypeError, "a subclass of Engine is needed");
  Py_XSETREF (view_class, (PyTypeObject *) Py_NewRef (cls));
  Py_RETURN_NONE;
}

PyObject *
pyref_engine_view (ReferralEngine *engine, PyObject *owner, const gboolean *owner_busy)
{
  PyTypeObject *type = view_class != NULL ? view_class : &PyRefEngine_Type;
  PyRefEngine *self = (PyRefEngine *) type->tp_alloc (type, 0);
  if (self == NULL)
    return NULL;
  self->scheme = pyref_scheme_wrap (referral_engine_scheme (engine));
  if (self->scheme == NULL)
    {
      Py_DECREF (self);
      return NULL;
    }
  self->engine = engine;
  self->decimals = referral_scheme_decimals (referral_engine_scheme (engine));
  self->owner = Py_NewRef (owner);
  self->owner_busy = owner_busy;
  return (PyObject *) self;
}

#define CHECK_IDLE(self)                  \
  do {                                    \
    if (!pyref_engine_check_idle (self))  \
      return NULL;                        \
  } while (0)

static const ReferralTree *
tree_of (PyRefEngine *self)
{
  return referral_engine_tree (self->engine);
}

static const ReferralLedger *
ledger_of (PyRefEngine *self)
{
  return referral_engine_ledger (self->engine);
}

/* A member argument: its key (str) or its number (int). */
static gboolean
member_arg (PyRefEngine *self, PyObject *obj, ReferralMember *out)
{
  const ReferralTree *tree = tree_of (self);
  if (PyLong_Check (obj) && !PyBool_Check (obj))
    {
      long long i = PyLong_AsLongLong (obj);
      if (i == -1 && PyErr_Occurred ())
        return FALSE;
      if (i < 0 || i >= (long long) referral_tree_size (tree))
        {
          pyref_raisef (REFERRAL_ERROR_UNKNOWN_MEMBER, "member number %lld does not exist", i);
          return FALSE;
        }
      *out = (ReferralMember) i;
      return TRUE;
    }
  const char *key = pyref_utf8 (obj, "member", NULL);
  if (key == NULL)
    return FALSE;
  *out = referral_tree_lookup (tree, key);
  if (*out == REFERRAL_NO_MEMBER)
    {
      pyref_raisef (REFERRAL_ERROR_UNKNOWN_MEMBER, "member \"%s\" does not exist", key);
      return FALSE;
    }
  return TRUE;
}

static PyObject *
key_or_none (PyRefEngine *self, ReferralMember m)
{
  if (m == REFERRAL_NO_MEMBER)
    Py_RETURN_NONE;
  return PyUnicode_FromString (referral_tree_key (tree_of (self), m));
}

/* ------------------------------------------------------------ life */

static int
engine_init (PyRefEngine *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "scheme", "check_invariants", NULL };
  PyObject *scheme_obj, *check = Py_None;
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "O|$O:Engine", kwlist, &scheme_obj, &check))
    return -1;
  if (self->engine != NULL)
    {
      PyErr_SetString (PyExc_RuntimeError, "an Engine cannot be initialised twice");
      return -1;
    }
  int check_flag = check == Py_None ? -1 : PyObject_IsTrue (check);
  if (check != Py_None && check_flag < 0)
    return -1;
  ReferralScheme *scheme = pyref_scheme_from_object (scheme_obj);
  if (scheme == NULL)
    return -1;
  GError *error = NULL;
  ReferralEngine *engine = referral_engine_new (scheme, &error);
  if (engine == NULL)
    {
      referral_scheme_unref (scheme);
      pyref_raise_gerror (error);
      return -1;
    }
  if (check_flag >= 0)
    referral_engine_set_check_invariants (engine, check_flag);
  PyObject *wrapped = PyObject_TypeCheck (scheme_obj, &PyRefScheme_Type)
                        ? Py_NewRef (scheme_obj) : pyref_scheme_wrap (scheme);
  referral_scheme_unref (scheme);
  if (wrapped == NULL)
    {
      referral_engine_free (engine);
      return -1;
    }
  self->engine = engine;
  self->scheme = wrapped;
  self->decimals = referral_scheme_decimals (scheme);
  return 0;
}

static void
engine_dealloc (PyRefEngine *self)
{
  if (self->weakreflist != NULL)
    PyObject_ClearWeakRefs ((PyObject *) self);
  /* The GIL is held: Python rule configurations freed with the engine's
   * scheme reference take it again, which is fine. */
  if (self->owner == NULL)
    referral_engine_free (self->engine);
  Py_CLEAR (self->owner);
  Py_CLEAR (self->scheme);
  Py_TYPE (self)->tp_free ((PyObject *) self);
}

static PyObject *
engine_repr (PyRefEngine *self)
{
  if (self->engine == NULL)
    return PyUnicode_FromString ("<referral.Engine (uninitialised)>");
  return PyUnicode_FromFormat ("<referral.Engine scheme '%s': %u members, %u events>",
                               referral_scheme_name (referral_engine_scheme (self->engine)),
                               referral_tree_size (tree_of (self)),
                               referral_engine_n_events (self->engine));
}

/* ------------------------------------------------------------ apply */

/* Applies @ev; on rejection raises the error's class (or a stashed
 * KeyboardInterrupt/SystemExit from a Python rule). */
static PyObject *
apply_event (PyRefEngine *self, const ReferralEvent *ev)
{
  ReferralApplyResult result;
  GError *error = NULL;
  self->busy = TRUE;
  gboolean ok = referral_engine_apply (self->engine, ev, &result, &error);
  self->busy = FALSE;
  if (pyref_reraise_fatal ())
    {
      g_clear_error (&error);
      return NULL;
    }
  if (!ok)
    return pyref_raise_gerror (error);
  PyObject *r = PyStructSequence_New (pyref_apply_result_type);
  if (r == NULL)
    return NULL;
  PyStructSequence_SET_ITEM (r, 0, PyBool_FromLong (result.status == REFERRAL_DUPLICATE));
  PyStructSequence_SET_ITEM (r, 1, PyLong_FromUnsignedLong (result.seq));
  PyStructSequence_SET_ITEM (r, 2, PyLong_FromUnsignedLongLong (result.first_posting));
  PyStructSequence_SET_ITEM (r, 3, PyLong_FromUnsignedLongLong (result.n_postings));
  if (PyErr_Occurred ())
    Py_CLEAR (r);
  return r;
}

static PyObject *
engine_apply (PyRefEngine *self, PyObject *event)
{
  if (!pyref_engine_check_writable (self))
    return NULL;
  PyRefEvent ev;
  PyObject *r = NULL;
  if (pyref_event_from_dict (event, self->decimals, &ev))
    r = apply_event (self, &ev.ev);
  pyref_event_clear (&ev);
  return r;
}

/* ------------------------------------------------------------ tree queries */

static PyObject *
engine_get_n_members (PyRefEngine *self, void *closure)
{
  CHECK_IDLE (self);
  return PyLong_FromUnsignedLong (referral_tree_size (tree_of (self)));
}

static Py_ssize_t
engine_len (PyRefEngine *self)
{
  if (!pyref_engine_check_idle (self))
    return -1;
  return (Py_ssize_t) referral_tree_size (tree_of (self));
}

static int
engine_contains (PyRefEngine *self, PyObject *key)
{
  if (!pyref_engine_check_idle (self))
    return -1;
  if (!PyUnicode_Check (key))
    return 0;
  const char *k = pyref_utf8 (key, "member", NULL);
  if (k == NULL)
    return -1;
  return referral_tree_lookup (tree_of (self), k) != REFERRAL_NO_MEMBER;
}

static PyObject *
engine_members (PyRefEngine *self, PyObject *noargs)
{
  CHECK_IDLE (self);
  const ReferralTree *tree = tree_of (self);
  guint32 n = referral_tree_size (tree);
  PyObject *list = PyList_New (n);
  for (guint32 m = 0; list != NULL && m < n; m++)
    {
      PyObject *s = PyUnicode_FromString (referral_tree_key (tree, m));
      if (s == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, m, s);
    }
  return list;
}

static PyObject *
engine_member_index (PyRefEngine *self, PyObject *arg)
{
  CHECK_IDLE (self);
  ReferralMember m;
  if (!member_arg (self, arg, &m))
    return NULL;
  return PyLong_FromUnsignedLong (m);
}

static PyObject *
engine_member_key (PyRefEngine *self, PyObject *arg)
{
  CHECK_IDLE (self);
  ReferralMember m;
  if (!member_arg (self, arg, &m))
    return NULL;
  return PyUnicode_FromString (referral_tree_key (tree_of (self), m));
}

static PyObject *
engine_rank (PyRefEngine *self, PyObject *arg)
{
  CHECK_IDLE (self);
  ReferralMember m;
  if (!member_arg (self, arg, &m))
    return NULL;
  return PyUnicode_FromString (referral_scheme_rank_name (referral_engine_scheme (self->engine),
                                                          referral_tree_rank (tree_of (self), m)));
}

static PyObject *
engine_rank_index (PyRefEngine *self, PyObject *arg)
{
  CHECK_IDLE (self);
  ReferralMember m;
  if (!member_arg (self, arg, &m))
    return NULL;
  return PyLong_FromLong (referral_tree_rank (tree_of (self), m));
}

static PyObject *
engine_sponsor (PyRefEngine *self, PyObject *arg)
{
  CHECK_IDLE (self);
  ReferralMember m;
  if (!member_arg (self, arg, &m))
    return NULL;
  return key_or_none (self, referral_tree_sponsor (tree_of (self), m));
}

static PyObject *
engine_parent (PyRefEngine *self, PyObject *arg)
{
  CHECK_IDLE (self);
  ReferralMember m;
  if (!member_arg (self, arg, &m))
    return NULL;
  return key_or_none (self, referral_tree_parent (tree_of (self), m));
}

typedef ReferralMember (*StepFunc) (const ReferralTree *, ReferralMember);

static PyObject *
member_list (PyRefEngine *self, PyObject *arg, StepFunc first, StepFunc next)
{
  CHECK_IDLE (self);
  ReferralMember m;
  if (!member_arg (self, arg, &m))
    return NULL;
  const ReferralTree *tree = tree_of (self);
  PyObject *list = PyList_New (0);
  for (ReferralMember c = first (tree, m); list != NULL && c != REFERRAL_NO_MEMBER;
       c = next (tree, c))
    {
      PyObject *s = PyUnicode_FromString (referral_tree_key (tree, c));
      if (s == NULL || PyList_Append (list, s) < 0)
        Py_CLEAR (list);
      Py_XDECREF (s);
    }
  return list;
}

static PyObject *
engine_children (PyRefEngine *self, PyObject *arg)
{
  return member_list (self, arg, referral_tree_first_child, referral_tree_next_sibling);
}

static PyObject *
engine_sponsored (PyRefEngine *self, PyObject *arg)
{
  return member_list (self, arg, referral_tree_first_sponsored, referral_tree_next_sponsored);
}

static PyObject *
engine_depth (PyRefEngine *self, PyObject *arg)
{
  CHECK_IDLE (self);
  ReferralMember m;
  if (!member_arg (self, arg, &m))
    return NULL;
  return PyLong_FromUnsignedLong (referral_tree_depth (tree_of (self), m));
}

static PyObject *
engine_is_ancestor (PyRefEngine *self, PyObject *args)
{
  CHECK_IDLE (self);
  PyObject *a, *b;
  ReferralMember ancestor, member;
  if (!PyArg_ParseTuple (args, "OO:is_ancestor", &a, &b) || !member_arg (self, a, &ancestor)
      || !member_arg (self, b, &member))
    return NULL;
  return PyBool_FromLong (referral_tree_is_ancestor (tree_of (self), ancestor, member));
}

static PyObject *
engine_nearest_at_rank (PyRefEngine *self, PyObject *args)
{
  CHECK_IDLE (self);
  PyObject *a;
  const char *rank_name;
  ReferralMember m;
  if (!PyArg_ParseTuple (args, "Os:nearest_at_rank", &a, &rank_name) || !member_arg (self, a, &m))
    return NULL;
  ReferralRank rank;
  if (!referral_scheme_lookup_rank (referral_engine_scheme (self->engine), rank_name, &rank))
    return pyref_raisef (REFERRAL_ERROR_INVALID_RANK, "the scheme has no rank \"%s\"",
                         rank_name);
  return key_or_none (self, referral_tree_nearest_at_rank (tree_of (self), m, rank));
}

/* ------------------------------------------------------------ money queries */

static PyObject *
member_balance (PyRefEngine *self, PyObject *arg, gboolean held, gboolean minor)
{
  CHECK_IDLE (self);
  ReferralMember m;
  if (!member_arg (self, arg, &m))
    return NULL;
  const ReferralLedger *ledger = ledger_of (self);
  gint64 b = referral_ledger_balance (ledger, referral_ledger_member_account (ledger, m, held));
  return minor ? PyLong_FromLongLong (b) : pyref_decimal_from_minor (b, self->decimals);
}

static PyObject *
engine_available (PyRefEngine *self, PyObject *arg)
{
  return member_balance (self, arg, FALSE, FALSE);
}

static PyObject *
engine_held (PyRefEngine *self, PyObject *arg)
{
  return member_balance (self, arg, TRUE, FALSE);
}

static PyObject *
engine_available_minor (PyRefEngine *self, PyObject *arg)
{
  return member_balance (self, arg, FALSE, TRUE);
}

static PyObject *
engine_held_minor (PyRefEngine *self, PyObject *arg)
{
  return member_balance (self, arg, TRUE, TRUE);
}

/* The account named @name ("outside", "platform", "pool:NAME",
 * "KEY:available", "KEY:held"), or REFERRAL_NO_ACCOUNT with an exception. */
static ReferralAccount
account_by_name (PyRefEngine *self, const char *name)
{
  const ReferralLedger *ledger = ledger_of (self);
  if (strcmp (name, "outside") == 0)
    return REFERRAL_ACCOUNT_OUTSIDE;
  if (strcmp (name, "platform") == 0)
    return REFERRAL_ACCOUNT_PLATFORM;
  if (g_str_has_prefix (name, "pool:"))
    {
      ReferralAccount a = referral_ledger_lookup_pool (ledger, name + 5);
      if (a != REFERRAL_NO_ACCOUNT)
        return a;
    }
  const char *colon = strrchr (name, ':');
  if (colon != NULL && (strcmp (colon, ":available") == 0 || strcmp (colon, ":held") == 0))
    {
      char *key = g_strndup (name, (gsize) (colon - name));
      ReferralMember m = referral_tree_lookup (tree_of (self), key);
      g_free (key);
      if (m != REFERRAL_NO_MEMBER)
        return referral_ledger_member_account (ledger, m, colon[1] == 'h');
    }
  pyref_raisef (REFERRAL_ERROR_UNKNOWN_MEMBER,
                "no account is named \"%s\" (outside, platform, pool:NAME, KEY:available, "
                "KEY:held)", name);
  return REFERRAL_NO_ACCOUNT;
}

static PyObject *
engine_balance (PyRefEngine *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "account", "minor", NULL };
  const char *name;
  int minor = 0;
  CHECK_IDLE (self);
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "s|$p:balance", kwlist, &name, &minor))
    return NULL;
  ReferralAccount a = account_by_name (self, name);
  if (a == REFERRAL_NO_ACCOUNT)
    return NULL;
  gint64 b = referral_ledger_balance (ledger_of (self), a);
  return minor ? PyLong_FromLongLong (b) : pyref_decimal_from_minor (b, self->decimals);
}

static PyObject *
engine_pools (PyRefEngine *self, PyObject *noargs)
{
  CHECK_IDLE (self);
  const ReferralLedger *ledger = ledger_of (self);
  guint n = referral_ledger_n_pools (ledger);
  PyObject *list = PyList_New (n);
  for (guint p = 0; list != NULL && p < n; p++)
    {
      PyObject *s = PyUnicode_FromString (referral_ledger_pool_name (ledger, p));
      if (s == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, p, s);
    }
  return list;
}

static PyObject *
engine_account_names (PyRefEngine *self, PyObject *noargs)
{
  CHECK_IDLE (self);
  const ReferralLedger *ledger = ledger_of (self);
  guint32 n = referral_ledger_n_accounts (ledger);
  PyObject *list = PyList_New (n);
  for (guint32 a = 0; list != NULL && a < n; a++)
    {
      char *name = referral_ledger_account_name (ledger, a);
      PyObject *s = PyUnicode_FromString (name);
      g_free (name);
      if (s == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, a, s);
    }
  return list;
}

/* One --balances line as a dict. */
static PyObject *
balance_line (PyRefEngine *self, ReferralMember m)
{
  const ReferralTree *tree = tree_of (self);
  const ReferralLedger *ledger = ledger_of (self);
  char avail[REFERRAL_MONEY_BUF_SIZE], held[REFERRAL_MONEY_BUF_SIZE];
  referral_money_format_buf (referral_ledger_balance (
                               ledger, referral_ledger_member_account (ledger, m, FALSE)),
                             self->decimals, avail);
  referral_money_format_buf (referral_ledger_balance (
                               ledger, referral_ledger_member_account (ledger, m, TRUE)),
                             self->decimals, held);
  return Py_BuildValue ("{s:s,s:s,s:s,s:s}", "member", referral_tree_key (tree, m),
                        "rank", referral_scheme_rank_name (referral_engine_scheme (self->engine),
                                                           referral_tree_rank (tree, m)),
                        "available", avail, "held", held);
}

static PyObject *
engine_balances (PyRefEngine *self, PyObject *noargs)
{
  CHECK_IDLE (self);
  const ReferralLedger *ledger = ledger_of (self);
  guint32 n = referral_tree_size (tree_of (self));
  guint n_pools = referral_ledger_n_pools (ledger);
  PyObject *list = PyList_New ((Py_ssize_t) n + n_pools);
  for (guint32 m = 0; list != NULL && m < n; m++)
    {
      PyObject *line = balance_line (self, m);
      if (line == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, m, line);
    }
  for (guint p = 0; list != NULL && p < n_pools; p++)
    {
      char buf[REFERRAL_MONEY_BUF_SIZE];
      referral_money_format_buf (referral_ledger_balance (ledger,
                                                          referral_ledger_pool_account (ledger, p)),
                                 self->decimals, buf);
      PyObject *line = Py_BuildValue ("{s:s,s:s}", "account",
                                      referral_ledger_pool_name (ledger, p), "balance", buf);
      if (line == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, (Py_ssize_t) n + p, line);
    }
  return list;
}

/* ------------------------------------------------------------ ledger queries */

PyObject *
pyref_engine_posting (PyRefEngine *self, guint64 index)
{
  const ReferralLedger *ledger = ledger_of (self);
  const ReferralScheme *scheme = referral_engine_scheme (self->engine);
  const ReferralPosting *p = referral_ledger_posting (ledger, index);
  guint64 cause = referral_posting_cause (p, index);
  char *from = referral_ledger_account_name (ledger, p->from);
  char *to = referral_ledger_account_name (ledger, p->to);
  PyObject *r = PyStructSequence_New (pyref_posting_type);
  if (r != NULL)
    {
      PyStructSequence_SET_ITEM (r, 0, PyLong_FromUnsignedLongLong (index));
      PyStructSequence_SET_ITEM (r, 1, PyLong_FromUnsignedLong (p->event));
      PyStructSequence_SET_ITEM (r, 2,
                                 PyUnicode_FromString (referral_engine_event_id (self->engine,
                                                                                 p->event)));
      PyStructSequence_SET_ITEM (r, 3, PyUnicode_FromString (referral_ledger_kind_name (ledger,
                                                                                        p->kind)));
      PyStructSequence_SET_ITEM (r, 4, PyUnicode_FromString (
                                   p->rule == 0 ? "engine"
                                                : referral_scheme_rule_name (scheme,
                                                                             p->rule - 1u)));
      PyStructSequence_SET_ITEM (r, 5, PyUnicode_FromString (from));
      PyStructSequence_SET_ITEM (r, 6, PyUnicode_FromString (to));
      PyStructSequence_SET_ITEM (r, 7, pyref_decimal_from_minor (p->amount, self->decimals));
      PyStructSequence_SET_ITEM (r, 8, PyLong_FromLongLong (p->amount));
      PyStructSequence_SET_ITEM (r, 9, cause == REFERRAL_NO_POSTING
                                         ? Py_NewRef (Py_None)
                                         : PyLong_FromUnsignedLongLong (cause));
      PyStructSequence_SET_ITEM (r, 10,
                                 PyBool_FromLong ((p->flags & REFERRAL_POSTING_REVERSAL) != 0));
      if (PyErr_Occurred ())
        Py_CLEAR (r);
    }
  g_free (from);
  g_free (to);
  return r;
}

static PyObject *
engine_get_n_postings (PyRefEngine *self, void *closure)
{
  CHECK_IDLE (self);
  return PyLong_FromUnsignedLongLong (referral_ledger_n_postings (ledger_of (self)));
}

static PyObject *
engine_posting (PyRefEngine *self, PyObject *arg)
{
  CHECK_IDLE (self);
  long long i = PyLong_AsLongLong (arg);
  if (i == -1 && PyErr_Occurred ())
    return NULL;
  guint64 n = referral_ledger_n_postings (ledger_of (self));
  if (i < 0)
    i += (long long) n;
  if (i < 0 || (guint64) i >= n)
    return PyErr_Format (PyExc_IndexError, "posting %lld out of range (%llu postings)", i,
                         (unsigned long long) n);
  return pyref_engine_posting (self, (guint64) i);
}

/* Resolves Python-style start/stop (None, negative) against @n. */
static gboolean
resolve_range (PyObject *start_obj, PyObject *stop_obj, guint64 n, guint64 *start, guint64 *stop)
{
  Py_ssize_t s = 0, e = (Py_ssize_t) n;
  if (start_obj != Py_None && (s = PyNumber_AsSsize_t (start_obj, PyExc_OverflowError)) == -1
      && PyErr_Occurred ())
    return FALSE;
  if (stop_obj != Py_None && (e = PyNumber_AsSsize_t (stop_obj, PyExc_OverflowError)) == -1
      && PyErr_Occurred ())
    return FALSE;
  PySlice_AdjustIndices ((Py_ssize_t) n, &s, &e, 1);
  *start = (guint64) s;
  *stop = (guint64) MAX (s, e);
  return TRUE;
}

static PyObject *
engine_postings (PyRefEngine *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "start", "stop", NULL };
  PyObject *start_obj = Py_None, *stop_obj = Py_None;
  CHECK_IDLE (self);
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "|OO:postings", kwlist, &start_obj, &stop_obj))
    return NULL;
  guint64 start, stop;
  if (!resolve_range (start_obj, stop_obj, referral_ledger_n_postings (ledger_of (self)), &start,
                      &stop))
    return NULL;
  PyObject *list = PyList_New ((Py_ssize_t) (stop - start));
  for (guint64 i = start; list != NULL && i < stop; i++)
    {
      PyObject *p = pyref_engine_posting (self, i);
      if (p == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, (Py_ssize_t) (i - start), p);
    }
  return list;
}

static PyObject *
engine_explain (PyRefEngine *self, PyObject *arg)
{
  CHECK_IDLE (self);
  ReferralMember m;
  if (!member_arg (self, arg, &m))
    return NULL;
  GArray *indices = referral_ledger_explain (ledger_of (self), m);
  PyObject *list = PyList_New (indices->len);
  for (guint i = 0; list != NULL && i < indices->len; i++)
    {
      PyObject *p = pyref_engine_posting (self, g_array_index (indices, guint64, i));
      if (p == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, i, p);
    }
  g_array_unref (indices);
  return list;
}

/* An event argument: its sequence number (int) or its id (str). */
static gboolean
event_arg (PyRefEngine *self, PyObject *obj, guint32 *seq)
{
  guint32 n = referral_engine_n_events (self->engine);
  if (PyLong_Check (obj))
    {
      long long i = PyLong_AsLongLong (obj);
      if (i == -1 && PyErr_Occurred ())
        return FALSE;
      if (i < 0 || i >= (long long) n)
        {
          PyErr_Format (PyExc_IndexError, "event %lld out of range (%u events)", i, n);
          return FALSE;
        }
      *seq = (guint32) i;
      return TRUE;
    }
  const char *id = pyref_utf8 (obj, "event", NULL);
  if (id == NULL)
    return FALSE;
  /* Ids are not indexed by the public API: look from the newest. */
  for (guint32 s = n; s-- > 0;)
    if (strcmp (referral_engine_event_id (self->engine, s), id) == 0)
      {
        *seq = s;
        return TRUE;
      }
  PyErr_Format (PyExc_KeyError, "no applied event has id \"%s\"", id);
  return FALSE;
}

static PyObject *
engine_event_postings (PyRefEngine *self, PyObject *arg)
{
  CHECK_IDLE (self);
  guint32 seq;
  if (!event_arg (self, arg, &seq))
    return NULL;
  guint64 first, n;
  referral_ledger_event_postings (ledger_of (self), seq, &first, &n);
  PyObject *list = PyList_New ((Py_ssize_t) n);
  for (guint64 i = 0; list != NULL && i < n; i++)
    {
      PyObject *p = pyref_engine_posting (self, first + i);
      if (p == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, (Py_ssize_t) i, p);
    }
  return list;
}

static PyObject *
engine_event_id (PyRefEngine *self, PyObject *arg)
{
  CHECK_IDLE (self);
  guint32 seq;
  if (!PyLong_Check (arg))
    return PyErr_Format (PyExc_TypeError, "event_id() takes a sequence number");
  if (!event_arg (self, arg, &seq))
    return NULL;
  return PyUnicode_FromString (referral_engine_event_id (self->engine, seq));
}

static PyObject *
engine_get_n_events (PyRefEngine *self, void *closure)
{
  CHECK_IDLE (self);
  return PyLong_FromUnsignedLong (referral_engine_n_events (self->engine));
}

static PyObject *
engine_get_n_periods (PyRefEngine *self, void *closure)
{
  CHECK_IDLE (self);
  return PyLong_FromUnsignedLong (referral_engine_n_periods (self->engine));
}

static PyObject *
engine_get_scheme (PyRefEngine *self, void *closure)
{
  CHECK_IDLE (self);
  return Py_NewRef (self->scheme);
}

static PyObject *
engine_lookup_order (PyRefEngine *self, PyObject *arg)
{
  CHECK_IDLE (self);
  const char *key = pyref_utf8 (arg, "order", NULL);
  if (key == NULL)
    return NULL;
  ReferralOrder o;
  if (!referral_engine_lookup_order (self->engine, key, &o))
    Py_RETURN_NONE;
  PyObject *r = PyStructSequence_New (pyref_order_type);
  if (r == NULL)
    return NULL;
  PyStructSequence_SET_ITEM (r, 0, PyUnicode_FromString (o.key));
  PyStructSequence_SET_ITEM (r, 1, PyUnicode_FromString (referral_tree_key (tree_of (self),
                                                                            o.buyer)));
  PyStructSequence_SET_ITEM (r, 2, pyref_decimal_from_minor (o.amount, self->decimals));
  PyStructSequence_SET_ITEM (r, 3, PyLong_FromLongLong (o.amount));
  PyStructSequence_SET_ITEM (r, 4, o.sku ? PyUnicode_FromString (o.sku) : Py_NewRef (Py_None));
  PyStructSequence_SET_ITEM (r, 5, PyLong_FromUnsignedLong (o.event));
  PyStructSequence_SET_ITEM (r, 6, PyLong_FromUnsignedLong (o.period));
  PyStructSequence_SET_ITEM (r, 7, PyBool_FromLong (o.refunded));
  if (PyErr_Occurred ())
    Py_CLEAR (r);
  return r;
}

/* ------------------------------------------------------------ checks */

static PyObject *
engine_state_hash (PyRefEngine *self, PyObject *noargs)
{
  CHECK_IDLE (self);
  return PyLong_FromUnsignedLongLong (referral_engine_state_hash (self->engine));
}

static PyObject *
engine_check_invariants (PyRefEngine *self, PyObject *noargs)
{
  CHECK_IDLE (self);
  GError *error = NULL;
  if (!referral_engine_check_invariants (self->engine, &error))
    return pyref_raise_gerror (error);
  Py_RETURN_NONE;
}

static PyObject *
engine_set_check_invariants (PyRefEngine *self, PyObject *arg)
{
  if (!pyref_engine_check_writable (self))
    return NULL;
  int on = PyObject_IsTrue (arg);
  if (on < 0)
    return NULL;
  referral_engine_set_check_invariants (self->engine, on);
  Py_RETURN_NONE;
}

static PyObject *
engine_is_balanced (PyRefEngine *self, PyObject *noargs)
{
  CHECK_IDLE (self);
  return PyBool_FromLong (referral_ledger_is_balanced (ledger_of (self)));
}

/* ------------------------------------------------------------ type */

#define MEMBER_DOC "`member` is a key (str) or a member number (int); UnknownMemberError if none."

static PyMethodDef engine_methods[] = {
  { "apply", (PyCFunction) engine_apply, METH_O,
    "apply(event: dict) -> ApplyResult\n--\n\n"
    "Apply one event, a dict with exactly the fields of an events.md line:\n\n"
    "    engine.apply({'id': 'e1', 'type': 'join', 'member': 'A'})\n"
    "    engine.apply({'id': 'e2', 'type': 'order', 'order': 'o1', 'member': 'A',\n"
    "                  'amount': '699.00', 'sku': 'gift'})\n\n"
    "Types: join, order, refund, period_close, transpose, withdraw, promote; every\n"
    "event may carry 'time'.  Amounts are decimal str or int in major units\n"
    "(a Decimal is taken as its decimal text); floats are refused.  The event\n"
    "is applied whole or not at all: on rejection a referral.Error subclass\n"
    "is raised with the library's message and nothing changed.  A duplicate\n"
    "(same id, same content) is not an error: the result's `duplicate` is True." },
  { "apply_jsonl", (PyCFunction) (void (*) (void)) pyref_engine_apply_jsonl,
    METH_VARARGS | METH_KEYWORDS,
    "apply_jsonl(path, keep_going=False, *, threads=2) -> RunSummary\n--\n\n"
    "Apply a JSON Lines events file with the semantics of `referral run`: stop at\n"
    "the first bad event (every earlier event stays applied), or with keep_going\n"
    "report and skip each.  Bad events do not raise: they are counted and their\n"
    "\"FILE:LINE: message\" lines are in the summary's `messages`.  Raises\n"
    "FileError when the file cannot be read.  The GIL is released meanwhile.\n"
    "With threads=2 a regular file is read and parsed on a second thread while\n"
    "this one applies (the same results); threads=1 does all on this thread." },
  { "_apply_columns", (PyCFunction) (void (*) (void)) pyref_engine_apply_columns,
    METH_VARARGS | METH_KEYWORDS,
    "_apply_columns(columns, keep_going) -> RunSummary\n--\n\n"
    "The C half of Engine.apply_columns(), which normalises the columns first." },
  { "members", (PyCFunction) engine_members, METH_NOARGS,
    "members() -> list[str]\n--\n\nEvery member key, in join order (member number order)." },
  { "member_index", (PyCFunction) engine_member_index, METH_O,
    "member_index(member) -> int\n--\n\nThe member's number (join order, from 0). " MEMBER_DOC },
  { "member_key", (PyCFunction) engine_member_key, METH_O,
    "member_key(member) -> str\n--\n\nThe member's key. " MEMBER_DOC },
  { "rank", (PyCFunction) engine_rank, METH_O,
    "rank(member) -> str\n--\n\nThe member's rank name. " MEMBER_DOC },
  { "rank_index", (PyCFunction) engine_rank_index, METH_O,
    "rank_index(member) -> int\n--\n\nThe member's rank number (0: entry rank). " MEMBER_DOC },
  { "sponsor", (PyCFunction) engine_sponsor, METH_O,
    "sponsor(member) -> str | None\n--\n\nWho referred the member (None for a root). "
    MEMBER_DOC },
  { "parent", (PyCFunction) engine_parent, METH_O,
    "parent(member) -> str | None\n--\n\nThe member's placement parent. " MEMBER_DOC },
  { "children", (PyCFunction) engine_children, METH_O,
    "children(member) -> list[str]\n--\n\nPlacement children, in placement order. "
    MEMBER_DOC },
  { "sponsored", (PyCFunction) engine_sponsored, METH_O,
    "sponsored(member) -> list[str]\n--\n\nDirectly sponsored members, in join order. "
    MEMBER_DOC },
  { "depth", (PyCFunction) engine_depth, METH_O,
    "depth(member) -> int\n--\n\nNumber of placement ancestors. " MEMBER_DOC },
  { "is_ancestor", (PyCFunction) engine_is_ancestor, METH_VARARGS,
    "is_ancestor(ancestor, member) -> bool\n--\n\n"
    "Whether `ancestor` is a strict placement ancestor of `member`." },
  { "nearest_at_rank", (PyCFunction) engine_nearest_at_rank, METH_VARARGS,
    "nearest_at_rank(member, rank) -> str | None\n--\n\n"
    "The nearest strict placement ancestor of at least rank `rank` (a name):\n"
    "the \"superior\" of chain 2+1 with rank 'partner'." },
  { "available", (PyCFunction) engine_available, METH_O,
    "available(member) -> Decimal\n--\n\nThe member's available funds. " MEMBER_DOC },
  { "held", (PyCFunction) engine_held, METH_O,
    "held(member) -> Decimal\n--\n\nThe member's held funds. " MEMBER_DOC },
  { "available_minor", (PyCFunction) engine_available_minor, METH_O,
    "available_minor(member) -> int\n--\n\nAvailable funds in minor units. " MEMBER_DOC },
  { "held_minor", (PyCFunction) engine_held_minor, METH_O,
    "held_minor(member) -> int\n--\n\nHeld funds in minor units. " MEMBER_DOC },
  { "balance", (PyCFunction) (void (*) (void)) engine_balance, METH_VARARGS | METH_KEYWORDS,
    "balance(account, *, minor=False) -> Decimal | int\n--\n\n"
    "The balance of an account by name: 'outside', 'platform', 'pool:NAME',\n"
    "'KEY:available' or 'KEY:held' (as in Posting.from_account).  With\n"
    "minor=True, in minor units." },
  { "pools", (PyCFunction) engine_pools, METH_NOARGS,
    "pools() -> list[str]\n--\n\nNames of the scheme's pools, in declaration order." },
  { "account_names", (PyCFunction) engine_account_names, METH_NOARGS,
    "account_names() -> list[str]\n--\n\n"
    "Every account's name, indexed by account number (0 outside, 1 platform,\n"
    "then pools, then each member's available and held)." },
  { "balances", (PyCFunction) engine_balances, METH_NOARGS,
    "balances() -> list[dict]\n--\n\n"
    "The lines of `referral run --balances`, as dicts: one per member in join\n"
    "order {'member', 'rank', 'available', 'held'}, then one per pool\n"
    "{'account', 'balance'}; amounts as decimal strings with exactly the\n"
    "currency's decimals." },
  { "posting", (PyCFunction) engine_posting, METH_O,
    "posting(index) -> Posting\n--\n\nPosting number `index` (negative counts from the end)." },
  { "postings", (PyCFunction) (void (*) (void)) engine_postings, METH_VARARGS | METH_KEYWORDS,
    "postings(start=None, stop=None) -> list[Posting]\n--\n\n"
    "Postings start..stop-1 (slice semantics), every one by default.  For big\n"
    "ledgers prefer posting_columns()." },
  { "explain", (PyCFunction) engine_explain, METH_O,
    "explain(member) -> list[Posting]\n--\n\n"
    "Every posting that credits or debits one of the member's accounts, in\n"
    "ledger order; follow Posting.cause for the chain of causes. " MEMBER_DOC },
  { "event_postings", (PyCFunction) engine_event_postings, METH_O,
    "event_postings(event) -> list[Posting]\n--\n\n"
    "The postings an applied event made; `event` is its sequence number or id." },
  { "event_id", (PyCFunction) engine_event_id, METH_O,
    "event_id(seq) -> str\n--\n\nThe id of applied event number `seq`." },
  { "lookup_order", (PyCFunction) engine_lookup_order, METH_O,
    "lookup_order(key) -> Order | None\n--\n\nThe order with id `key`, if one was applied." },
  { "state_hash", (PyCFunction) engine_state_hash, METH_NOARGS,
    "state_hash() -> int\n--\n\n"
    "A 64-bit digest of the whole state (members, relations, ranks, rule data,\n"
    "orders, balances, postings); equal engines have equal hashes." },
  { "check_invariants", (PyCFunction) engine_check_invariants, METH_NOARGS,
    "check_invariants() -> None\n--\n\n"
    "Check that the ledger sums to zero and the tree is consistent; raises\n"
    "RejectedError saying what is broken." },
  { "set_check_invariants", (PyCFunction) engine_set_check_invariants, METH_O,
    "set_check_invariants(on: bool) -> None\n--\n\n"
    "Check the invariants after every event (O(members) each: for tests)." },
  { "is_balanced", (PyCFunction) engine_is_balanced, METH_NOARGS,
    "is_balanced() -> bool\n--\n\nWhether the sum over all accounts is zero." },
  { "member_columns", (PyCFunction) pyref_engine_member_columns, METH_NOARGS,
    "member_columns() -> dict[str, numpy.ndarray]\n--\n\n"
    "Per-member numpy arrays indexed by member number: 'available', 'held'\n"
    "(int64 minor units), 'rank' (uint8), 'sponsor', 'parent' (int64 member\n"
    "numbers, -1 for none), 'n_children', 'n_sponsored' (int64).  One pass in C." },
  { "posting_columns", (PyCFunction) (void (*) (void)) pyref_engine_posting_columns,
    METH_VARARGS | METH_KEYWORDS,
    "posting_columns(start=None, stop=None) -> dict[str, numpy.ndarray]\n--\n\n"
    "The ledger as numpy columns: 'index', 'event' (int64), 'kind' (uint16 kind\n"
    "numbers; see kind_names), 'rule' (uint8: 0 engine, n rule n-1),\n"
    "'from_account', 'to_account' (int64 account numbers; see account_names()),\n"
    "'amount' (int64 minor units), 'cause' (int64, -1 for none), 'reversal'\n"
    "(bool); plus 'kind_names', a list of the kind names by number." },
  { NULL, NULL, 0, NULL }
};

static PyGetSetDef engine_getset[] = {
  { "scheme", (getter) engine_get_scheme, NULL, "The engine's Scheme.", NULL },
  { "n_members", (getter) engine_get_n_members, NULL, "Number of members (also len()).", NULL },
  { "n_events", (getter) engine_get_n_events, NULL, "Number of events applied.", NULL },
  { "n_periods", (getter) engine_get_n_periods, NULL, "Number of period closes applied.", NULL },
  { "n_postings", (getter) engine_get_n_postings, NULL, "Number of postings so far.", NULL },
  { NULL, NULL, NULL, NULL, NULL }
};

static PySequenceMethods engine_as_sequence = {
  .sq_length = (lenfunc) engine_len,
  .sq_contains = (objobjproc) engine_contains,
};

PyTypeObject PyRefEngine_Type = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "referral._referral.Engine",
  .tp_basicsize = sizeof (PyRefEngine),
  .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
  .tp_doc = "Engine(scheme, *, check_invariants=None)\n--\n\n"
            "The C core of referral.Engine (see there).",
  .tp_new = PyType_GenericNew,
  .tp_init = (initproc) engine_init,
  .tp_dealloc = (destructor) engine_dealloc,
  .tp_repr = (reprfunc) engine_repr,
  .tp_methods = engine_methods,
  .tp_getset = engine_getset,
  .tp_as_sequence = &engine_as_sequence,
  .tp_weaklistoffset = offsetof (PyRefEngine, weakreflist),
};
