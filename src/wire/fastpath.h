/*-------------------------------------------------------------------------
 *
 * fastpath.h
 *	  The write path's in-place reading of a decompressed WriteRequest:
 *	  series, labels and samples taken straight off the wire, each series'
 *	  label bytes hashed for the series cache.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_FASTPATH_H
#define PHA_FASTPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/decode.h"

/* ids[i] of a series the cache does not know */
#define PHA_WIRE_UNKNOWN INT64_MIN
/* ids[i] of a series whose label bytes the cache knows as valid, its id not yet */
#define PHA_WIRE_VALID (INT64_MIN + 1)

/*
 * The label bytes of one series exactly as they came on the wire (each
 * Label field with its key and length), the replica label set aside: at most
 * two runs of bytes, before and after it.  Equal bytes mean an equal label set.
 */
typedef struct PhaWireKey
{
	const uint8_t *part[2];
	size_t		len[2];
	uint64_t	hash;
	bool		cacheable;		/* labels sorted, none empty, within the limits, the
								 * replica label (if any) valid: a cache hit needs
								 * no validation */
} PhaWireKey;

/*
 * A request read in place.  wr is a light prometheus.WriteRequest: its
 * series, labels and samples live in the arena, label names and values point
 * into the raw buffer (which must outlive it).  keys[i] and ids[i] belong to
 * wr.timeseries[i]; ids are filled by the caller's cache probe.
 */
typedef struct PhaFastRequest
{
	Prometheus__WriteRequest wr;
	PhaWireKey *keys;
	int64_t    *ids;
	uint64_t	generation;		/* the cache's generation when ids were filled */

	/*
	 * With both HA label names given: per series, ha[2i] and ha[2i + 1] are
	 * its labels named cluster_label and replica_label, NULL when it has
	 * none; valid where keys[i] is cacheable (whose labels validation leaves
	 * as they are), NULL elsewhere: look those series' labels up after
	 * validating them.  NULL when the names were not given.
	 */
	Prometheus__Label **ha;
} PhaFastRequest;

/*
 * Read raw in place.  Returns false, having built nothing usable, for
 * anything the full decoder (pha_unpack) must judge: a malformed message,
 * fields other than labels and samples, exemplars, histograms, metadata, a
 * repeated or missing scalar, more series than allowed, or a request that
 * might come near the decoder's memory bound.  On true the series are NOT
 * validated: the caller validates those the cache does not know
 * (pha_validate_series), and falls back to the full decoder when one fails.
 * replica_label (may be NULL) names the label set aside from the keys;
 * with cluster_label too (may be NULL), out->ha finds both in every
 * cacheable series.
 */
extern bool pha_fast_parse(const uint8_t *raw, size_t raw_len, const PhaDecodeLimits *limits,
						   const char *replica_label, const char *cluster_label, uint64_t seed,
						   PhaArena *arena, PhaFastRequest *out);

/*
 * A request whose series all carry the same two HA label values (the usual
 * Prometheus request: external labels on every series), read without
 * building messages: the values, the sample statistics the election needs,
 * and each series' key for the cache probe that vouches for its
 * labels.  keys and ids (all PHA_WIRE_UNKNOWN) are arena arrays of
 * fr.wr.n_timeseries entries; fr.wr has no series.
 */
typedef struct PhaOneGroup
{
	const uint8_t *cluster;
	size_t		cluster_len;
	const uint8_t *replica;
	size_t		replica_len;
	int64_t		tmin;			/* over samples at or before future_limit */
	int64_t		tmax;
	size_t		nsamples;		/* samples at or before future_limit */
	size_t		nfuture;		/* samples after it */
	bool		bad_time;		/* a timestamp outside [min_time, max_time] */
	PhaFastRequest fr;
} PhaOneGroup;

/*
 * Fill *out when every series of raw has both HA labels (cluster_label and
 * replica_label, both non-empty) with the same values as the first series,
 * and a key pha_fast_parse would call cacheable; returns false otherwise,
 * having decided nothing, and for all that pha_fast_parse refuses.  Only
 * label names and the two HA values are read, never other labels' values:
 * the keys are hashed with seed as pha_fast_parse hashes them, and the
 * caller must find every one in its cache (labels validated before) before
 * trusting the request; the replica label, outside the keys, is checked here
 * as pha_fast_parse checks it.
 */
extern bool pha_fast_one_group(const uint8_t *raw, size_t raw_len, const PhaDecodeLimits *limits,
							   const char *cluster_label, const char *replica_label,
							   int64_t future_limit, int64_t min_time, int64_t max_time,
							   uint64_t seed, PhaArena *arena, PhaOneGroup *out);

/* The two HA label values of a series, pointing into the request. */
typedef struct PhaHaValues
{
	const uint8_t *cluster;
	size_t		cluster_len;
	const uint8_t *replica;
	size_t		replica_len;
} PhaHaValues;

/*
 * The values of cluster_label and replica_label in the first series of raw,
 * read without validating anything: true when both were found.  Only a hint
 * (a caller may skip the one-group walk for a replica that leads); nothing
 * may be trusted from it.
 */
extern bool pha_fast_first_ha(const uint8_t *raw, size_t raw_len, const char *cluster_label,
							  const char *replica_label, PhaHaValues *out);

/* 64-bit hash of the two parts of a key, with a seed (not cryptographic). */
extern uint64_t pha_wire_hash(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
							  uint64_t seed);

/* Do the key's bytes equal the len bytes at p? */
extern bool pha_wire_key_equal(const PhaWireKey *key, const uint8_t *p, size_t len);

#endif							/* PHA_FASTPATH_H */
