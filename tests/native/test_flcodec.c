/*
 * Unit tests and a fuzzer for flcodec, built by native/Makefile.
 *
 * Every expected value is computed here by a bit-at-a-time reference that
 * shares no code with the decoder. The last line printed is
 * "N passed, N failed"; the exit status is 1 when anything failed.
 */
#include "flcodec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 64

static unsigned passed;
static unsigned failed;

#define CHECK(cond) check((cond), #cond, __FILE__, __LINE__)

static void check(int ok, const char *what, const char *file, int line)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	if (failed <= 20)
		fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
}

/* A table with room for a few messages, assembled by the tests. */
struct fixture {
	struct flc_message messages[MAX_ITEMS];
	struct flc_node nodes[MAX_ITEMS];
	struct flc_signal signals[MAX_ITEMS];
	struct flc_branch branches[MAX_ITEMS];
	uint32_t slots[MAX_ITEMS * 2];
	struct flc_table table;
};

/* A small deterministic generator, so failures repeat. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A random number below n. */
static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static void fill_random(uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		d[i] = (uint8_t)rnd();
}

static void fixture_reset(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->table.messages = f->messages;
	f->table.nodes = f->nodes;
	f->table.signals = f->signals;
	f->table.branches = f->branches;
	f->table.slots = f->slots;
	f->table.slot_count = MAX_ITEMS * 2;
	f->table.id_mask = 0xFFFFFFFFu;
	f->table.output_ids = 1000;
	for (unsigned i = 0; i < MAX_ITEMS * 2; i++)
		f->slots[i] = FLC_EMPTY_SLOT;
}

/* Appends a node holding the next count signals; returns its index. */
static uint32_t add_node(struct fixture *f, uint32_t first, uint32_t count,
			 uint32_t parent)
{
	uint32_t i = f->table.node_count++;

	f->nodes[i].first_signal = first;
	f->nodes[i].signal_count = count;
	f->nodes[i].parent = parent;
	return i;
}

static struct flc_signal *add_signal(struct fixture *f, uint16_t id,
				     unsigned start, unsigned length,
				     unsigned kind, unsigned order)
{
	struct flc_signal *s = &f->signals[f->table.signal_count++];

	s->id = id;
	s->start = (uint16_t)start;
	s->length = (uint8_t)length;
	s->kind = (uint8_t)kind;
	s->order = (uint8_t)order;
	s->scaling = FLC_SCALE_IDENTITY;
	s->scale = 1.0;
	return s;
}

/* Adds a message and places it in the lookup slots. */
static void add_message(struct fixture *f, uint32_t key, unsigned length,
			uint32_t root, uint32_t max_values)
{
	uint32_t m = f->table.message_count++;
	uint32_t slot = flc_slot_hash(key, f->table.slot_count);

	f->messages[m].key = key;
	f->messages[m].length = (uint16_t)length;
	f->messages[m].root = root;
	f->messages[m].max_values = max_values;
	if (max_values > f->table.max_values)
		f->table.max_values = max_values;
	while (f->slots[slot] != FLC_EMPTY_SLOT)
		slot = (slot + 1u) & (f->table.slot_count - 1u);
	f->slots[slot] = m;
}

/* The reference: bit by bit, in the numbering of the DBC. */
static uint64_t reference_bits(const uint8_t *d, unsigned start,
			       unsigned length, unsigned order)
{
	uint64_t v = 0;

	if (order == FLC_LITTLE_ENDIAN) {
		for (unsigned j = 0; j < length; j++) {
			unsigned pos = start + j;

			v |= (uint64_t)((d[pos / 8] >> (pos % 8)) & 1u) << j;
		}
		return v;
	}
	unsigned head = 8 * (start / 8) + 7 - start % 8;

	for (unsigned j = 0; j < length; j++) {
		unsigned pos = head + j;

		v = (v << 1) | ((d[pos / 8] >> (7 - pos % 8)) & 1u);
	}
	return v;
}

/* Decodes one frame of a one-signal table and returns the reading. */
static int decode_single(const struct fixture *f, const uint8_t *d,
			 size_t len, double *value, struct flc_exact *exact)
{
	uint16_t sig[4];
	double val[4];
	struct flc_exact ex[4];
	int n = flc_decode_frame(&f->table, 0x100, d, len, sig, val, ex, 4,
				 NULL);

	if (n == 1) {
		*value = val[0];
		*exact = ex[0];
	}
	return n;
}

static void one_signal_table(struct fixture *f, unsigned start,
			     unsigned length, unsigned kind, unsigned order,
			     unsigned bytes)
{
	fixture_reset(f);
	add_signal(f, 7, start, length, kind, order);
	add_node(f, 0, 1, FLC_EMPTY_SLOT);
	add_message(f, 0x100, bytes, 0, 1);
}

static void test_every_layout_reads_the_same_bits_as_the_reference(void)
{
	static const unsigned sizes[] = { 8, 64 };
	struct fixture f;
	uint8_t d[64];

	for (unsigned z = 0; z < 2; z++) {
		unsigned bits = 8 * sizes[z];
		unsigned step = sizes[z] == 8 ? 1 : 13;

		for (unsigned order = 0; order < 2; order++)
		for (unsigned length = 1; length <= 64; length++)
		for (unsigned start = 0; start < bits; start += step) {
			unsigned head = order ? 8 * (start / 8) + 7 - start % 8 : start;

			if (head + length > bits)
				continue;
			for (unsigned kind = 0; kind < 2; kind++) {
				double value = 0;
				struct flc_exact ex = { .kind = FLC_EXACT_NONE };
				uint64_t want;

				one_signal_table(&f, start, length, kind, order, sizes[z]);
				CHECK(flc_table_check(&f.table) == 0);
				fill_random(d, sizeof(d));
				want = reference_bits(d, start, length, order);
				CHECK(decode_single(&f, d, sizes[z], &value, &ex) == 1);
				if (kind == FLC_UNSIGNED) {
					CHECK(ex.kind == FLC_EXACT_UINT64 && ex.uvalue == want);
					CHECK(value == (double)want);
					continue;
				}
				int negative = (want >> (length - 1)) & 1u;
				int64_t sv = negative && length < 64
					? -(int64_t)((UINT64_C(1) << length) - want)
					: (int64_t)want;

				CHECK(ex.kind == FLC_EXACT_INT64 && ex.ivalue == sv);
				CHECK(value == (double)sv);
			}
		}
	}
}

static void test_signals_beyond_the_message_length_are_rejected(void)
{
	struct fixture f;

	one_signal_table(&f, 60, 8, FLC_UNSIGNED, FLC_LITTLE_ENDIAN, 8);
	CHECK(flc_table_check(&f.table) == -EINVAL);
	/* Motorola start 3 runs 4 bits in byte 0, then on into byte 1. */
	one_signal_table(&f, 3, 12, FLC_UNSIGNED, FLC_BIG_ENDIAN, 1);
	CHECK(flc_table_check(&f.table) == -EINVAL);
	one_signal_table(&f, 3, 12, FLC_UNSIGNED, FLC_BIG_ENDIAN, 2);
	CHECK(flc_table_check(&f.table) == 0);
}

static void test_scaling_rounds_as_python_does(void)
{
	struct fixture f;
	struct flc_exact ex = { .kind = FLC_EXACT_NONE };
	double value = 0;
	uint8_t d[8] = { 0xFF, 0x0F, 0, 0, 0, 0, 0, 0 };
	volatile double scale = 0.1;
	volatile double offset = -40.0;
	double product;

	one_signal_table(&f, 0, 16, FLC_UNSIGNED, FLC_LITTLE_ENDIAN, 8);
	f.signals[0].scaling = FLC_SCALE_LINEAR;
	f.signals[0].scale = scale;
	f.signals[0].offset = offset;
	CHECK(decode_single(&f, d, 8, &value, &ex) == 1);
	product = 4095.0 * scale;
	CHECK(value == product + offset);
	CHECK(ex.kind == FLC_EXACT_NONE);

	f.signals[0].scaling = FLC_SCALE_EXACT;
	f.signals[0].iscale = 3;
	f.signals[0].ioffset = -7;
	CHECK(decode_single(&f, d, 8, &value, &ex) == 1);
	CHECK(ex.kind == FLC_EXACT_INT64 && ex.ivalue == 4095 * 3 - 7);

	f.signals[0].scaling = FLC_SCALE_INT_PRODUCT;
	f.signals[0].offset = 0.5;
	CHECK(decode_single(&f, d, 8, &value, &ex) == 1);
	CHECK(value == 12285.5 && ex.kind == FLC_EXACT_NONE);
}

static void test_exact_integers_keep_every_bit_of_64_bit_values(void)
{
	struct fixture f;
	struct flc_exact ex = { .kind = FLC_EXACT_NONE };
	double value = 0;
	uint8_t d[8];

	memset(d, 0xFF, sizeof(d));
	one_signal_table(&f, 0, 64, FLC_UNSIGNED, FLC_LITTLE_ENDIAN, 8);
	CHECK(decode_single(&f, d, 8, &value, &ex) == 1);
	CHECK(ex.kind == FLC_EXACT_UINT64 && ex.uvalue == UINT64_MAX);

	f.signals[0].scaling = FLC_SCALE_EXACT;
	f.signals[0].iscale = 1;
	f.signals[0].ioffset = -1;
	CHECK(decode_single(&f, d, 8, &value, &ex) == 1);
	CHECK(ex.kind == FLC_EXACT_UINT64 && ex.uvalue == UINT64_MAX - 1);

	f.signals[0].iscale = 2;
	f.signals[0].ioffset = 0;
	CHECK(decode_single(&f, d, 8, &value, &ex) == 1);
	CHECK(ex.kind == FLC_EXACT_WIDE && ex.high == 1 && ex.uvalue == UINT64_MAX - 1);
	CHECK(value == 2.0 * 18446744073709551616.0);

	f.signals[0].kind = FLC_SIGNED;
	f.signals[0].iscale = INT64_MAX;
	memset(d, 0, sizeof(d));
	d[7] = 0x80;
	CHECK(decode_single(&f, d, 8, &value, &ex) == 1);
	/* -2^63 * (2^63 - 1) = -2^126 + 2^63 = -2^62 * 2^64 + 2^63. */
	CHECK(ex.kind == FLC_EXACT_WIDE && ex.high == -(INT64_C(1) << 62));
	CHECK(ex.uvalue == UINT64_C(1) << 63);
}

static void test_floats_of_each_width_decode_exactly(void)
{
	struct fixture f;
	struct flc_exact ex = { .kind = FLC_EXACT_NONE };
	double value = 0;
	uint8_t d[8] = { 0 };
	float single = -1.5f;
	double dbl = 3.141592653589793;
	uint32_t b32;
	uint64_t b64;

	memcpy(&b32, &single, 4);
	for (unsigned i = 0; i < 4; i++)
		d[i] = (uint8_t)(b32 >> (8 * i));
	one_signal_table(&f, 0, 32, FLC_FLOAT32, FLC_LITTLE_ENDIAN, 8);
	CHECK(flc_table_check(&f.table) == 0);
	CHECK(decode_single(&f, d, 8, &value, &ex) == 1 && value == -1.5);

	/* Motorola: most significant byte first, start bit 7. */
	memcpy(&b64, &dbl, 8);
	for (unsigned i = 0; i < 8; i++)
		d[i] = (uint8_t)(b64 >> (56 - 8 * i));
	one_signal_table(&f, 7, 64, FLC_FLOAT64, FLC_BIG_ENDIAN, 8);
	CHECK(decode_single(&f, d, 8, &value, &ex) == 1 && value == dbl);

	static const struct {
		uint16_t bits;
		double value;
	} halves[] = {
		{ 0x3C00, 1.0 }, { 0xC000, -2.0 }, { 0x0001, 0x1p-24 },
		{ 0x7BFF, 65504.0 }, { 0x7C00, INFINITY },
	};
	one_signal_table(&f, 0, 16, FLC_FLOAT16, FLC_LITTLE_ENDIAN, 2);
	for (unsigned i = 0; i < sizeof(halves) / sizeof(halves[0]); i++) {
		d[0] = (uint8_t)halves[i].bits;
		d[1] = (uint8_t)(halves[i].bits >> 8);
		CHECK(decode_single(&f, d, 2, &value, &ex) == 1);
		CHECK(value == halves[i].value);
	}
	d[0] = 0x01;
	d[1] = 0x7C;
	CHECK(decode_single(&f, d, 2, &value, &ex) == 1 && isnan(value));

	one_signal_table(&f, 0, 8, FLC_FLOAT16, FLC_LITTLE_ENDIAN, 2);
	CHECK(flc_table_check(&f.table) == -EINVAL);
}

/*
 * Message 0x200, 8 bytes: Mux (byte 0) selects 1 -> A (byte 1) or
 * 2 -> Sub (byte 2), and Sub selects 5 -> C (byte 3). Root also has R.
 */
static void nested_mux_table(struct fixture *f)
{
	struct flc_signal *mux;
	struct flc_signal *sub;

	fixture_reset(f);
	mux = add_signal(f, 0, 0, 8, FLC_UNSIGNED, FLC_LITTLE_ENDIAN);
	add_signal(f, 1, 56, 8, FLC_UNSIGNED, FLC_LITTLE_ENDIAN);
	add_signal(f, 2, 8, 8, FLC_UNSIGNED, FLC_LITTLE_ENDIAN);
	sub = add_signal(f, 3, 16, 8, FLC_UNSIGNED, FLC_LITTLE_ENDIAN);
	add_signal(f, 4, 24, 8, FLC_SIGNED, FLC_LITTLE_ENDIAN);

	mux->first_branch = 0;
	mux->branch_count = 2;
	sub->first_branch = 2;
	sub->branch_count = 1;
	f->branches[0] = (struct flc_branch){ .value = 1, .node = 1 };
	f->branches[1] = (struct flc_branch){ .value = 2, .node = 2 };
	f->branches[2] = (struct flc_branch){ .value = 5, .node = 3 };
	f->table.branch_count = 3;

	add_node(f, 0, 2, FLC_EMPTY_SLOT);
	add_node(f, 2, 1, 0);
	add_node(f, 3, 1, 1);
	add_node(f, 4, 1, 2);
	add_message(f, 0x200, 8, 0, 4);
}

static void test_nested_multiplexers_select_their_branches(void)
{
	struct fixture f;
	uint16_t sig[8];
	double val[8];
	uint8_t d[8] = { 1, 11, 22, 0xFE, 0, 0, 0, 99 };

	nested_mux_table(&f);
	CHECK(flc_table_check(&f.table) == 0);

	CHECK(flc_decode_frame(&f.table, 0x200, d, 8, sig, val, NULL, 8, NULL) == 3);
	CHECK(sig[0] == 0 && val[0] == 1 && sig[1] == 1 && val[1] == 99);
	CHECK(sig[2] == 2 && val[2] == 11);

	d[0] = 2;
	d[2] = 5;
	CHECK(flc_decode_frame(&f.table, 0x200, d, 8, sig, val, NULL, 8, NULL) == 4);
	CHECK(sig[2] == 3 && val[2] == 5 && sig[3] == 4 && val[3] == -2);

	d[2] = 6;
	CHECK(flc_decode_frame(&f.table, 0x200, d, 8, sig, val, NULL, 8, NULL) == -EBADMSG);
	d[0] = 3;
	CHECK(flc_decode_frame(&f.table, 0x200, d, 8, sig, val, NULL, 8, NULL) == -EBADMSG);
}

static void test_malformed_trees_are_rejected(void)
{
	struct fixture f;

	nested_mux_table(&f);
	f.nodes[3].parent = 1;
	CHECK(flc_table_check(&f.table) == -EINVAL);

	nested_mux_table(&f);
	f.branches[2].node = 0;
	CHECK(flc_table_check(&f.table) == -EINVAL);

	nested_mux_table(&f);
	f.branches[1].value = 1;
	CHECK(flc_table_check(&f.table) == -EINVAL);

	nested_mux_table(&f);
	f.messages[0].max_values = 3;
	CHECK(flc_table_check(&f.table) == -EINVAL);

	nested_mux_table(&f);
	f.signals[2].id = 1000;
	CHECK(flc_table_check(&f.table) == -EINVAL);

	nested_mux_table(&f);
	f.table.slot_count = 96;
	CHECK(flc_table_check(&f.table) == -EINVAL);

	nested_mux_table(&f);
	f.table.slot_count = 1;
	f.slots[0] = 0;
	CHECK(flc_table_check(&f.table) == -EINVAL);
}

static void test_nesting_deeper_than_the_limit_is_rejected(void)
{
	struct fixture f;
	unsigned depth = FLC_MAX_DEPTH + 1;

	fixture_reset(&f);
	for (unsigned i = 0; i < depth; i++) {
		struct flc_signal *s = add_signal(&f, (uint16_t)i, 0, 8,
						  FLC_UNSIGNED, FLC_LITTLE_ENDIAN);

		add_node(&f, i, 1, i == 0 ? FLC_EMPTY_SLOT : i - 1);
		if (i + 1 < depth) {
			s->first_branch = i;
			s->branch_count = 1;
			f.branches[i] = (struct flc_branch){ .value = 0, .node = i + 1 };
			f.table.branch_count++;
		}
	}
	add_message(&f, 0x300, 8, 0, depth);
	CHECK(flc_table_check(&f.table) == -EINVAL);
	f.signals[FLC_MAX_DEPTH - 1].branch_count = 0;
	CHECK(flc_table_check(&f.table) == 0);
}

static void test_lookup_follows_the_extended_and_mask_rules(void)
{
	struct fixture f;

	fixture_reset(&f);
	add_node(&f, 0, 0, FLC_EMPTY_SLOT);
	add_message(&f, 0x123, 0, 0, 0);
	add_message(&f, 0x123u | FLC_EXTENDED, 0, 0, 0);
	add_message(&f, 0x18FEF100u | FLC_EXTENDED, 0, 0, 0);
	CHECK(flc_table_check(&f.table) == 0);

	CHECK(flc_lookup(&f.table, 0x123) == 0);
	CHECK(flc_lookup(&f.table, 0x80000123u) == 1);
	CHECK(flc_lookup(&f.table, 0x18FEF100u) == 2);
	CHECK(flc_lookup(&f.table, 0x98FEF100u) == 2);
	CHECK(flc_lookup(&f.table, 0x18FEF101u) == -ENOENT);
	CHECK(flc_lookup(&f.table, 0x124) == -ENOENT);

	/* A J1939 mask drops the source address before lookup. */
	f.table.id_mask = 0x1FFFFF00u;
	CHECK(flc_lookup(&f.table, 0x18FEF1A5u) == 2);
	CHECK(flc_lookup(&f.table, 0x18FEF2A5u) == -ENOENT);
}

static void test_short_frames_and_small_outputs_are_refused(void)
{
	struct fixture f;
	uint16_t sig[8];
	double val[8];
	uint8_t d[8] = { 1 };
	int32_t message = 7;

	nested_mux_table(&f);
	CHECK(flc_decode_frame(&f.table, 0x200, d, 7, sig, val, NULL, 8, &message) == -EMSGSIZE);
	CHECK(message == 0);
	CHECK(flc_decode_frame(&f.table, 0x200, d, 8, sig, val, NULL, 3, NULL) == -ENOSPC);
	CHECK(flc_decode_frame(&f.table, 0x201, d, 8, sig, val, NULL, 8, &message) == -ENOENT);
	CHECK(message == -1);
	f.messages[0].flags = FLC_MESSAGE_CONTAINER;
	CHECK(flc_decode_frame(&f.table, 0x200, d, 8, sig, val, NULL, 8, NULL) == -EBADMSG);
}

static void test_batches_count_what_they_cannot_decode(void)
{
	struct fixture f;
	uint32_t ids[5] = { 0x200, 0x999, 0x200, 0x200, 0x200 };
	uint8_t payloads[5 * 8] = { 0 };
	uint8_t lengths[5] = { 8, 8, 5, 8, 200 };
	int64_t frame[32];
	uint16_t sig[32];
	double val[32];
	struct flc_counts counts = { 0 };
	size_t done = 0;
	int64_t n;

	nested_mux_table(&f);
	payloads[0] = 1;
	payloads[16] = 1;
	payloads[24] = 9;
	payloads[32] = 2;
	payloads[34] = 5;

	n = flc_decode_batch(&f.table, 5, ids, payloads, 8, lengths, frame,
			     sig, val, 32, &done, &counts);
	CHECK(n == 7 && done == 5);
	CHECK(counts.frames == 5 && counts.unknown_id == 1);
	CHECK(counts.too_short == 1 && counts.undecodable == 1);
	CHECK(frame[0] == 0 && frame[2] == 0 && frame[3] == 4 && frame[6] == 4);
	CHECK(sig[6] == 4);

	/* Room for one frame at a time: the call stops and resumes. */
	memset(&counts, 0, sizeof(counts));
	n = flc_decode_batch(&f.table, 5, ids, payloads, 8, NULL, frame, sig,
			     val, 5, &done, &counts);
	CHECK(n == 3 && done == 2 && counts.frames == 2);

	CHECK(flc_decode_batch(&f.table, 5, ids, payloads, 0, NULL, frame, sig,
			       val, 32, &done, &counts) == -EINVAL);
	CHECK(flc_decode_batch(&f.table, 5, ids, payloads, 65, NULL, frame,
			       sig, val, 32, &done, &counts) == -EINVAL);
}

/* A random table whose signals all fit; used by the fuzzer. */
static void random_table(struct fixture *f)
{
	unsigned messages = 1 + below(6);

	fixture_reset(f);
	for (unsigned m = 0; m < messages; m++) {
		unsigned bytes = below(2) ? 8 : 1 + below(64);
		unsigned count = below(5);
		uint32_t first = f->table.signal_count;

		for (unsigned i = 0; i < count; i++) {
			unsigned order = rnd() % 2;
			unsigned length = 1 + below(bytes * 8 < 64 ? bytes * 8 : 64);
			unsigned room = 8 * bytes - length;
			unsigned pos = below(room + 1);
			unsigned start = order ? 8 * (pos / 8) + 7 - pos % 8 : pos;
			struct flc_signal *s = add_signal(f, (uint16_t)(rnd() % 1000),
							  start, length,
							  rnd() % 2, order);

			s->scaling = (uint8_t)(rnd() % 4);
			s->scale = (double)(rnd() % 1000) / 7.0;
			s->offset = -(double)(rnd() % 100);
			s->iscale = (int64_t)(rnd() % 2000) - 1000;
			s->ioffset = (int64_t)rnd();
		}
		add_node(f, first, count, FLC_EMPTY_SLOT);
		add_message(f, (uint32_t)(m * 0x1F0u + (rnd() % 2 ? FLC_EXTENDED : 0)),
			    bytes, m, count);
	}
}

/* Decodes random frames from exactly sized heap buffers. */
static void fuzz_frames(const struct flc_table *t)
{
	uint16_t sig[FLC_MAX_DEPTH * MAX_ITEMS];
	double val[FLC_MAX_DEPTH * MAX_ITEMS];
	struct flc_exact ex[FLC_MAX_DEPTH * MAX_ITEMS];
	size_t n = rnd() % 40;
	size_t stride = 1 + rnd() % 64;
	uint32_t *ids = malloc((n + 1) * sizeof(*ids));
	uint8_t *payloads = malloc(n * stride + 1);
	uint8_t *lengths = malloc(n + 1);
	int64_t *frame = malloc((n * t->max_values + 1) * sizeof(*frame));
	uint16_t *osig = malloc((n * t->max_values + 1) * sizeof(*osig));
	double *oval = malloc((n * t->max_values + 1) * sizeof(*oval));
	struct flc_counts counts = { 0 };
	size_t done = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t pick = (uint32_t)(rnd() % t->message_count);

		ids[i] = rnd() % 3 ? t->messages[pick].key : (uint32_t)rnd();
		lengths[i] = (uint8_t)rnd();
	}
	fill_random(payloads, n * stride);
	int64_t got = flc_decode_batch(t, n, ids, payloads, stride,
				       rnd() % 2 ? lengths : NULL, frame,
				       osig, oval, n * t->max_values, &done,
				       &counts);
	CHECK(got >= 0 && done == n && counts.frames == n);

	for (size_t i = 0; i < n; i++) {
		size_t len = rnd() % 70;
		uint8_t *data = malloc(len + 1);

		fill_random(data, len);
		int rc = flc_decode_frame(t, ids[i], data, len, sig, val, ex,
					  sizeof(sig) / sizeof(sig[0]), NULL);
		CHECK(rc >= 0 || rc == -ENOENT || rc == -EMSGSIZE ||
		      rc == -EBADMSG);
		free(data);
	}
	free(ids);
	free(payloads);
	free(lengths);
	free(frame);
	free(osig);
	free(oval);
}

static void test_fuzzed_frames_and_tables_never_misbehave(void)
{
	struct fixture f;
	unsigned accepted = 0;

	for (unsigned round = 0; round < 3000; round++) {
		random_table(&f);
		CHECK(flc_table_check(&f.table) == 0);
		fuzz_frames(&f.table);

		/* Flip random bytes of the table; what passes must decode. */
		uint8_t *raw = (uint8_t *)f.signals;

		for (unsigned k = 0; k < 1 + rnd() % 4; k++)
			raw[rnd() % sizeof(f.signals)] = (uint8_t)rnd();
		if (rnd() % 4 == 0)
			((uint8_t *)f.nodes)[rnd() % sizeof(f.nodes)] = (uint8_t)rnd();
		if (flc_table_check(&f.table) == 0) {
			accepted++;
			fuzz_frames(&f.table);
		}
	}
	CHECK(accepted > 0);
}

int main(void)
{
	test_every_layout_reads_the_same_bits_as_the_reference();
	test_signals_beyond_the_message_length_are_rejected();
	test_scaling_rounds_as_python_does();
	test_exact_integers_keep_every_bit_of_64_bit_values();
	test_floats_of_each_width_decode_exactly();
	test_nested_multiplexers_select_their_branches();
	test_malformed_trees_are_rejected();
	test_nesting_deeper_than_the_limit_is_rejected();
	test_lookup_follows_the_extended_and_mask_rules();
	test_short_frames_and_small_outputs_are_refused();
	test_batches_count_what_they_cannot_decode();
	test_fuzzed_frames_and_tables_never_misbehave();

	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
