/*-------------------------------------------------------------------------
 *
 * chunk_sql.c
 *	  The chunk codec at the SQL level: promscale_ha.chunk_encode() and
 *	  promscale_ha.chunk_decode(), to write test chunks and look inside one.
 *
 * The codec (src/codec/) is plain C and returns a PhaCodecStatus; the
 * server-side glue (palloc memory, encoding) is chunk_io.c's.  This file
 * validates the SQL arguments and turns bad input into SQL errors with
 * specific errcodes.  chunk_decode() checks the bytes only (no row to
 * compare with); the foreign scan (chunk_scan.c) reads chunks through
 * pha_chunk_read(), which also checks them against their row.
 *
 * Times: a chunk holds int64 milliseconds since 1970, a timestamptz is
 * microseconds since 2000 (timeconv.h).  chunk_encode() refuses times that
 * are not whole milliseconds or not finite rather than rounding them, so
 * that decode(encode(x)) = x always; chunk_decode() refuses chunk times
 * that do not map onto a finite timestamptz.
 *
 * Memory: the current (per-call) memory context.  No locks, no SPI.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "codec/chunk.h"
#include "guc.h"
#include "store/chunk_io.h"
#include "store/chunk_sql.h"
#include "timeconv.h"

/*
 * Most samples one chunk_encode() call takes: the 16-bit count of both
 * formats (codec/README.md); the compression job cuts chunks far smaller
 * (PHA_CHUNK_MAX_SAMPLES).
 */
#define CODEC_MAX_SAMPLES	65535

PG_FUNCTION_INFO_V1(pha_chunk_encode_sql);
PG_FUNCTION_INFO_V1(pha_chunk_decode_sql);

/* The format argument of chunk_encode(): 'xor' or 'dense'; NULL is dense. */
static int
format_from_text(text *name)
{
	char	   *s = text_to_cstring(name);

	if (strcmp(s, "xor") == 0)
		return PHA_CHUNK_FORMAT_XOR;
	if (strcmp(s, "dense") == 0)
		return PHA_CHUNK_FORMAT_DENSE;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown chunk format \"%s\"", s),
			 errhint("The formats are 'xor' and 'dense'.")));
	return PHA_CHUNK_FORMAT_DENSE;	/* keep the compiler quiet */
}

/* Deconstruct a one-dimensional array argument of chunk_encode(). */
static int
array_arg(ArrayType *a, Oid elemtype, const char *what, Datum **elems, bool **nulls)
{
	int			n;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array, not %d-dimensional",
						what, ARR_NDIM(a))));
	deconstruct_array(a, elemtype, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  elems, nulls, &n);
	return n;
}

/*
 * chunk_encode(times timestamptz[], vals float8[], format text DEFAULT NULL)
 * -> bytea: one stored chunk (format byte + encoded samples).  NULL arrays
 * give NULL, as a strict function would; everything else that cannot be a
 * chunk is an error: lengths that differ or are zero, NULL elements, times
 * that are infinite, not whole milliseconds, or not strictly increasing.
 */
Datum
pha_chunk_encode_sql(PG_FUNCTION_ARGS)
{
	int			fmt;
	Datum	   *td,
			   *vd;
	bool	   *tnull,
			   *vnull;
	int			nt,
				nv;
	int64	   *t;
	double	   *v;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	fmt = PG_ARGISNULL(2) ? PHA_CHUNK_FORMAT_DENSE : format_from_text(PG_GETARG_TEXT_PP(2));
	nt = array_arg(PG_GETARG_ARRAYTYPE_P(0), TIMESTAMPTZOID, "times", &td, &tnull);
	nv = array_arg(PG_GETARG_ARRAYTYPE_P(1), FLOAT8OID, "values", &vd, &vnull);
	if (nt != nv)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("times and values differ in length: %d times, %d values", nt, nv)));
	if (nt == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a chunk needs at least one sample")));
	if (nt > CODEC_MAX_SAMPLES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a chunk holds at most %d samples, not %d", CODEC_MAX_SAMPLES, nt)));

	t = palloc(nt * sizeof(int64));
	v = palloc(nt * sizeof(double));
	for (int i = 0; i < nt; i++)
	{
		TimestampTz ts;

		if (tnull[i] || vnull[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s %d of the chunk is null", tnull[i] ? "time" : "value", i + 1)));
		ts = DatumGetTimestampTz(td[i]);
		if (TIMESTAMP_NOT_FINITE(ts))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("time %d of the chunk is infinite", i + 1)));
		if (ts % 1000 != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("time %d of the chunk (%s) is not a whole millisecond",
							i + 1, timestamptz_to_str(ts))));
		t[i] = pha_tstz_to_ms(ts);
		if (i > 0 && t[i] <= t[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("times of a chunk must strictly increase"),
					 errdetail("Time %d (%s) is not after time %d.",
							   i + 1, timestamptz_to_str(ts), i)));
		v[i] = DatumGetFloat8(vd[i]);
	}
	/* valid input cannot fail to encode: pha_chunk_write's errors are internal */
	PG_RETURN_BYTEA_P(pha_chunk_write(fmt, t, v, nt));
}

/*
 * chunk_decode(chunk bytea) -> SETOF (time timestamptz, value float8), in
 * time order.  Damaged bytes are ERRCODE_DATA_CORRUPTED, with the codec's
 * reason as the detail.  The checksum of an xor chunk is not checked: this
 * is the tool to look at a chunk that the readers refused.
 */
Datum
pha_chunk_decode_sql(PG_FUNCTION_ARGS)
{
	bytea	   *chunk = PG_GETARG_BYTEA_PP(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const uint8 *buf = (const uint8 *) VARDATA_ANY(chunk);
	size_t		len = VARSIZE_ANY_EXHDR(chunk);
	PhaCodecMem mem;
	PhaCodecStatus st;
	size_t		n = 0;
	size_t		got = 0;
	int64	   *t = NULL;
	double	   *v = NULL;

	InitMaterializedSRF(fcinfo, 0);
	st = pha_chunk_count(buf, len, &n);
	if (st == PHA_CODEC_OK && (n == 0 || n > CODEC_MAX_SAMPLES))
		st = PHA_CODEC_CORRUPT;
	if (st == PHA_CODEC_OK)
	{
		mem = pha_codec_palloc();
		t = palloc(n * sizeof(int64));
		v = palloc(n * sizeof(double));
		st = pha_chunk_decode(buf, len, &mem, t, v, n, &got);
	}
	/* times strictly increase (the codec checks), so the ends bound them all */
	if (st == PHA_CODEC_OK &&
		(got != n || !pha_ms_valid(t[0]) || !pha_ms_valid(t[n - 1])))
		st = PHA_CODEC_CORRUPT;
	if (st != PHA_CODEC_OK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt compressed chunk of %zu bytes", len),
				 errdetail("%s", pha_codec_status_text(st))));
	for (size_t i = 0; i < n; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = pha_ms_datum(t[i]);
		values[1] = Float8GetDatum(v[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
