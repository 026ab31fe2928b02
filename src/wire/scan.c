/*-------------------------------------------------------------------------
 *
 * scan.c
 *	  A label-only pass over a decompressed WriteRequest, for the election.
 *
 * A follower's request is dropped whole, so decoding it into messages is
 * wasted work.  This pass walks the protobuf wire format of
 * WriteRequest.timeseries and reads, per series, only the values of the two HA
 * labels and the sample timestamps: no allocation but one array, no copy.
 * Plain C, no PostgreSQL headers (fuzzable with decode.c).
 *
 * It checks what the full decoder checks (decode.c) for the usual case of
 * labels sent sorted, as Prometheus sends them: names valid and strictly
 * increasing (so none twice), values UTF-8 without NUL, a __name__, the
 * limits.  Anything else -- unsorted labels, an invalid name, a malformed
 * message -- marks the series odd or makes the scan give up, and the caller
 * then runs the full decoder, which sorts, validates and reports errors.
 * The field numbers are those of proto/types.proto.
 *
 *-------------------------------------------------------------------------
 */
#include "wire/scan.h"

#include <string.h>

#include "wire/pbwire.h"

/* What the scan looks for, and the limits it applies. */
typedef struct ScanCtx
{
	const PhaDecodeLimits *limits;
	const char *cl;
	size_t		cl_len;
	const char *rl;
	size_t		rl_len;
	int64_t		future_limit;
	int64_t		min_time;
	int64_t		max_time;
} ScanCtx;

/* Per-series state of the label checks. */
typedef struct LabelState
{
	const uint8_t *prev;
	size_t		prev_len;
	size_t		nlabels;
	bool		has_name;
} LabelState;

/*
 * Label{name=1, value=2}: check it as decode.c would, and if its name is one
 * of the two HA labels, note its value.
 */
static bool
scan_label(const uint8_t *p, const uint8_t *end, const ScanCtx *cx, LabelState *ls,
		   PhaSeriesScan *s)
{
	const char *cl = cx->cl;
	size_t		cl_len = cx->cl_len;
	const char *rl = cx->rl;
	size_t		rl_len = cx->rl_len;
	const uint8_t *name = NULL,
			   *value = NULL;
	size_t		name_len = 0,
				value_len = 0;

	while (p < end)
	{
		uint32_t	field;
		int			wt;
		const uint8_t *sub = NULL,
				   *sub_end = NULL;

		if (!pha_pb_get_field(&p, end, &field, &wt, &sub, &sub_end))
			return false;
		if ((field == 1 || field == 2) && wt != PHA_PB_WT_LEN)
			return false;		/* protobuf-c rejects a wrong wire type */
		if (wt == PHA_PB_WT_LEN && field == 1)
		{
			name = sub;
			name_len = sub_end - sub;
		}
		else if (wt == PHA_PB_WT_LEN && field == 2)
		{
			value = sub;
			value_len = sub_end - sub;
		}
	}
	if (!pha_label_name_valid(name, name_len) || !pha_utf8_valid(value, value_len) ||
		(cx->limits->max_label_name_len > 0 && name_len > cx->limits->max_label_name_len) ||
		(cx->limits->max_label_value_len > 0 && value_len > cx->limits->max_label_value_len))
	{
		s->odd = true;
		return true;
	}
	ls->nlabels++;				/* decode.c counts every label against the limit */
	if (value_len == 0)
		return true;			/* an empty value: the label is absent */
	if (ls->prev != NULL)
	{
		size_t		m = ls->prev_len < name_len ? ls->prev_len : name_len;
		int			c = m ? memcmp(ls->prev, name, m) : 0;

		if (c > 0 || (c == 0 && ls->prev_len >= name_len))
			s->odd = true;		/* unsorted or repeated: the full decoder sorts */
	}
	ls->prev = name;
	ls->prev_len = name_len;
	if (name_len == 8 && memcmp(name, "__name__", 8) == 0)
		ls->has_name = true;
	if (name_len == cl_len && memcmp(name, cl, cl_len) == 0)
	{
		s->odd |= (s->cluster != NULL);
		s->cluster = value;
		s->cluster_len = value_len;
	}
	else if (name_len == rl_len && memcmp(name, rl, rl_len) == 0)
	{
		s->odd |= (s->replica != NULL);
		s->replica = value;
		s->replica_len = value_len;
	}
	return true;
}

/* Sample{value=1 (double), timestamp=2 (int64)}. */
static bool
scan_sample(const uint8_t *p, const uint8_t *end, const ScanCtx *cx, PhaSeriesScan *s)
{
	int64_t		t = 0;

	while (p < end)
	{
		uint64_t	key,
					v;

		if (!pha_pb_get_varint(&p, end, &key))
			return false;
		if (key == ((2 << 3) | PHA_PB_WT_VARINT))
		{
			if (!pha_pb_get_varint(&p, end, &v))
				return false;
			t = (int64_t) v;
		}
		else if (key == ((1 << 3) | PHA_PB_WT_FIXED64))
		{
			if (end - p < 8)
				return false;
			p += 8;
		}
		else
			return false;
	}
	if (t < cx->min_time || t > cx->max_time)
		s->bad_time = true;
	if (t > cx->future_limit)
	{
		s->nfuture++;
		return true;
	}
	if (s->nsamples == 0 || t < s->tmin)
		s->tmin = t;
	if (s->nsamples == 0 || t > s->tmax)
		s->tmax = t;
	s->nsamples++;
	return true;
}

/* TimeSeries{labels=1, samples=2, exemplars=3, histograms=4}. */
static bool
scan_series(const uint8_t *p, const uint8_t *end, const ScanCtx *cx, PhaSeriesScan *s)
{
	LabelState	ls;

	memset(s, 0, sizeof(*s));
	memset(&ls, 0, sizeof(ls));
	while (p < end)
	{
		uint32_t	field;
		int			wt;
		const uint8_t *sub = NULL,
				   *sub_end = NULL;

		if (!pha_pb_get_field(&p, end, &field, &wt, &sub, &sub_end))
			return false;
		if (field >= 1 && field <= 4 && wt != PHA_PB_WT_LEN)
			return false;		/* protobuf-c rejects a wrong wire type */
		if (wt != PHA_PB_WT_LEN)
			continue;
		if (field == 3 || field == 4)
			s->odd = true;		/* exemplars, histograms: only the decoder checks them */
		if (field == 1 && !scan_label(sub, sub_end, cx, &ls, s))
			return false;
		if (field == 2 && !scan_sample(sub, sub_end, cx, s))
			return false;
	}
	if (!ls.has_name ||
		(cx->limits->max_labels > 0 && ls.nlabels > cx->limits->max_labels))
		s->odd = true;
	return true;
}

bool
pha_scan_request(const uint8_t *raw, size_t raw_len, const PhaDecodeLimits *limits,
				 const char *cluster_label,
				 const char *replica_label, int64_t future_limit, int64_t min_time,
				 int64_t max_time, PhaArena *arena, PhaSeriesScan **out, size_t *n)
{
	const uint8_t *p = raw;
	const uint8_t *end = raw + raw_len;
	size_t		count = 0;
	ScanCtx		cx;
	PhaSeriesScan *s;

	cx.limits = limits;
	cx.cl = cluster_label;
	cx.cl_len = strlen(cluster_label);
	cx.rl = replica_label;
	cx.rl_len = strlen(replica_label);
	cx.future_limit = future_limit;
	cx.min_time = min_time;
	cx.max_time = max_time;

	/* first pass: how many series */
	while (p < end)
	{
		uint32_t	field;
		int			wt;
		const uint8_t *sub = NULL,
				   *sub_end = NULL;

		if (!pha_pb_get_field(&p, end, &field, &wt, &sub, &sub_end))
			return false;
		if ((field == 1 || field == 3) && wt != PHA_PB_WT_LEN)
			return false;		/* protobuf-c rejects a wrong wire type */
		if (field == 3)
			return false;		/* metadata: only the decoder checks it */
		if (field == 1)
			count++;
	}
	s = pha_arena_alloc(arena, (count > 0 ? count : 1) * sizeof(PhaSeriesScan));
	if (s == NULL)
		return false;

	p = raw;
	count = 0;
	while (p < end)
	{
		uint32_t	field;
		int			wt;
		const uint8_t *sub = NULL,
				   *sub_end = NULL;

		if (!pha_pb_get_field(&p, end, &field, &wt, &sub, &sub_end))
			return false;
		if (field == 1 && wt == PHA_PB_WT_LEN &&
			!scan_series(sub, sub_end, &cx, &s[count++]))
			return false;
	}
	*out = s;
	*n = count;
	return true;
}
