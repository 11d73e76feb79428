/*
 * edge._ccodec: the CPython binding of flcodec.
 *
 * A Decoder owns a private copy of a decode table (built by
 * edge/codec_table.py) that flc_table_check() has accepted. decode_one
 * decodes one frame into Python objects; decode_many decodes a block of
 * frames from buffers into caller-provided buffers with the GIL released.
 * Errors of a frame come back as negative errno codes, which the Python
 * side turns into the project's exceptions.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <string.h>

#include "flcodec.h"

typedef struct {
	PyObject_HEAD
	struct flc_table table;
	void *blocks[5];
	uint16_t *scratch_sig;
	double *scratch_val;
	struct flc_exact *scratch_exact;
} Decoder;

/* Copies a buffer of whole items into fresh memory; NULL on error. */
static void *copy_items(PyObject *obj, size_t item, const char *what,
			uint32_t *count)
{
	Py_buffer view;
	void *copy;

	if (PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS) < 0)
		return NULL;
	if ((size_t)view.len % item != 0 ||
	    (size_t)view.len / item > UINT32_MAX) {
		PyErr_Format(PyExc_ValueError,
			     "%s: expected a whole number of %zu-byte items, "
			     "got %zd bytes", what, item, view.len);
		PyBuffer_Release(&view);
		return NULL;
	}
	copy = PyMem_Malloc(view.len ? (size_t)view.len : 1u);
	if (copy == NULL) {
		PyBuffer_Release(&view);
		PyErr_NoMemory();
		return NULL;
	}
	memcpy(copy, view.buf, (size_t)view.len);
	*count = (uint32_t)((size_t)view.len / item);
	PyBuffer_Release(&view);
	return copy;
}

static void Decoder_dealloc(Decoder *self)
{
	for (size_t i = 0; i < sizeof(self->blocks) / sizeof(self->blocks[0]); i++)
		PyMem_Free(self->blocks[i]);
	PyMem_Free(self->scratch_sig);
	PyMem_Free(self->scratch_val);
	PyMem_Free(self->scratch_exact);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Decoder_init(Decoder *self, PyObject *args, PyObject *kwds)
{
	static char *names[] = { "messages", "nodes", "signals", "branches",
				 "slots", "id_mask", "output_ids",
				 "max_values", NULL };
	PyObject *bufs[5];
	static const size_t sizes[5] = {
		sizeof(struct flc_message), sizeof(struct flc_node),
		sizeof(struct flc_signal), sizeof(struct flc_branch),
		sizeof(uint32_t),
	};
	static const char *what[5] = { "messages", "nodes", "signals",
				       "branches", "slots" };
	uint32_t counts[5] = { 0 };
	unsigned int id_mask = 0;
	unsigned int output_ids = 0;
	unsigned int max_values = 0;
	size_t room;

	if (self->blocks[0] != NULL) {
		PyErr_SetString(PyExc_RuntimeError, "Decoder is already set up");
		return -1;
	}
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOIII", names,
					 &bufs[0], &bufs[1], &bufs[2],
					 &bufs[3], &bufs[4], &id_mask,
					 &output_ids, &max_values))
		return -1;

	for (int i = 0; i < 5; i++) {
		self->blocks[i] = copy_items(bufs[i], sizes[i], what[i], &counts[i]);
		if (self->blocks[i] == NULL)
			return -1;
	}
	self->table.messages = self->blocks[0];
	self->table.nodes = self->blocks[1];
	self->table.signals = self->blocks[2];
	self->table.branches = self->blocks[3];
	self->table.slots = self->blocks[4];
	self->table.message_count = counts[0];
	self->table.node_count = counts[1];
	self->table.signal_count = counts[2];
	self->table.branch_count = counts[3];
	self->table.slot_count = counts[4];
	self->table.id_mask = id_mask;
	self->table.output_ids = output_ids;
	self->table.max_values = max_values;
	if (flc_table_check(&self->table) < 0) {
		PyErr_SetString(PyExc_ValueError,
				"decode table rejected by flc_table_check: "
				"an index, length or count is out of range");
		return -1;
	}

	room = max_values ? max_values : 1u;
	self->scratch_sig = PyMem_Calloc(room, sizeof(uint16_t));
	self->scratch_val = PyMem_Calloc(room, sizeof(double));
	self->scratch_exact = PyMem_Calloc(room, sizeof(struct flc_exact));
	if (!self->scratch_sig || !self->scratch_val || !self->scratch_exact) {
		PyErr_NoMemory();
		return -1;
	}
	return 0;
}

static int ready(Decoder *self)
{
	if (self->blocks[0] == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "Decoder was never set up");
		return 0;
	}
	return 1;
}

/* high * 2^64 + low as a Python int. */
static PyObject *wide_object(int64_t high, uint64_t low)
{
	PyObject *h = PyLong_FromLongLong(high);
	PyObject *l = PyLong_FromUnsignedLongLong(low);
	PyObject *shift = PyLong_FromLong(64);
	PyObject *shifted = NULL;
	PyObject *sum = NULL;

	if (h && l && shift)
		shifted = PyNumber_Lshift(h, shift);
	if (shifted)
		sum = PyNumber_Add(shifted, l);
	Py_XDECREF(h);
	Py_XDECREF(l);
	Py_XDECREF(shift);
	Py_XDECREF(shifted);
	return sum;
}

/* The Python number for one decoded value: an int where it is exact. */
static PyObject *value_object(double value, const struct flc_exact *e)
{
	if (e->kind == FLC_EXACT_INT64)
		return PyLong_FromLongLong(e->ivalue);
	if (e->kind == FLC_EXACT_UINT64)
		return PyLong_FromUnsignedLongLong(e->uvalue);
	if (e->kind == FLC_EXACT_WIDE)
		return wide_object(e->high, e->uvalue);
	return PyFloat_FromDouble(value);
}

PyDoc_STRVAR(decode_one_doc,
"decode_one(frame_id, data) -> (code, message, values)\n\n"
"Decodes one frame. code is 0 or a negative errno (-ENOENT unknown id,\n"
"-EMSGSIZE too short, -EBADMSG no branch for a multiplexer value);\n"
"message is the message index or -1; values is a list of\n"
"(signal id, value), value an int where cantools gives an int.");

static PyObject *Decoder_decode_one(Decoder *self, PyObject *args)
{
	unsigned long long frame_id;
	Py_buffer data;
	int32_t message = -1;
	PyObject *values;
	int n;

	if (!ready(self))
		return NULL;
	if (!PyArg_ParseTuple(args, "Ky*", &frame_id, &data))
		return NULL;
	if (frame_id > UINT32_MAX) {
		PyBuffer_Release(&data);
		return Py_BuildValue("(iiO)", -ENOENT, -1, Py_None);
	}
	n = flc_decode_frame(&self->table, (uint32_t)frame_id, data.buf,
			     (size_t)data.len, self->scratch_sig,
			     self->scratch_val, self->scratch_exact,
			     self->table.max_values, &message);
	PyBuffer_Release(&data);
	if (n < 0)
		return Py_BuildValue("(iiO)", n, (int)message, Py_None);

	values = PyList_New(n);
	if (values == NULL)
		return NULL;
	for (int i = 0; i < n; i++) {
		PyObject *v = value_object(self->scratch_val[i],
					   &self->scratch_exact[i]);
		PyObject *pair = v ? Py_BuildValue("(iN)", (int)self->scratch_sig[i], v)
				   : NULL;

		if (pair == NULL) {
			Py_DECREF(values);
			return NULL;
		}
		PyList_SET_ITEM(values, i, pair);
	}
	return Py_BuildValue("(iiN)", 0, (int)message, values);
}

/* Gets a C-contiguous buffer of exactly len bytes, or sets an error. */
static int get_sized(PyObject *obj, Py_buffer *view, Py_ssize_t len,
		     int writable, const char *what)
{
	int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);

	if (PyObject_GetBuffer(obj, view, flags) < 0)
		return -1;
	if (view->len < len) {
		PyErr_Format(PyExc_ValueError,
			     "%s: expected at least %zd bytes, got %zd", what,
			     len, view->len);
		PyBuffer_Release(view);
		return -1;
	}
	return 0;
}

PyDoc_STRVAR(decode_many_doc,
"decode_many(ids, payloads, stride, lengths, out_frame, out_sig, out_val)\n"
"-> (count, frames_done, unknown_id, too_short, undecodable)\n\n"
"Decodes len(ids) // 4 frames from buffers (ids uint32, payloads rows of\n"
"stride bytes, lengths uint8 or None) into the writable output buffers\n"
"(int64, uint16, float64), releasing the GIL. Stops early when the\n"
"outputs are full; frames_done says how far it got.");

static PyObject *Decoder_decode_many(Decoder *self, PyObject *args)
{
	PyObject *ids_obj, *pay_obj, *len_obj, *frame_obj, *sig_obj, *val_obj;
	Py_buffer ids, pay, lens, frame, sig, val;
	Py_ssize_t stride, n, cap;
	struct flc_counts counts = { 0 };
	size_t done = 0;
	int64_t count;

	if (!ready(self))
		return NULL;
	if (!PyArg_ParseTuple(args, "OOnOOOO", &ids_obj, &pay_obj, &stride,
			      &len_obj, &frame_obj, &sig_obj, &val_obj))
		return NULL;
	if (stride < 1 || stride > (Py_ssize_t)FLC_MAX_PAYLOAD) {
		PyErr_Format(PyExc_ValueError,
			     "stride: expected 1 to %u bytes, got %zd",
			     FLC_MAX_PAYLOAD, stride);
		return NULL;
	}

	if (get_sized(ids_obj, &ids, 0, 0, "ids") < 0)
		return NULL;
	n = ids.len / (Py_ssize_t)sizeof(uint32_t);
	if (get_sized(pay_obj, &pay, n * stride, 0, "payloads") < 0)
		goto release_ids;
	if (len_obj != Py_None && get_sized(len_obj, &lens, n, 0, "lengths") < 0)
		goto release_pay;
	if (get_sized(frame_obj, &frame, 0, 1, "out_frame") < 0)
		goto release_lens;
	cap = frame.len / (Py_ssize_t)sizeof(int64_t);
	if (get_sized(sig_obj, &sig, cap * 2, 1, "out_sig") < 0)
		goto release_frame;
	if (get_sized(val_obj, &val, cap * 8, 1, "out_val") < 0)
		goto release_sig;

	Py_BEGIN_ALLOW_THREADS
	count = flc_decode_batch(&self->table, (size_t)n, ids.buf, pay.buf,
				 (size_t)stride,
				 len_obj == Py_None ? NULL : lens.buf,
				 frame.buf, sig.buf, val.buf, (size_t)cap,
				 &done, &counts);
	Py_END_ALLOW_THREADS

	PyBuffer_Release(&val);
	PyBuffer_Release(&sig);
	PyBuffer_Release(&frame);
	if (len_obj != Py_None)
		PyBuffer_Release(&lens);
	PyBuffer_Release(&pay);
	PyBuffer_Release(&ids);
	if (count < 0) {
		PyErr_SetString(PyExc_ValueError, "flc_decode_batch refused its arguments");
		return NULL;
	}
	return Py_BuildValue("(LnKKK)", (long long)count, (Py_ssize_t)done,
			     (unsigned long long)counts.unknown_id,
			     (unsigned long long)counts.too_short,
			     (unsigned long long)counts.undecodable);

release_sig:
	PyBuffer_Release(&sig);
release_frame:
	PyBuffer_Release(&frame);
release_lens:
	if (len_obj != Py_None)
		PyBuffer_Release(&lens);
release_pay:
	PyBuffer_Release(&pay);
release_ids:
	PyBuffer_Release(&ids);
	return NULL;
}

static PyMethodDef Decoder_methods[] = {
	{ "decode_one", (PyCFunction)Decoder_decode_one, METH_VARARGS,
	  decode_one_doc },
	{ "decode_many", (PyCFunction)Decoder_decode_many, METH_VARARGS,
	  decode_many_doc },
	{ NULL, NULL, 0, NULL },
};

static PyTypeObject DecoderType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "edge._ccodec.Decoder",
	.tp_doc = PyDoc_STR("A checked flcodec decode table."),
	.tp_basicsize = sizeof(Decoder),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_new = PyType_GenericNew,
	.tp_init = (initproc)Decoder_init,
	.tp_dealloc = (destructor)Decoder_dealloc,
	.tp_methods = Decoder_methods,
};

static PyObject *slot_hash(PyObject *module, PyObject *args)
{
	unsigned int key, slots;

	(void)module;
	if (!PyArg_ParseTuple(args, "II", &key, &slots))
		return NULL;
	if (slots == 0u || (slots & (slots - 1u))) {
		PyErr_Format(PyExc_ValueError,
			     "slot_count: expected a power of two, got %u", slots);
		return NULL;
	}
	return PyLong_FromUnsignedLong(flc_slot_hash(key, slots));
}

static PyMethodDef module_methods[] = {
	{ "slot_hash", slot_hash, METH_VARARGS,
	  PyDoc_STR("slot_hash(key, slot_count) -> first lookup slot of key") },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "edge._ccodec",
	.m_doc = PyDoc_STR("CPython binding of the flcodec CAN decoder."),
	.m_size = -1,
	.m_methods = module_methods,
};

/* Adds an integer constant; returns -1 on failure. */
static int add_int(PyObject *m, const char *name, long long value)
{
	return PyModule_AddObject(m, name, PyLong_FromLongLong(value));
}

PyMODINIT_FUNC PyInit__ccodec(void)
{
	PyObject *m;

	if (PyType_Ready(&DecoderType) < 0)
		return NULL;
	m = PyModule_Create(&module_def);
	if (m == NULL)
		return NULL;
	Py_INCREF(&DecoderType);
	if (PyModule_AddObject(m, "Decoder", (PyObject *)&DecoderType) < 0 ||
	    add_int(m, "MESSAGE_SIZE", sizeof(struct flc_message)) < 0 ||
	    add_int(m, "NODE_SIZE", sizeof(struct flc_node)) < 0 ||
	    add_int(m, "SIGNAL_SIZE", sizeof(struct flc_signal)) < 0 ||
	    add_int(m, "BRANCH_SIZE", sizeof(struct flc_branch)) < 0 ||
	    add_int(m, "EMPTY_SLOT", FLC_EMPTY_SLOT) < 0 ||
	    add_int(m, "EXTENDED", FLC_EXTENDED) < 0 ||
	    add_int(m, "MAX_DEPTH", FLC_MAX_DEPTH) < 0 ||
	    add_int(m, "MAX_PAYLOAD", FLC_MAX_PAYLOAD) < 0 ||
	    add_int(m, "ENOENT", ENOENT) < 0 ||
	    add_int(m, "EMSGSIZE", EMSGSIZE) < 0 ||
	    add_int(m, "EBADMSG", EBADMSG) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
