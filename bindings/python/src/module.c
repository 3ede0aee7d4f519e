/* referral._referral: the module, the exception hierarchy, money and rates. */
#include "pyreferral.h"

#include <referral/referral-plugin.h>

#include <string.h>

PyObject *pyref_decimal_type;
PyObject *pyref_error;

/* ------------------------------------------------------------ exceptions */

typedef struct {
  ReferralErrorCode code;
  const char *name;      /* class name in the module */
  const char *code_name; /* the ReferralErrorCode without its prefix */
  PyObject **builtin;    /* a built-in exception it also derives from, or NULL */
  const char *doc;
} ErrorClass;

static const ErrorClass error_classes[] = {
  { REFERRAL_ERROR_INVALID_MONEY, "InvalidMoneyError", "INVALID_MONEY", &PyExc_ValueError,
    "A malformed or out-of-range amount (\"6.999\" with 2 decimals, a float, a sign)." },
  { REFERRAL_ERROR_INVALID_RATE, "InvalidRateError", "INVALID_RATE", &PyExc_ValueError,
    "A malformed rate text." },
  { REFERRAL_ERROR_OVERFLOW, "MoneyOverflowError", "OVERFLOW", &PyExc_OverflowError,
    "An amount or a balance would not fit in 64 bits of minor units." },
  { REFERRAL_ERROR_UNKNOWN_MEMBER, "UnknownMemberError", "UNKNOWN_MEMBER", &PyExc_LookupError,
    "An event or a query names a member that does not exist." },
  { REFERRAL_ERROR_DUPLICATE_MEMBER, "DuplicateMemberError", "DUPLICATE_MEMBER", NULL,
    "A join of a member that exists already." },
  { REFERRAL_ERROR_UNKNOWN_ORDER, "UnknownOrderError", "UNKNOWN_ORDER", &PyExc_LookupError,
    "A refund of an order that does not exist." },
  { REFERRAL_ERROR_DUPLICATE_ORDER, "DuplicateOrderError", "DUPLICATE_ORDER", NULL,
    "An order id used twice." },
  { REFERRAL_ERROR_ALREADY_REFUNDED, "AlreadyRefundedError", "ALREADY_REFUNDED", NULL,
    "A second refund of the same order." },
  { REFERRAL_ERROR_INVALID_EVENT, "InvalidEventError", "INVALID_EVENT", &PyExc_ValueError,
    "A missing, empty or misplaced field, or a bad value (amount not positive)." },
  { REFERRAL_ERROR_ID_CONFLICT, "IdConflictError", "ID_CONFLICT", NULL,
    "An event id that was already applied with different content." },
  { REFERRAL_ERROR_INSUFFICIENT_FUNDS, "InsufficientFundsError", "INSUFFICIENT_FUNDS", NULL,
    "A withdrawal of more than the available funds." },
  { REFERRAL_ERROR_INVALID_RANK, "InvalidRankError", "INVALID_RANK", &PyExc_ValueError,
    "An unknown rank, or a promotion that is not upward." },
  { REFERRAL_ERROR_CYCLE, "CycleError", "CYCLE", NULL,
    "A placement move that would create a cycle." },
  { REFERRAL_ERROR_UNKNOWN_COMMAND, "UnknownCommandError", "UNKNOWN_COMMAND", NULL,
    "A command (such as transpose) that no rule of the scheme accepts." },
  { REFERRAL_ERROR_REJECTED, "RejectedError", "REJECTED", NULL,
    "A rule refused the event (a Python rule's exception is reported as this, with its "
    "traceback in the message), or the invariant check failed." },
  { REFERRAL_ERROR_SCHEME, "SchemeError", "SCHEME", NULL,
    "An invalid scheme file or definition, or a rule type that cannot be registered." },
  { REFERRAL_ERROR_UNKNOWN_RULE_TYPE, "UnknownRuleTypeError", "UNKNOWN_RULE_TYPE", NULL,
    "A scheme names a rule type nobody registered." },
  { REFERRAL_ERROR_ABI, "AbiError", "ABI", NULL,
    "A rule type built for an unknown rule ABI version." },
  { REFERRAL_ERROR_PARSE, "ParseError", "PARSE", &PyExc_ValueError,
    "A malformed event: unknown type or field, a value of the wrong JSON type, bad JSON." },
  { REFERRAL_ERROR_IO, "FileError", "IO", &PyExc_OSError,
    "A file could not be read or written." },
};

#define N_ERROR_CLASSES G_N_ELEMENTS (error_classes)
static PyObject *error_objects[N_ERROR_CLASSES];

PyObject *
pyref_error_class (gint code)
{
  for (gsize i = 0; i < N_ERROR_CLASSES; i++)
    if ((gint) error_classes[i].code == code)
      return error_objects[i];
  return pyref_error;
}

PyObject *
pyref_raise (ReferralErrorCode code, const char *message)
{
  PyErr_SetString (pyref_error_class ((gint) code), message);
  return NULL;
}

PyObject *
pyref_raisef (ReferralErrorCode code, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  char *message = g_strdup_vprintf (format, ap);
  va_end (ap);
  pyref_raise (code, message);
  g_free (message);
  return NULL;
}

PyObject *
pyref_raise_gerror (GError *error)
{
  if (error == NULL)
    {
      PyErr_SetString (pyref_error, "the library failed without saying why");
      return NULL;
    }
  PyObject *cls = error->domain == REFERRAL_ERROR ? pyref_error_class (error->code)
                                                   : pyref_error;
  if (cls != pyref_error)
    PyErr_SetString (cls, error->message);
  else
    {
      /* A code this binding has no class for (a newer library): the base
       * class, with the number on the instance. */
      PyObject *exc = PyObject_CallFunction (cls, "s", error->message);
      PyObject *code = exc != NULL ? PyLong_FromLong (error->domain == REFERRAL_ERROR
                                                      ? error->code : -1) : NULL;
      if (code != NULL && PyObject_SetAttrString (exc, "code", code) == 0)
        PyErr_SetObject (cls, exc);
      Py_XDECREF (code);
      Py_XDECREF (exc);
    }
  g_error_free (error);
  return NULL;
}

static int
add_error_classes (PyObject *module)
{
  pyref_error = PyErr_NewExceptionWithDoc (
    "referral.Error",
    "The base class of every error libreferral reports.\n\n"
    "Each subclass stands for one REFERRAL_ERROR code of the C library; its\n"
    "class attributes `code` (the number) and `code_name` (\"UNKNOWN_MEMBER\")\n"
    "say which.  The message is the library's: it names the event, the field\n"
    "and the reason, e.g. 'order \"o9\": member \"X\" does not exist'.  Some\n"
    "subclasses also derive from the matching built-in exception (ValueError,\n"
    "LookupError, OverflowError, OSError).",
    NULL, NULL);
  if (pyref_error == NULL)
    return -1;
  if (PyObject_SetAttrString (pyref_error, "code", Py_None) < 0
      || PyObject_SetAttrString (pyref_error, "code_name", Py_None) < 0
      || PyModule_AddObjectRef (module, "Error", pyref_error) < 0)
    return -1;
  for (gsize i = 0; i < N_ERROR_CLASSES; i++)
    {
      const ErrorClass *c = &error_classes[i];
      PyObject *bases = c->builtin != NULL ? PyTuple_Pack (2, pyref_error, *c->builtin)
                                           : PyTuple_Pack (1, pyref_error);
      if (bases == NULL)
        return -1;
      char *qualified = g_strconcat ("referral.", c->name, NULL);
      char *doc = g_strdup_printf ("%s\n\nREFERRAL_ERROR_%s (code %d).", c->doc, c->code_name,
                                   (int) c->code);
      PyObject *dict = Py_BuildValue ("{s:i,s:s}", "code", (int) c->code,
                                      "code_name", c->code_name);
      error_objects[i] = dict ? PyErr_NewExceptionWithDoc (qualified, doc, bases, dict) : NULL;
      g_free (qualified);
      g_free (doc);
      Py_DECREF (bases);
      Py_XDECREF (dict);
      if (error_objects[i] == NULL
          || PyModule_AddObjectRef (module, c->name, error_objects[i]) < 0)
        return -1;
    }
  return 0;
}

/* Exceptions a hook must not swallow, re-raised after the C call. */
static PyObject *stashed_fatal;

void
pyref_stash_fatal (PyObject *exc)
{
  if (stashed_fatal == NULL)
    stashed_fatal = Py_NewRef (exc);
}

gboolean
pyref_reraise_fatal (void)
{
  if (stashed_fatal == NULL)
    return FALSE;
  PyObject *exc = stashed_fatal;
  stashed_fatal = NULL;
  PyErr_SetObject ((PyObject *) Py_TYPE (exc), exc);
  Py_DECREF (exc);
  return TRUE;
}

/* ------------------------------------------------------------ money */

const char *
pyref_utf8 (PyObject *obj, const char *what, Py_ssize_t *len)
{
  if (!PyUnicode_Check (obj))
    {
      PyErr_Format (PyExc_TypeError, "%s must be a str, not %.100s", what,
                    Py_TYPE (obj)->tp_name);
      return NULL;
    }
  Py_ssize_t n;
  const char *s = PyUnicode_AsUTF8AndSize (obj, &n);
  if (s == NULL)
    return NULL;
  if ((size_t) n != strlen (s))
    {
      PyErr_Format (PyExc_ValueError, "%s contains a NUL character", what);
      return NULL;
    }
  if (len != NULL)
    *len = n;
  return s;
}

PyObject *
pyref_decimal_from_minor (gint64 minor, guint decimals)
{
  char buf[REFERRAL_MONEY_BUF_SIZE];
  referral_money_format_buf (minor, decimals, buf);
  return PyObject_CallFunction (pyref_decimal_type, "s", buf);
}

PyObject *
pyref_money_text (PyObject *obj, const char *what)
{
  if (PyUnicode_Check (obj))
    return Py_NewRef (obj);
  if (PyBool_Check (obj) || PyFloat_Check (obj))
    {
      PyErr_Format (PyExc_TypeError,
                    "%s must be a decimal str, an int or a Decimal, not %.100s"
                    "%s", what, Py_TYPE (obj)->tp_name,
                    PyFloat_Check (obj) ? " (binary floating point is never money; "
                                          "write \"0.05\")" : "");
      return NULL;
    }
  if (PyLong_Check (obj))
    return PyObject_Str (obj);
  int is_decimal = PyObject_IsInstance (obj, pyref_decimal_type);
  if (is_decimal < 0)
    return NULL;
  if (is_decimal)
    {
      /* Fixed-point text: Decimal("1E+2") is "100", never an exponent. */
      PyObject *spec = PyUnicode_FromString ("f");
      PyObject *text = spec != NULL ? PyObject_Format (obj, spec) : NULL;
      Py_XDECREF (spec);
      return text;
    }
  PyErr_Format (PyExc_TypeError, "%s must be a decimal str, an int or a Decimal, not %.100s",
                what, Py_TYPE (obj)->tp_name);
  return NULL;
}

gboolean
pyref_money_from_object (PyObject *obj, guint decimals, gboolean allow_negative,
                         gint64 *out, const char *what)
{
  PyObject *text = pyref_money_text (obj, what);
  if (text == NULL)
    return FALSE;
  const char *s = pyref_utf8 (text, what, NULL);
  GError *error = NULL;
  gboolean ok = s != NULL && referral_money_parse (s, decimals, allow_negative, out, &error);
  Py_DECREF (text);
  if (!ok && error != NULL)
    pyref_raise_gerror (error);
  return ok;
}

/* ------------------------------------------------------------ Rate */

typedef struct {
  PyObject_HEAD
  ReferralRate rate;
} PyRefRate;

PyObject *
pyref_rate_new (ReferralRate rate)
{
  PyRefRate *self = PyObject_New (PyRefRate, &PyRefRate_Type);
  if (self != NULL)
    self->rate = rate;
  return (PyObject *) self;
}

static PyObject *
rate_new (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "text", NULL };
  const char *text;
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "s:Rate", kwlist, &text))
    return NULL;
  ReferralRate rate;
  GError *error = NULL;
  if (!referral_rate_parse (text, &rate, &error))
    return pyref_raise_gerror (error);
  PyRefRate *self = (PyRefRate *) type->tp_alloc (type, 0);
  if (self != NULL)
    self->rate = rate;
  return (PyObject *) self;
}

static PyObject *
rate_apply (PyRefRate *self, PyObject *arg)
{
  long long amount = PyLong_AsLongLong (arg);
  if (amount == -1 && PyErr_Occurred ())
    return NULL;
  gint64 out;
  GError *error = NULL;
  if (!referral_rate_apply (self->rate, amount, &out, &error))
    return pyref_raise_gerror (error);
  return PyLong_FromLongLong (out);
}

static PyObject *
rate_str (PyRefRate *self)
{
  char *text = referral_rate_format (self->rate);
  PyObject *s = PyUnicode_FromString (text);
  g_free (text);
  return s;
}

static PyObject *
rate_repr (PyRefRate *self)
{
  char *text = referral_rate_format (self->rate);
  PyObject *s = PyUnicode_FromFormat ("referral.Rate('%s')", text);
  g_free (text);
  return s;
}

/* The rate as a reduced fraction, so that "5%" and "0.050" compare and
 * hash equal. */
static ReferralRate
rate_reduced (ReferralRate r)
{
  gint64 a = r.num < 0 ? -r.num : r.num, b = r.den;
  while (b != 0)
    {
      gint64 t = a % b;
      a = b;
      b = t;
    }
  if (a > 1)
    {
      r.num /= a;
      r.den /= a;
    }
  return r;
}

static PyObject *
rate_richcompare (PyObject *a, PyObject *b, int op)
{
  if (!PyObject_TypeCheck (b, &PyRefRate_Type) || (op != Py_EQ && op != Py_NE))
    Py_RETURN_NOTIMPLEMENTED;
  ReferralRate x = rate_reduced (((PyRefRate *) a)->rate);
  ReferralRate y = rate_reduced (((PyRefRate *) b)->rate);
  gboolean eq = x.num == y.num && x.den == y.den;
  return PyBool_FromLong (op == Py_EQ ? eq : !eq);
}

static Py_hash_t
rate_hash (PyRefRate *self)
{
  ReferralRate r = rate_reduced (self->rate);
  Py_hash_t h = (Py_hash_t) ((guint64) r.num * 1000003u) ^ (Py_hash_t) r.den;
  return h == -1 ? -2 : h;
}

static PyObject *
rate_get_num (PyRefRate *self, void *closure)
{
  return PyLong_FromLongLong (self->rate.num);
}

static PyObject *
rate_get_den (PyRefRate *self, void *closure)
{
  return PyLong_FromLongLong (self->rate.den);
}

static PyMethodDef rate_methods[] = {
  { "apply", (PyCFunction) rate_apply, METH_O,
    "apply(amount: int) -> int\n--\n\n"
    "floor(amount * rate) toward zero, exactly, in minor units.\n"
    "Raises MoneyOverflowError when the result does not fit in 64 bits." },
  { NULL, NULL, 0, NULL }
};

static PyGetSetDef rate_getset[] = {
  { "num", (getter) rate_get_num, NULL, "The numerator.", NULL },
  { "den", (getter) rate_get_den, NULL, "The denominator (a power of ten).", NULL },
  { NULL, NULL, NULL, NULL, NULL }
};

PyTypeObject PyRefRate_Type = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "referral.Rate",
  .tp_basicsize = sizeof (PyRefRate),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "Rate(text)\n--\n\n"
            "An exact rate, num / den with den a power of ten, parsed from a\n"
            "percentage (\"5%\", \"12.5%\") or a fraction (\"0.05\").  str() gives the\n"
            "percentage.  Rates never use floating point.",
  .tp_new = rate_new,
  .tp_repr = (reprfunc) rate_repr,
  .tp_str = (reprfunc) rate_str,
  .tp_hash = (hashfunc) rate_hash,
  .tp_richcompare = rate_richcompare,
  .tp_methods = rate_methods,
  .tp_getset = rate_getset,
};

/* ------------------------------------------------------------ struct sequences */

PyTypeObject *pyref_apply_result_type;
PyTypeObject *pyref_posting_type;
PyTypeObject *pyref_raw_posting_type;
PyTypeObject *pyref_order_type;
PyTypeObject *pyref_raw_order_type;
PyTypeObject *pyref_run_summary_type;

static PyStructSequence_Field apply_result_fields[] = {
  { "duplicate", "True when an event with this id and content was applied before "
                 "(nothing was done)" },
  { "seq", "the event's sequence number (of its first application, for a duplicate)" },
  { "first_posting", "index of the first posting the event made" },
  { "n_postings", "how many postings it made (0 for a duplicate)" },
  { NULL, NULL }
};
static PyStructSequence_Desc apply_result_desc = {
  "referral.ApplyResult",
  "What Engine.apply() did: applied, or recognised as a duplicate.",
  apply_result_fields, 4
};

static PyStructSequence_Field posting_fields[] = {
  { "index", "the posting's index in the ledger (0-based)" },
  { "event", "sequence number of the event that made it" },
  { "event_id", "id of that event" },
  { "kind", "posting kind name (\"sale\", \"direct\", ...)" },
  { "rule", "instance name of the rule that made it, or \"engine\"" },
  { "from_account", "account name: outside, platform, pool:NAME, KEY:available, KEY:held" },
  { "to_account", "account name" },
  { "amount", "the amount as a decimal.Decimal" },
  { "amount_minor", "the amount in minor units" },
  { "cause", "index of the posting that caused it, or None" },
  { "reversal", "True for the reversal of a refunded order's posting" },
  { NULL, NULL }
};
static PyStructSequence_Desc posting_desc = {
  "referral.Posting",
  "One money movement of an engine's ledger, with names (as the --ledger CSV).",
  posting_fields, 11
};

static PyStructSequence_Field raw_posting_fields[] = {
  { "amount", "minor units, > 0" },
  { "from_account", "account number" },
  { "to_account", "account number" },
  { "event", "sequence number of the event that made it" },
  { "cause", "index of the causing posting, or None" },
  { "kind", "kind number (Ctx.kind_name() names it)" },
  { "rule", "0: the engine; n: the scheme's rule n-1" },
  { "reversal", "True for a refund's reversal" },
  { NULL, NULL }
};
static PyStructSequence_Desc raw_posting_desc = {
  "referral.RawPosting",
  "A posting as rules see it: numbers, money in minor units.",
  raw_posting_fields, 8
};

static PyStructSequence_Field order_fields[] = {
  { "key", "the order id" },
  { "buyer", "the buyer's member key" },
  { "amount", "decimal.Decimal" },
  { "amount_minor", "minor units" },
  { "sku", "the sku, or None" },
  { "event", "sequence number of the order event" },
  { "period", "number of period closes before the order" },
  { "refunded", "whether it was refunded" },
  { NULL, NULL }
};
static PyStructSequence_Desc order_desc = {
  "referral.Order", "An order as the engine recorded it.", order_fields, 8
};

static PyStructSequence_Field raw_order_fields[] = {
  { "key", "the order id" },
  { "buyer", "the buyer's member number" },
  { "amount", "minor units" },
  { "sku", "the sku, or None" },
  { "event", "sequence number of the order event" },
  { "period", "number of period closes before the order" },
  { "refunded", "whether it was refunded" },
  { NULL, NULL }
};
static PyStructSequence_Desc raw_order_desc = {
  "referral.RawOrder", "An order as rules see it: numbers, money in minor units.",
  raw_order_fields, 7
};

static PyStructSequence_Field run_summary_fields[] = {
  { "lines", "lines read (apply_jsonl) or rows read (apply_columns)" },
  { "applied", "events applied" },
  { "duplicates", "events skipped as duplicates" },
  { "errors", "bad lines and rejected events" },
  { "messages", "one \"FILE:LINE: message\" (or \"row N: message\") per error" },
  { "ok", "True when every event applied or was a duplicate" },
  { NULL, NULL }
};
static PyStructSequence_Desc run_summary_desc = {
  "referral.RunSummary", "What Engine.apply_jsonl() or Engine.apply_columns() did.",
  run_summary_fields, 6
};

static int
add_struct_sequence (PyObject *module, PyTypeObject **out, PyStructSequence_Desc *desc,
                     const char *name)
{
  *out = PyStructSequence_NewType (desc);
  if (*out == NULL)
    return -1;
  return PyModule_AddObjectRef (module, name, (PyObject *) *out);
}

/* ------------------------------------------------------------ functions */

static PyObject *
mod_parse_money (PyObject *module, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "amount", "decimals", "allow_negative", NULL };
  PyObject *obj;
  unsigned int decimals = 2;
  int allow_negative = 0;
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "O|Ip:parse_money", kwlist, &obj, &decimals,
                                    &allow_negative))
    return NULL;
  if (decimals > REFERRAL_MAX_DECIMALS)
    return PyErr_Format (PyExc_ValueError, "decimals must be 0 to %d", REFERRAL_MAX_DECIMALS);
  gint64 minor;
  if (!pyref_money_from_object (obj, decimals, allow_negative, &minor, "amount"))
    return NULL;
  return PyLong_FromLongLong (minor);
}

static PyObject *
mod_format_money (PyObject *module, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "minor", "decimals", NULL };
  long long minor;
  unsigned int decimals = 2;
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "L|I:format_money", kwlist, &minor, &decimals))
    return NULL;
  if (decimals > REFERRAL_MAX_DECIMALS)
    return PyErr_Format (PyExc_ValueError, "decimals must be 0 to %d", REFERRAL_MAX_DECIMALS);
  char buf[REFERRAL_MONEY_BUF_SIZE];
  return PyUnicode_FromString (referral_money_format_buf (minor, decimals, buf));
}

static PyObject *
mod_version (PyObject *module, PyObject *noargs)
{
  return PyUnicode_FromString (referral_version ());
}

static PyObject *
strv_to_list (const char *const *strv)
{
  PyObject *list = PyList_New (0);
  for (gsize i = 0; list != NULL && strv != NULL && strv[i] != NULL; i++)
    {
      PyObject *s = PyUnicode_FromString (strv[i]);
      if (s == NULL || PyList_Append (list, s) < 0)
        {
          Py_XDECREF (s);
          Py_CLEAR (list);
          break;
        }
      Py_DECREF (s);
    }
  return list;
}

static PyObject *
mod_builtin_schemes (PyObject *module, PyObject *noargs)
{
  return strv_to_list (referral_scheme_builtin_names ());
}

static PyObject *
mod_builtin_scheme_text (PyObject *module, PyObject *arg)
{
  const char *name = pyref_utf8 (arg, "name", NULL);
  if (name == NULL)
    return NULL;
  const char *text = referral_scheme_builtin_text (name);
  if (text == NULL)
    return pyref_raisef (REFERRAL_ERROR_SCHEME, "there is no built-in scheme \"%s\"", name);
  return PyUnicode_FromString (text);
}

static PyObject *
mod_rule_types (PyObject *module, PyObject *noargs)
{
  const char **names = referral_rule_type_names ();
  PyObject *list = strv_to_list (names);
  g_free (names);
  return list;
}

static PyObject *
mod_rule_type_info (PyObject *module, PyObject *arg)
{
  static const char *const type_names[] = {
    NULL, "money", "rate", "int", "string", "rank", "bool", "list",
  };
  const char *name = pyref_utf8 (arg, "name", NULL);
  if (name == NULL)
    return NULL;
  const ReferralRuleType *type = referral_rule_type_lookup (name);
  if (type == NULL)
    return pyref_raisef (REFERRAL_ERROR_UNKNOWN_RULE_TYPE, "no rule type is called \"%s\"",
                         name);
  PyObject *params = PyList_New (0);
  if (params == NULL)
    return NULL;
  for (const ReferralParamSpec *s = type->params; s != NULL && s->name != NULL; s++)
    {
      const char *tn = s->type >= REFERRAL_PARAM_MONEY && s->type <= REFERRAL_PARAM_LIST
                         ? type_names[s->type] : "?";
      PyObject *item = Py_BuildValue ("{s:s,s:s,s:z,s:z}", "name", s->name, "type", tn,
                                      "default", s->default_value, "description",
                                      s->description);
      if (item == NULL || PyList_Append (params, item) < 0)
        {
          Py_XDECREF (item);
          Py_DECREF (params);
          return NULL;
        }
      Py_DECREF (item);
    }
  return Py_BuildValue ("{s:s,s:z,s:N}", "name", type->name, "description",
                        type->description, "params", params);
}

/* load_plugin(name_or_path): referral_plugin_load() from Python. */
static PyObject *
mod_load_plugin (PyObject *module, PyObject *arg)
{
  PyObject *bytes = NULL;
  if (!PyUnicode_FSConverter (arg, &bytes))
    return NULL;
  GError *error = NULL;
  gboolean ok = referral_plugin_load (PyBytes_AS_STRING (bytes), &error);
  Py_DECREF (bytes);
  if (!ok)
    return pyref_raise_gerror (error);
  Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
  { "parse_money", (PyCFunction) (void (*) (void)) mod_parse_money,
    METH_VARARGS | METH_KEYWORDS,
    "parse_money(amount, decimals=2, allow_negative=False) -> int\n--\n\n"
    "Parse an amount in major units (\"699.00\", 699, Decimal(\"699\")) into minor\n"
    "units with the library's parser.  Raises InvalidMoneyError (TypeError for\n"
    "a float) or MoneyOverflowError." },
  { "format_money", (PyCFunction) (void (*) (void)) mod_format_money,
    METH_VARARGS | METH_KEYWORDS,
    "format_money(minor, decimals=2) -> str\n--\n\n"
    "Format minor units as decimal text with exactly `decimals` decimals." },
  { "version", mod_version, METH_NOARGS,
    "version() -> str\n--\n\nThe version of the libreferral library in use." },
  { "builtin_schemes", mod_builtin_schemes, METH_NOARGS,
    "builtin_schemes() -> list[str]\n--\n\nNames of the built-in schemes." },
  { "builtin_scheme_text", mod_builtin_scheme_text, METH_O,
    "builtin_scheme_text(name) -> str\n--\n\n"
    "The scheme file text that defines built-in scheme `name`." },
  { "rule_types", mod_rule_types, METH_NOARGS,
    "rule_types() -> list[str]\n--\n\n"
    "Sorted names of every registered rule type (built-in, C plugins, Python)." },
  { "rule_type_info", mod_rule_type_info, METH_O,
    "rule_type_info(name) -> dict\n--\n\n"
    "The description and parameters of a registered rule type:\n"
    "{'name', 'description', 'params': [{'name', 'type', 'default', 'description'}]}." },
  { "load_plugin", mod_load_plugin, METH_O,
    "load_plugin(name_or_path) -> None\n--\n\n"
    "Load a rule plugin (a shared object; see docs/plugins.md) and register its\n"
    "rule types, as a scheme file's `plugins =` key does.  A name without '/' is\n"
    "looked up in REFERRAL_PLUGIN_PATH as NAME, NAME.so and libNAME.so; a path\n"
    "is used as it is.  Loading the same file again does nothing; plugins are\n"
    "never unloaded.  Plugins run native code with full trust.  Raises FileError\n"
    "when it is not found or cannot be loaded, AbiError for a plugin built for a\n"
    "newer rule ABI, SchemeError (or the plugin's own error) when it fails to\n"
    "register.  `load_plugin(\"referral-lua-rules\")` adds rule type \"lua\"." },
  { "register_rule", pyref_register_rule, METH_O,
    "register_rule(cls) -> cls\n--\n\n"
    "Register the Python rule class `cls` (see referral.Rule) as a rule type\n"
    "named cls.name, usable in schemes beside the built-in rules.  Usable as a\n"
    "class decorator.  Rule types stay registered for the life of the process\n"
    "(the library cannot unregister them); registering a class again under the\n"
    "same name replaces it for schemes built afterwards, provided it declares\n"
    "the same hooks and parameters.  Raises SchemeError otherwise." },
  { "sim_settings", pyref_sim_config_keys, METH_NOARGS,
    "sim_settings() -> list[dict]\n--\n\n"
    "Every simulation setting, in documentation order: {'name', 'default',\n"
    "'syntax', 'description'} (the options of `referral simulate`, with '_')." },
  { "_set_engine_view_class", pyref_engine_set_view_class, METH_O,
    "_set_engine_view_class(cls) -> None\n--\n\n"
    "The Engine subclass read-only engine views are made of (set by the package)." },
  { "python_rule_types", pyref_python_rule_types, METH_NOARGS,
    "python_rule_types() -> dict[str, type]\n--\n\n"
    "The Python rule classes registered so far, by rule type name." },
  { NULL, NULL, 0, NULL }
};

static struct PyModuleDef module_def = {
  PyModuleDef_HEAD_INIT,
  .m_name = "referral._referral",
  .m_doc = "The C core of the referral package; import `referral` instead.",
  .m_size = -1,
  .m_methods = module_methods,
};

static int
add_type (PyObject *module, PyTypeObject *type, const char *name)
{
  if (PyType_Ready (type) < 0)
    return -1;
  return PyModule_AddObjectRef (module, name, (PyObject *) type);
}

PyMODINIT_FUNC PyInit__referral (void);

PyMODINIT_FUNC
PyInit__referral (void)
{
  PyObject *module = PyModule_Create (&module_def);
  if (module == NULL)
    return NULL;
  PyObject *decimal = PyImport_ImportModule ("decimal");
  if (decimal == NULL)
    goto fail;
  pyref_decimal_type = PyObject_GetAttrString (decimal, "Decimal");
  Py_DECREF (decimal);
  if (pyref_decimal_type == NULL)
    goto fail;

  if (add_error_classes (module) < 0
      || add_struct_sequence (module, &pyref_apply_result_type, &apply_result_desc,
                              "ApplyResult") < 0
      || add_struct_sequence (module, &pyref_posting_type, &posting_desc, "Posting") < 0
      || add_struct_sequence (module, &pyref_raw_posting_type, &raw_posting_desc,
                              "RawPosting") < 0
      || add_struct_sequence (module, &pyref_order_type, &order_desc, "Order") < 0
      || add_struct_sequence (module, &pyref_raw_order_type, &raw_order_desc, "RawOrder") < 0
      || add_struct_sequence (module, &pyref_run_summary_type, &run_summary_desc,
                              "RunSummary") < 0
      || add_type (module, &PyRefRate_Type, "Rate") < 0
      || add_type (module, &PyRefScheme_Type, "Scheme") < 0
      || add_type (module, &PyRefEngine_Type, "Engine") < 0
      || add_type (module, &PyRefSim_Type, "Simulation") < 0
      || pyref_rule_init_types (module) < 0)
    goto fail;

  static const struct { const char *name; long value; } constants[] = {
    { "ACCOUNT_OUTSIDE", REFERRAL_ACCOUNT_OUTSIDE },
    { "ACCOUNT_PLATFORM", REFERRAL_ACCOUNT_PLATFORM },
    { "MAX_DECIMALS", REFERRAL_MAX_DECIMALS },
    { "MAX_RANKS", REFERRAL_MAX_RANKS },
    { "RULE_ABI_VERSION", REFERRAL_RULE_ABI_VERSION },
    { "KIND_SALE", REFERRAL_KIND_SALE },
    { "KIND_WITHDRAW", REFERRAL_KIND_WITHDRAW },
    { "KIND_HOLD", REFERRAL_KIND_HOLD },
    { "KIND_RELEASE", REFERRAL_KIND_RELEASE },
    { "TYPE_JOIN", PYREF_TYPE_JOIN },
    { "TYPE_ORDER", PYREF_TYPE_ORDER },
    { "TYPE_REFUND", PYREF_TYPE_REFUND },
    { "TYPE_PERIOD_CLOSE", PYREF_TYPE_PERIOD_CLOSE },
    { "TYPE_WITHDRAW", PYREF_TYPE_WITHDRAW },
    { "TYPE_PROMOTE", PYREF_TYPE_PROMOTE },
    { "TYPE_TRANSPOSE", PYREF_TYPE_TRANSPOSE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (constants); i++)
    if (PyModule_AddIntConstant (module, constants[i].name, constants[i].value) < 0)
      goto fail;
  if (PyModule_AddStringConstant (module, "__version__", REFERRAL_VERSION_STRING) < 0)
    goto fail;
  return module;

fail:
  Py_DECREF (module);
  return NULL;
}
