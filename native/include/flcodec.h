/*
 * flcodec: a table-driven decoder for CAN frames described by a DBC.
 *
 * This header is the contract. The table is plain data built elsewhere (by
 * edge/codec_table.py from a cantools database); the code here never parses
 * a DBC and never allocates. A table is checked once by flc_table_check();
 * after that, every decode function reads only inside the table and inside
 * the byte ranges its caller passes, whatever the frame ids and bytes are.
 *
 * Results are a count (zero or more) or a negative errno value:
 *   -ENOENT    no message of the table has this frame id
 *   -EMSGSIZE  the frame carries fewer bytes than its message needs
 *   -EBADMSG   the frame's multiplexer selects no branch, or the message
 *              cannot be decoded as plain signals (a container message)
 *   -ENOSPC    the output arrays cannot hold the frame's values
 *   -EINVAL    the table or an argument is malformed
 */
#ifndef FLCODEC_H
#define FLCODEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bit 31 of a lookup key marks an extended (29-bit) frame id. */
#define FLC_EXTENDED 0x80000000u
/* Ids above this are extended even without bit 31, as in cantools. */
#define FLC_STANDARD_MAX 0x7FFu
/* Largest CAN FD payload, and so the largest message length. */
#define FLC_MAX_PAYLOAD 64u
/* Deepest nesting of multiplexers a table may use (the root is depth 1). */
#define FLC_MAX_DEPTH 16u
/* A lookup slot that holds no message. */
#define FLC_EMPTY_SLOT 0xFFFFFFFFu

/* How the raw bits of a signal are read. */
enum flc_kind {
	FLC_UNSIGNED = 0,
	FLC_SIGNED = 1,   /* two's complement */
	FLC_FLOAT16 = 2,  /* IEEE 754 half, length 16 */
	FLC_FLOAT32 = 3,  /* IEEE 754 single, length 32 */
	FLC_FLOAT64 = 4,  /* IEEE 754 double, length 64 */
};

/* Where the bits of a signal lie in the payload. */
enum flc_order {
	FLC_LITTLE_ENDIAN = 0, /* Intel: start is the least significant bit */
	FLC_BIG_ENDIAN = 1,    /* Motorola: start is the most significant bit */
};

/*
 * How a raw value becomes a physical value. The three ways reproduce the
 * arithmetic of cantools' conversions, so results are equal to the bit.
 */
enum flc_scaling {
	/* raw * iscale + ioffset in exact integer arithmetic (integer raw). */
	FLC_SCALE_EXACT = 0,
	/* (double)raw * scale + offset, each step rounded to double. */
	FLC_SCALE_LINEAR = 1,
	/* (double)(raw * iscale), product exact, then + offset as double. */
	FLC_SCALE_INT_PRODUCT = 2,
	/* The raw value itself: exact for integers, unchanged for floats. */
	FLC_SCALE_IDENTITY = 3,
};

/*
 * One signal as it sits in a decode node. start uses the DBC numbering of
 * its byte order (sawtooth for big endian). A signal whose branch_count is
 * not zero is a multiplexer: after its node is decoded, its value selects
 * one of branches[first_branch .. first_branch + branch_count), which are
 * sorted by value.
 */
struct flc_signal {
	double scale;
	double offset;
	int64_t iscale;
	int64_t ioffset;
	uint32_t first_branch;
	uint32_t branch_count;
	uint16_t id;     /* output signal id */
	uint16_t start;  /* DBC start bit, 0 .. 511 */
	uint8_t length;  /* 1 .. 64 */
	uint8_t kind;    /* enum flc_kind */
	uint8_t order;   /* enum flc_order */
	uint8_t scaling; /* enum flc_scaling */
};

/*
 * A set of signals decoded together: a message's root or one branch.
 * parent is the index of the one branch that selects this node, or
 * FLC_EMPTY_SLOT for a message root; it keeps the nodes a tree.
 */
struct flc_node {
	uint32_t first_signal;
	uint32_t signal_count;
	uint32_t parent;
	uint32_t reserved;
};

/* One multiplexer value and the node it selects (always a later node). */
struct flc_branch {
	int64_t value;
	uint32_t node;
	uint32_t reserved;
};

/* Message flags. */
#define FLC_MESSAGE_CONTAINER 0x01u

/* One message: its lookup key, payload length and root node. */
struct flc_message {
	uint32_t key;        /* (frame id & id mask) | FLC_EXTENDED if extended */
	uint32_t root;       /* index of its root node */
	uint32_t max_values; /* most values one frame of it can yield */
	uint16_t length;     /* bytes the message needs, 0 .. 64 */
	uint8_t flags;
	uint8_t reserved;
};

/*
 * A whole decode table. slots is an open-addressing hash from lookup key to
 * message index: slot_count is a power of two, the first probe is
 * flc_slot_hash(key, slot_count) and probing goes on to the next slot until
 * an FLC_EMPTY_SLOT.
 */
struct flc_table {
	const struct flc_message *messages;
	const struct flc_node *nodes;
	const struct flc_signal *signals;
	const struct flc_branch *branches;
	const uint32_t *slots;
	uint32_t message_count;
	uint32_t node_count;
	uint32_t signal_count;
	uint32_t branch_count;
	uint32_t slot_count;
	uint32_t id_mask;     /* applied to frame ids before lookup */
	uint32_t output_ids;  /* every signal id is below this */
	uint32_t max_values;  /* largest max_values of any message */
};

/* The exact value of an integer signal, when the caller asks for it. */
enum flc_exact_kind {
	FLC_EXACT_NONE = 0,   /* only the double is meaningful */
	FLC_EXACT_INT64 = 1,  /* ivalue holds the exact value */
	FLC_EXACT_UINT64 = 2, /* uvalue holds the exact value */
	FLC_EXACT_WIDE = 3,   /* the value is high * 2^64 + uvalue */
};

struct flc_exact {
	union {
		int64_t ivalue;
		uint64_t uvalue;
	};
	int64_t high; /* only for FLC_EXACT_WIDE */
	uint8_t kind; /* enum flc_exact_kind */
};

/* What a batch decode has seen; functions add to these, never reset. */
struct flc_counts {
	uint64_t frames;
	uint64_t unknown_id;
	uint64_t too_short;
	uint64_t undecodable;
};

/*
 * Returns the first lookup slot of key in a table of slot_count slots.
 * Python computes the same function to place messages.
 */
uint32_t flc_slot_hash(uint32_t key, uint32_t slot_count);

/*
 * Checks that every index, length, kind and count in t is in range, that
 * every signal of a message lies inside its length, that branches point
 * forward to nodes whose parent they are, that branch values are sorted,
 * that nesting stays within FLC_MAX_DEPTH and that each message's
 * max_values covers its longest decode path.
 * Returns 0 for a table the decode functions can use, else -EINVAL.
 */
int flc_table_check(const struct flc_table *t);

/*
 * Finds the message a frame id names, applying cantools' rules: an id above
 * 0x7FF is extended, the id mask is applied, then the key is looked up.
 * Returns the message index, or -ENOENT.
 */
int32_t flc_lookup(const struct flc_table *t, uint32_t frame_id);

/*
 * Decodes one frame of len bytes at data into at most cap pairs of
 * (signal id, value). exact may be NULL; when given it receives the exact
 * integer of each value that has one. Bytes past the message length are
 * ignored. Returns the number of values, or -ENOENT, -EMSGSIZE, -EBADMSG,
 * -ENOSPC. *message is set to the message index when one was found, else
 * to -1; message may be NULL.
 */
int flc_decode_frame(const struct flc_table *t, uint32_t frame_id,
		     const uint8_t *data, size_t len, uint16_t *sig,
		     double *val, struct flc_exact *exact, size_t cap,
		     int32_t *message);

/*
 * Decodes n frames: ids[i] with payload bytes payloads[i * stride ..] of
 * which lengths[i] are valid (stride when lengths is NULL; a length above
 * stride counts as stride). stride is 1 .. 64. Values go to out_frame,
 * out_sig and out_val, in frame order, at most cap of them; a frame is only
 * decoded when its message's max_values still fit, so *frames_done may be
 * below n, and a call on the rest continues. Unknown, short and undecodable
 * frames yield nothing and are added to counts. Returns the number of
 * values written, or -EINVAL for a bad stride.
 */
int64_t flc_decode_batch(const struct flc_table *t, size_t n,
			 const uint32_t *ids, const uint8_t *payloads,
			 size_t stride, const uint8_t *lengths,
			 int64_t *out_frame, uint16_t *out_sig, double *out_val,
			 size_t cap, size_t *frames_done,
			 struct flc_counts *counts);

#ifdef __cplusplus
}
#endif

#endif /* FLCODEC_H */
