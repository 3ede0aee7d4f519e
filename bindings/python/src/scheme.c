/* referral.Scheme: built-in, from a file or text, built from dicts, or a
 * variant of another scheme with some parameters changed. */
#include "pyreferral.h"

#include <string.h>

PyObject *
pyref_scheme_wrap (ReferralScheme *scheme)
{
  PyRefScheme *self = PyObject_New (PyRefScheme, &PyRefScheme_Type);
  if (self == NULL)
    return NULL;
  self->scheme = referral_scheme_ref (scheme);
  return (PyObject *) self;
}

/* The text of a name or path argument (str or os.PathLike). */
static PyObject *
name_or_path_text (PyObject *obj)
{
  if (PyUnicode_Check (obj))
    return Py_NewRef (obj);
  PyObject *fs = PyOS_FSPath (obj);
  if (fs == NULL)
    return NULL;
  if (PyBytes_Check (fs))
    {
      PyObject *s = PyUnicode_DecodeFSDefault (PyBytes_AS_STRING (fs));
      Py_DECREF (fs);
      return s;
    }
  return fs;
}

ReferralScheme *
pyref_scheme_from_object (PyObject *obj)
{
  if (PyObject_TypeCheck (obj, &PyRefScheme_Type))
    return referral_scheme_ref (((PyRefScheme *) obj)->scheme);
  PyObject *text = name_or_path_text (obj);
  if (text == NULL)
    {
      if (PyErr_ExceptionMatches (PyExc_TypeError))
        {
          PyErr_Clear ();
          PyErr_Format (PyExc_TypeError,
                        "scheme must be a referral.Scheme, a built-in scheme name or a "
                        "path, not %.100s", Py_TYPE (obj)->tp_name);
        }
      return NULL;
    }
  const char *s = pyref_utf8 (text, "scheme", NULL);
  ReferralScheme *scheme = NULL;
  if (s != NULL)
    {
      GError *error = NULL;
      scheme = referral_scheme_open (s, &error);
      if (scheme == NULL)
        pyref_raise_gerror (error);
    }
  Py_DECREF (text);
  return scheme;
}

PyObject *
pyref_setting_text (PyObject *value, const char *where)
{
  if (PyUnicode_Check (value))
    return Py_NewRef (value);
  if (PyBool_Check (value))
    return PyUnicode_FromString (value == Py_True ? "true" : "false");
  if (PyLong_Check (value))
    return PyObject_Str (value);
  if (PyObject_TypeCheck (value, &PyRefRate_Type))
    return PyObject_Str (value);
  if (PyList_Check (value) || PyTuple_Check (value))
    {
      PyObject *parts = PyList_New (0);
      if (parts == NULL)
        return NULL;
      Py_ssize_t n = PySequence_Fast_GET_SIZE (value);
      for (Py_ssize_t i = 0; i < n; i++)
        {
          PyObject *item = PySequence_Fast_GET_ITEM (value, i);
          if (PyList_Check (item) || PyTuple_Check (item))
            {
              Py_DECREF (parts);
              return pyref_raisef (REFERRAL_ERROR_SCHEME, "%s: lists cannot nest", where);
            }
          PyObject *t = pyref_setting_text (item, where);
          if (t == NULL || PyList_Append (parts, t) < 0)
            {
              Py_XDECREF (t);
              Py_DECREF (parts);
              return NULL;
            }
          Py_DECREF (t);
        }
      PyObject *sep = PyUnicode_FromString (", ");
      PyObject *joined = sep != NULL ? PyUnicode_Join (sep, parts) : NULL;
      Py_XDECREF (sep);
      Py_DECREF (parts);
      return joined;
    }
  int is_decimal = PyObject_IsInstance (value, pyref_decimal_type);
  if (is_decimal < 0)
    return NULL;
  if (is_decimal)
    return pyref_money_text (value, where);
  if (PyFloat_Check (value))
    return pyref_raisef (REFERRAL_ERROR_SCHEME,
                         "%s is a float; write money and rates as exact text (\"100.00\", "
                         "\"5%%\") or Decimal", where);
  return pyref_raisef (REFERRAL_ERROR_SCHEME,
                       "%s must be a str, int, bool, Decimal, Rate or a list of those, not %s",
                       where, Py_TYPE (value)->tp_name);
}

/* The text of parameter @key of rule @rule. */
static PyObject *
param_text (PyObject *value, const char *rule, const char *key)
{
  char *where = g_strdup_printf ("rule \"%s\": parameter \"%s\"", rule, key);
  PyObject *text = pyref_setting_text (value, where);
  g_free (where);
  return text;
}

/* ------------------------------------------------------------ constructors */

static PyObject *
scheme_new (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "name_or_path", NULL };
  PyObject *obj;
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "O:Scheme", kwlist, &obj))
    return NULL;
  ReferralScheme *scheme = pyref_scheme_from_object (obj);
  if (scheme == NULL)
    return NULL;
  PyRefScheme *self = (PyRefScheme *) type->tp_alloc (type, 0);
  if (self == NULL)
    {
      referral_scheme_unref (scheme);
      return NULL;
    }
  self->scheme = scheme;
  return (PyObject *) self;
}

static void
scheme_dealloc (PyRefScheme *self)
{
  /* Unref may free Python rule configurations: the GIL is held here. */
  referral_scheme_unref (self->scheme);
  Py_TYPE (self)->tp_free ((PyObject *) self);
}

static PyObject *
scheme_from_text (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "text", "source", NULL };
  const char *text, *source = "<string>";
  Py_ssize_t len;
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "s#|s:from_text", kwlist, &text, &len,
                                    &source))
    return NULL;
  GError *error = NULL;
  ReferralScheme *scheme = referral_scheme_load_data (text, len, source, &error);
  if (scheme == NULL)
    return pyref_raise_gerror (error);
  PyObject *self = pyref_scheme_wrap (scheme);
  referral_scheme_unref (scheme);
  return self;
}

/* Adds the rule described by dict @rule to @builder. */
static gboolean
build_add_rule (ReferralSchemeBuilder *builder, PyObject *rule, Py_ssize_t index)
{
  if (!PyDict_Check (rule))
    {
      PyErr_Format (PyExc_TypeError, "rules[%zd] must be a dict with keys name, type and "
                    "(optional) params, not %.100s", index, Py_TYPE (rule)->tp_name);
      return FALSE;
    }
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  while (PyDict_Next (rule, &pos, &key, &value))
    {
      const char *k = PyUnicode_Check (key) ? PyUnicode_AsUTF8 (key) : NULL;
      if (k == NULL || (strcmp (k, "name") != 0 && strcmp (k, "type") != 0
                        && strcmp (k, "params") != 0))
        {
          PyErr_Clear ();
          PyObject *r = PyObject_Repr (key);
          pyref_raisef (REFERRAL_ERROR_SCHEME, "rules[%zd]: unknown key %s (use name, type "
                        "and params)", index, r != NULL ? PyUnicode_AsUTF8 (r) : "?");
          Py_XDECREF (r);
          return FALSE;
        }
    }
  PyObject *name_obj = PyDict_GetItemString (rule, "name");
  PyObject *type_obj = PyDict_GetItemString (rule, "type");
  PyObject *params = PyDict_GetItemString (rule, "params");
  if (name_obj == NULL || type_obj == NULL)
    {
      pyref_raisef (REFERRAL_ERROR_SCHEME, "rules[%zd]: missing \"%s\"", index,
                    name_obj == NULL ? "name" : "type");
      return FALSE;
    }
  const char *name = pyref_utf8 (name_obj, "rule name", NULL);
  const char *type = name != NULL ? pyref_utf8 (type_obj, "rule type", NULL) : NULL;
  if (type == NULL)
    return FALSE;
  if (params != NULL && params != Py_None && !PyDict_Check (params))
    {
      PyErr_Format (PyExc_TypeError, "rule \"%s\": params must be a dict, not %.100s", name,
                    Py_TYPE (params)->tp_name);
      return FALSE;
    }

  /* key, value, ..., NULL; the texts stay alive in @texts. */
  Py_ssize_t n = params != NULL && params != Py_None ? PyDict_Size (params) : 0;
  PyObject *texts = PyList_New (0);
  const char **kv = g_new0 (const char *, 2 * n + 1);
  gboolean ok = texts != NULL;
  pos = 0;
  for (Py_ssize_t i = 0; ok && i < n && PyDict_Next (params, &pos, &key, &value); i++)
    {
      const char *k = pyref_utf8 (key, "parameter name", NULL);
      PyObject *t = k != NULL ? param_text (value, name, k) : NULL;
      ok = t != NULL && PyList_Append (texts, t) == 0;
      Py_XDECREF (t);
      if (ok)
        {
          kv[2 * i] = k;
          kv[2 * i + 1] = pyref_utf8 (t, "parameter value", NULL);
          ok = kv[2 * i + 1] != NULL;
        }
    }
  if (ok)
    {
      GError *error = NULL;
      ok = referral_scheme_builder_add_rule (builder, type, name, kv, &error);
      if (!ok)
        pyref_raise_gerror (error);
    }
  g_free (kv);
  Py_XDECREF (texts);
  return ok;
}

static PyObject *
scheme_build (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "name", "rules", "ranks", "decimals", NULL };
  const char *name;
  PyObject *rules, *ranks = NULL;
  unsigned int decimals = 2;
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "sO|$OI:build", kwlist, &name, &rules,
                                    &ranks, &decimals))
    return NULL;
  PyObject *rules_seq = PySequence_Fast (rules, "rules must be a list of dicts");
  if (rules_seq == NULL)
    return NULL;
  PyObject *ranks_seq = NULL;
  if (ranks != NULL && ranks != Py_None)
    {
      if (PyUnicode_Check (ranks))
        {
          Py_DECREF (rules_seq);
          PyErr_SetString (PyExc_TypeError, "ranks must be a list of names, lowest first");
          return NULL;
        }
      ranks_seq = PySequence_Fast (ranks, "ranks must be a list of names, lowest first");
      if (ranks_seq == NULL)
        {
          Py_DECREF (rules_seq);
          return NULL;
        }
    }

  ReferralSchemeBuilder *builder = referral_scheme_builder_new (name);
  GError *error = NULL;
  gboolean ok = TRUE;
  if (!referral_scheme_builder_set_decimals (builder, decimals, &error))
    ok = (pyref_raise_gerror (error), FALSE);
  if (ok && ranks_seq != NULL)
    {
      Py_ssize_t n = PySequence_Fast_GET_SIZE (ranks_seq);
      const char **names = g_new0 (const char *, n + 1);
      for (Py_ssize_t i = 0; ok && i < n; i++)
        ok = (names[i] = pyref_utf8 (PySequence_Fast_GET_ITEM (ranks_seq, i), "rank name",
                                     NULL)) != NULL;
      if (ok && !referral_scheme_builder_set_ranks (builder, names, &error))
        ok = (pyref_raise_gerror (error), FALSE);
      g_free (names);
    }
  for (Py_ssize_t i = 0; ok && i < PySequence_Fast_GET_SIZE (rules_seq); i++)
    ok = build_add_rule (builder, PySequence_Fast_GET_ITEM (rules_seq, i), i);
  Py_DECREF (rules_seq);
  Py_XDECREF (ranks_seq);
  if (!ok)
    {
      referral_scheme_builder_free (builder);
      return NULL;
    }
  ReferralScheme *scheme = referral_scheme_builder_finish (builder, &error);
  if (scheme == NULL)
    return pyref_raise_gerror (error);
  PyObject *self = pyref_scheme_wrap (scheme);
  referral_scheme_unref (scheme);
  return self;
}

/* The scheme file text of a built-in name or a path. */
static char *
base_text (PyObject *base, char **source)
{
  PyObject *text = name_or_path_text (base);
  if (text == NULL)
    return NULL;
  const char *s = pyref_utf8 (text, "base", NULL);
  char *data = NULL;
  if (s != NULL)
    {
      const char *builtin = referral_scheme_builtin_text (s);
      GError *error = NULL;
      if (builtin != NULL)
        data = g_strdup (builtin);
      else if (!g_file_get_contents (s, &data, NULL, &error))
        {
          pyref_raisef (REFERRAL_ERROR_IO, "%s", error->message);
          g_error_free (error);
        }
      if (data != NULL)
        *source = g_strdup (s);
    }
  Py_DECREF (text);
  return data;
}

static PyObject *
scheme_variant (PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  static char *kwlist[] = { "base", "params", "remove_rules", "name", NULL };
  PyObject *base, *params = NULL, *remove = NULL;
  const char *name = NULL;
  if (!PyArg_ParseTupleAndKeywords (args, kwargs, "O|O$Oz:variant", kwlist, &base, &params,
                                    &remove, &name))
    return NULL;
  if (params != NULL && params != Py_None && !PyDict_Check (params))
    return PyErr_Format (PyExc_TypeError,
                         "params must be a dict {rule name: {parameter: value}}");
  char *source = NULL;
  char *data = base_text (base, &source);
  if (data == NULL)
    return NULL;

  /* Edit the scheme file with GKeyFile, the parser the library itself
   * reads scheme files with, so the variant means what the file means. */
  GKeyFile *kf = g_key_file_new ();
  GError *error = NULL;
  PyObject *result = NULL;
  if (!g_key_file_load_from_data (kf, data, (gsize) -1, G_KEY_FILE_KEEP_COMMENTS, &error))
    {
      pyref_raisef (REFERRAL_ERROR_SCHEME, "%s: %s", source, error->message);
      g_error_free (error);
      goto out;
    }
  PyObject *rule, *changes;
  Py_ssize_t pos = 0;
  while (params != NULL && params != Py_None && PyDict_Next (params, &pos, &rule, &changes))
    {
      const char *r = pyref_utf8 (rule, "rule name", NULL);
      if (r == NULL)
        goto out;
      char *group = g_strconcat ("rule ", r, NULL);
      gboolean has = g_key_file_has_group (kf, group);
      if (!has)
        {
          pyref_raisef (REFERRAL_ERROR_SCHEME, "variant of %s: the scheme has no rule \"%s\"",
                        source, r);
          g_free (group);
          goto out;
        }
      if (!PyDict_Check (changes))
        {
          PyErr_Format (PyExc_TypeError, "params[\"%s\"] must be a dict", r);
          g_free (group);
          goto out;
        }
      PyObject *key, *value;
      Py_ssize_t p2 = 0;
      while (PyDict_Next (changes, &p2, &key, &value))
        {
          const char *k = pyref_utf8 (key, "parameter name", NULL);
          PyObject *t = k != NULL ? param_text (value, r, k) : NULL;
          const char *v = t != NULL ? pyref_utf8 (t, "parameter value", NULL) : NULL;
          if (v != NULL)
            g_key_file_set_value (kf, group, k, v);
          Py_XDECREF (t);
          if (v == NULL)
            {
              g_free (group);
              goto out;
            }
        }
      g_free (group);
    }
  if (remove != NULL && remove != Py_None)
    {
      PyObject *seq = PySequence_Fast (remove, "remove_rules must be a list of rule names");
      if (seq == NULL)
        goto out;
      for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE (seq); i++)
        {
          const char *r = pyref_utf8 (PySequence_Fast_GET_ITEM (seq, i), "rule name", NULL);
          char *group = r != NULL ? g_strconcat ("rule ", r, NULL) : NULL;
          gboolean removed = group != NULL && g_key_file_remove_group (kf, group, NULL);
          g_free (group);
          if (!removed)
            {
              if (r != NULL)
                pyref_raisef (REFERRAL_ERROR_SCHEME,
                              "variant of %s: the scheme has no rule \"%s\"", source, r);
              Py_DECREF (seq);
              goto out;
            }
        }
      Py_DECREF (seq);
    }
  if (name != NULL)
    g_key_file_set_value (kf, "scheme", "name", name);

  gsize len;
  char *text = g_key_file_to_data (kf, &len, NULL);
  char *where = g_strconcat ("variant of ", source, NULL);
  ReferralScheme *scheme = referral_scheme_load_data (text, (gssize) len, where, &error);
  g_free (where);
  g_free (text);
  if (scheme == NULL)
    {
      pyref_raise_gerror (error);
      goto out;
    }
  result = pyref_scheme_wrap (scheme);
  referral_scheme_unref (scheme);

out:
  g_key_file_free (kf);
  g_free (data);
  g_free (source);
  return result;
}

/* ------------------------------------------------------------ queries */

static PyObject *
scheme_get_name (PyRefScheme *self, void *closure)
{
  return PyUnicode_FromString (referral_scheme_name (self->scheme));
}

static PyObject *
scheme_get_decimals (PyRefScheme *self, void *closure)
{
  return PyLong_FromUnsignedLong (referral_scheme_decimals (self->scheme));
}

static PyObject *
scheme_get_ranks (PyRefScheme *self, void *closure)
{
  guint n = referral_scheme_n_ranks (self->scheme);
  PyObject *t = PyTuple_New (n);
  for (guint i = 0; t != NULL && i < n; i++)
    {
      PyObject *s = PyUnicode_FromString (referral_scheme_rank_name (self->scheme,
                                                                      (ReferralRank) i));
      if (s == NULL)
        {
          Py_CLEAR (t);
          break;
        }
      PyTuple_SET_ITEM (t, i, s);
    }
  return t;
}

static PyObject *
scheme_get_rules (PyRefScheme *self, void *closure)
{
  guint n = referral_scheme_n_rules (self->scheme);
  PyObject *list = PyList_New (n);
  for (guint i = 0; list != NULL && i < n; i++)
    {
      PyObject *item = Py_BuildValue ("(ss)", referral_scheme_rule_name (self->scheme, i),
                                      referral_scheme_rule_type (self->scheme, i));
      if (item == NULL)
        {
          Py_CLEAR (list);
          break;
        }
      PyList_SET_ITEM (list, i, item);
    }
  return list;
}

static PyObject *
scheme_get_identity (PyRefScheme *self, void *closure)
{
  return PyLong_FromUnsignedLongLong (referral_scheme_identity (self->scheme));
}

static PyObject *
scheme_rank_index (PyRefScheme *self, PyObject *arg)
{
  const char *name = pyref_utf8 (arg, "rank", NULL);
  if (name == NULL)
    return NULL;
  ReferralRank rank;
  if (!referral_scheme_lookup_rank (self->scheme, name, &rank))
    return pyref_raisef (REFERRAL_ERROR_INVALID_RANK, "scheme \"%s\" has no rank \"%s\"",
                         referral_scheme_name (self->scheme), name);
  return PyLong_FromLong (rank);
}

static PyObject *
scheme_repr (PyRefScheme *self)
{
  return PyUnicode_FromFormat ("<referral.Scheme '%s': %u rules, ranks %u, %u decimals>",
                               referral_scheme_name (self->scheme),
                               referral_scheme_n_rules (self->scheme),
                               referral_scheme_n_ranks (self->scheme),
                               referral_scheme_decimals (self->scheme));
}

static PyObject *
scheme_richcompare (PyObject *a, PyObject *b, int op)
{
  if (!PyObject_TypeCheck (b, &PyRefScheme_Type) || (op != Py_EQ && op != Py_NE))
    Py_RETURN_NOTIMPLEMENTED;
  gboolean eq = referral_scheme_identity (((PyRefScheme *) a)->scheme)
                == referral_scheme_identity (((PyRefScheme *) b)->scheme);
  return PyBool_FromLong (op == Py_EQ ? eq : !eq);
}

static Py_hash_t
scheme_hash (PyRefScheme *self)
{
  Py_hash_t h = (Py_hash_t) referral_scheme_identity (self->scheme);
  return h == -1 ? -2 : h;
}

static PyMethodDef scheme_methods[] = {
  { "from_text", (PyCFunction) (void (*) (void)) scheme_from_text,
    METH_VARARGS | METH_KEYWORDS | METH_CLASS,
    "from_text(text, source='<string>') -> Scheme\n--\n\n"
    "A scheme from scheme file text (GKeyFile: [scheme] and [rule NAME] groups).\n"
    "`source` names it in error messages.  Raises SchemeError or\n"
    "UnknownRuleTypeError." },
  { "build", (PyCFunction) (void (*) (void)) scheme_build,
    METH_VARARGS | METH_KEYWORDS | METH_CLASS,
    "build(name, rules, *, ranks=None, decimals=2) -> Scheme\n--\n\n"
    "A scheme built in code with the library's scheme builder.\n\n"
    "rules: a list of dicts {'name': instance name, 'type': rule type name,\n"
    "'params': {parameter: value}}, run in that order.  Values are str, int,\n"
    "bool, Decimal, Rate, or a list of those (a LIST parameter: \"5%, 3%\");\n"
    "floats are refused.  ranks: names, lowest first (default ['user']).\n\n"
    "    Scheme.build('mine', ranks=['user', 'member'], rules=[\n"
    "        {'name': 'direct', 'type': 'direct_award',\n"
    "         'params': {'rates': ['5%', '10%']}}])\n\n"
    "Raises SchemeError or UnknownRuleTypeError with the library's message." },
  { "variant", (PyCFunction) (void (*) (void)) scheme_variant,
    METH_VARARGS | METH_KEYWORDS | METH_CLASS,
    "variant(base, params=None, *, remove_rules=(), name=None) -> Scheme\n--\n\n"
    "The scheme `base` (a built-in name or a scheme file path) with some\n"
    "parameters changed and some rules removed:\n\n"
    "    Scheme.variant('chain21', {'break_away': {'pass_up': 1}})\n"
    "    Scheme.variant('chain21', remove_rules=['help_fund'], name='no-fund')\n\n"
    "params maps rule instance names to {parameter: value} (values as in\n"
    "build()).  The file is edited as a key file and loaded again, so every\n"
    "check of a scheme file applies." },
  { "rank_index", (PyCFunction) scheme_rank_index, METH_O,
    "rank_index(name) -> int\n--\n\n"
    "The number of rank `name` (0 is the entry rank).  Raises InvalidRankError." },
  { NULL, NULL, 0, NULL }
};

static PyGetSetDef scheme_getset[] = {
  { "name", (getter) scheme_get_name, NULL, "The scheme's name.", NULL },
  { "decimals", (getter) scheme_get_decimals, NULL, "The currency's decimals.", NULL },
  { "ranks", (getter) scheme_get_ranks, NULL, "Rank names, lowest first (a tuple).", NULL },
  { "rules", (getter) scheme_get_rules, NULL,
    "The rule instances in order, as (instance name, type name) tuples.", NULL },
  { "identity", (getter) scheme_get_identity, NULL,
    "A 64-bit digest of the whole definition: equal schemes behave the same.", NULL },
  { NULL, NULL, NULL, NULL, NULL }
};

PyTypeObject PyRefScheme_Type = {
  PyVarObject_HEAD_INIT (NULL, 0)
  .tp_name = "referral.Scheme",
  .tp_basicsize = sizeof (PyRefScheme),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "Scheme(name_or_path)\n--\n\n"
            "An immutable scheme: currency decimals, rank names and an ordered list of\n"
            "configured rules.  Scheme('chain21') is a built-in scheme; any other\n"
            "text (or os.PathLike) is a scheme file.  See also Scheme.from_text(),\n"
            "Scheme.build() and Scheme.variant().  Schemes compare equal when their\n"
            "identity digests are equal.",
  .tp_new = scheme_new,
  .tp_dealloc = (destructor) scheme_dealloc,
  .tp_repr = (reprfunc) scheme_repr,
  .tp_hash = (hashfunc) scheme_hash,
  .tp_richcompare = scheme_richcompare,
  .tp_methods = scheme_methods,
  .tp_getset = scheme_getset,
};
