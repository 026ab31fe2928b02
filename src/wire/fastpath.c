/*-------------------------------------------------------------------------
 *
 * fastpath.c
 *	  The write path's in-place reading of a decompressed WriteRequest.
 *
 * protobuf-c unpacks every label into a message of its own and copies its
 * bytes; validation then reads every byte again.  For the usual request --
 * series of labels and samples, as Prometheus sends them -- this file walks
 * the protobuf wire format once and builds light prometheus.WriteRequest
 * structures whose label names and values point into the decompressed buffer,
 * with all series, labels and samples of the request in five arena arrays.
 * Each series also gets a key: its Label fields' bytes as sent (the replica
 * label set aside) and a 64-bit hash of them, which the caller's series cache
 * looks up (a hit needs neither validation nor SHA-256).
 *
 * Anything unusual -- a field other than labels and samples, a wrong wire
 * type, a repeated scalar, exemplars, histograms, metadata -- returns false
 * and the caller runs the full decoder (decode.c), which accepts or rejects
 * as it always did.  The same holds for a request that might approach the
 * decoder's memory bound (max_amplification): from the counts of messages,
 * fields and bytes an upper bound of what protobuf-c would allocate is
 * computed, and unless it is clearly below the bound the full decoder
 * decides.  So this path accepts only what the decoder accepts, yields the
 * same series and samples, and rejects nothing itself; test/fuzz/
 * fuzz_fastpath.c checks that against the decoder.
 *
 * Plain C, no PostgreSQL headers.  Field numbers: proto/types.proto and
 * proto/remote.proto.
 *
 *-------------------------------------------------------------------------
 */
#include "wire/fastpath.h"

#include <string.h>

#include "wire/pbwire.h"

/* decode.c's arena block, and protobuf-c's per-field scan record (bytes, rounded up) */
#define ARENA_BLOCK			(256 * 1024)
#define SCANNED_MEMBER		40
#define SLAB_FIRST			16		/* fields protobuf-c scans without allocating */

/*
 * Counts of the first pass, and a bound of the arena bytes protobuf-c would
 * take: allocations of at most ARENA_BLOCK / 4 share blocks (small, the
 * largest max_alloc), larger ones get a block of their own (big).
 */
typedef struct Counts
{
	size_t		nseries;
	size_t		nlabels;
	size_t		nsamples;
	size_t		small;
	size_t		big;
	size_t		max_alloc;
} Counts;

/* One allocation of protobuf-c, as pha_arena_alloc rounds it. */
static inline void
add_alloc(Counts *c, size_t size)
{
	size = (size + 15) & ~(size_t) 7;	/* 8-aligned, and never 0 */
	if (size > ARENA_BLOCK / 4)
		c->big += size;
	else
	{
		c->small += size;
		if (size > c->max_alloc)
			c->max_alloc = size;
	}
}

/* protobuf-c's scan slabs for a message of n fields: none up to 16, then doubling. */
static void
add_slabs(Counts *c, size_t n)
{
	size_t		cap = SLAB_FIRST,
				size = SLAB_FIRST;

	while (cap < n)
	{
		size *= 2;
		add_alloc(c, size * SCANNED_MEMBER);
		cap += size;
	}
}

static inline uint64_t
rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* One step of the hash: mix 8 bytes into h. */
static inline uint64_t
hash_word(uint64_t h, uint64_t w)
{
	h ^= w * 0x9E3779B97F4A7C15ULL;
	return rotl64(h, 29) * 0xBF58476D1CE4E5B9ULL;
}

/*
 * Mix n bytes into h: four independent lanes of 8 bytes while 32 remain (the
 * multiplies of one lane do not wait for the others'), then word by word, and
 * the last 0-7 bytes as one word (overlapping loads).
 */
static uint64_t
hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	uint64_t	w;

	if (n >= 32)
	{
		uint64_t	l0 = h,
					l1 = h ^ 0x452821E638D01377ULL,
					l2 = h ^ 0xBE5466CF34E90C6CULL,
					l3 = h ^ 0xC0AC29B7C97C50DDULL;

		for (; n >= 32; p += 32, n -= 32)
		{
			uint64_t	w4[4];

			memcpy(w4, p, 32);
			l0 = hash_word(l0, w4[0]);
			l1 = hash_word(l1, w4[1]);
			l2 = hash_word(l2, w4[2]);
			l3 = hash_word(l3, w4[3]);
		}
		h = hash_word(hash_word(hash_word(l0, l1), l2), l3);
	}
	for (; n >= 8; p += 8, n -= 8)
	{
		memcpy(&w, p, 8);
		h = hash_word(h, w);
	}
	/* the last 0-7 bytes in one word, without a store and reload of a copy */
	if (n >= 4)
	{
		uint32_t	lo,
					hi;

		memcpy(&hi, p, 4);
		memcpy(&lo, p + n - 4, 4);
		w = ((uint64_t) hi << 32) | lo;
	}
	else if (n > 0)
		w = ((uint64_t) p[0] << 16) | ((uint64_t) p[n >> 1] << 8) | p[n - 1];
	else
		w = 0;
	return hash_word(h, w ^ ((uint64_t) n << 56));
}

uint64_t
pha_wire_hash(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint64_t seed)
{
	uint64_t	h = hash_bytes(seed ^ 0x243F6A8885A308D3ULL, a, alen);

	h = hash_bytes(h, b, blen);
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDULL;
	h ^= h >> 33;
	return h;
}

bool
pha_wire_key_equal(const PhaWireKey *key, const uint8_t *p, size_t len)
{
	return key->len[0] + key->len[1] == len &&
		(key->len[0] == 0 || memcmp(p, key->part[0], key->len[0]) == 0) &&
		(key->len[1] == 0 || memcmp(p + key->len[0], key->part[1], key->len[1]) == 0);
}

/*
 * A field of a TimeSeries in the usual encoding -- the one-byte key of field
 * 1 or 2, length-delimited, a one-byte length -- read without a call, with the
 * result pha_pb_get_field gives; anything else goes to it.
 */
static inline bool
get_series_field(const uint8_t **p, const uint8_t *end, uint32_t *field, int *wt,
				 const uint8_t **sub, const uint8_t **sub_end)
{
	const uint8_t *q = *p;

	if (end - q >= 2 && (q[0] == 0x0A || q[0] == 0x12) && q[1] < 0x80 &&
		(size_t) q[1] <= (size_t) (end - q) - 2)
	{
		*field = q[0] >> 3;
		*wt = PHA_PB_WT_LEN;
		*sub = q + 2;
		*sub_end = *p = q + 2 + q[1];
		return true;
	}
	return pha_pb_get_field(p, end, field, wt, sub, sub_end);
}

/*
 * One Label field of len bytes: protobuf-c's allocations for it (the Label,
 * its name and value copied: together at most len + 16).  False for a label
 * so large that the decoder must judge.
 */
static inline bool
count_label(Counts *c, size_t len)
{
	if (len > ARENA_BLOCK / 8)
		return false;
	add_alloc(c, sizeof(Prometheus__Label));
	add_alloc(c, len);
	add_alloc(c, 0);
	return true;
}

/* A series of nl labels and ns samples read: its own allocations, and the counts. */
static void
count_series_end(Counts *c, size_t nl, size_t ns)
{
	add_alloc(c, sizeof(Prometheus__TimeSeries));
	add_alloc(c, nl * sizeof(void *));
	add_alloc(c, ns * sizeof(void *));
	add_slabs(c, nl + ns);
	c->nlabels += nl;
	c->nsamples += ns;
	c->nseries++;
}

/* First pass over one series: count, and add protobuf-c's allocations to the bound. */
static bool
count_series(const uint8_t *p, const uint8_t *end, Counts *c)
{
	size_t		nl = 0,
				ns = 0;

	while (p < end)
	{
		uint32_t	field;
		int			wt;
		const uint8_t *sub = NULL,
				   *sub_end = NULL;

		if (!get_series_field(&p, end, &field, &wt, &sub, &sub_end) || wt != PHA_PB_WT_LEN ||
			(field != 1 && field != 2))
			return false;		/* exemplars, histograms, unknown fields */
		if (field == 1)
		{
			if (!count_label(c, (size_t) (sub_end - sub)))
				return false;	/* a huge label: the decoder judges */
			nl++;
		}
		else
		{
			ns++;
			add_alloc(c, sizeof(Prometheus__Sample));
		}
	}
	count_series_end(c, nl, ns);
	return true;
}

/*
 * First pass over the request: count series, labels and samples.  False for
 * anything this file leaves to the full decoder: metadata, unknown fields,
 * malformed messages, no series or too many, and a request that might come
 * near the decoder's memory bound.
 */
static bool within_bounds(size_t raw_len, const PhaDecodeLimits *limits, Counts *c);

static bool
count_request(const uint8_t *raw, size_t raw_len, const PhaDecodeLimits *limits, Counts *c)
{
	const uint8_t *p = raw;
	const uint8_t *end = raw + raw_len;

	memset(c, 0, sizeof(*c));
	while (p < end)
	{
		uint32_t	field;
		int			wt;
		const uint8_t *sub = NULL,
				   *sub_end = NULL;

		if (!pha_pb_get_field(&p, end, &field, &wt, &sub, &sub_end) || field != 1 || wt != PHA_PB_WT_LEN ||
			!count_series(sub, sub_end, c))
			return false;		/* metadata, unknown fields, malformed */
	}
	return within_bounds(raw_len, limits, c);
}

/* Are the counts of count_series within the limits and the decoder's memory bound? */
static bool
within_bounds(size_t raw_len, const PhaDecodeLimits *limits, Counts *c)
{
	if (c->nseries == 0 || (limits->max_series > 0 && c->nseries > limits->max_series))
		return false;

	/*
	 * The decoder refuses to take more than raw_len * max_amplification plus
	 * four blocks (decode.c).  Small allocations fill each new block to at
	 * least ARENA_BLOCK - max_alloc, and the last one may be new and nearly
	 * empty; big ones take what they ask.  Only when that bound is within the
	 * decoder's is this path taken.
	 */
	add_alloc(c, sizeof(Prometheus__WriteRequest));
	add_alloc(c, c->nseries * sizeof(void *));
	add_slabs(c, c->nseries);
	if (limits->max_amplification > 0)
	{
		double		bound = (double) c->small * ARENA_BLOCK / (ARENA_BLOCK - c->max_alloc) +
			ARENA_BLOCK + (double) c->big;

		if (bound > (double) raw_len * (double) limits->max_amplification + 4.0 * ARENA_BLOCK)
			return false;
	}
	return true;
}

/* Label{name=1, value=2}, each at most once; a missing one is empty, as in protobuf-c. */
static inline bool
read_label(const uint8_t *p, const uint8_t *end, Prometheus__Label *l)
{
	bool		has_name = false,
				has_value = false;

	while (p < end)
	{
		uint32_t	field;
		int			wt;
		const uint8_t *sub = NULL,
				   *sub_end = NULL;

		if (!pha_pb_get_field(&p, end, &field, &wt, &sub, &sub_end) || wt != PHA_PB_WT_LEN)
			return false;
		if (field == 1 && !has_name)
		{
			l->name.data = (uint8_t *) sub;
			l->name.len = (size_t) (sub_end - sub);
			has_name = true;
		}
		else if (field == 2 && !has_value)
		{
			l->value.data = (uint8_t *) sub;
			l->value.len = (size_t) (sub_end - sub);
			has_value = true;
		}
		else
			return false;
	}
	return true;
}

/* Sample{value=1 (double), timestamp=2 (int64)}, each at most once, 0 when missing. */
static inline bool
read_sample(const uint8_t *p, const uint8_t *end, Prometheus__Sample *s)
{
	bool		has_value = false,
				has_time = false;

	while (p < end)
	{
		uint32_t	field;
		int			wt;
		const uint8_t *sub = NULL,
				   *sub_end = NULL;
		uint64_t	v;

		if (!pha_pb_get_field(&p, end, &field, &wt, &sub, &sub_end))
			return false;
		if (field == 1 && wt == PHA_PB_WT_FIXED64 && !has_value)
		{
			memcpy(&v, sub, 8);
			memcpy(&s->value, &v, 8);
			has_value = true;
		}
		else if (field == 2 && wt == PHA_PB_WT_VARINT && !has_time)
		{
			if (!pha_pb_get_varint(&sub, end, &v))
				return false;
			s->timestamp = (int64_t) v;
			has_time = true;
		}
		else
			return false;
	}
	return true;
}

/*
 * read_sample for the usual encoding, the value (fixed64) then the timestamp
 * (a varint) and nothing else, read without a call; anything else goes to
 * read_sample.
 */
static inline bool
read_sample_short(const uint8_t *p, const uint8_t *end, Prometheus__Sample *s)
{
	const uint8_t *q = p + 10;
	uint64_t	v;

	if (end - p >= 11 && p[0] == 0x09 && p[9] == 0x10 &&
		pha_pb_get_varint(&q, end, &v) && q == end)
	{
		memcpy(&s->value, p + 1, 8);
		s->timestamp = (int64_t) v;
		return true;
	}
	s->timestamp = 0;
	return read_sample(p, end, s);
}

/* Byte-wise order of two names, as Prometheus sorts them. */
static inline int
name_cmp(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	size_t		n = a->len < b->len ? a->len : b->len;
	int			r = n ? memcmp(a->data, b->data, n) : 0;

	return r != 0 ? r : (a->len > b->len) - (a->len < b->len);
}

/* Per-request state of the second pass. */
typedef struct Fill
{
	const PhaDecodeLimits *limits;
	const char *rl;
	size_t		rl_len;
	const char *cl;				/* NULL: out->ha is not filled */
	size_t		cl_len;
	uint64_t	seed;
	Prometheus__Label **lptr;
	Prometheus__Label *labels;
	Prometheus__Sample **sptr;
	Prometheus__Sample *samples;
} Fill;

/* Second pass over one series: fill ts and its key. */
static bool
fill_series(const uint8_t *p, const uint8_t *end, Fill *f, Prometheus__TimeSeries *ts,
			PhaWireKey *key, Prometheus__Label **ha)
{
	static const Prometheus__Label label_init = PROMETHEUS__LABEL__INIT;
	static const Prometheus__Sample sample_init = PROMETHEUS__SAMPLE__INIT;
	const uint8_t *first = NULL,
			   *last = NULL,
			   *rs = NULL,
			   *re = NULL;
	bool		ok = true;
	const PhaDecodeLimits *lim = f->limits;
	Prometheus__Label *hc = NULL,
			   *hr = NULL;

	ts->labels = f->lptr;
	ts->samples = f->sptr;
	while (p < end)
	{
		uint32_t	field;
		int			wt;
		const uint8_t *start = p,
				   *sub = NULL,
				   *sub_end = NULL;

		if (!get_series_field(&p, end, &field, &wt, &sub, &sub_end))
			return false;
		if (field == 1)
		{
			Prometheus__Label *l = f->labels++;

			*l = label_init;
			if (!read_label(sub, sub_end, l))
				return false;
			f->lptr[ts->n_labels] = l;
			if (first == NULL)
				first = start;
			else if (start != last)
				ok = false;		/* labels not in one run: no key */
			last = p;
			if (l->value.len == 0 ||
				(lim->max_label_name_len > 0 && l->name.len > lim->max_label_name_len) ||
				(lim->max_label_value_len > 0 && l->value.len > lim->max_label_value_len) ||
				(ts->n_labels > 0 && name_cmp(&ts->labels[ts->n_labels - 1]->name, &l->name) >= 0))
				ok = false;
			if (f->rl_len > 0 && l->name.len == f->rl_len &&
				memcmp(l->name.data, f->rl, f->rl_len) == 0)
			{
				if (rs != NULL || !pha_label_name_valid(l->name.data, l->name.len) ||
					!pha_utf8_valid(l->value.data, l->value.len))
					ok = false;
				rs = start;
				re = p;
				hr = l;
			}
			else if (f->cl != NULL && l->name.len == f->cl_len &&
					 memcmp(l->name.data, f->cl, f->cl_len) == 0)
				hc = l;
			ts->n_labels++;
		}
		else
		{
			Prometheus__Sample *s = f->samples++;

			*s = sample_init;
			if (!read_sample_short(sub, sub_end, s))
				return false;
			f->sptr[ts->n_samples++] = s;
		}
	}
	f->lptr += ts->n_labels;
	f->sptr += ts->n_samples;
	if (lim->max_labels > 0 && ts->n_labels > lim->max_labels)
		ok = false;
	key->cacheable = ok && first != NULL;
	if (ha != NULL)
	{
		/* sorted, unique, no empty value: validation keeps these labels */
		ha[0] = key->cacheable ? hc : NULL;
		ha[1] = key->cacheable ? hr : NULL;
	}
	if (!key->cacheable)
	{
		key->part[0] = key->part[1] = NULL;
		key->len[0] = key->len[1] = 0;
		key->hash = 0;
		return true;
	}
	key->part[0] = first;
	key->len[0] = (size_t) ((rs ? rs : last) - first);
	key->part[1] = rs ? re : last;
	key->len[1] = rs ? (size_t) (last - re) : 0;
	key->hash = pha_wire_hash(key->part[0], key->len[0], key->part[1], key->len[1], f->seed);
	return true;
}

bool
pha_fast_parse(const uint8_t *raw, size_t raw_len, const PhaDecodeLimits *limits,
			   const char *replica_label, const char *cluster_label, uint64_t seed,
			   PhaArena *arena, PhaFastRequest *out)
{
	static const Prometheus__WriteRequest wr_init = PROMETHEUS__WRITE_REQUEST__INIT;
	static const Prometheus__TimeSeries ts_init = PROMETHEUS__TIME_SERIES__INIT;
	const uint8_t *p;
	const uint8_t *end = raw + raw_len;
	Counts		c;
	Fill		f;
	Prometheus__TimeSeries *ts;
	size_t		i;

	memset(out, 0, sizeof(*out));
	if (!count_request(raw, raw_len, limits, &c))
		return false;

	ts = pha_arena_alloc(arena, c.nseries * sizeof(Prometheus__TimeSeries));
	out->wr = wr_init;
	out->wr.timeseries = pha_arena_alloc(arena, c.nseries * sizeof(Prometheus__TimeSeries *));
	out->keys = pha_arena_alloc(arena, c.nseries * sizeof(PhaWireKey));
	out->ids = pha_arena_alloc(arena, c.nseries * sizeof(int64_t));
	f.lptr = pha_arena_alloc(arena, (c.nlabels + 1) * sizeof(Prometheus__Label *));
	f.labels = pha_arena_alloc(arena, (c.nlabels + 1) * sizeof(Prometheus__Label));
	f.sptr = pha_arena_alloc(arena, (c.nsamples + 1) * sizeof(Prometheus__Sample *));
	f.samples = pha_arena_alloc(arena, (c.nsamples + 1) * sizeof(Prometheus__Sample));
	if (ts == NULL || out->wr.timeseries == NULL || out->keys == NULL || out->ids == NULL ||
		f.lptr == NULL || f.labels == NULL || f.sptr == NULL || f.samples == NULL)
		return false;
	f.limits = limits;
	f.rl = replica_label;
	f.rl_len = replica_label ? strlen(replica_label) : 0;
	if (f.rl_len == 8 && memcmp(replica_label, "__name__", 8) == 0)
		f.rl_len = 0;			/* a key without __name__ could not vouch for it */
	f.seed = seed;
	/* both HA labels found as the keys are made, when the replica label is one */
	f.cl = (f.rl_len > 0 && cluster_label != NULL && cluster_label[0] != '\0' &&
			strcmp(cluster_label, replica_label) != 0) ? cluster_label : NULL;
	f.cl_len = f.cl ? strlen(f.cl) : 0;
	if (f.cl != NULL &&
		(out->ha = pha_arena_alloc(arena, 2 * c.nseries * sizeof(Prometheus__Label *))) == NULL)
		return false;

	p = raw;
	for (i = 0; p < end; i++)
	{
		uint32_t	field;
		int			wt;
		const uint8_t *sub = NULL,
				   *sub_end = NULL;

		if (!pha_pb_get_field(&p, end, &field, &wt, &sub, &sub_end))
			return false;		/* can't happen: the first pass read it */
		ts[i] = ts_init;
		out->wr.timeseries[i] = &ts[i];
		out->ids[i] = PHA_WIRE_UNKNOWN;
		if (!fill_series(sub, sub_end, &f, &ts[i], &out->keys[i], out->ha ? &out->ha[2 * i] : NULL))
			return false;
	}
	out->wr.n_timeseries = c.nseries;
	return true;
}

/* Is the name (name, len) the label name s of length slen? */
static inline bool
name_is(const ProtobufCBinaryData *name, const char *s, size_t slen)
{
	return name->len == slen && memcmp(name->data, s, slen) == 0;
}

/* Does name a sort strictly before b?  name_cmp without a call, for short names. */
static inline bool
name_before(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	size_t		n = a->len < b->len ? a->len : b->len;

	for (size_t k = 0; k < n; k++)
		if (a->data[k] != b->data[k])
			return a->data[k] < b->data[k];
	return a->len < b->len;
}

/*
 * read_label for the usual encoding, name then value, each shorter than 128
 * bytes (one-byte keys and lengths), read without a call; anything else goes
 * to read_label.
 */
static inline bool
read_label_short(const uint8_t *p, const uint8_t *end, Prometheus__Label *l)
{
	size_t		len = (size_t) (end - p);

	if (len >= 4 && p[0] == 0x0A && p[1] < 0x80 && (size_t) p[1] + 4 <= len &&
		p[2 + p[1]] == 0x12 && p[3 + p[1]] < 0x80 && (size_t) p[1] + p[3 + p[1]] + 4 == len)
	{
		l->name.data = (uint8_t *) p + 2;
		l->name.len = p[1];
		l->value.data = (uint8_t *) p + 4 + p[1];
		l->value.len = p[3 + p[1]];
		return true;
	}
	l->name.len = l->value.len = 0;
	l->name.data = l->value.data = NULL;
	return read_label(p, end, l);
}

/* Per-request state of the one-group walk. */
typedef struct OneWalk
{
	const PhaDecodeLimits *limits;
	const char *cl;
	size_t		cl_len;
	const char *rl;
	size_t		rl_len;
	int64_t		future_limit;
	int64_t		min_time;
	int64_t		max_time;
} OneWalk;

/*
 * One series of the one-group walk, in one pass: its counts into c (as
 * count_series counts), its key (as fill_series makes it, not yet hashed) and
 * its HA values, its samples added to out.  False unless count_series would
 * accept the series, the key is cacheable and both HA values equal the first
 * series' (set by the first).
 */
static bool
one_series(const uint8_t *p, const uint8_t *end, const OneWalk *w, PhaOneGroup *out,
		   PhaWireKey *key, Counts *c)
{
	const uint8_t *first = NULL,
			   *last = NULL,
			   *rs = NULL,
			   *re = NULL;
	ProtobufCBinaryData prev = {0, NULL},
				cv = {0, NULL},
				rv = {0, NULL};
	size_t		nl = 0,
				ns = 0;
	const PhaDecodeLimits *lim = w->limits;

	while (p < end)
	{
		uint32_t	field;
		int			wt;
		const uint8_t *start = p,
				   *sub = NULL,
				   *sub_end = NULL;

		if (!get_series_field(&p, end, &field, &wt, &sub, &sub_end) || wt != PHA_PB_WT_LEN)
			return false;		/* exemplars, histograms, unknown fields, malformed */
		if (field == 1)
		{
			Prometheus__Label l;

			if (!count_label(c, (size_t) (sub_end - sub)))
				return false;	/* a huge label: the decoder judges */
			if (!read_label_short(sub, sub_end, &l))
				return false;
			if (first != NULL && start != last)
				return false;	/* labels not in one run */
			if (first == NULL)
				first = start;
			last = p;
			if (l.value.len == 0 ||
				(lim->max_label_name_len > 0 && l.name.len > lim->max_label_name_len) ||
				(lim->max_label_value_len > 0 && l.value.len > lim->max_label_value_len) ||
				(nl > 0 && !name_before(&prev, &l.name)))
				return false;	/* not cacheable: the full path judges */
			if (name_is(&l.name, w->rl, w->rl_len))
			{
				rs = start;
				re = p;
				rv = l.value;
			}
			else if (name_is(&l.name, w->cl, w->cl_len))
				cv = l.value;
			prev = l.name;
			nl++;
		}
		else if (field == 2)
		{
			Prometheus__Sample s;
			int64_t		t;

			add_alloc(c, sizeof(Prometheus__Sample));
			ns++;
			if (!read_sample_short(sub, sub_end, &s))
				return false;
			t = s.timestamp;
			if (t < w->min_time || t > w->max_time)
				out->bad_time = true;
			if (t > w->future_limit)
				out->nfuture++;
			else
			{
				if (out->nsamples == 0 || t < out->tmin)
					out->tmin = t;
				if (out->nsamples == 0 || t > out->tmax)
					out->tmax = t;
				out->nsamples++;
			}
		}
		else
			return false;
	}
	count_series_end(c, nl, ns);
	if (first == NULL || rs == NULL || cv.data == NULL ||
		(lim->max_labels > 0 && nl > lim->max_labels))
		return false;
	if (out->replica == NULL)
	{
		out->cluster = cv.data;
		out->cluster_len = cv.len;
		out->replica = rv.data;
		out->replica_len = rv.len;
	}
	else if (cv.len != out->cluster_len || rv.len != out->replica_len ||
			 memcmp(cv.data, out->cluster, cv.len) != 0 ||
			 memcmp(rv.data, out->replica, rv.len) != 0)
		return false;			/* another group: the full path groups it */
	key->cacheable = true;
	key->part[0] = first;
	key->len[0] = (size_t) (rs - first);
	key->part[1] = re;
	key->len[1] = (size_t) (last - re);
	return true;
}

bool
pha_fast_one_group(const uint8_t *raw, size_t raw_len, const PhaDecodeLimits *limits,
				   const char *cluster_label, const char *replica_label,
				   int64_t future_limit, int64_t min_time, int64_t max_time,
				   uint64_t seed, PhaArena *arena, PhaOneGroup *out)
{
	static const Prometheus__WriteRequest wr_init = PROMETHEUS__WRITE_REQUEST__INIT;
	const uint8_t *p = raw;
	const uint8_t *end = raw + raw_len;
	Counts		c;
	OneWalk		w;
	size_t		i,
				n;

	memset(out, 0, sizeof(*out));
	w.limits = limits;
	w.cl = cluster_label;
	w.cl_len = strlen(cluster_label);
	w.rl = replica_label;
	w.rl_len = strlen(replica_label);
	w.future_limit = future_limit;
	w.min_time = min_time;
	w.max_time = max_time;
	/* as pha_fast_parse: a key without __name__ could not vouch for it */
	if (w.rl_len == 0 || w.cl_len == 0 || (w.rl_len == w.cl_len && memcmp(w.rl, w.cl, w.rl_len) == 0) ||
		(w.rl_len == 8 && memcmp(replica_label, "__name__", 8) == 0))
		return false;
	/* how many series: only the request's own fields are read */
	for (n = 0; p < end; n++)
	{
		uint32_t	field;
		int			wt;
		const uint8_t *sub = NULL,
				   *sub_end = NULL;

		if (!pha_pb_get_field(&p, end, &field, &wt, &sub, &sub_end) || field != 1 || wt != PHA_PB_WT_LEN)
			return false;		/* metadata, unknown fields, malformed */
	}
	if (n == 0 || (limits->max_series > 0 && n > limits->max_series))
		return false;
	out->fr.wr = wr_init;
	out->fr.keys = pha_arena_alloc(arena, n * sizeof(PhaWireKey));
	out->fr.ids = pha_arena_alloc(arena, n * sizeof(int64_t));
	if (out->fr.keys == NULL || out->fr.ids == NULL)
		return false;
	/* pha_fast_parse's counting pass and the walk, together, series by series */
	memset(&c, 0, sizeof(c));
	for (p = raw, i = 0; p < end; i++)
	{
		uint32_t	field;
		int			wt;
		const uint8_t *sub = NULL,
				   *sub_end = NULL;

		PhaWireKey *key = &out->fr.keys[i];

		if (!pha_pb_get_field(&p, end, &field, &wt, &sub, &sub_end) ||
			!one_series(sub, sub_end, &w, out, key, &c))
			return false;
		/* hashed now, while its bytes are in the cache */
		key->hash = pha_wire_hash(key->part[0], key->len[0], key->part[1], key->len[1], seed);
	}
	if (!within_bounds(raw_len, limits, &c))
		return false;
	/* the replica label is outside the keys: checked once, as fill_series checks it */
	if (!pha_label_name_valid((const uint8_t *) w.rl, w.rl_len) ||
		!pha_utf8_valid(out->replica, out->replica_len))
		return false;
	for (i = 0; i < n; i++)
		out->fr.ids[i] = PHA_WIRE_UNKNOWN;
	out->fr.wr.n_timeseries = n;
	return true;
}

bool
pha_fast_first_ha(const uint8_t *raw, size_t raw_len, const char *cluster_label,
				  const char *replica_label, PhaHaValues *out)
{
	const uint8_t *p = raw;
	const uint8_t *end = raw + raw_len;
	const uint8_t *sub = NULL,
			   *sub_end = NULL;
	uint32_t	field;
	int			wt;
	size_t		cl_len = strlen(cluster_label);
	size_t		rl_len = strlen(replica_label);

	memset(out, 0, sizeof(*out));
	if (!pha_pb_get_field(&p, end, &field, &wt, &sub, &sub_end) || field != 1 || wt != PHA_PB_WT_LEN)
		return false;
	for (p = sub; p < sub_end && (out->cluster == NULL || out->replica == NULL);)
	{
		const uint8_t *lp = NULL,
				   *lend = NULL;
		Prometheus__Label l;

		if (!get_series_field(&p, sub_end, &field, &wt, &lp, &lend) || wt != PHA_PB_WT_LEN)
			return false;
		if (field != 1)
			continue;
		if (!read_label_short(lp, lend, &l))
			return false;
		if (name_is(&l.name, replica_label, rl_len))
		{
			out->replica = l.value.data;
			out->replica_len = l.value.len;
		}
		else if (name_is(&l.name, cluster_label, cl_len))
		{
			out->cluster = l.value.data;
			out->cluster_len = l.value.len;
		}
	}
	return out->cluster != NULL && out->replica != NULL;
}
