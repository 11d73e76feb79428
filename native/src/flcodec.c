/*
 * flcodec: table-driven CAN frame decoding. See flcodec.h for the contract.
 *
 * Floating-point steps are written one operation at a time and the build
 * turns off contraction (-ffp-contract=off), so x * scale + offset rounds
 * twice, exactly as Python computes it in cantools.
 */
#include "flcodec.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#ifdef __SIZEOF_INT128__
typedef __int128 flc_wide;
#define FLC_HAVE_WIDE 1
#else
#define FLC_HAVE_WIDE 0
#endif

/* Where decoded values go while one frame is decoded. */
struct flc_out {
	uint16_t *sig;
	double *val;
	struct flc_exact *exact; /* may be NULL */
	size_t count;
};

/* One decoded signal before it is stored. */
struct flc_reading {
	double value;
	struct flc_exact exact;
};

uint32_t flc_slot_hash(uint32_t key, uint32_t slot_count)
{
	uint32_t h = key;

	h ^= h >> 16;
	h *= 0x45d9f3bu;
	h ^= h >> 16;
	return h & (slot_count - 1u);
}

/* Network (MSB-first) position of a big-endian signal's first bit. */
static unsigned network_start(unsigned start)
{
	return (start & ~7u) + 7u - (start & 7u);
}

/* First bit past the signal in the numbering its byte order reads. */
static unsigned signal_end(const struct flc_signal *s)
{
	if (s->order == FLC_BIG_ENDIAN)
		return network_start(s->start) + s->length;
	return (unsigned)s->start + s->length;
}

/* Reads an Intel signal: bit i of byte k is bit 8k + i. */
static uint64_t read_little(const uint8_t *d, unsigned start, unsigned length)
{
	unsigned first = start >> 3;
	unsigned last = (start + length - 1u) >> 3;
	unsigned shift = start & 7u;
	unsigned got = 8u - shift;
	uint64_t v = (uint64_t)(d[first] >> shift);

	for (unsigned i = first + 1u; i <= last; i++) {
		v |= (uint64_t)d[i] << got;
		got += 8u;
	}
	return length < 64u ? v & ((UINT64_C(1) << length) - 1u) : v;
}

/* Reads a Motorola signal from its MSB at sawtooth bit start. */
static uint64_t read_big(const uint8_t *d, unsigned start, unsigned length)
{
	unsigned head = network_start(start);
	unsigned tail = head + length - 1u;
	unsigned first = head >> 3;
	unsigned last = tail >> 3;
	unsigned shift = 7u - (tail & 7u);
	unsigned got = 8u - shift;
	uint64_t v = (uint64_t)(d[last] >> shift);

	for (unsigned i = last; i-- > first;) {
		v |= (uint64_t)d[i] << got;
		got += 8u;
	}
	return length < 64u ? v & ((UINT64_C(1) << length) - 1u) : v;
}

/* Interprets the low length bits of v as two's complement. */
static int64_t sign_extend(uint64_t v, unsigned length)
{
	int64_t r;

	if (length < 64u && (v >> (length - 1u)) & 1u)
		v |= ~UINT64_C(0) << length;
	memcpy(&r, &v, sizeof(r));
	return r;
}

/* Widens an IEEE half to double, exactly. */
static double half_to_double(uint16_t h)
{
	unsigned exponent = (h >> 10) & 0x1Fu;
	unsigned mantissa = h & 0x3FFu;
	double v;

	if (exponent == 0u)
		v = ldexp((double)mantissa, -24);
	else if (exponent == 31u)
		v = mantissa ? (double)NAN : (double)INFINITY;
	else
		v = ldexp((double)(mantissa + 1024u), (int)exponent - 25);
	return (h & 0x8000u) ? -v : v;
}

/* The raw bits of a float signal as a double. */
static double float_bits(uint64_t bits, unsigned kind)
{
	float f;
	double d;
	uint32_t b32 = (uint32_t)bits;

	if (kind == FLC_FLOAT16)
		return half_to_double((uint16_t)bits);
	if (kind == FLC_FLOAT32) {
		memcpy(&f, &b32, sizeof(f));
		return (double)f;
	}
	memcpy(&d, &bits, sizeof(d));
	return d;
}

#if FLC_HAVE_WIDE
/* Stores w as the exact integer, in 64 bits when it fits. */
static void set_exact(struct flc_exact *e, flc_wide w)
{
	if (w >= (flc_wide)INT64_MIN && w <= (flc_wide)INT64_MAX) {
		e->ivalue = (int64_t)w;
		e->kind = FLC_EXACT_INT64;
	} else if (w > 0 && w <= (flc_wide)UINT64_MAX) {
		e->uvalue = (uint64_t)w;
		e->kind = FLC_EXACT_UINT64;
	} else {
		/* Arithmetic shift of a negative value: floor division. */
		e->high = (int64_t)(w >> 64);
		e->uvalue = (uint64_t)w;
		e->kind = FLC_EXACT_WIDE;
	}
}
#endif

/* Decodes an integer signal's raw bits into its physical value. */
static void scale_integer(const struct flc_signal *s, uint64_t bits,
			  struct flc_reading *r)
{
	int is_signed = s->kind == FLC_SIGNED;
	int64_t sv = is_signed ? sign_extend(bits, s->length) : 0;
	double x = is_signed ? (double)sv : (double)bits;

	r->exact.kind = FLC_EXACT_NONE;
	if (s->scaling == FLC_SCALE_LINEAR) {
		r->value = x * s->scale;
		r->value = r->value + s->offset;
		return;
	}
	if (s->scaling == FLC_SCALE_IDENTITY) {
		r->value = x;
		if (is_signed) {
			r->exact.ivalue = sv;
			r->exact.kind = FLC_EXACT_INT64;
		} else {
			r->exact.uvalue = bits;
			r->exact.kind = FLC_EXACT_UINT64;
		}
		return;
	}
#if FLC_HAVE_WIDE
	flc_wide w = is_signed ? (flc_wide)sv : (flc_wide)bits;

	w *= s->iscale;
	if (s->scaling == FLC_SCALE_INT_PRODUCT) {
		r->value = (double)w + s->offset;
		return;
	}
	w += s->ioffset;
	r->value = (double)w;
	set_exact(&r->exact, w);
#else
	/* Without 128-bit integers the product is rounded to double. */
	r->value = x * (double)s->iscale;
	if (s->scaling == FLC_SCALE_INT_PRODUCT)
		r->value = r->value + s->offset;
	else
		r->value = r->value + (double)s->ioffset;
#endif
}

/* Reads and scales one signal of a payload that holds all its bytes. */
static void read_signal(const struct flc_signal *s, const uint8_t *d,
			struct flc_reading *r)
{
	uint64_t bits;

	if (s->order == FLC_BIG_ENDIAN)
		bits = read_big(d, s->start, s->length);
	else
		bits = read_little(d, s->start, s->length);

	if (s->kind <= FLC_SIGNED) {
		scale_integer(s, bits, r);
		return;
	}
	r->exact.kind = FLC_EXACT_NONE;
	r->value = float_bits(bits, s->kind);
	if (s->scaling == FLC_SCALE_LINEAR) {
		r->value = r->value * s->scale;
		r->value = r->value + s->offset;
	}
}

/*
 * The branch key of a multiplexer value, as Python's int() truncates it.
 * Returns 0 with *key set, or -EBADMSG for a value no int64 can hold.
 */
static int mux_key(const struct flc_reading *r, int64_t *key)
{
	if (r->exact.kind == FLC_EXACT_INT64) {
		*key = r->exact.ivalue;
		return 0;
	}
	if (r->exact.kind == FLC_EXACT_UINT64) {
		if (r->exact.uvalue > (uint64_t)INT64_MAX)
			return -EBADMSG;
		*key = (int64_t)r->exact.uvalue;
		return 0;
	}
	if (!(r->value >= -9223372036854775808.0) ||
	    !(r->value < 9223372036854775808.0))
		return -EBADMSG;
	*key = (int64_t)r->value;
	return 0;
}

/* Index of the branch of s whose value is key, or -1. */
static int64_t find_branch(const struct flc_table *t,
			   const struct flc_signal *s, int64_t key)
{
	uint32_t lo = s->first_branch;
	uint32_t hi = s->first_branch + s->branch_count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2u;
		int64_t v = t->branches[mid].value;

		if (v == key)
			return mid;
		if (v < key)
			lo = mid + 1u;
		else
			hi = mid;
	}
	return -1;
}

/* Decodes a node and the branches its multiplexers select, depth first. */
static int decode_node(const struct flc_table *t, uint32_t index,
		       const uint8_t *d, struct flc_out *o)
{
	const struct flc_node *node = &t->nodes[index];
	const struct flc_signal *first = &t->signals[node->first_signal];
	const struct flc_signal *end = first + node->signal_count;
	struct flc_reading r;

	for (const struct flc_signal *s = first; s < end; s++) {
		read_signal(s, d, &r);
		o->sig[o->count] = s->id;
		o->val[o->count] = r.value;
		if (o->exact)
			o->exact[o->count] = r.exact;
		o->count++;
	}

	for (const struct flc_signal *s = first; s < end; s++) {
		int64_t key;
		int64_t branch;
		int rc;

		if (s->branch_count == 0u)
			continue;
		read_signal(s, d, &r);
		if (mux_key(&r, &key) < 0)
			return -EBADMSG;
		branch = find_branch(t, s, key);
		if (branch < 0)
			return -EBADMSG;
		rc = decode_node(t, t->branches[branch].node, d, o);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int32_t flc_lookup(const struct flc_table *t, uint32_t frame_id)
{
	uint32_t key = frame_id;
	uint32_t mask = t->slot_count - 1u;
	uint32_t slot;

	if (key > FLC_STANDARD_MAX)
		key |= FLC_EXTENDED;
	key &= FLC_EXTENDED | t->id_mask;

	slot = flc_slot_hash(key, t->slot_count);
	for (uint32_t probes = 0; probes < t->slot_count; probes++) {
		uint32_t m = t->slots[slot];

		if (m == FLC_EMPTY_SLOT)
			return -ENOENT;
		if (t->messages[m].key == key)
			return (int32_t)m;
		slot = (slot + 1u) & mask;
	}
	return -ENOENT;
}

int flc_decode_frame(const struct flc_table *t, uint32_t frame_id,
		     const uint8_t *data, size_t len, uint16_t *sig,
		     double *val, struct flc_exact *exact, size_t cap,
		     int32_t *message)
{
	struct flc_out o = { sig, val, exact, 0 };
	const struct flc_message *msg;
	int32_t m = flc_lookup(t, frame_id);
	int rc;

	if (message)
		*message = m < 0 ? -1 : m;
	if (m < 0)
		return -ENOENT;
	msg = &t->messages[m];
	if (len < msg->length)
		return -EMSGSIZE;
	if (msg->flags & FLC_MESSAGE_CONTAINER)
		return -EBADMSG;
	if (cap < msg->max_values)
		return -ENOSPC;

	rc = decode_node(t, msg->root, data, &o);
	return rc < 0 ? rc : (int)o.count;
}

int64_t flc_decode_batch(const struct flc_table *t, size_t n,
			 const uint32_t *ids, const uint8_t *payloads,
			 size_t stride, const uint8_t *lengths,
			 int64_t *out_frame, uint16_t *out_sig, double *out_val,
			 size_t cap, size_t *frames_done,
			 struct flc_counts *counts)
{
	struct flc_out o = { out_sig, out_val, NULL, 0 };
	size_t i;

	*frames_done = 0;
	if (stride == 0u || stride > FLC_MAX_PAYLOAD)
		return -EINVAL;

	for (i = 0; i < n; i++) {
		const uint8_t *data = payloads + i * stride;
		size_t len = stride;
		size_t before = o.count;
		const struct flc_message *msg;
		int32_t m = flc_lookup(t, ids[i]);

		if (m < 0) {
			counts->unknown_id++;
			continue;
		}
		msg = &t->messages[m];
		if (cap - o.count < msg->max_values)
			break;

		if (lengths && lengths[i] < stride)
			len = lengths[i];
		if (len < msg->length) {
			counts->too_short++;
			continue;
		}
		if ((msg->flags & FLC_MESSAGE_CONTAINER) ||
		    decode_node(t, msg->root, data, &o) < 0) {
			o.count = before;
			counts->undecodable++;
			continue;
		}
		for (size_t k = before; k < o.count; k++)
			out_frame[k] = (int64_t)i;
	}

	counts->frames += i;
	*frames_done = i;
	return (int64_t)o.count;
}

/* Checks one signal on its own, without its message. */
static int check_signal(const struct flc_table *t, const struct flc_signal *s)
{
	if (s->length < 1u || s->length > 64u || s->start >= 8u * FLC_MAX_PAYLOAD)
		return -EINVAL;
	if (s->id >= t->output_ids || s->order > FLC_BIG_ENDIAN)
		return -EINVAL;
	if (s->scaling > FLC_SCALE_IDENTITY || s->kind > FLC_FLOAT64)
		return -EINVAL;
	if (s->kind == FLC_FLOAT16 && s->length != 16u)
		return -EINVAL;
	if (s->kind == FLC_FLOAT32 && s->length != 32u)
		return -EINVAL;
	if (s->kind == FLC_FLOAT64 && s->length != 64u)
		return -EINVAL;
	if (s->kind > FLC_SIGNED && s->scaling != FLC_SCALE_LINEAR &&
	    s->scaling != FLC_SCALE_IDENTITY)
		return -EINVAL;
	if (s->branch_count > t->branch_count ||
	    s->first_branch > t->branch_count - s->branch_count)
		return -EINVAL;
	for (uint32_t b = 1; b < s->branch_count; b++) {
		const struct flc_branch *br = &t->branches[s->first_branch + b];

		if (br[-1].value >= br->value)
			return -EINVAL;
	}
	return 0;
}

/*
 * Walks the tree under node for a message of bits payload bits and returns
 * the most values one frame can yield under it, or -EINVAL.
 */
static int64_t check_node(const struct flc_table *t, uint32_t index,
			  unsigned bits, unsigned depth)
{
	const struct flc_node *node;
	int64_t total;

	if (depth > FLC_MAX_DEPTH || index >= t->node_count)
		return -EINVAL;
	node = &t->nodes[index];
	if (node->signal_count > t->signal_count ||
	    node->first_signal > t->signal_count - node->signal_count)
		return -EINVAL;
	total = node->signal_count;

	for (uint32_t i = 0; i < node->signal_count; i++) {
		const struct flc_signal *s = &t->signals[node->first_signal + i];
		int64_t widest = 0;

		if (check_signal(t, s) < 0 || signal_end(s) > bits)
			return -EINVAL;
		for (uint32_t b = 0; b < s->branch_count; b++) {
			uint32_t branch = s->first_branch + b;
			uint32_t child = t->branches[branch].node;
			int64_t n;

			if (child <= index || child >= t->node_count ||
			    t->nodes[child].parent != branch)
				return -EINVAL;
			n = check_node(t, child, bits, depth + 1u);
			if (n < 0)
				return n;
			if (n > widest)
				widest = n;
		}
		total += widest;
	}
	return total;
}

int flc_table_check(const struct flc_table *t)
{
	uint32_t empty = 0;

	if (t->slot_count == 0u || (t->slot_count & (t->slot_count - 1u)))
		return -EINVAL;
	if (t->output_ids > 65536u)
		return -EINVAL;
	for (uint32_t i = 0; i < t->slot_count; i++) {
		if (t->slots[i] == FLC_EMPTY_SLOT)
			empty++;
		else if (t->slots[i] >= t->message_count)
			return -EINVAL;
	}
	if (empty == 0u)
		return -EINVAL;

	for (uint32_t m = 0; m < t->message_count; m++) {
		const struct flc_message *msg = &t->messages[m];
		int64_t most;

		if (msg->length > FLC_MAX_PAYLOAD || msg->root >= t->node_count)
			return -EINVAL;
		if (t->nodes[msg->root].parent != FLC_EMPTY_SLOT)
			return -EINVAL;
		most = check_node(t, msg->root, 8u * msg->length, 1u);
		if (most < 0 || most > (int64_t)msg->max_values ||
		    msg->max_values > t->max_values)
			return -EINVAL;
	}
	return 0;
}
