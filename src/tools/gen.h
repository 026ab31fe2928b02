/*-------------------------------------------------------------------------
 *
 * gen.h
 *	  promscale-ha-gen: the types and helpers its files share.
 *
 * The program is three files: gen.c (main, the default profile, --case,
 * the request and its output), gen_node.c (--profile node) and gen_options.c
 * (the command line).  This header holds what more than one of them needs:
 * the parsed command line (Options), the allocation pool, the random
 * streams and the label helpers, all defined in gen.c.  Plain C99, no
 * PostgreSQL headers; every random stream is a pure function of --seed and
 * its name, so one command line always gives the same bytes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GEN_H
#define GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "remote.pb-c.h"

#define lengthof(a)			(sizeof(a) / sizeof((a)[0]))
#define MAX_USER_LABELS		32
#define COUNTER_EPOCH_MS	INT64_C(1577836800000)	/* counters start 2020-01-01 */

/* One label dimension: a label name and the values a series can take. */
typedef struct LabelDim
{
	const char *name;
	int			nvalues;
	const char *const *values;
} LabelDim;

/* Label values both profiles use (cpu, mode, le, quantile); defined in gen.c. */
extern const char *const gen_cpus[16];
extern const char *const gen_modes[8];
extern const char *const gen_les[12];
extern const char *const gen_quantiles[5];

/* What --values asks for. */
typedef enum
{
	V_COUNTER, V_GAUGE, V_SPECIAL, V_RANDOM, V_NODE
} ValueKind;

/* What --profile asks for: the synthetic series of the tests, or node_exporter-like ones. */
typedef enum
{
	P_DEFAULT, P_NODE
} Profile;

/* One --case (gen.c owns the table; gen_case_find looks a name up). */
typedef struct CaseDef CaseDef;

/* The command line, after defaults. */
typedef struct Options
{
	int64_t		series;
	int64_t		samples;
	int64_t		start_ms;
	int64_t		step_ms;
	int64_t		metrics;
	int64_t		offset;
	uint64_t	seed;
	const char *cluster;
	const char *replica;
	const char *cluster_label;
	const char *replica_label;
	const char *user[MAX_USER_LABELS];	/* "NAME=VALUE" strings from argv */
	int			nuser;
	ValueKind	values;
	bool		values_set;
	Profile		profile;
	int64_t		instances;
	int64_t		jitter_ms;		/* -1 until set: then 0, or 5 for --profile node */
	const char *dump;
	bool		unsorted;
	bool		exemplars;
	bool		histograms;
	bool		metadata;
	bool		no_compress;
	bool		hex;
	const CaseDef *casedef;
	const char *output;
} Options;

/* Every allocation of a run, freed at once by pool_free. */
typedef struct Pool
{
	void	  **ptrs;
	size_t		n;
	size_t		cap;
} Pool;

/* xorshift64* state; never zero. */
typedef struct Rng
{
	uint64_t	state;
} Rng;

/* Salts that keep the random streams of one key apart (NS_JITTER: sample times). */
enum
{
	NS_PARAMS = 1, NS_NOISE, NS_WANDER, NS_SUM, NS_RANDOM, NS_JITTER
};

/* a / b rounded towards minus infinity (b > 0), for steps before the counter epoch. */
static inline int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && a < 0);
}

/* Zeroed memory owned by the pool; running out of memory ends the program (status 1). */
extern void *gen_pool_alloc(Pool *pool, size_t size);

/* A generator for the stream named (seed, a, b): random access to per-series randomness. */
extern Rng	gen_rng_at(uint64_t seed, uint64_t a, uint64_t b);

/* xorshift64* (Vigna): the next 64 random bits. */
extern uint64_t gen_rng_next(Rng *r);

/* Set a label from NUL-terminated strings (not copied: they must outlive the request). */
extern void gen_set_label(Prometheus__Label *l, const char *name, const char *value);

/*
 * Append job="node" and the --cluster, --replica and --label labels to
 * labels[0..n-1] (room for 3 + o->nuser more), point ts->labels (room for
 * all) at them and sort them by name, bytewise, as Prometheus does; returns
 * the count.
 */
extern int	gen_finish_labels(const Options *o, Prometheus__TimeSeries *ts,
							  Prometheus__Label *labels, int n);

/* The --case called name, or NULL. */
extern const CaseDef *gen_case_find(const char *name);

/*
 * True if name (len bytes) is a label the generator emits in any profile:
 * __name__, instance, job and the default profile's dimensions.
 */
extern bool gen_default_emits_label(const char *name, size_t len);

#endif							/* GEN_H */
