/* Rule types written in Python.
 *
 * A Python rule class (see referral.Rule) becomes a ReferralRuleType whose
 * hooks are C trampolines: each takes the GIL, wraps the library's context
 * in a referral.Ctx valid for the duration of the hook, calls the method of
 * the rule instance, and turns an exception into a GError (code REJECTED,
 * or the code of a referral.Error) whose message carries the Python
 * traceback.  Proposals go through referral_ctx_* like a C rule's, so the
 * engine validates them and undoes them with a rejected event.
 *
 * Only hooks the class defines are set in the table, so the engine calls
 * the rule for nothing else.
 *
 * The library keeps registered types for the life of the process and
 * passes nothing to `init` that says which type it belongs to.  So each
 * Python rule type takes one of MAX_TYPES slots, each slot with its own
 * init trampoline generated below; the table, its strings and the class
 * stay alive for the process.  Registering a class again under the same
 * name reuses the slot and swaps the class (for schemes built afterwards)
 * when hooks and parameters are the same. */
#include "pyreferral.h"

#include <string.h>

#define MAX_TYPES 256

enum {
  HOOK_JOIN, HOOK_ORDER, HOOK_REFUND, HOOK_PERIOD_CLOSE, HOOK_WITHDRAW, HOOK_COMMAND,
  HOOK_RANK_CHANGE, HOOK_POSTING, HOOK_REVERSE, HOOK_EVENT_END, N_HOOKS
};

static const char *const hook_names[N_HOOKS] = {
  "on_join", "on_order", "on_refund", "on_period_close", "on_withdraw", "on_command",
  "on_rank_change", "on_posting", "on_reverse", "on_event_end",
};
static PyObject *hook_strings[N_HOOKS]; /* interned names */
static PyObject *init_string;

static const char *const param_type_names[] = {
  [REFERRAL_PARAM_MONEY] = "money", [REFERRAL_PARAM_RATE] = "rate",
  [REFERRAL_PARAM_INT] = "int", [REFERRAL_PARAM_STRING] = "string",
  [REFERRAL_PARAM_RANK] = "rank", [REFERRAL_PARAM_BOOL] = "bool",
  [REFERRAL_PARAM_LIST] = "list",
};

typedef struct {
  ReferralRuleType type;     /* what the library holds; never freed */
  PyObject *cls;             /* the class init instantiates */
  ReferralParamSpec *params; /* owned strings; NULL-name terminated */
  guint n_params;
  guint hooks;               /* bit per HOOK_* the class defines */
  int slot;
} PyRuleType;

static PyRuleType *slots[MAX_TYPES];
static int n_slots;

/* What a rule instance is configured with: the Python instance, plus the
 * fields and lists it declared (so Ctx can validate ids and widths instead
 * of handing the library one it would reject as a programmer error). */
typedef struct {
  PyObject *instance;
  PyRuleType *type;
  GHashTable *fields; /* id -> n_words */
  GHashTable *lists;  /* id -> n_words */
} PyRuleConfig;

static void
config_free (PyRuleConfig *c)
{
  g_hash_table_unref (c->fields);
  g_hash_table_unref (c->lists);
  g_free (c);
}

/* ------------------------------------------------------------ errors */

static PyObject *format_exception; /* traceback.format_exception */

/* Turns the pending Python exception into @error: the referral.Error code
 * when it is one, else REJECTED; the message is the traceback.
 * KeyboardInterrupt and SystemExit are also stashed to be re-raised when
 * control is back in Python. */
static void
error_from_exception (GError **error, const PyRuleType *type, const char *where)
{
  PyObject *etype, *value, *tb;
  PyErr_Fetch (&etype, &value, &tb);
  PyErr_NormalizeException (&etype, &value, &tb);
  if (tb != NULL && value != NULL)
    PyException_SetTraceback (value, tb);
  gint code = REFERRAL_ERROR_REJECTED;
  if (value != NULL && (PyErr_GivenExceptionMatches (etype, PyExc_KeyboardInterrupt)
                        || PyErr_GivenExceptionMatches (etype, PyExc_SystemExit)))
    pyref_stash_fatal (value);
  if (value != NULL && PyObject_IsInstance (value, pyref_error) == 1)
    {
      PyObject *c = PyObject_GetAttrString (value, "code");
      if (c != NULL && PyLong_Check (c))
        code = (gint) PyLong_AsLong (c);
      Py_XDECREF (c);
      PyErr_Clear ();
    }
  char *text = NULL;
  PyObject *lines = PyObject_CallFunctionObjArgs (format_exception, etype,
                                                  value ? value : Py_None,
                                                  tb ? tb : Py_None, NULL);
  if (lines != NULL)
    {
      PyObject *empty = PyUnicode_FromString ("");
      PyObject *joined = empty != NULL ? PyUnicode_Join (empty, lines) : NULL;
      const char *s = joined != NULL ? PyUnicode_AsUTF8 (joined) : NULL;
      if (s != NULL)
        text = g_strchomp (g_strdup (s));
      Py_XDECREF (joined);
      Py_XDECREF (empty);
      Py_DECREF (lines);
    }
  PyErr_Clear ();
  g_set_error (error, REFERRAL_ERROR, code, "Python rule type \"%s\" raised in %s:\n%s",
               type->type.name, where, text != NULL ? text : "(the traceback could not be "
               "formatted)");
  g_free (text);
  Py_XDECREF (etype);
  Py_XDECREF (value);
  Py_XDECREF (tb);
}

/* ------------------------------------------------------------ Setup */

typedef struct {
  PyObject_HEAD
  ReferralSetup *setup;  /* NULL once init returned */
  PyRuleConfig *config;
} PyRefSetup;

static gboolean
setup_alive (PyRefSetup *self)
{
  if (self->setup == NULL)
    {
      PyErr_SetString (PyExc_RuntimeError, "a Setup is only valid during the rule's init()");
      return FALSE;
    }
  return TRUE;
}

static PyObject *
setup_kind (PyRefSetup *self, PyObject *arg)
{
  if (!setup_alive (self))
    return NULL;
  const char *name = pyref_utf8 (arg, "kind", NULL);
  if (name == NULL)
    return NULL;
  if (*name == '\0')
    return pyref_raise (REFERRAL_ERROR_SCHEME, "a posting kind needs a name");
  return PyLong_FromLong (referral_setup_kind (self->setup, name));
}

static PyObject *
setup_pool (PyRefSetup *self, PyObject *arg)
{
  if (!setup_alive (self))
    return NULL;
  const char *name = pyref_utf8 (arg, "pool", NULL);
  if (name == NULL)
    return NULL;
  if (*name == '\0')
    return pyref_raise (REFERRAL_ERROR_SCHEME, "a pool needs a name");
  return PyLong_FromUnsignedLong (referral_setup_pool (self->setup, name));
}

typedef gint (*DeclareFunc) (ReferralSetup *, const char *, guint, GError **);

static PyObject *
setup_declare (PyRefSetup *self, PyObject *args, DeclareFunc declare, GHashTable *ids,
               const char *what)
{
  const char *name;
  unsigned int n_words = 1;
  if (!setup_alive (self) || !PyArg_ParseTuple (args, "s|I", &name, &n_words))
    return NULL;
  if (n_words < 1 || n_words > 64)
    return pyref_raisef (REFERRAL_ERROR_SCHEME, "%s \"%s\": n_words must be 1 to 64", what,
                         name);
  GError *error = NULL;
  gint id = declare (self->setup, name, n_words, &error);
  if (id < 0)
    return pyref_raise_gerror (error);
  g_hash_table_insert (ids, GINT_TO_POINTER (id), GUINT_TO_POINTER (n_words));
  return PyLong_FromLong (id);
}

static PyObject *
setup_field (PyRefSetup *self, PyObject *args)
{
  return setup_declare (self, args, referral_setup_field, self->config->fields, "field");
}

static PyObject *
setup_list (PyRefSetup *self, PyObject *args)
{
  return setup_declare (self, args, referral_setup_list, self->config->lists, "list");
}

static PyObject *
setup_command (PyRefSetup *self, PyObject *arg)
{
  if (!setup_alive (self))
    return NULL;
  const char *name = pyref_utf8 (arg, "command", NULL);
  if (name == NULL)
    return NULL;
  GError *error = NULL;
  if (!referral_setup_command (self->setup, name, &error))
    return pyref_raise_gerror (error);
  Py_RETURN_NONE;
}

static PyObject *
setup_lookup_rank (PyRefSetup *self, PyObject *arg)
{
  if (!setup_alive (self))
    return NULL;
  const char *name = pyref_utf8 (arg, "rank", NULL);
  if (name == NULL)
    return NULL;
  ReferralRank r;
  if (!referral_setup_lookup_rank (self->setup, name, &r))
    Py_RETURN_NONE;
  return PyLong_FromLong (r);
}

static PyObject *
setup_get_decimals (PyRefSetup *self, void *closure)
{
  if (!setup_alive (self))
    return NULL;
  return PyLong_FromUnsignedLong (referral_setup_decimals (self->setup));
}

static PyObject *
setup_get_n_ranks (PyRefSetup *self, void *closure)
{
  if (!setup_alive (self))
    return NULL;
  return PyLong_FromUnsignedLong (referral_setup_n_ranks (self->setup));
}

static PyObject *
setup_posting_kind (PyRefSetup *self, PyObject *arg)
{
  if (!setup_alive (self))
    return NULL;
  long k = PyLong_AsLong (arg);
  if (k == -1 && PyErr_Occurred ())
    return NULL;
  if (k < 0 || k > G_MAXUINT16)
    return pyref_raise (REFERRAL_ERROR_SCHEME, "a posting kind is a number from setup.kind()");
  GError *error = NULL;
  if (!referral_setup_posting_kind (self->setup, (ReferralKind) k, &error))
    return pyref_raise_gerror (error);
  Py_RETURN_NONE;
}

static PyMethodDef setup_methods[] = {
  { "kind", (PyCFunction) setup_kind, METH_O,
    "kind(name) -> int\n--\n\nThe posting kind called `name`, interned for the scheme." },
  { "posting_kind", (PyCFunction) setup_posting_kind, METH_O,
    "posting_kind(kind) -> None\n--\n\n"
    "Call this rule's on_posting only for postings of `kind` (a number from\n"
    "kind()) and of the other kinds so declared; without any declaration it\n"
    "is called for every posting.  Raises SchemeError for an unknown kind." },
  { "pool", (PyCFunction) setup_pool, METH_O,
    "pool(name) -> int\n--\n\nDeclare (or find) the pool account `name`; its account number." },
  { "field", (PyCFunction) setup_field, METH_VARARGS,
    "field(name, n_words=1) -> int\n--\n\n"
    "Declare a per-member field of n_words int64 words (zero for new members),\n"
    "shared by name with the scheme's other rules; its id for Ctx.field_get/set.\n"
    "Raises SchemeError when it exists with another width." },
  { "list", (PyCFunction) setup_list, METH_VARARGS,
    "list(name, n_words=1) -> int\n--\n\n"
    "Declare an append-only list of records of n_words int64 words, shared by\n"
    "name; its id for Ctx.list_*.  Undone with a rejected event like fields." },
  { "command", (PyCFunction) setup_command, METH_O,
    "command(name) -> None\n--\n\n"
    "Make this rule the handler of command `name` (a transpose event is the\n"
    "command \"transpose\"): its on_command(ctx, event) gets them." },
  { "lookup_rank", (PyCFunction) setup_lookup_rank, METH_O,
    "lookup_rank(name) -> int | None\n--\n\nThe number of the scheme's rank `name`." },
  { NULL, NULL, 0, NULL }
};

static PyGetSetDef setup_getset[] = {
  { "decimals", (getter) setup_get_decimals, NULL, "The currency's decimals.", NULL },
  { "n_ranks", (getter) setup_get_n_ranks, NULL, "The scheme's number of ranks.", NULL },
  { NULL, NULL, NULL, NULL, NULL }
};

PyTypeObject PyRefSetup_Type = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "referral.Setup",
  .tp_basicsize = sizeof (PyRefSetup),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "What a rule declares while its scheme is built: passed to Rule.init().\n"
            "Valid only during that call.",
  .tp_methods = setup_methods,
  .tp_getset = setup_getset,
};

/* ------------------------------------------------------------ Params */

typedef struct {
  PyObject_HEAD
  const ReferralParams *params; /* NULL once init returned */
  PyRuleType *type;
} PyRefParams;

/* The spec of parameter @name, or NULL with KeyError. */
static const ReferralParamSpec *
params_spec (PyRefParams *self, const char *name)
{
  if (self->params == NULL)
    {
      PyErr_SetString (PyExc_RuntimeError, "Params are only valid during the rule's init()");
      return NULL;
    }
  for (guint i = 0; i < self->type->n_params; i++)
    if (strcmp (self->type->params[i].name, name) == 0)
      return &self->type->params[i];
  PyErr_Format (PyExc_KeyError, "rule type \"%s\" declares no parameter \"%s\"",
                self->type->type.name, name);
  return NULL;
}

static PyObject *
params_value (PyRefParams *self, const ReferralParamSpec *spec)
{
  const ReferralParams *p = self->params;
  switch (spec->type)
    {
    case REFERRAL_PARAM_MONEY:
      return PyLong_FromLongLong (referral_params_money (p, spec->name));
    case REFERRAL_PARAM_RATE:
      return pyref_rate_new (referral_params_rate (p, spec->name));
    case REFERRAL_PARAM_INT:
      return PyLong_FromLongLong (referral_params_int (p, spec->name));
    case REFERRAL_PARAM_STRING:
      return PyUnicode_FromString (referral_params_string (p, spec->name));
    case REFERRAL_PARAM_RANK:
      return PyLong_FromLong (referral_params_rank (p, spec->name));
    case REFERRAL_PARAM_BOOL:
      return PyBool_FromLong (referral_params_bool (p, spec->name));
    case REFERRAL_PARAM_LIST:
      {
        const char *const *words = referral_params_list (p, spec->name);
        PyObject *list = PyList_New (0);
        for (gsize i = 0; list != NULL && words != NULL && words[i] != NULL; i++)
          {
            PyObject *s = PyUnicode_FromString (words[i]);
            if (s == NULL || PyList_Append (list, s) < 0)
              Py_CLEAR (list);
            Py_XDECREF (s);
          }
        return list;
      }
    default:
      PyErr_SetString (PyExc_SystemError, "parameter of unknown type");
      return NULL;
    }
}

static PyObject *
params_subscript (PyRefParams *self, PyObject *key)
{
  const char *name = pyref_utf8 (key, "parameter name", NULL);
  const ReferralParamSpec *spec = name != NULL ? params_spec (self, name) : NULL;
  return spec != NULL ? params_value (self, spec) : NULL;
}

static PyObject *
params_is_set (PyRefParams *self, PyObject *key)
{
  const char *name = pyref_utf8 (key, "parameter name", NULL);
  const ReferralParamSpec *spec = name != NULL ? params_spec (self, name) : NULL;
  if (spec == NULL)
    return NULL;
  return PyBool_FromLong (referral_params_is_set (self->params, spec->name));
}

static PyObject *
params_keys (PyRefParams *self, PyObject *noargs)
{
  PyObject *list = PyList_New (self->type->n_params);
  for (guint i = 0; list != NULL && i < self->type->n_params; i++)
    {
      PyObject *s = PyUnicode_FromString (self->type->params[i].name);
      if (s == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, i, s);
    }
  return list;
}

static Py_ssize_t
params_len (PyRefParams *self)
{
  return self->type->n_params;
}

static PyMappingMethods params_as_mapping = {
  .mp_length = (lenfunc) params_len,
  .mp_subscript = (binaryfunc) params_subscript,
};

static PyMethodDef params_methods[] = {
  { "is_set", (PyCFunction) params_is_set, METH_O,
    "is_set(name) -> bool\n--\n\nWhether the scheme set parameter `name` (rather than "
    "defaulting it)." },
  { "keys", (PyCFunction) params_keys, METH_NOARGS,
    "keys() -> list[str]\n--\n\nThe declared parameter names." },
  { NULL, NULL, 0, NULL }
};

PyTypeObject PyRefParams_Type = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "referral.Params",
  .tp_basicsize = sizeof (PyRefParams),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "A rule instance's parameters, passed to Rule.init(); valid only during\n"
            "that call.  params[name] gives the configured value (or the default),\n"
            "parsed by the library by its declared type: money -> int minor units,\n"
            "rate -> Rate, int -> int, string -> str, rank -> int rank number,\n"
            "bool -> bool, list -> list[str].",
  .tp_as_mapping = &params_as_mapping,
  .tp_methods = params_methods,
};

/* ------------------------------------------------------------ Ctx */

typedef struct {
  PyObject_HEAD
  ReferralCtx *ctx;      /* NULL once the hook returned */
  PyRuleConfig *config;
} PyRefCtx;

static gboolean
ctx_alive (PyRefCtx *self)
{
  if (self->ctx == NULL)
    {
      PyErr_SetString (PyExc_RuntimeError, "a Ctx is only valid during the hook it was "
                       "passed to");
      return FALSE;
    }
  return TRUE;
}

#define CTX_ALIVE(self)         \
  do {                          \
    if (!ctx_alive (self))      \
      return NULL;              \
  } while (0)

static const ReferralTree *
ctx_tree (PyRefCtx *self)
{
  return referral_ctx_tree (self->ctx);
}

static const ReferralLedger *
ctx_ledger (PyRefCtx *self)
{
  return referral_ctx_ledger (self->ctx);
}

/* A member number argument; None gives REFERRAL_NO_MEMBER when allowed. */
static gboolean
ctx_member (PyRefCtx *self, PyObject *obj, gboolean allow_none, ReferralMember *out)
{
  if (allow_none && obj == Py_None)
    {
      *out = REFERRAL_NO_MEMBER;
      return TRUE;
    }
  if (!PyLong_Check (obj))
    {
      PyErr_Format (PyExc_TypeError, "a member is its number (int)%s, not %.100s",
                    allow_none ? " or None" : "", Py_TYPE (obj)->tp_name);
      return FALSE;
    }
  long long m = PyLong_AsLongLong (obj);
  if (m == -1 && PyErr_Occurred ())
    return FALSE;
  if (m < 0 || m >= (long long) referral_tree_size (ctx_tree (self)))
    {
      pyref_raisef (REFERRAL_ERROR_UNKNOWN_MEMBER, "member number %lld does not exist", m);
      return FALSE;
    }
  *out = (ReferralMember) m;
  return TRUE;
}

static gboolean
ctx_account (PyRefCtx *self, PyObject *obj, ReferralAccount *out)
{
  long long a = PyLong_AsLongLong (obj);
  if (a == -1 && PyErr_Occurred ())
    return FALSE;
  if (a < 0 || a >= (long long) referral_ledger_n_accounts (ctx_ledger (self)))
    {
      pyref_raisef (REFERRAL_ERROR_INVALID_EVENT, "account %lld does not exist", a);
      return FALSE;
    }
  *out = (ReferralAccount) a;
  return TRUE;
}

static PyObject *
member_or_none (ReferralMember m)
{
  if (m == REFERRAL_NO_MEMBER)
    Py_RETURN_NONE;
  return PyLong_FromUnsignedLong (m);
}

/* Tree reads. */

static PyObject *
ctx_get_n_members (PyRefCtx *self, void *closure)
{
  CTX_ALIVE (self);
  return PyLong_FromUnsignedLong (referral_tree_size (ctx_tree (self)));
}

static PyObject *
ctx_lookup (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  const char *key = pyref_utf8 (arg, "key", NULL);
  if (key == NULL)
    return NULL;
  return member_or_none (referral_tree_lookup (ctx_tree (self), key));
}

typedef ReferralMember (*MemberFunc) (const ReferralTree *, ReferralMember);

static PyObject *
ctx_member_func (PyRefCtx *self, PyObject *arg, MemberFunc f)
{
  CTX_ALIVE (self);
  ReferralMember m;
  if (!ctx_member (self, arg, FALSE, &m))
    return NULL;
  return member_or_none (f (ctx_tree (self), m));
}

static PyObject *
ctx_sponsor (PyRefCtx *self, PyObject *arg)
{
  return ctx_member_func (self, arg, referral_tree_sponsor);
}

static PyObject *
ctx_parent (PyRefCtx *self, PyObject *arg)
{
  return ctx_member_func (self, arg, referral_tree_parent);
}

static PyObject *
ctx_key (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  ReferralMember m;
  if (!ctx_member (self, arg, FALSE, &m))
    return NULL;
  return PyUnicode_FromString (referral_tree_key (ctx_tree (self), m));
}

static PyObject *
ctx_rank (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  ReferralMember m;
  if (!ctx_member (self, arg, FALSE, &m))
    return NULL;
  return PyLong_FromLong (referral_tree_rank (ctx_tree (self), m));
}

static PyObject *
ctx_depth (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  ReferralMember m;
  if (!ctx_member (self, arg, FALSE, &m))
    return NULL;
  return PyLong_FromUnsignedLong (referral_tree_depth (ctx_tree (self), m));
}

static PyObject *
ctx_list_members (PyRefCtx *self, PyObject *arg, MemberFunc first, MemberFunc next)
{
  CTX_ALIVE (self);
  ReferralMember m;
  if (!ctx_member (self, arg, FALSE, &m))
    return NULL;
  const ReferralTree *tree = ctx_tree (self);
  PyObject *list = PyList_New (0);
  for (ReferralMember c = first (tree, m); list != NULL && c != REFERRAL_NO_MEMBER;
       c = next (tree, c))
    {
      PyObject *i = PyLong_FromUnsignedLong (c);
      if (i == NULL || PyList_Append (list, i) < 0)
        Py_CLEAR (list);
      Py_XDECREF (i);
    }
  return list;
}

static PyObject *
ctx_children (PyRefCtx *self, PyObject *arg)
{
  return ctx_list_members (self, arg, referral_tree_first_child, referral_tree_next_sibling);
}

static PyObject *
ctx_sponsored (PyRefCtx *self, PyObject *arg)
{
  return ctx_list_members (self, arg, referral_tree_first_sponsored,
                           referral_tree_next_sponsored);
}

static PyObject *
ctx_n_sponsored (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  ReferralMember m;
  if (!ctx_member (self, arg, FALSE, &m))
    return NULL;
  return PyLong_FromUnsignedLong (referral_tree_n_sponsored (ctx_tree (self), m));
}

static PyObject *
ctx_n_children (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  ReferralMember m;
  if (!ctx_member (self, arg, FALSE, &m))
    return NULL;
  return PyLong_FromUnsignedLong (referral_tree_n_children (ctx_tree (self), m));
}

static PyObject *
ctx_is_ancestor (PyRefCtx *self, PyObject *args)
{
  CTX_ALIVE (self);
  PyObject *a, *b;
  ReferralMember x, y;
  if (!PyArg_ParseTuple (args, "OO:is_ancestor", &a, &b) || !ctx_member (self, a, FALSE, &x)
      || !ctx_member (self, b, FALSE, &y))
    return NULL;
  return PyBool_FromLong (referral_tree_is_ancestor (ctx_tree (self), x, y));
}

static gboolean
rank_arg (PyRefCtx *self, PyObject *obj, ReferralRank *out)
{
  long r = PyLong_AsLong (obj);
  if (r == -1 && PyErr_Occurred ())
    return FALSE;
  if (r < 0 || r >= (long) referral_scheme_n_ranks (referral_ctx_scheme (self->ctx)))
    {
      pyref_raisef (REFERRAL_ERROR_INVALID_RANK, "rank number %ld does not exist", r);
      return FALSE;
    }
  *out = (ReferralRank) r;
  return TRUE;
}

static PyObject *
ctx_nearest_at_rank (PyRefCtx *self, PyObject *args)
{
  CTX_ALIVE (self);
  PyObject *a, *r;
  ReferralMember m;
  ReferralRank rank;
  if (!PyArg_ParseTuple (args, "OO:nearest_at_rank", &a, &r) || !ctx_member (self, a, FALSE, &m)
      || !rank_arg (self, r, &rank))
    return NULL;
  return member_or_none (referral_tree_nearest_at_rank (ctx_tree (self), m, rank));
}

static PyObject *
ctx_rank_name (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  ReferralRank r;
  if (!rank_arg (self, arg, &r))
    return NULL;
  return PyUnicode_FromString (referral_scheme_rank_name (referral_ctx_scheme (self->ctx), r));
}

static PyObject *
ctx_lookup_rank (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  const char *name = pyref_utf8 (arg, "rank", NULL);
  if (name == NULL)
    return NULL;
  ReferralRank r;
  if (!referral_scheme_lookup_rank (referral_ctx_scheme (self->ctx), name, &r))
    Py_RETURN_NONE;
  return PyLong_FromLong (r);
}

/* Ledger reads. */

static PyObject *
ctx_member_account (PyRefCtx *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "member", "held", NULL };
  PyObject *a;
  int held = 0;
  ReferralMember m;
  CTX_ALIVE (self);
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "O|p:member_account", kwlist, &a, &held)
      || !ctx_member (self, a, FALSE, &m))
    return NULL;
  return PyLong_FromUnsignedLong (referral_ledger_member_account (ctx_ledger (self), m, held));
}

static PyObject *
ctx_account_member (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  ReferralAccount a;
  if (!ctx_account (self, arg, &a))
    return NULL;
  gboolean held = FALSE;
  ReferralMember m = referral_ledger_account_member (ctx_ledger (self), a, &held);
  return Py_BuildValue ("(NO)", member_or_none (m), held ? Py_True : Py_False);
}

static PyObject *
ctx_balance (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  ReferralAccount a;
  if (!ctx_account (self, arg, &a))
    return NULL;
  return PyLong_FromLongLong (referral_ledger_balance (ctx_ledger (self), a));
}

static PyObject *
ctx_account_name (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  ReferralAccount a;
  if (!ctx_account (self, arg, &a))
    return NULL;
  char *name = referral_ledger_account_name (ctx_ledger (self), a);
  PyObject *s = PyUnicode_FromString (name);
  g_free (name);
  return s;
}

static PyObject *
ctx_pool_account (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  const char *name = pyref_utf8 (arg, "pool", NULL);
  if (name == NULL)
    return NULL;
  ReferralAccount a = referral_ledger_lookup_pool (ctx_ledger (self), name);
  if (a == REFERRAL_NO_ACCOUNT)
    Py_RETURN_NONE;
  return PyLong_FromUnsignedLong (a);
}

static PyObject *
ctx_get_n_postings (PyRefCtx *self, void *closure)
{
  CTX_ALIVE (self);
  return PyLong_FromUnsignedLongLong (referral_ledger_n_postings (ctx_ledger (self)));
}

static gboolean
posting_arg (PyRefCtx *self, PyObject *obj, guint64 *out)
{
  unsigned long long i = PyLong_AsUnsignedLongLong (obj);
  if (i == (unsigned long long) -1 && PyErr_Occurred ())
    return FALSE;
  if (i >= referral_ledger_n_postings (ctx_ledger (self)))
    {
      PyErr_Format (PyExc_IndexError, "posting %llu does not exist", i);
      return FALSE;
    }
  *out = i;
  return TRUE;
}

PyObject *
pyref_raw_posting_new (const ReferralPosting *p, guint64 index)
{
  guint64 cause = referral_posting_cause (p, index);
  PyObject *r = PyStructSequence_New (pyref_raw_posting_type);
  if (r == NULL)
    return NULL;
  PyStructSequence_SET_ITEM (r, 0, PyLong_FromLongLong (p->amount));
  PyStructSequence_SET_ITEM (r, 1, PyLong_FromUnsignedLong (p->from));
  PyStructSequence_SET_ITEM (r, 2, PyLong_FromUnsignedLong (p->to));
  PyStructSequence_SET_ITEM (r, 3, PyLong_FromUnsignedLong (p->event));
  PyStructSequence_SET_ITEM (r, 4, cause == REFERRAL_NO_POSTING
                                     ? Py_NewRef (Py_None)
                                     : PyLong_FromUnsignedLongLong (cause));
  PyStructSequence_SET_ITEM (r, 5, PyLong_FromLong (p->kind));
  PyStructSequence_SET_ITEM (r, 6, PyLong_FromLong (p->rule));
  PyStructSequence_SET_ITEM (r, 7, PyBool_FromLong ((p->flags & REFERRAL_POSTING_REVERSAL) != 0));
  if (PyErr_Occurred ())
    Py_CLEAR (r);
  return r;
}

static PyObject *
ctx_posting (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  guint64 i;
  if (!posting_arg (self, arg, &i))
    return NULL;
  return pyref_raw_posting_new (referral_ledger_posting (ctx_ledger (self), i), i);
}

static PyObject *
ctx_kind_name (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  long k = PyLong_AsLong (arg);
  if (k == -1 && PyErr_Occurred ())
    return NULL;
  const ReferralLedger *ledger = ctx_ledger (self);
  if (k < 0 || (guint) k >= referral_ledger_n_kinds (ledger))
    return PyErr_Format (PyExc_ValueError, "kind %ld does not exist", k);
  return PyUnicode_FromString (referral_ledger_kind_name (ledger, (ReferralKind) k));
}

static PyObject *
ctx_lookup_kind (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  const char *name = pyref_utf8 (arg, "kind", NULL);
  if (name == NULL)
    return NULL;
  ReferralKind k;
  if (!referral_ledger_lookup_kind (ctx_ledger (self), name, &k))
    Py_RETURN_NONE;
  return PyLong_FromLong (k);
}

static PyObject *
ctx_event_postings (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  unsigned long seq = PyLong_AsUnsignedLong (arg);
  if (seq == (unsigned long) -1 && PyErr_Occurred ())
    return NULL;
  /* Only events already applied have a posting range. */
  if (seq >= referral_ctx_event_seq (self->ctx))
    return PyErr_Format (PyExc_IndexError, "event %lu was not applied before this one", seq);
  guint64 first, n;
  referral_ledger_event_postings (ctx_ledger (self), (guint32) seq, &first, &n);
  return Py_BuildValue ("(KK)", (unsigned long long) first, (unsigned long long) n);
}

/* The event. */

static PyObject *
ctx_get_event (PyRefCtx *self, void *closure)
{
  CTX_ALIVE (self);
  return pyref_event_to_dict (referral_ctx_event (self->ctx), referral_ctx_decimals (self->ctx));
}

static PyObject *
ctx_get_event_seq (PyRefCtx *self, void *closure)
{
  CTX_ALIVE (self);
  return PyLong_FromUnsignedLong (referral_ctx_event_seq (self->ctx));
}

static PyObject *
ctx_get_period (PyRefCtx *self, void *closure)
{
  CTX_ALIVE (self);
  return PyLong_FromUnsignedLong (referral_ctx_period (self->ctx));
}

static PyObject *
ctx_get_decimals (PyRefCtx *self, void *closure)
{
  CTX_ALIVE (self);
  return PyLong_FromUnsignedLong (referral_ctx_decimals (self->ctx));
}

static PyObject *
ctx_get_n_ranks (PyRefCtx *self, void *closure)
{
  CTX_ALIVE (self);
  return PyLong_FromUnsignedLong (referral_scheme_n_ranks (referral_ctx_scheme (self->ctx)));
}

static PyObject *
ctx_lookup_order (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  const char *key = pyref_utf8 (arg, "order", NULL);
  if (key == NULL)
    return NULL;
  ReferralOrder o;
  if (!referral_ctx_lookup_order (self->ctx, key, &o))
    Py_RETURN_NONE;
  return pyref_raw_order_new (&o);
}

PyObject *
pyref_raw_order_new (const ReferralOrder *o)
{
  PyObject *r = PyStructSequence_New (pyref_raw_order_type);
  if (r == NULL)
    return NULL;
  PyStructSequence_SET_ITEM (r, 0, PyUnicode_FromString (o->key));
  PyStructSequence_SET_ITEM (r, 1, PyLong_FromUnsignedLong (o->buyer));
  PyStructSequence_SET_ITEM (r, 2, PyLong_FromLongLong (o->amount));
  PyStructSequence_SET_ITEM (r, 3, o->sku ? PyUnicode_FromString (o->sku) : Py_NewRef (Py_None));
  PyStructSequence_SET_ITEM (r, 4, PyLong_FromUnsignedLong (o->event));
  PyStructSequence_SET_ITEM (r, 5, PyLong_FromUnsignedLong (o->period));
  PyStructSequence_SET_ITEM (r, 6, PyBool_FromLong (o->refunded));
  if (PyErr_Occurred ())
    Py_CLEAR (r);
  return r;
}

static PyObject *
ctx_changed (PyRefCtx *self, PyObject *noargs)
{
  CTX_ALIVE (self);
  guint n = referral_ctx_n_changed (self->ctx);
  PyObject *list = PyList_New (n);
  for (guint i = 0; list != NULL && i < n; i++)
    {
      PyObject *m = PyLong_FromUnsignedLong (referral_ctx_changed (self->ctx, i));
      if (m == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, i, m);
    }
  return list;
}

/* Proposals. */

static gboolean
kind_arg (PyRefCtx *self, PyObject *obj, ReferralKind *out)
{
  long k = PyLong_AsLong (obj);
  if (k == -1 && PyErr_Occurred ())
    return FALSE;
  if (k < 0 || (guint) k >= referral_ledger_n_kinds (ctx_ledger (self)))
    {
      pyref_raisef (REFERRAL_ERROR_INVALID_EVENT,
                    "kind %ld does not exist (declare kinds with setup.kind() in init)", k);
      return FALSE;
    }
  *out = (ReferralKind) k;
  return TRUE;
}

static PyObject *
ctx_post (PyRefCtx *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "from_account", "to_account", "amount", "kind", "cause", NULL };
  PyObject *from_obj, *to_obj, *kind_obj, *cause_obj = Py_None;
  long long amount;
  ReferralAccount from, to;
  ReferralKind kind;
  guint64 cause = REFERRAL_NO_POSTING;
  CTX_ALIVE (self);
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "OOLO|O:post", kwlist, &from_obj, &to_obj,
                                    &amount, &kind_obj, &cause_obj)
      || !ctx_account (self, from_obj, &from) || !ctx_account (self, to_obj, &to)
      || !kind_arg (self, kind_obj, &kind)
      || (cause_obj != Py_None && !posting_arg (self, cause_obj, &cause)))
    return NULL;
  guint64 index;
  GError *error = NULL;
  if (!referral_ctx_post (self->ctx, from, to, amount, kind, cause, &index, &error))
    return pyref_raise_gerror (error);
  return PyLong_FromUnsignedLongLong (index);
}

static PyObject *
ctx_hold (PyRefCtx *self, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "member", "amount", "cause", NULL };
  PyObject *m_obj, *cause_obj = Py_None;
  long long amount;
  ReferralMember m;
  guint64 cause = REFERRAL_NO_POSTING;
  CTX_ALIVE (self);
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "OL|O:hold", kwlist, &m_obj, &amount,
                                    &cause_obj)
      || !ctx_member (self, m_obj, FALSE, &m)
      || (cause_obj != Py_None && !posting_arg (self, cause_obj, &cause)))
    return NULL;
  GError *error = NULL;
  if (!referral_ctx_hold (self->ctx, m, amount, cause, &error))
    return pyref_raise_gerror (error);
  Py_RETURN_NONE;
}

static PyObject *
ctx_release (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  ReferralMember m;
  if (!ctx_member (self, arg, FALSE, &m))
    return NULL;
  gint64 amount = 0;
  GError *error = NULL;
  if (!referral_ctx_release (self->ctx, m, &amount, &error))
    return pyref_raise_gerror (error);
  return PyLong_FromLongLong (amount);
}

static PyObject *
ctx_set_rank (PyRefCtx *self, PyObject *args)
{
  CTX_ALIVE (self);
  PyObject *m_obj, *r_obj;
  ReferralMember m;
  ReferralRank r;
  if (!PyArg_ParseTuple (args, "OO:set_rank", &m_obj, &r_obj) || !ctx_member (self, m_obj, FALSE, &m)
      || !rank_arg (self, r_obj, &r))
    return NULL;
  GError *error = NULL;
  if (!referral_ctx_set_rank (self->ctx, m, r, &error))
    return pyref_raise_gerror (error);
  Py_RETURN_NONE;
}

static PyObject *
ctx_move (PyRefCtx *self, PyObject *args)
{
  CTX_ALIVE (self);
  PyObject *m_obj, *p_obj;
  ReferralMember m, p;
  if (!PyArg_ParseTuple (args, "OO:move", &m_obj, &p_obj) || !ctx_member (self, m_obj, FALSE, &m)
      || !ctx_member (self, p_obj, TRUE, &p))
    return NULL;
  GError *error = NULL;
  if (!referral_ctx_move (self->ctx, m, p, &error))
    return pyref_raise_gerror (error);
  Py_RETURN_NONE;
}

/* Fields and lists: ids this rule declared, words within their width. */

static gboolean
declared_id (GHashTable *ids, long id, const char *what, guint *n_words)
{
  gpointer width;
  if (!g_hash_table_lookup_extended (ids, GINT_TO_POINTER ((gint) id), NULL, &width))
    {
      PyErr_Format (PyExc_ValueError, "%s %ld was not declared by this rule (use setup.%s() in "
                    "init)", what, id, what);
      return FALSE;
    }
  *n_words = GPOINTER_TO_UINT (width);
  return TRUE;
}

static PyObject *
ctx_field_get (PyRefCtx *self, PyObject *args)
{
  CTX_ALIVE (self);
  long field;
  PyObject *m_obj;
  unsigned int word = 0;
  ReferralMember m;
  guint n_words;
  if (!PyArg_ParseTuple (args, "lO|I:field_get", &field, &m_obj, &word)
      || !declared_id (self->config->fields, field, "field", &n_words)
      || !ctx_member (self, m_obj, FALSE, &m))
    return NULL;
  if (word >= n_words)
    return PyErr_Format (PyExc_IndexError, "word %u of a field of %u words", word, n_words);
  return PyLong_FromLongLong (referral_ctx_field_get (self->ctx, (gint) field, m, word));
}

static PyObject *
ctx_field_set (PyRefCtx *self, PyObject *args)
{
  CTX_ALIVE (self);
  long field;
  PyObject *m_obj;
  unsigned int word;
  long long value;
  ReferralMember m;
  guint n_words;
  if (!PyArg_ParseTuple (args, "lOIL:field_set", &field, &m_obj, &word, &value)
      || !declared_id (self->config->fields, field, "field", &n_words)
      || !ctx_member (self, m_obj, FALSE, &m))
    return NULL;
  if (word >= n_words)
    return PyErr_Format (PyExc_IndexError, "word %u of a field of %u words", word, n_words);
  referral_ctx_field_set (self->ctx, (gint) field, m, word, value);
  Py_RETURN_NONE;
}

static PyObject *
ctx_list_push (PyRefCtx *self, PyObject *args)
{
  CTX_ALIVE (self);
  long list;
  PyObject *record;
  guint n_words;
  if (!PyArg_ParseTuple (args, "lO:list_push", &list, &record)
      || !declared_id (self->config->lists, list, "list", &n_words))
    return NULL;
  PyObject *seq = PySequence_Fast (record, "a record is a sequence of ints");
  if (seq == NULL)
    return NULL;
  if (PySequence_Fast_GET_SIZE (seq) != (Py_ssize_t) n_words)
    {
      Py_DECREF (seq);
      return PyErr_Format (PyExc_ValueError, "a record of this list has %u words", n_words);
    }
  gint64 words[64];
  for (guint i = 0; i < n_words; i++)
    {
      words[i] = PyLong_AsLongLong (PySequence_Fast_GET_ITEM (seq, i));
      if (words[i] == -1 && PyErr_Occurred ())
        {
          Py_DECREF (seq);
          return NULL;
        }
    }
  Py_DECREF (seq);
  referral_ctx_list_push (self->ctx, (gint) list, words);
  Py_RETURN_NONE;
}

static PyObject *
ctx_list_length (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  long list = PyLong_AsLong (arg);
  guint n_words;
  if ((list == -1 && PyErr_Occurred ())
      || !declared_id (self->config->lists, list, "list", &n_words))
    return NULL;
  return PyLong_FromUnsignedLongLong (referral_ctx_list_length (self->ctx, (gint) list));
}

static PyObject *
ctx_list_get (PyRefCtx *self, PyObject *args)
{
  CTX_ALIVE (self);
  long list;
  unsigned long long index;
  guint n_words;
  if (!PyArg_ParseTuple (args, "lK:list_get", &list, &index)
      || !declared_id (self->config->lists, list, "list", &n_words))
    return NULL;
  if (index >= referral_ctx_list_length (self->ctx, (gint) list))
    return PyErr_Format (PyExc_IndexError, "record %llu of the list does not exist", index);
  const gint64 *rec = referral_ctx_list_get (self->ctx, (gint) list, index);
  PyObject *t = PyTuple_New (n_words);
  for (guint i = 0; t != NULL && i < n_words; i++)
    {
      PyObject *w = PyLong_FromLongLong (rec[i]);
      if (w == NULL)
        {
          Py_CLEAR (t);
          break;
        }
      PyTuple_SET_ITEM (t, i, w);
    }
  return t;
}

static PyObject *
ctx_list_clear (PyRefCtx *self, PyObject *arg)
{
  CTX_ALIVE (self);
  long list = PyLong_AsLong (arg);
  guint n_words;
  if ((list == -1 && PyErr_Occurred ())
      || !declared_id (self->config->lists, list, "list", &n_words))
    return NULL;
  referral_ctx_list_clear (self->ctx, (gint) list);
  Py_RETURN_NONE;
}

static PyMethodDef ctx_methods[] = {
  /* tree */
  { "lookup", (PyCFunction) ctx_lookup, METH_O,
    "lookup(key) -> int | None\n--\n\nThe number of the member with key `key`." },
  { "key", (PyCFunction) ctx_key, METH_O, "key(member) -> str\n--\n\nThe member's key." },
  { "sponsor", (PyCFunction) ctx_sponsor, METH_O,
    "sponsor(member) -> int | None\n--\n\nWho referred the member." },
  { "parent", (PyCFunction) ctx_parent, METH_O,
    "parent(member) -> int | None\n--\n\nThe member's placement parent." },
  { "rank", (PyCFunction) ctx_rank, METH_O,
    "rank(member) -> int\n--\n\nThe member's rank number." },
  { "depth", (PyCFunction) ctx_depth, METH_O,
    "depth(member) -> int\n--\n\nNumber of placement ancestors." },
  { "children", (PyCFunction) ctx_children, METH_O,
    "children(member) -> list[int]\n--\n\nPlacement children, in order." },
  { "sponsored", (PyCFunction) ctx_sponsored, METH_O,
    "sponsored(member) -> list[int]\n--\n\nDirectly sponsored members, in join order." },
  { "n_children", (PyCFunction) ctx_n_children, METH_O,
    "n_children(member) -> int\n--\n\nNumber of placement children (O(1))." },
  { "n_sponsored", (PyCFunction) ctx_n_sponsored, METH_O,
    "n_sponsored(member) -> int\n--\n\nNumber of directly sponsored members (O(1))." },
  { "is_ancestor", (PyCFunction) ctx_is_ancestor, METH_VARARGS,
    "is_ancestor(ancestor, member) -> bool\n--\n\nStrict placement ancestry." },
  { "nearest_at_rank", (PyCFunction) ctx_nearest_at_rank, METH_VARARGS,
    "nearest_at_rank(member, rank) -> int | None\n--\n\n"
    "Nearest strict placement ancestor of at least rank number `rank`." },
  { "rank_name", (PyCFunction) ctx_rank_name, METH_O,
    "rank_name(rank) -> str\n--\n\nThe name of rank number `rank`." },
  { "lookup_rank", (PyCFunction) ctx_lookup_rank, METH_O,
    "lookup_rank(name) -> int | None\n--\n\nThe number of rank `name`." },
  /* ledger */
  { "member_account", (PyCFunction) (void (*) (void)) ctx_member_account,
    METH_VARARGS | METH_KEYWORDS,
    "member_account(member, held=False) -> int\n--\n\n"
    "The account number of the member's available (or held) funds." },
  { "account_member", (PyCFunction) ctx_account_member, METH_O,
    "account_member(account) -> tuple[int | None, bool]\n--\n\n"
    "(member, held) owning the account; (None, False) for outside, platform, pools." },
  { "balance", (PyCFunction) ctx_balance, METH_O,
    "balance(account) -> int\n--\n\nThe account's balance in minor units, as of now in "
    "this event." },
  { "account_name", (PyCFunction) ctx_account_name, METH_O,
    "account_name(account) -> str\n--\n\n\"outside\", \"platform\", \"pool:NAME\", "
    "\"KEY:available\" or \"KEY:held\"." },
  { "pool_account", (PyCFunction) ctx_pool_account, METH_O,
    "pool_account(name) -> int | None\n--\n\nThe account of the pool `name`." },
  { "posting", (PyCFunction) ctx_posting, METH_O,
    "posting(index) -> RawPosting\n--\n\nPosting number `index`." },
  { "kind_name", (PyCFunction) ctx_kind_name, METH_O,
    "kind_name(kind) -> str\n--\n\nThe name of a kind number." },
  { "lookup_kind", (PyCFunction) ctx_lookup_kind, METH_O,
    "lookup_kind(name) -> int | None\n--\n\nThe kind number of `name`." },
  { "event_postings", (PyCFunction) ctx_event_postings, METH_O,
    "event_postings(seq) -> tuple[int, int]\n--\n\n"
    "(first, count) of the postings of event `seq`, applied before this one." },
  { "lookup_order", (PyCFunction) ctx_lookup_order, METH_O,
    "lookup_order(key) -> RawOrder | None\n--\n\nThe order with id `key`." },
  { "changed", (PyCFunction) ctx_changed, METH_NOARGS,
    "changed() -> list[int]\n--\n\n"
    "Members whose rank or fields changed so far in this event, in order of first change." },
  /* proposals */
  { "post", (PyCFunction) (void (*) (void)) ctx_post, METH_VARARGS | METH_KEYWORDS,
    "post(from_account, to_account, amount, kind, cause=None) -> int\n--\n\n"
    "Propose moving `amount` (> 0, minor units) between accounts with `kind` (a\n"
    "kind number from setup.kind(), or KIND_*); `cause` is the index of the\n"
    "posting that caused it.  Every rule's on_posting runs before this returns.\n"
    "Returns the new posting's index.  Raises InvalidEventError or\n"
    "MoneyOverflowError; a refused proposal rejects the event even if caught." },
  { "hold", (PyCFunction) (void (*) (void)) ctx_hold, METH_VARARGS | METH_KEYWORDS,
    "hold(member, amount, cause=None) -> None\n--\n\n"
    "Move `amount` from the member's available to its held funds (kind \"hold\")." },
  { "release", (PyCFunction) ctx_release, METH_O,
    "release(member) -> int\n--\n\n"
    "Move all the member's held funds to available (kind \"release\"); the amount." },
  { "set_rank", (PyCFunction) ctx_set_rank, METH_VARARGS,
    "set_rank(member, rank) -> None\n--\n\n"
    "Give the member rank number `rank`; every rule's on_rank_change runs first." },
  { "move", (PyCFunction) ctx_move, METH_VARARGS,
    "move(member, new_parent) -> None\n--\n\n"
    "Re-parent the member and its placement subtree (None: make it a root).\n"
    "Raises CycleError." },
  { "field_get", (PyCFunction) ctx_field_get, METH_VARARGS,
    "field_get(field, member, word=0) -> int\n--\n\nRead a word of a member field." },
  { "field_set", (PyCFunction) ctx_field_set, METH_VARARGS,
    "field_set(field, member, word, value) -> None\n--\n\n"
    "Write a word of a member field (undone if the event is rejected)." },
  { "list_push", (PyCFunction) ctx_list_push, METH_VARARGS,
    "list_push(list, record) -> None\n--\n\nAppend a record (n_words ints) to a list." },
  { "list_length", (PyCFunction) ctx_list_length, METH_O,
    "list_length(list) -> int\n--\n\nNumber of records in a list." },
  { "list_get", (PyCFunction) ctx_list_get, METH_VARARGS,
    "list_get(list, index) -> tuple[int, ...]\n--\n\nRecord `index` of a list." },
  { "list_clear", (PyCFunction) ctx_list_clear, METH_O,
    "list_clear(list) -> None\n--\n\nEmpty a list (undone if the event is rejected)." },
  { NULL, NULL, 0, NULL }
};

static PyGetSetDef ctx_getset[] = {
  { "n_members", (getter) ctx_get_n_members, NULL, "Number of members.", NULL },
  { "n_postings", (getter) ctx_get_n_postings, NULL, "Number of postings so far.", NULL },
  { "event", (getter) ctx_get_event, NULL, "The event being applied, as a dict.", NULL },
  { "event_seq", (getter) ctx_get_event_seq, NULL, "The sequence number it will have.", NULL },
  { "period", (getter) ctx_get_period, NULL, "Number of period closes before this event.",
    NULL },
  { "decimals", (getter) ctx_get_decimals, NULL, "The currency's decimals.", NULL },
  { "n_ranks", (getter) ctx_get_n_ranks, NULL, "The scheme's number of ranks.", NULL },
  { NULL, NULL, NULL, NULL, NULL }
};

PyTypeObject PyRefCtx_Type = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "referral.Ctx",
  .tp_basicsize = sizeof (PyRefCtx),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "The context of the event being applied, passed to every rule hook; valid\n"
            "only during that hook.  Members, accounts, kinds, ranks, fields and lists\n"
            "are numbers, money is int minor units, as in the C rule API (rule.h).\n"
            "Reads see every effect proposed so far in the event; proposals (post,\n"
            "hold, release, set_rank, move, field_set, list_*) are validated by the\n"
            "engine at once and undone if the event is rejected.",
  .tp_methods = ctx_methods,
  .tp_getset = ctx_getset,
};

/* ------------------------------------------------------------ Reversal */

typedef struct {
  PyObject_HEAD
  ReferralAccount from, to;
  gint64 amount;
  ReferralKind kind;
  char skip;
} PyRefReversal;

static PyMemberDef reversal_members[] = {
  { "from_account", T_UINT, offsetof (PyRefReversal, from), 0,
    "Account the reversal takes from (may be changed)." },
  { "to_account", T_UINT, offsetof (PyRefReversal, to), 0,
    "Account the reversal gives to (may be changed)." },
  { "amount", T_LONGLONG, offsetof (PyRefReversal, amount), READONLY, "Minor units." },
  { "kind", T_USHORT, offsetof (PyRefReversal, kind), READONLY, "Kind number." },
  { "skip", T_BOOL, offsetof (PyRefReversal, skip), 0,
    "Set to True to post nothing for this reversal." },
  { NULL, 0, 0, 0, NULL }
};

PyTypeObject PyRefReversal_Type = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "referral.Reversal",
  .tp_basicsize = sizeof (PyRefReversal),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "The reversal a refund is about to post, passed to Rule.on_reverse(): change\n"
            "from_account / to_account to redirect it, or set skip = True.",
  .tp_members = reversal_members,
};

/* ------------------------------------------------------------ trampolines */

static PyRefCtx *
ctx_wrap (ReferralCtx *ctx, const PyRuleConfig *config)
{
  PyRefCtx *c = PyObject_New (PyRefCtx, &PyRefCtx_Type);
  if (c != NULL)
    {
      c->ctx = ctx;
      c->config = (PyRuleConfig *) config;
    }
  return c;
}

/* Calls method @hook of the rule instance with (ctx, args...), the GIL
 * held.  @args is stolen (may be NULL: an argument could not be made). */
static gboolean
call_hook (ReferralCtx *ctx, const PyRuleConfig *config, int hook, PyObject *args,
           GError **error)
{
  gboolean ok = FALSE;
  PyRefCtx *c = args != NULL ? ctx_wrap (ctx, config) : NULL;
  if (c != NULL)
    {
      Py_ssize_t n = PyTuple_GET_SIZE (args);
      PyObject *full = PyTuple_New (n + 1);
      if (full != NULL)
        {
          PyTuple_SET_ITEM (full, 0, Py_NewRef ((PyObject *) c));
          for (Py_ssize_t i = 0; i < n; i++)
            PyTuple_SET_ITEM (full, i + 1, Py_NewRef (PyTuple_GET_ITEM (args, i)));
          PyObject *method = PyObject_GetAttr (config->instance, hook_strings[hook]);
          PyObject *r = method != NULL ? PyObject_Call (method, full, NULL) : NULL;
          ok = r != NULL;
          Py_XDECREF (r);
          Py_XDECREF (method);
          Py_DECREF (full);
        }
      c->ctx = NULL;
      Py_DECREF (c);
    }
  Py_XDECREF (args);
  if (!ok)
    error_from_exception (error, config->type, hook_names[hook]);
  return ok;
}

static gboolean
tramp_join (ReferralCtx *ctx, gconstpointer config, ReferralMember member, GError **error)
{
  PyGILState_STATE g = PyGILState_Ensure ();
  gboolean ok = call_hook (ctx, config, HOOK_JOIN, Py_BuildValue ("(I)", member), error);
  PyGILState_Release (g);
  return ok;
}

static gboolean
order_hook (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order, int hook,
            GError **error)
{
  PyGILState_STATE g = PyGILState_Ensure ();
  PyObject *o = pyref_raw_order_new (order);
  gboolean ok = call_hook (ctx, config, hook, o != NULL ? Py_BuildValue ("(N)", o) : NULL,
                           error);
  PyGILState_Release (g);
  return ok;
}

static gboolean
tramp_order (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order, GError **error)
{
  return order_hook (ctx, config, order, HOOK_ORDER, error);
}

static gboolean
tramp_refund (ReferralCtx *ctx, gconstpointer config, const ReferralOrder *order, GError **error)
{
  return order_hook (ctx, config, order, HOOK_REFUND, error);
}

static gboolean
tramp_period_close (ReferralCtx *ctx, gconstpointer config, const char *period, GError **error)
{
  PyGILState_STATE g = PyGILState_Ensure ();
  gboolean ok = call_hook (ctx, config, HOOK_PERIOD_CLOSE, Py_BuildValue ("(s)", period), error);
  PyGILState_Release (g);
  return ok;
}

static gboolean
tramp_withdraw (ReferralCtx *ctx, gconstpointer config, ReferralMember member, gint64 amount,
                GError **error)
{
  PyGILState_STATE g = PyGILState_Ensure ();
  gboolean ok = call_hook (ctx, config, HOOK_WITHDRAW,
                           Py_BuildValue ("(IL)", member, (long long) amount), error);
  PyGILState_Release (g);
  return ok;
}

static gboolean
tramp_command (ReferralCtx *ctx, gconstpointer config, const ReferralEvent *event,
               GError **error)
{
  PyGILState_STATE g = PyGILState_Ensure ();
  PyObject *d = pyref_event_to_dict (event, referral_ctx_decimals (ctx));
  gboolean ok = call_hook (ctx, config, HOOK_COMMAND, d != NULL ? Py_BuildValue ("(N)", d) : NULL,
                           error);
  PyGILState_Release (g);
  return ok;
}

static gboolean
tramp_rank_change (ReferralCtx *ctx, gconstpointer config, ReferralMember member,
                   ReferralRank old_rank, ReferralRank new_rank, GError **error)
{
  PyGILState_STATE g = PyGILState_Ensure ();
  gboolean ok = call_hook (ctx, config, HOOK_RANK_CHANGE,
                           Py_BuildValue ("(Iii)", member, (int) old_rank, (int) new_rank),
                           error);
  PyGILState_Release (g);
  return ok;
}

static gboolean
tramp_posting (ReferralCtx *ctx, gconstpointer config, const ReferralPosting *posting,
               guint64 index, GError **error)
{
  PyGILState_STATE g = PyGILState_Ensure ();
  PyObject *p = pyref_raw_posting_new (posting, index);
  gboolean ok = call_hook (ctx, config, HOOK_POSTING,
                           p != NULL ? Py_BuildValue ("(NK)", p, (unsigned long long) index)
                                     : NULL, error);
  PyGILState_Release (g);
  return ok;
}

static gboolean
tramp_reverse (ReferralCtx *ctx, gconstpointer config, const ReferralPosting *original,
               guint64 original_index, ReferralPosting *reversal, gboolean *skip,
               GError **error)
{
  PyGILState_STATE g = PyGILState_Ensure ();
  const PyRuleConfig *c = config;
  PyObject *orig = pyref_raw_posting_new (original, original_index);
  PyRefReversal *rev = PyObject_New (PyRefReversal, &PyRefReversal_Type);
  gboolean ok = FALSE;
  if (rev != NULL)
    {
      rev->from = reversal->from;
      rev->to = reversal->to;
      rev->amount = reversal->amount;
      rev->kind = reversal->kind;
      rev->skip = *skip ? 1 : 0;
      PyObject *args = orig != NULL ? Py_BuildValue ("(NKO)", orig,
                                                     (unsigned long long) original_index,
                                                     (PyObject *) rev)
                                    : NULL;
      orig = NULL; /* stolen */
      ok = call_hook (ctx, config, HOOK_REVERSE, args, error);
      if (ok)
        {
          guint32 n = referral_ledger_n_accounts (referral_ctx_ledger (ctx));
          if (rev->from >= n || rev->to >= n)
            {
              g_set_error (error, REFERRAL_ERROR, REFERRAL_ERROR_INVALID_EVENT,
                           "Python rule type \"%s\" redirected a reversal to an account "
                           "that does not exist", c->type->type.name);
              ok = FALSE;
            }
          else
            {
              reversal->from = rev->from;
              reversal->to = rev->to;
              *skip = rev->skip != 0;
            }
        }
      Py_DECREF (rev);
    }
  else
    error_from_exception (error, c->type, "on_reverse");
  Py_XDECREF (orig);
  PyGILState_Release (g);
  return ok;
}

static gboolean
tramp_event_end (ReferralCtx *ctx, gconstpointer config, GError **error)
{
  PyGILState_STATE g = PyGILState_Ensure ();
  gboolean ok = call_hook (ctx, config, HOOK_EVENT_END, PyTuple_New (0), error);
  PyGILState_Release (g);
  return ok;
}

/* init: instantiate the class, let the instance declare what it needs. */
static gboolean
rule_init (PyRuleType *type, ReferralSetup *setup, const ReferralParams *params,
           gpointer *config_out, GError **error)
{
  PyGILState_STATE g = PyGILState_Ensure ();
  PyRuleConfig *config = g_new0 (PyRuleConfig, 1);
  config->type = type;
  config->fields = g_hash_table_new (NULL, NULL);
  config->lists = g_hash_table_new (NULL, NULL);
  gboolean ok = FALSE;
  config->instance = PyObject_CallNoArgs (type->cls);
  if (config->instance != NULL)
    {
      PyRefSetup *s = PyObject_New (PyRefSetup, &PyRefSetup_Type);
      PyRefParams *p = PyObject_New (PyRefParams, &PyRefParams_Type);
      if (s != NULL && p != NULL)
        {
          s->setup = setup;
          s->config = config;
          p->params = params;
          p->type = type;
          PyObject *method = PyObject_GetAttr (config->instance, init_string);
          if (method == NULL && PyErr_ExceptionMatches (PyExc_AttributeError))
            {
              PyErr_Clear ();
              ok = TRUE; /* no init: nothing to declare */
            }
          else if (method != NULL)
            {
              PyObject *r = PyObject_CallFunctionObjArgs (method, (PyObject *) s,
                                                          (PyObject *) p, NULL);
              ok = r != NULL;
              Py_XDECREF (r);
              Py_DECREF (method);
            }
          s->setup = NULL;
          p->params = NULL;
        }
      Py_XDECREF (s);
      Py_XDECREF (p);
    }
  if (!ok)
    {
      error_from_exception (error, type, "init");
      /* The message is a traceback: keep the code the scheme loader expects. */
      if (*error != NULL && (*error)->code == REFERRAL_ERROR_REJECTED)
        (*error)->code = REFERRAL_ERROR_SCHEME;
      Py_XDECREF (config->instance);
      config_free (config);
    }
  else
    *config_out = config;
  PyGILState_Release (g);
  return ok;
}

static void
tramp_free_config (gpointer p)
{
  PyRuleConfig *config = p;
  if (config == NULL)
    return;
  /* A scheme outliving the interpreter (freed at process exit by someone
   * else) must not touch Python any more: leak the instance then. */
  if (Py_IsInitialized () && !_Py_IsFinalizing ())
    {
      PyGILState_STATE g = PyGILState_Ensure ();
      Py_CLEAR (config->instance);
      PyGILState_Release (g);
    }
  config_free (config);
}

/* One init trampoline per slot: the library tells init nothing else about
 * which type it is initialising. */
#define INIT_SLOT(n)                                                          \
  static gboolean init_slot_##n (ReferralSetup *setup, const ReferralParams *params, \
                                 gpointer *config, GError **error)            \
  {                                                                           \
    return rule_init (slots[n], setup, params, config, error);                \
  }
#define INIT_SLOTS_16(h) \
  INIT_SLOT (h##0) INIT_SLOT (h##1) INIT_SLOT (h##2) INIT_SLOT (h##3)         \
  INIT_SLOT (h##4) INIT_SLOT (h##5) INIT_SLOT (h##6) INIT_SLOT (h##7)         \
  INIT_SLOT (h##8) INIT_SLOT (h##9) INIT_SLOT (h##a) INIT_SLOT (h##b)         \
  INIT_SLOT (h##c) INIT_SLOT (h##d) INIT_SLOT (h##e) INIT_SLOT (h##f)
/* Slots are named in hex: init_slot_0x00 .. init_slot_0xff. */
INIT_SLOTS_16 (0x0) INIT_SLOTS_16 (0x1) INIT_SLOTS_16 (0x2) INIT_SLOTS_16 (0x3)
INIT_SLOTS_16 (0x4) INIT_SLOTS_16 (0x5) INIT_SLOTS_16 (0x6) INIT_SLOTS_16 (0x7)
INIT_SLOTS_16 (0x8) INIT_SLOTS_16 (0x9) INIT_SLOTS_16 (0xa) INIT_SLOTS_16 (0xb)
INIT_SLOTS_16 (0xc) INIT_SLOTS_16 (0xd) INIT_SLOTS_16 (0xe) INIT_SLOTS_16 (0xf)

typedef gboolean (*InitFunc) (ReferralSetup *, const ReferralParams *, gpointer *, GError **);
#define INIT_REF(n) init_slot_##n,
#define INIT_REFS_16(h) \
  INIT_REF (h##0) INIT_REF (h##1) INIT_REF (h##2) INIT_REF (h##3)             \
  INIT_REF (h##4) INIT_REF (h##5) INIT_REF (h##6) INIT_REF (h##7)             \
  INIT_REF (h##8) INIT_REF (h##9) INIT_REF (h##a) INIT_REF (h##b)             \
  INIT_REF (h##c) INIT_REF (h##d) INIT_REF (h##e) INIT_REF (h##f)
static const InitFunc init_slots[MAX_TYPES] = {
  INIT_REFS_16 (0x0) INIT_REFS_16 (0x1) INIT_REFS_16 (0x2) INIT_REFS_16 (0x3)
  INIT_REFS_16 (0x4) INIT_REFS_16 (0x5) INIT_REFS_16 (0x6) INIT_REFS_16 (0x7)
  INIT_REFS_16 (0x8) INIT_REFS_16 (0x9) INIT_REFS_16 (0xa) INIT_REFS_16 (0xb)
  INIT_REFS_16 (0xc) INIT_REFS_16 (0xd) INIT_REFS_16 (0xe) INIT_REFS_16 (0xf)
};

/* ------------------------------------------------------------ registration */

static GHashTable *python_types; /* name -> PyRuleType*, under the GIL */

static void
param_specs_free (ReferralParamSpec *specs, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_free ((char *) specs[i].name);
      g_free ((char *) specs[i].default_value);
      g_free ((char *) specs[i].description);
    }
  g_free (specs);
}

/* Reads cls.params: a sequence of (name, type[, default[, description]])
 * (referral.Param is such a tuple). */
static gboolean
read_params (PyObject *cls, ReferralParamSpec **out, guint *n_out)
{
  PyObject *params = PyObject_GetAttrString (cls, "params");
  if (params == NULL)
    {
      if (!PyErr_ExceptionMatches (PyExc_AttributeError))
        return FALSE;
      PyErr_Clear ();
      params = PyTuple_New (0);
    }
  PyObject *seq = PySequence_Fast (params, "Rule.params must be a sequence of referral.Param");
  Py_DECREF (params);
  if (seq == NULL)
    return FALSE;
  Py_ssize_t n = PySequence_Fast_GET_SIZE (seq);
  ReferralParamSpec *specs = g_new0 (ReferralParamSpec, n + 1);
  guint done = 0;
  for (Py_ssize_t i = 0; i < n; i++, done++)
    {
      PyObject *item = PySequence_Fast_GET_ITEM (seq, i);
      PyObject *fields = PySequence_Fast (item, "a parameter is (name, type, default, "
                                                "description)");
      if (fields == NULL)
        goto fail;
      Py_ssize_t k = PySequence_Fast_GET_SIZE (fields);
      const char *name = k >= 2 ? pyref_utf8 (PySequence_Fast_GET_ITEM (fields, 0),
                                              "parameter name", NULL) : NULL;
      const char *type = name != NULL ? pyref_utf8 (PySequence_Fast_GET_ITEM (fields, 1),
                                                    "parameter type", NULL) : NULL;
      PyObject *dflt = k >= 3 ? PySequence_Fast_GET_ITEM (fields, 2) : Py_None;
      PyObject *desc = k >= 4 ? PySequence_Fast_GET_ITEM (fields, 3) : Py_None;
      if (k < 2 || k > 4)
        PyErr_SetString (PyExc_TypeError, "a parameter is (name, type, default, description)");
      int t = 0;
      for (int j = REFERRAL_PARAM_MONEY; type != NULL && j <= REFERRAL_PARAM_LIST; j++)
        if (strcmp (type, param_type_names[j]) == 0)
          t = j;
      if (type != NULL && t == 0)
        pyref_raisef (REFERRAL_ERROR_SCHEME, "parameter \"%s\": type \"%s\" is not one of money, "
                      "rate, int, string, rank, bool, list", name, type);
      const char *d = t != 0 && dflt != Py_None ? pyref_utf8 (dflt, "parameter default", NULL)
                                                : NULL;
      const char *ds = t != 0 && desc != Py_None ? pyref_utf8 (desc, "parameter description",
                                                               NULL) : NULL;
      if (t == 0 || (dflt != Py_None && d == NULL) || (desc != Py_None && ds == NULL))
        {
          Py_DECREF (fields);
          goto fail;
        }
      specs[i].name = g_strdup (name);
      specs[i].type = (ReferralParamType) t;
      specs[i].default_value = g_strdup (d);
      specs[i].description = g_strdup (ds != NULL ? ds : "");
      Py_DECREF (fields);
    }
  Py_DECREF (seq);
  *out = specs;
  *n_out = (guint) n;
  return TRUE;

fail:
  Py_DECREF (seq);
  param_specs_free (specs, done);
  return FALSE;
}

static gboolean
same_params (const PyRuleType *t, const ReferralParamSpec *specs, guint n)
{
  if (t->n_params != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (strcmp (t->params[i].name, specs[i].name) != 0 || t->params[i].type != specs[i].type
        || g_strcmp0 (t->params[i].default_value, specs[i].default_value) != 0)
      return FALSE;
  return TRUE;
}

static gboolean
read_hooks (PyObject *cls, guint *hooks)
{
  *hooks = 0;
  for (int h = 0; h < N_HOOKS; h++)
    {
      PyObject *attr = PyObject_GetAttr (cls, hook_strings[h]);
      if (attr == NULL)
        {
          if (!PyErr_ExceptionMatches (PyExc_AttributeError))
            return FALSE;
          PyErr_Clear ();
          continue;
        }
      if (attr != Py_None)
        {
          if (!PyCallable_Check (attr))
            {
              Py_DECREF (attr);
              PyErr_Format (PyExc_TypeError, "%s must be a method", hook_names[h]);
              return FALSE;
            }
          *hooks |= 1u << h;
        }
      Py_DECREF (attr);
    }
  return TRUE;
}

static char *
read_description (PyObject *cls)
{
  PyObject *d = PyObject_GetAttrString (cls, "description");
  if (d == NULL || d == Py_None)
    {
      PyErr_Clear ();
      Py_XDECREF (d);
      d = PyObject_GetAttrString (cls, "__doc__");
      if (d == NULL)
        PyErr_Clear ();
    }
  char *text = NULL;
  if (d != NULL && PyUnicode_Check (d))
    {
      const char *s = PyUnicode_AsUTF8 (d);
      if (s != NULL)
        {
          /* The first line. */
          while (*s == ' ' || *s == '\n')
            s++;
          const char *nl = strchr (s, '\n');
          text = nl != NULL ? g_strndup (s, (gsize) (nl - s)) : g_strdup (s);
          g_strstrip (text);
        }
      PyErr_Clear ();
    }
  Py_XDECREF (d);
  return text != NULL ? text : g_strdup ("");
}

PyObject *
pyref_register_rule (PyObject *module, PyObject *cls)
{
  if (!PyType_Check (cls))
    return PyErr_Format (PyExc_TypeError, "register_rule() takes a class, not %.100s",
                         Py_TYPE (cls)->tp_name);
  PyObject *name_obj = PyObject_GetAttrString (cls, "name");
  if (name_obj == NULL)
    {
      PyErr_Clear ();
      return pyref_raise (REFERRAL_ERROR_SCHEME, "a rule class needs a `name` attribute: the "
                          "rule type name, [a-z0-9_]+");
    }
  const char *name = pyref_utf8 (name_obj, "Rule.name", NULL);
  if (name == NULL)
    {
      Py_DECREF (name_obj);
      return NULL;
    }
  char *name_copy = g_strdup (name);
  Py_DECREF (name_obj);

  ReferralParamSpec *specs = NULL;
  guint n_specs = 0, hooks = 0;
  if (!read_params (cls, &specs, &n_specs) || !read_hooks (cls, &hooks))
    {
      if (specs != NULL)
        param_specs_free (specs, n_specs);
      g_free (name_copy);
      return NULL;
    }

  PyRuleType *existing = g_hash_table_lookup (python_types, name_copy);
  if (existing != NULL)
    {
      gboolean same = existing->hooks == hooks && same_params (existing, specs, n_specs);
      param_specs_free (specs, n_specs);
      if (!same)
        {
          pyref_raisef (REFERRAL_ERROR_SCHEME,
                        "rule type \"%s\" is registered already with other hooks or "
                        "parameters; rule types cannot be unregistered, so choose another "
                        "name (or restart the interpreter)", name_copy);
          g_free (name_copy);
          return NULL;
        }
      g_free (name_copy);
      Py_SETREF (existing->cls, Py_NewRef (cls));
      return Py_NewRef (cls);
    }
  if (n_slots >= MAX_TYPES)
    {
      param_specs_free (specs, n_specs);
      pyref_raisef (REFERRAL_ERROR_SCHEME, "cannot register rule type \"%s\": this process "
                    "has registered the most Python rule types it can (%d)", name_copy,
                    MAX_TYPES);
      g_free (name_copy);
      return NULL;
    }

  PyRuleType *t = g_new0 (PyRuleType, 1);
  t->cls = Py_NewRef (cls);
  t->params = specs;
  t->n_params = n_specs;
  t->hooks = hooks;
  t->slot = n_slots;
  t->type.abi_version = REFERRAL_RULE_ABI_VERSION;
  t->type.name = name_copy;
  t->type.description = read_description (cls);
  t->type.params = specs;
  t->type.init = init_slots[t->slot];
  t->type.free_config = tramp_free_config;
#define SET_HOOK(h, field, fn) \
  if (hooks & (1u << (h)))     \
    t->type.field = fn;
  SET_HOOK (HOOK_JOIN, on_join, tramp_join);
  SET_HOOK (HOOK_ORDER, on_order, tramp_order);
  SET_HOOK (HOOK_REFUND, on_refund, tramp_refund);
  SET_HOOK (HOOK_PERIOD_CLOSE, on_period_close, tramp_period_close);
  SET_HOOK (HOOK_WITHDRAW, on_withdraw, tramp_withdraw);
  SET_HOOK (HOOK_COMMAND, on_command, tramp_command);
  SET_HOOK (HOOK_RANK_CHANGE, on_rank_change, tramp_rank_change);
  SET_HOOK (HOOK_POSTING, on_posting, tramp_posting);
  SET_HOOK (HOOK_REVERSE, on_reverse, tramp_reverse);
  SET_HOOK (HOOK_EVENT_END, on_event_end, tramp_event_end);
#undef SET_HOOK
  slots[t->slot] = t;

  GError *error = NULL;
  if (!referral_rule_type_register (&t->type, &error))
    {
      slots[t->slot] = NULL;
      Py_DECREF (t->cls);
      param_specs_free (specs, n_specs);
      g_free ((char *) t->type.name);
      g_free ((char *) t->type.description);
      g_free (t);
      return pyref_raise_gerror (error);
    }
  n_slots++;
  g_hash_table_insert (python_types, (gpointer) t->type.name, t);
  return Py_NewRef (cls);
}

PyObject *
pyref_python_rule_types (PyObject *module, PyObject *noargs)
{
  PyObject *dict = PyDict_New ();
  for (int i = 0; dict != NULL && i < n_slots; i++)
    if (PyDict_SetItemString (dict, slots[i]->type.name, slots[i]->cls) < 0)
      Py_CLEAR (dict);
  return dict;
}

int
pyref_rule_init_types (PyObject *module)
{
  for (int h = 0; h < N_HOOKS; h++)
    if ((hook_strings[h] = PyUnicode_InternFromString (hook_names[h])) == NULL)
      return -1;
  if ((init_string = PyUnicode_InternFromString ("init")) == NULL)
    return -1;
  PyObject *traceback = PyImport_ImportModule ("traceback");
  if (traceback == NULL)
    return -1;
  format_exception = PyObject_GetAttrString (traceback, "format_exception");
  Py_DECREF (traceback);
  if (format_exception == NULL)
    return -1;
  if (python_types == NULL)
    python_types = g_hash_table_new (g_str_hash, g_str_equal);

  PyTypeObject *types[] = { &PyRefSetup_Type, &PyRefParams_Type, &PyRefCtx_Type,
                            &PyRefReversal_Type };
  const char *names[] = { "Setup", "Params", "Ctx", "Reversal" };
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    if (PyType_Ready (types[i]) < 0
        || PyModule_AddObjectRef (module, names[i], (PyObject *) types[i]) < 0)
      return -1;
  return 0;
}
