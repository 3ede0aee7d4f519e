/* The CPython binding of libreferral: declarations shared by its files.
 *
 * The extension module is `referral._referral`; the package `referral`
 * (referral/__init__.py) re-exports it and adds the pure-Python parts.
 * Everything here goes through the public C API in include/referral/ only.
 *
 * Files:
 *   module.c  the module, the exception classes, money and rate helpers
 *   scheme.c  referral.Scheme
 *   event.c   event dicts -> ReferralEvent
 *   engine.c  referral.Engine: apply, queries, outputs
 *   bulk.c    the bulk paths: columns in (GIL released), arrays out
 *   rule.c    rule types written in Python: trampolines, Setup, Params, Ctx
 *   sim.c     referral.Simulation (sim.h)
 *
 * Threads: every entry point runs with the GIL held, except the engine
 * loops of Engine.apply_jsonl() and Engine.apply_columns(), which release
 * it.  Every call from the library back into Python (rule hooks, rule
 * configuration freeing) takes the GIL with PyGILState_Ensure(), so it
 * works whether or not the caller held it. */
#ifndef PYREFERRAL_H
#define PYREFERRAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <referral/referral.h>

/* ---------------------------------------------------------------- module.c */

/* decimal.Decimal, imported once at module initialisation. */
extern PyObject *pyref_decimal_type;

/* referral.Error, and the subclass for each ReferralErrorCode. */
extern PyObject *pyref_error;

/* Raises the referral.Error subclass of @error's code with its message and
 * frees @error.  Returns: NULL, for `return pyref_raise_gerror (e);`. */
PyObject *pyref_raise_gerror (GError *error);

/* Raises the referral.Error subclass of @code with @message.
 * Returns: NULL. */
PyObject *pyref_raise (ReferralErrorCode code, const char *message);
PyObject *pyref_raisef (ReferralErrorCode code, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Returns: (transfer none): the exception class of @code (referral.Error
 * for a code this binding does not know). */
PyObject *pyref_error_class (gint code);

/* Returns: (transfer full): decimal.Decimal of @minor units, or NULL with an
 * exception. */
PyObject *pyref_decimal_from_minor (gint64 minor, guint decimals);

/* Returns: (transfer full): the money text of @obj, for parsing with
 * referral_money_parse(): a str as it is, an int as its decimal digits, a
 * Decimal in fixed-point notation.  NULL with TypeError for anything else
 * (floats in particular, which are never money). */
PyObject *pyref_money_text (PyObject *obj, const char *what);

/* Parses @obj (str, int in major units, or Decimal) as money with
 * @decimals.  Returns: FALSE with an exception set. */
gboolean pyref_money_from_object (PyObject *obj, guint decimals, gboolean allow_negative,
                                  gint64 *out, const char *what);

/* Returns: (transfer none) the UTF-8 of str @obj, refusing embedded NULs
 * (ValueError) and non-str (TypeError naming @what). */
const char *pyref_utf8 (PyObject *obj, const char *what, Py_ssize_t *len);

/* A member key of @obj or None: Py_None gives REFERRAL_NO_MEMBER. */

/* Python type for exact rates (referral.Rate). */
extern PyTypeObject PyRefRate_Type;
PyObject *pyref_rate_new (ReferralRate rate);

/* Struct sequences. */
extern PyTypeObject *pyref_apply_result_type;
extern PyTypeObject *pyref_posting_type;
extern PyTypeObject *pyref_raw_posting_type;
extern PyTypeObject *pyref_order_type;
extern PyTypeObject *pyref_raw_order_type;
extern PyTypeObject *pyref_run_summary_type;

/* An exception raised inside a rule hook that must not be swallowed
 * (KeyboardInterrupt, SystemExit): kept here until the C call that ran the
 * hook returns, then re-raised instead of the rejection. */
void pyref_stash_fatal (PyObject *exc);
/* Returns: TRUE (with the stashed exception raised) when one was stashed. */
gboolean pyref_reraise_fatal (void);

/* ---------------------------------------------------------------- scheme.c */

typedef struct {
  PyObject_HEAD
  ReferralScheme *scheme;
} PyRefScheme;

extern PyTypeObject PyRefScheme_Type;

/* Returns: (transfer full): a new referral.Scheme owning a ref of @scheme. */
PyObject *pyref_scheme_wrap (ReferralScheme *scheme);

/* Returns: (transfer full) a ReferralScheme for @obj: a referral.Scheme, a
 * built-in name, or a path (str or os.PathLike).  NULL with an exception. */
ReferralScheme *pyref_scheme_from_object (PyObject *obj);

/* ---------------------------------------------------------------- event.c */

/* The strings an event borrows, kept alive while it is applied. */
#define PYREF_EVENT_MAX_REFS 16
typedef struct {
  ReferralEvent ev;
  PyObject *refs[PYREF_EVENT_MAX_REFS];
  int n_refs;
} PyRefEvent;

/* Fills @out from the event dict @obj as shared/spec/events.md defines it
 * (type, id, the type's fields, time; amounts as decimal str or int major
 * units).  Field values that are not what the spec allows raise
 * referral.ParseError or referral.InvalidMoneyError with the event named as
 * the engine names it; what the engine checks itself (missing fields,
 * fields of another type) is left to the engine.  Release with
 * pyref_event_clear() whatever the result. */
gboolean pyref_event_from_dict (PyObject *obj, guint decimals, PyRefEvent *out);
void pyref_event_clear (PyRefEvent *event);

/* Reads an event's amount from @v as events.md allows it (decimal str, int
 * in major units; a Decimal as its decimal text), setting amount,
 * amount_text and amount_quoted of @ev.  *@text_out receives a new
 * reference to the str that amount_text points into (keep it while @ev is
 * used), possibly even on failure.  @name (may be NULL) prefixes messages.
 * Returns: FALSE with InvalidMoneyError or ParseError raised. */
gboolean pyref_read_amount (PyObject *v, guint decimals, ReferralEvent *ev, PyObject **text_out,
                            const char *name);

/* "an int", "None", "a float"...: how messages name the type of @v. */
const char *pyref_python_type_name (PyObject *v);

/* Returns: (transfer full): the dict of @event, as events.md writes it. */
PyObject *pyref_event_to_dict (const ReferralEvent *event, guint decimals);

/* Event type codes of the bulk path's "type" column (referral.EventType). */
enum {
  PYREF_TYPE_JOIN = 1,
  PYREF_TYPE_ORDER,
  PYREF_TYPE_REFUND,
  PYREF_TYPE_PERIOD_CLOSE,
  PYREF_TYPE_WITHDRAW,
  PYREF_TYPE_PROMOTE,
  PYREF_TYPE_TRANSPOSE,
  PYREF_N_TYPES
};

/* Sets @ev's type (and command) from a type name or code.
 * Returns: FALSE when unknown. */
gboolean pyref_event_set_type_name (ReferralEvent *ev, const char *name);
gboolean pyref_event_set_type_code (ReferralEvent *ev, long code);

/* ---------------------------------------------------------------- engine.c */

typedef struct {
  PyObject_HEAD
  ReferralEngine *engine;
  PyObject *scheme;      /* the referral.Scheme */
  guint decimals;
  gboolean busy;         /* an apply is running (maybe without the GIL) */
  PyObject *weakreflist;
  /* A view of an engine owned by another object (a Simulation's): @owner
   * is kept alive, the engine is not freed with this wrapper, events
   * cannot be applied through it, and *@owner_busy counts as busy. */
  PyObject *owner;
  const gboolean *owner_busy;
} PyRefEngine;

extern PyTypeObject PyRefEngine_Type;

/* Raises RuntimeError and returns FALSE when @self is busy. */
gboolean pyref_engine_check_idle (PyRefEngine *self);
/* Raises RuntimeError and returns FALSE when @self is busy or a read-only
 * view (events cannot be applied through it). */
gboolean pyref_engine_check_writable (PyRefEngine *self);

/* Returns: (transfer full): a read-only referral.Engine viewing @engine,
 * which @owner owns; *@owner_busy is TRUE while the owner runs it. */
PyObject *pyref_engine_view (ReferralEngine *engine, PyObject *owner,
                             const gboolean *owner_busy);
/* _set_engine_view_class(cls): the package's Engine subclass, for views. */
PyObject *pyref_engine_set_view_class (PyObject *module, PyObject *cls);

/* Returns: (transfer full): the Posting (engine-facing: names and Decimal)
 * of posting @index. */
PyObject *pyref_engine_posting (PyRefEngine *self, guint64 index);

/* ---------------------------------------------------------------- bulk.c */

PyObject *pyref_engine_apply_columns (PyRefEngine *self, PyObject *args, PyObject *kwargs);
PyObject *pyref_engine_apply_jsonl (PyRefEngine *self, PyObject *args, PyObject *kwargs);
PyObject *pyref_engine_member_columns (PyRefEngine *self, PyObject *noargs);
PyObject *pyref_engine_posting_columns (PyRefEngine *self, PyObject *args, PyObject *kwargs);

/* Converts a scheme parameter or simulation setting to its text: str, int,
 * bool, Decimal, Rate, or a list/tuple of those (joined with ", ").  Floats
 * are refused (SchemeError naming @where: money and rates are exact). */
PyObject *pyref_setting_text (PyObject *value, const char *where);

/* ---------------------------------------------------------------- sim.c */

extern PyTypeObject PyRefSim_Type;
PyObject *pyref_sim_config_keys (PyObject *module, PyObject *noargs);

/* ---------------------------------------------------------------- rule.c */

extern PyTypeObject PyRefSetup_Type;
extern PyTypeObject PyRefParams_Type;
extern PyTypeObject PyRefCtx_Type;
extern PyTypeObject PyRefReversal_Type;

PyObject *pyref_register_rule (PyObject *module, PyObject *cls);
/* Returns: (transfer full): the Python classes registered so far, by name. */
PyObject *pyref_python_rule_types (PyObject *module, PyObject *noargs);
/* Returns: (transfer full) a RawPosting struct sequence of @p, posting
 * number @index (for its cause). */
PyObject *pyref_raw_posting_new (const ReferralPosting *p, guint64 index);
/* Returns: (transfer full) a RawOrder struct sequence of @o. */
PyObject *pyref_raw_order_new (const ReferralOrder *o);
int pyref_rule_init_types (PyObject *module);

#endif
